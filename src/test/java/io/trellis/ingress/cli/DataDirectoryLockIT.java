package io.trellis.ingress.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.ingress.auth.LocalKeyStore;
import io.trellis.ingress.testing.FreePorts;
import io.trellis.ingress.testing.ServiceJvm;
import io.trellis.ingress.testing.ServiceProcess;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A second {@code serve} started on the data directory of a running service, again and again while
 * the first one is under load: it must stop with one clear line and change nothing the first one
 * writes (the files sink's NDJSON files above all), and every event the first one acknowledged must
 * be stored.
 */
class DataDirectoryLockIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int SECOND_STARTS = Integer.getInteger("secondStarts", 3);
  private static final int CLIENTS = 4;
  private static final String PLANTED = "{\"planted\":1}\n{\"half a line";

  @TempDir Path dir;

  @Test
  void aSecondServeOnTheSameDataDirectoryStopsWithoutTouchingIt() throws Exception {
    Path data = dir.resolve("data");
    String key = LocalKeyStore.open(data).create("acme", "lock test").key();
    ServiceProcess first =
        ServiceProcess.start(
            data,
            dir.resolve("first.log"),
            "--set",
            "auth.demo-key=false",
            "--set",
            "admin.port=0",
            "--set",
            "spool.batch-max-age=20ms");
    Set<String> acked = ConcurrentHashMap.newKeySet();
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> clients = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      Thread t = new Thread(() -> load(first.port(), key, stop, acked), "client-" + c);
      t.start();
      clients.add(t);
    }
    List<String> outputs = new ArrayList<>();
    List<Integer> exitCodes = new ArrayList<>();
    List<String> plantedAfter = new ArrayList<>();
    Path keys = data.resolve("keys.json");
    byte[] keysBefore = Files.readAllBytes(keys);
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (acked.size() < 2000 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      for (int i = 0; i < SECOND_STARTS; i++) {
        // A file the running service could be in the middle of writing: its last line is whole
        // only once the write ends.
        Path planted =
            data.resolve("events/org=acme/date=2000-01-0" + (i + 1) + "/part-planted.ndjson");
        Files.createDirectories(planted.getParent());
        Files.writeString(planted, PLANTED);
        Path out = dir.resolve("second-" + i + ".log");
        Process second =
            new ProcessBuilder(
                    ServiceJvm.command(
                        "serve",
                        "--data-dir",
                        data.toString(),
                        "--port",
                        Integer.toString(FreePorts.pick()),
                        "--set",
                        "admin.port=0"))
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .start();
        if (!second.waitFor(60, TimeUnit.SECONDS)) {
          second.destroyForcibly();
          second.waitFor(10, TimeUnit.SECONDS);
        }
        exitCodes.add(second.exitValue());
        outputs.add(Files.readString(out));
        plantedAfter.add(Files.readString(planted));
      }
    } finally {
      stop.set(true);
      for (Thread t : clients) {
        t.join();
      }
      first.stop();
    }

    ServiceProcess again =
        ServiceProcess.start(
            data,
            dir.resolve("again.log"),
            "--set",
            "auth.demo-key=false",
            "--set",
            "admin.port=0");
    Stored stored;
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      stored = Stored.read(data.resolve("events"));
      while (!stored.ids.containsAll(acked) && System.nanoTime() < deadline) {
        Thread.sleep(200);
        stored = Stored.read(data.resolve("events"));
      }
    } finally {
      again.stop();
    }
    Set<String> missing = new HashSet<>(acked);
    missing.removeAll(stored.ids);
    System.out.printf(
        "second-instance test: %d second starts, %d events acknowledged, %d stored, %d lost,"
            + " %d broken lines, %d 'Cut a partial last line' lines in second instances' logs%n",
        SECOND_STARTS,
        acked.size(),
        stored.ids.size(),
        missing.size(),
        stored.brokenLines,
        outputs.stream().filter(o -> o.contains("Cut a partial last line")).count());

    assertThat(acked).as("events acknowledged under load").hasSizeGreaterThan(1000);
    assertThat(exitCodes).as("exit codes of the second instances").allMatch(c -> c == 1);
    for (String o : outputs) {
      assertThat(o)
          .as("output of a second instance")
          .contains("is in use by another running trellis-ingress (process ")
          .doesNotContain("Cut a partial last line")
          .doesNotContain("Sink ready");
    }
    assertThat(plantedAfter)
        .as("a file being written, after each second start")
        .allMatch(PLANTED::equals);
    assertThat(Files.readAllBytes(keys)).as("the key store").isEqualTo(keysBefore);
    assertThat(missing).as("acknowledged events missing from the files").isEmpty();
    assertThat(stored.brokenLines).as("lines of the files that are not whole JSON").isZero();
  }

  /** Event ids stored in the files, and lines that are not whole JSON objects. */
  private record Stored(Set<String> ids, int brokenLines) {
    static Stored read(Path events) throws IOException {
      Set<String> ids = new HashSet<>();
      int broken = 0;
      try (Stream<Path> files = Files.walk(events)) {
        for (Path f : files.filter(p -> p.toString().endsWith(".ndjson")).toList()) {
          if (f.getFileName().toString().equals("part-planted.ndjson")) {
            continue;
          }
          for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
            try {
              ids.add(JSON.readTree(line).path("event_id").asText());
            } catch (IOException e) {
              broken++;
            }
          }
        }
      }
      return new Stored(ids, broken);
    }
  }

  /** Sends batches of 50 events of about 1 KB each; records every acknowledged event id. */
  private static void load(int port, String key, AtomicBoolean stop, Set<String> acked) {
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2))
            .build();
    String text = "x".repeat(1000);
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < 50; i++) {
      sb.append(i == 0 ? "" : ",")
          .append("{\"event\":\"view\",\"i\":")
          .append(i)
          .append(",\"text\":\"")
          .append(text)
          .append("\"}");
    }
    String body = sb.append(']').toString();
    while (!stop.get()) {
      HttpRequest req =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/batch"))
              .timeout(Duration.ofSeconds(10))
              .header("Authorization", "Bearer " + key)
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(body))
              .build();
      try {
        HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          for (JsonNode id : JSON.readTree(r.body()).path("event_ids")) {
            acked.add(id.asText());
          }
        }
      } catch (IOException e) {
        // Not acknowledged.
      } catch (InterruptedException e) {
        return;
      }
    }
  }
}
