package io.trellis.ingress.spool;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.auth.LocalKeyStore;
import io.trellis.ingress.testing.RunningService;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The spool behind the real HTTP service. */
class SpoolServiceIT {
  @TempDir Path dir;

  private static final Map<String, String> SMALL_SPOOL =
      Map.of(
          "limits.body-max", "8KiB",
          "spool.max-record-size", "16KiB",
          "spool.segment-size", "64KiB",
          "spool.max-bytes", "128KiB",
          "spool.retry-initial-backoff", "10ms",
          "spool.retry-max-backoff", "100ms");

  private static String body(int i) {
    return "{\"event\":\"pageview\",\"n\":" + i + ",\"pad\":\"" + "x".repeat(1000) + "\"}";
  }

  @Test
  void acknowledgedEventsAreStoredAndSurviveARestart() {
    Set<String> acked = new HashSet<>();
    String key = LocalKeyStore.open(dir).create("acme", "test").key();
    try (RunningService s = RunningService.start(dir)) {
      for (int i = 0; i < 20; i++) {
        HttpResponse<String> r = s.postJson("/events", key, "{\"event\":\"a\",\"n\":" + i + "}");
        assertThat(r.statusCode()).isEqualTo(200);
        acked.add(RunningService.json(r.body()).path("event_id").asText());
      }
    }
    assertThat(dir.resolve("spool")).isDirectory();
    try (RunningService s = RunningService.start(dir)) {
      HttpResponse<String> r = s.postJson("/batch", key, "[{\"event\":\"b\"},{\"event\":\"c\"}]");
      assertThat(r.statusCode()).isEqualTo(200);
      for (JsonNode id : RunningService.json(r.body()).path("event_ids")) {
        acked.add(id.asText());
      }
      List<JsonNode> stored =
          s.awaitStored(
              es -> es.stream().map(e -> e.path("event_id").asText()).toList().containsAll(acked));
      assertThat(stored).hasSize(22);
      assertThat(stored).allMatch(e -> e.path("organization_id").asText().equals("acme"));
    }
  }

  @Test
  void aFullSpoolAnswers503WithRetryAfterAndRecoversOnItsOwnAsTheSinkDrains() throws Exception {
    // The files sink cannot write while a plain file sits where it needs a directory.
    Path blocker = dir.resolve("events").resolve("org=acme");
    Files.createDirectories(blocker.getParent());
    Files.writeString(blocker, "in the way");
    String key = LocalKeyStore.open(dir).create("acme", "test").key();
    try (RunningService s = RunningService.start(dir, SMALL_SPOOL)) {
      List<String> acked = new ArrayList<>();
      HttpResponse<String> refused = null;
      for (int i = 0; i < 1000 && refused == null; i++) {
        HttpResponse<String> r = s.postJson("/events", key, body(i));
        if (r.statusCode() == 200) {
          acked.add(RunningService.json(r.body()).path("event_id").asText());
        } else {
          refused = r;
        }
      }
      assertThat(refused).as("the spool never filled up").isNotNull();
      assertThat(refused.statusCode()).isEqualTo(503);
      assertThat(refused.headers().firstValue("Retry-After")).isPresent();
      assertThat(RunningService.json(refused.body()).path("message").asText())
          .contains("spool is full");
      assertThat(acked).hasSizeBetween(50, 130);
      // Still full while the sink is down, and the readiness probe says so.
      assertThat(s.postJson("/events", key, body(-1)).statusCode()).isEqualTo(503);
      HttpResponse<String> notReady = s.send(HttpRequest.newBuilder(s.adminUri("/readyz")).GET());
      assertThat(notReady.statusCode()).isEqualTo(503);
      assertThat(RunningService.json(notReady.body()).path("reason").asText()).contains("spool");

      Files.delete(blocker);
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      HttpResponse<String> r;
      do {
        Thread.sleep(50);
        r = s.postJson("/events", key, body(-2));
      } while (r.statusCode() == 503 && System.nanoTime() < deadline);
      assertThat(r.statusCode()).as("the spool did not recover").isEqualTo(200);
      assertThat(s.send(HttpRequest.newBuilder(s.adminUri("/readyz")).GET()).statusCode())
          .isEqualTo(200);
      acked.add(RunningService.json(r.body()).path("event_id").asText());

      List<JsonNode> stored =
          s.awaitStored(
              es -> es.stream().map(e -> e.path("event_id").asText()).toList().containsAll(acked));
      assertThat(stored.stream().map(e -> e.path("event_id").asText()).distinct().count())
          .isEqualTo(acked.size());
    }
  }
}
