package io.trellis.ingress.live;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.auth.LocalKeyStore;
import io.trellis.ingress.testing.FreePorts;
import io.trellis.ingress.testing.ServiceJvm;
import io.trellis.ingress.testing.SseStream;
import io.trellis.ingress.testing.StoredFiles;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A live viewer that connects and never reads, while capture runs at load in a service with a small
 * heap: capture's throughput and latency with the stalled viewer are compared with those without a
 * viewer in the same run (alternating rounds, so both see the same machine), the viewer's queue
 * stays within its bound while the excess is dropped, and every acknowledged event is stored.
 */
class LiveStalledViewerIT {
  private static final int CLIENTS = 4;
  private static final int REQUESTS_PER_ROUND = 120;
  private static final int EVENTS_PER_REQUEST = 50;
  private static final int ROUNDS = 3;

  @TempDir Path dir;

  private record Round(double seconds, List<Long> latenciesNanos) {
    double eventsPerSecond() {
      return REQUESTS_PER_ROUND * EVENTS_PER_REQUEST / seconds;
    }

    long medianLatency() {
      List<Long> l = new ArrayList<>(latenciesNanos);
      Collections.sort(l);
      return l.get(l.size() / 2);
    }
  }

  @Test
  void aViewerThatNeverReadsLeavesCaptureAsFastAndHoldsNoMoreThanItsBuffer() throws Exception {
    Path data = dir.resolve("data");
    Files.createDirectories(data);
    String key = LocalKeyStore.open(data).create("acme", "load").key();
    int port = FreePorts.pick();
    int admin = FreePorts.pick();
    List<String> cmd =
        new ArrayList<>(
            ServiceJvm.command(
                "serve",
                "--data-dir",
                data.toString(),
                "--port",
                Integer.toString(port),
                "--set",
                "admin.port=" + admin,
                "--set",
                "auth.demo-key=false"));
    cmd.replaceAll(a -> a.equals("-Xmx256m") ? "-Xmx64m" : a);
    Path log = dir.resolve("service.log");
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
    try {
      awaitUp(http, admin, p, log);
      String body = batch();
      round(http, pool, port, key, body); // warm-up, not counted

      List<Round> alone = new ArrayList<>();
      List<Round> stalled = new ArrayList<>();
      long maxBuffered = 0;
      for (int i = 0; i < ROUNDS; i++) {
        alone.add(round(http, pool, port, key, body));
        // A viewer with a 4 KiB receive buffer that never reads a byte.
        try (SseStream viewer = SseStream.open(admin, "/live/events", 4096)) {
          awaitMetric(http, admin, "trellis_live_viewers", v -> v == 1);
          stalled.add(round(http, pool, port, key, body));
          maxBuffered =
              Math.max(maxBuffered, (long) metric(http, admin, "trellis_live_buffered_bytes"));
          assertThat(viewer.ended()).isFalse();
        }
        awaitMetric(http, admin, "trellis_live_viewers", v -> v == 0);
      }

      double aloneRate = median(alone.stream().map(Round::eventsPerSecond).toList());
      double stalledRate = median(stalled.stream().map(Round::eventsPerSecond).toList());
      double aloneLatency = median(alone.stream().map(r -> (double) r.medianLatency()).toList());
      double stalledLatency =
          median(stalled.stream().map(r -> (double) r.medianLatency()).toList());
      System.out.printf(
          "live stalled viewer: %.0f events/s alone, %.0f with the stalled viewer (ratio %.2f);"
              + " median request latency %.1f ms alone, %.1f ms stalled; max buffered %d bytes;"
              + " dropped %.0f%n",
          aloneRate,
          stalledRate,
          stalledRate / aloneRate,
          aloneLatency / 1e6,
          stalledLatency / 1e6,
          maxBuffered,
          metric(http, admin, "trellis_live_dropped_total"));

      // Generous bounds: a shared 2-core machine is noisy; a viewer that blocked capture or
      // made it buffer would be off by far more than this.
      assertThat(stalledRate / aloneRate).isGreaterThan(0.5);
      assertThat(stalledLatency / aloneLatency).isLessThan(3.0);
      // What the service holds for the viewer stays within live.viewer-buffer (1 MiB) plus what
      // one connection may have in writing (128 KiB, plus the write that crossed it), while tens
      // of MB pass it by.
      assertThat(maxBuffered).isPositive().isLessThanOrEqualTo(1024 * 1024 + 256 * 1024);
      assertThat(metric(http, admin, "trellis_live_dropped_total")).isPositive();
      assertThat(p.isAlive()).isTrue();

      long acknowledged = (1L + 2L * ROUNDS) * REQUESTS_PER_ROUND * EVENTS_PER_REQUEST;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (StoredFiles.events(data.resolve("events")).size() < acknowledged
          && System.nanoTime() < deadline) {
        Thread.sleep(200);
      }
      assertThat(StoredFiles.events(data.resolve("events"))).hasSize((int) acknowledged);
    } finally {
      pool.shutdownNow();
      p.destroy();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
  }

  private static String batch() {
    StringBuilder sb = new StringBuilder("[");
    String pad = "p".repeat(1000);
    for (int i = 0; i < EVENTS_PER_REQUEST; i++) {
      sb.append(i == 0 ? "" : ",")
          .append("{\"event\":\"load\",\"i\":")
          .append(i)
          .append(",\"pad\":\"")
          .append(pad)
          .append("\"}");
    }
    return sb.append(']').toString();
  }

  private static Round round(
      HttpClient http, ExecutorService pool, int port, String key, String body) throws Exception {
    AtomicInteger left = new AtomicInteger(REQUESTS_PER_ROUND);
    List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
    HttpRequest req =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/batch"))
            .header("Authorization", "Bearer " + key)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build();
    long start = System.nanoTime();
    List<Future<?>> done = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      done.add(
          pool.submit(
              () -> {
                while (left.getAndDecrement() > 0) {
                  long t = System.nanoTime();
                  HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
                  latencies.add(System.nanoTime() - t);
                  if (r.statusCode() != 200
                      || !r.body().contains("\"accepted\":" + EVENTS_PER_REQUEST)) {
                    throw new AssertionError("batch answered " + r.statusCode() + ": " + r.body());
                  }
                }
                return null;
              }));
    }
    for (Future<?> f : done) {
      f.get(120, TimeUnit.SECONDS);
    }
    return new Round((System.nanoTime() - start) / 1e9, latencies);
  }

  private static double median(List<Double> values) {
    List<Double> v = new ArrayList<>(values);
    Collections.sort(v);
    return v.get(v.size() / 2);
  }

  private static double metric(HttpClient http, int admin, String name) throws Exception {
    String text =
        http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    Matcher m = Pattern.compile("(?m)^" + name + "(?:\\{[^}]*\\})? (\\S+)$").matcher(text);
    if (!m.find()) {
      throw new AssertionError(name + " is not on /metrics");
    }
    return Double.parseDouble(m.group(1));
  }

  private static void awaitMetric(
      HttpClient http, int admin, String name, java.util.function.DoublePredicate ok)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!ok.test(metric(http, admin, name))) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(name + " never reached the expected value");
      }
      Thread.sleep(20);
    }
  }

  private static void awaitUp(HttpClient http, int admin, Process p, Path log) throws Exception {
    // As for every service process: a loaded machine can take over a minute to start a JVM.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new AssertionError("the service exited: " + Files.readString(log));
      }
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/readyz")).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (java.io.IOException e) {
        // not up yet
      }
      Thread.sleep(50);
    }
    throw new AssertionError("the service did not start: " + Files.readString(log));
  }
}
