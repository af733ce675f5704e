package io.trellis.ingress.spool;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.ingress.auth.LocalKeyStore;
import io.trellis.ingress.testing.ServiceProcess;
import io.trellis.ingress.testing.StoredFiles;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the real service as a separate process, kills it with SIGKILL in the middle of concurrent
 * load again and again, and checks that every event it acknowledged reaches the files sink, once.
 */
class CrashRecoveryIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int KILLS = 20;
  private static final int CLIENTS = 4;

  @TempDir Path dir;

  @Test
  void noAcknowledgedEventIsLostAcrossRepeatedKills() throws Exception {
    Path data = dir.resolve("data");
    String key = LocalKeyStore.open(data).create("crash", "crash test").key();
    Set<String> acked = ConcurrentHashMap.newKeySet();
    AtomicInteger requests = new AtomicInteger();

    for (int run = 0; run < KILLS; run++) {
      ServiceProcess server = start(data, dir.resolve("run-" + run + ".log"));
      AtomicBoolean stop = new AtomicBoolean();
      AtomicInteger ackedThisRun = new AtomicInteger();
      List<Thread> clients = new ArrayList<>();
      for (int c = 0; c < CLIENTS; c++) {
        Thread t =
            new Thread(
                () -> load(server.port(), key, stop, acked, ackedThisRun, requests), "client");
        t.start();
        clients.add(t);
      }
      // Kill mid-load: once this run has acknowledged a fair number, at a random moment.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (ackedThisRun.get() < 200 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      Thread.sleep(ThreadLocalRandom.current().nextInt(0, 300));
      server.process().destroyForcibly();
      server.process().waitFor(10, TimeUnit.SECONDS);
      stop.set(true);
      for (Thread t : clients) {
        t.join();
      }
      if (ackedThisRun.get() < 200) {
        // The temporary directory is gone once the test fails: keep the log's end here.
        String log = Files.readString(server.log());
        throw new AssertionError(
            "run "
                + run
                + " acknowledged "
                + ackedThisRun.get()
                + " events, too few to be a test; the end of its log:\n"
                + log.substring(Math.max(0, log.length() - 4000)));
      }
    }

    ServiceProcess last = start(data, dir.resolve("final.log"));
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      Set<String> missing = missing(data, acked);
      while (!missing.isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(200);
        missing = missing(data, acked);
      }
      Map<String, Integer> counts = storedCounts(data);
      int stored = counts.values().stream().mapToInt(Integer::intValue).sum();
      long duplicates = stored - counts.size();
      System.out.printf(
          "crash test: %d kills, %d requests, %d events acknowledged, %d stored lines,"
              + " %d duplicates, %d lost; %d restarts truncated a torn spool tail; %d segment"
              + " files reused%n",
          KILLS,
          requests.get(),
          acked.size(),
          stored,
          duplicates,
          missing.size(),
          logLines("torn or corrupt tail"),
          logLines("Reused spool file"));
      assertThat(missing).as("acknowledged events missing from the files sink").isEmpty();
      // Lines written after the last saved cursor are cut at start before the spool delivers
      // their events again.
      assertThat(duplicates).as("events in the files sink more than once").isZero();
    } finally {
      last.process().destroy();
      last.process().waitFor(30, TimeUnit.SECONDS);
    }
  }

  private static ServiceProcess start(Path data, Path log) throws Exception {
    return ServiceProcess.start(
        data,
        log,
        "--set",
        "auth.demo-key=false",
        "--set",
        // Small segments: the runs roll, consume and reuse segment files between kills.
        "spool.segment-size=256KiB",
        "--set",
        "spool.max-record-size=64KiB",
        "--set",
        "limits.body-max=64KiB",
        "--set",
        "spool.batch-max-age=50ms");
  }

  /** Lines of all service logs of this test that contain the text. */
  private long logLines(String text) throws IOException {
    long n = 0;
    try (var logs = Files.list(dir)) {
      for (Path log : logs.filter(p -> p.toString().endsWith(".log")).toList()) {
        n += Files.readAllLines(log).stream().filter(l -> l.contains(text)).count();
      }
    }
    return n;
  }

  private static Set<String> missing(Path data, Set<String> acked) {
    Set<String> missing = new HashSet<>(acked);
    missing.removeAll(storedCounts(data).keySet());
    return missing;
  }

  private static Map<String, Integer> storedCounts(Path data) {
    Map<String, Integer> counts = new HashMap<>();
    for (JsonNode e : StoredFiles.events(data.resolve("events"))) {
      counts.merge(e.path("event_id").asText(), 1, Integer::sum);
    }
    return counts;
  }

  /** Sends events until stopped; records the id of every event the server acknowledged. */
  private static void load(
      int port,
      String key,
      AtomicBoolean stop,
      Set<String> acked,
      AtomicInteger ackedThisRun,
      AtomicInteger requests) {
    // HTTP/1.1 as SDKs send it; see RunningService on the JDK client's h2c upgrade.
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2))
            .build();
    ThreadLocalRandom rnd = ThreadLocalRandom.current();
    while (!stop.get()) {
      boolean batch = rnd.nextInt(4) == 0;
      String body;
      if (batch) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < 10; i++) {
          sb.append(i == 0 ? "" : ",").append("{\"event\":\"click\",\"i\":").append(i).append('}');
        }
        body = sb.append(']').toString();
      } else {
        body = "{\"event\":\"pageview\",\"page\":\"/p/" + rnd.nextInt(1000) + "\"}";
      }
      HttpRequest req =
          HttpRequest.newBuilder(
                  URI.create("http://127.0.0.1:" + port + (batch ? "/batch" : "/events")))
              .timeout(Duration.ofSeconds(5))
              .header("Authorization", "Bearer " + key)
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(body))
              .build();
      try {
        requests.incrementAndGet();
        HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
          continue;
        }
        JsonNode answer = JSON.readTree(r.body());
        if (batch) {
          for (JsonNode id : answer.path("event_ids")) {
            acked.add(id.asText());
            ackedThisRun.incrementAndGet();
          }
        } else {
          acked.add(answer.path("event_id").asText());
          ackedThisRun.incrementAndGet();
        }
      } catch (IOException e) {
        // The server is gone (killed): nothing was acknowledged.
        sleep(5);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
