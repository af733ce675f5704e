package io.trellis.ingress.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.testing.Await;
import io.trellis.ingress.testing.CliProcess;
import io.trellis.ingress.testing.RunningService;
import io.trellis.ingress.testing.SseStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code trellis-ingress tail} as its own process, reading a running service's live stream. */
class TailCommandIT {
  @TempDir Path dir;

  /**
   * Waits, polling, for the {@code tail} process to connect: a JVM that starts on a loaded machine
   * can take longer than 30 s, and a busy wait here would take a core from it.
   */
  private static void awaitViewers(RunningService service, int n) {
    Await.until(
        () -> service.meters().get("trellis.live.viewers").gauge().value() == n,
        Duration.ofSeconds(90),
        () -> "live viewers never reached " + n);
  }

  private static String eventId(RunningService service, String key, String json) {
    return RunningService.json(service.postJson("/events", key, json).body())
        .path("event_id")
        .asText();
  }

  @Test
  void printsTheFilteredEventsAsNdjsonLinesAndStopsAfterCount() {
    try (RunningService service = RunningService.start(dir.resolve("data"))) {
      String acme = service.createKey("acme");
      String globex = service.createKey("globex");
      // The admin port from the configuration, as an operator beside the service runs it.
      try (CliProcess tail =
          CliProcess.start(
              dir.resolve("work"),
              Map.of("TRELLIS_ADMIN_PORT", Integer.toString(service.adminPort())),
              "tail",
              "--org",
              "acme",
              "--type",
              "signup",
              "--count",
              "2")) {
        awaitViewers(service, 1);
        eventId(service, globex, "{\"event\":\"signup\"}");
        eventId(service, acme, "{\"event\":\"pageview\"}");
        String first = eventId(service, acme, "{\"event\":\"signup\",\"gclid\":\"G-1\"}");
        String second = eventId(service, acme, "{\"event\":\"signup\",\"plan\":\"pro\"}");

        CliProcess.Result r = tail.awaitExit(Duration.ofSeconds(60));

        assertThat(r.code()).as(r.toString()).isZero();
        List<String> lines = r.outLines();
        assertThat(lines).hasSize(2);
        JsonNode a = RunningService.json(lines.get(0));
        JsonNode b = RunningService.json(lines.get(1));
        assertThat(a.path("event_id").asText()).isEqualTo(first);
        assertThat(a.path("organization_id").asText()).isEqualTo("acme");
        assertThat(a.path("click_id").asText()).isEqualTo("G-1");
        assertThat(b.path("event_id").asText()).isEqualTo(second);
        assertThat(r.out()).doesNotContain(acme).doesNotContain(globex);
      }
    }
  }

  @Test
  void printsOneShortLinePerEventWithFormatText() {
    try (RunningService service = RunningService.start(dir.resolve("data"))) {
      String acme = service.createKey("acme");
      try (CliProcess tail =
          CliProcess.start(
              dir.resolve("work"),
              Map.of(),
              "tail",
              "--url",
              "http://127.0.0.1:" + service.adminPort(),
              "--endpoint",
              "/events",
              "--format",
              "text",
              "--count",
              "1")) {
        awaitViewers(service, 1);
        String id =
            eventId(
                service, acme, "{\"event\":\"signup\",\"gclid\":\"G-9\",\"utm_source\":\"ads\"}");

        CliProcess.Result r = tail.awaitExit(Duration.ofSeconds(60));

        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.outLines()).hasSize(1);
        assertThat(r.outLines().get(0))
            .matches(
                "\\d{4}-\\d\\d-\\d\\dT\\S+Z  acme  signup  /events  click_id=G-9  source=ads  "
                    + id);
      }
    }
  }

  @Test
  void aTailOverTheViewerCapSaysWhyAndExitsNonZero() {
    try (RunningService service =
        RunningService.start(dir.resolve("data"), Map.of("live.max-viewers", "1"))) {
      try (SseStream page = SseStream.open(service.adminPort(), "/live/events")) {
        page.await(f -> !page.data("hello").isEmpty(), Duration.ofSeconds(30));

        CliProcess.Result r =
            CliProcess.run(
                dir.resolve("work"),
                Map.of(),
                "tail",
                "--url",
                "http://127.0.0.1:" + service.adminPort());

        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("503").contains("live.max-viewers");
        assertThat(r.out()).isEmpty();
      }
    }
  }

  @Test
  void aTailWithNoServiceSaysSoAndExitsNonZero() throws Exception {
    int port = io.trellis.ingress.testing.FreePorts.pick();
    CliProcess.Result r =
        CliProcess.run(dir.resolve("work"), Map.of(), "tail", "--url", "http://127.0.0.1:" + port);

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("cannot connect");
  }
}
