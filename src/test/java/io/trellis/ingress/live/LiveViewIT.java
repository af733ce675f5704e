package io.trellis.ingress.live;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.testing.RunningService;
import io.trellis.ingress.testing.SseStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The live view's stream on the admin port, read by a real socket while events are captured. */
class LiveViewIT {
  private static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir Path dir;

  private static List<JsonNode> events(SseStream s) {
    return s.data("event").stream().map(RunningService::json).toList();
  }

  private static String post(RunningService service, String path, String key, String body) {
    HttpResponse<String> r = service.postJson(path, key, body);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r.body();
  }

  @Test
  void anAcknowledgedEventAppearsWithItsStoredRecordAndNoKey() {
    try (RunningService service = RunningService.start(dir)) {
      String key = service.createKey("acme");
      try (SseStream live = SseStream.open(service.adminPort(), "/live/events")) {
        live.await(f -> !live.data("hello").isEmpty(), WAIT);

        HttpResponse<String> r =
            service.send(
                HttpRequest.newBuilder(service.uri("/events?api_key=" + key + "&utm_source=google"))
                    .header("X-Api-Key", key)
                    .POST(
                        HttpRequest.BodyPublishers.ofString(
                            "{\"event\":\"signup\",\"gclid\":\"G-7\",\"note\":\"" + key + "\"}")));
        assertThat(r.statusCode()).isEqualTo(200);
        String id = RunningService.json(r.body()).path("event_id").asText();

        live.await(f -> !live.data("event").isEmpty(), WAIT);
        JsonNode e = events(live).get(0);
        assertThat(e.path("event_id").asText()).isEqualTo(id);
        assertThat(e.path("organization_id").asText()).isEqualTo("acme");
        assertThat(e.path("event_type").asText()).isEqualTo("signup");
        assertThat(e.path("click_id").asText()).isEqualTo("G-7");
        assertThat(e.path("source").asText()).isEqualTo("google");
        assertThat(e.path("query_params").path("utm_source").asText()).isEqualTo("google");
        assertThat(String.join("\n", live.data("event"))).doesNotContain(key);
        assertThat(live.head()).contains("text/event-stream");

        // The same record the files sink stores, apart from the time each wrote it.
        JsonNode stored = service.awaitEvent(id);
        assertThat(withoutIngestedAt(e)).isEqualTo(withoutIngestedAt(stored));
      }
    }
  }

  private static JsonNode withoutIngestedAt(JsonNode n) {
    com.fasterxml.jackson.databind.node.ObjectNode copy =
        ((com.fasterxml.jackson.databind.node.ObjectNode) n).deepCopy();
    copy.remove("ingested_at");
    return copy;
  }

  @Test
  void eachViewerSeesOnlyWhatItsFilterAsksFor() {
    try (RunningService service = RunningService.start(dir)) {
      String acme = service.createKey("acme");
      String globex = service.createKey("globex");
      try (SseStream all = SseStream.open(service.adminPort(), "/live/events");
          SseStream byOrg = SseStream.open(service.adminPort(), "/live/events?org=globex");
          SseStream byType = SseStream.open(service.adminPort(), "/live/events?type=signup");
          SseStream byEndpoint =
              SseStream.open(service.adminPort(), "/live/events?endpoint=/batch");
          SseStream byText = SseStream.open(service.adminPort(), "/live/events?q=NEEDLE-42")) {
        for (SseStream s : List.of(all, byOrg, byType, byEndpoint, byText)) {
          s.await(f -> !s.data("hello").isEmpty(), WAIT);
        }

        post(service, "/events", acme, "{\"event\":\"signup\"}");
        post(service, "/events", globex, "{\"event\":\"pageview\",\"page\":\"/needle-42\"}");
        post(service, "/batch", acme, "[{\"event\":\"click\"},{\"event\":\"signup\"}]");
        assertThat(service.get("/track?event=view&api_key=" + globex).statusCode()).isEqualTo(200);

        all.await(f -> all.data("event").size() >= 5, WAIT);
        assertThat(types(all)).containsExactly("signup", "pageview", "click", "signup", "view");
        byOrg.await(f -> byOrg.data("event").size() >= 2, WAIT);
        byType.await(f -> byType.data("event").size() >= 2, WAIT);
        byEndpoint.await(f -> byEndpoint.data("event").size() >= 2, WAIT);
        byText.await(f -> byText.data("event").size() >= 1, WAIT);
        assertThat(types(byOrg)).containsExactly("pageview", "view");
        assertThat(types(byType)).containsExactly("signup", "signup");
        assertThat(types(byEndpoint)).containsExactly("click", "signup");
        assertThat(types(byText)).containsExactly("pageview");
        assertThat(events(byEndpoint))
            .allSatisfy(e -> assertThat(e.path("url").asText()).contains("/batch"));
      }
    }
  }

  private static List<String> types(SseStream s) {
    return events(s).stream().map(e -> e.path("event_type").asText()).toList();
  }

  @Test
  void oneViewerMoreThanTheCapIsRefusedWithAClearError() {
    try (RunningService service = RunningService.start(dir, Map.of("live.max-viewers", "2"))) {
      try (SseStream one = SseStream.open(service.adminPort(), "/live/events");
          SseStream two = SseStream.open(service.adminPort(), "/live/events")) {
        one.await(f -> !one.data("hello").isEmpty(), WAIT);
        two.await(f -> !two.data("hello").isEmpty(), WAIT);

        HttpResponse<String> third =
            service.send(HttpRequest.newBuilder(service.adminUri("/live/events")).GET());

        assertThat(third.statusCode()).isEqualTo(503);
        assertThat(third.headers().firstValue("Retry-After")).isPresent();
        JsonNode body = RunningService.json(third.body());
        assertThat(body.path("status").asText()).isEqualTo("error");
        assertThat(body.path("error").asText()).isEqualTo("too_many_viewers");
        assertThat(body.path("message").asText()).contains("live.max-viewers");

        two.close();
        awaitViewers(service, 1);
        try (SseStream again = SseStream.open(service.adminPort(), "/live/events")) {
          again.await(f -> !again.data("hello").isEmpty(), WAIT);
          assertThat(again.status()).isEqualTo(200);
        }
      }
    }
  }

  @Test
  void noThreadFollowsTheSpoolWhileNobodyWatches() {
    try (RunningService service = RunningService.start(dir)) {
      String key = service.createKey("acme");
      post(service, "/events", key, "{\"event\":\"unwatched\"}");
      assertThat(tailThreads()).isZero();

      try (SseStream live = SseStream.open(service.adminPort(), "/live/events")) {
        live.await(f -> !live.data("hello").isEmpty(), WAIT);
        assertThat(tailThreads()).isEqualTo(1);
        post(service, "/events", key, "{\"event\":\"watched\"}");
        live.await(f -> !live.data("event").isEmpty(), WAIT);
        // Only what was acknowledged after the viewer came: not the event before it.
        assertThat(types(live)).containsExactly("watched");
      }
      awaitViewers(service, 0);
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (tailThreads() > 0 && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      assertThat(tailThreads()).isZero();
    }
  }

  private static long tailThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().equals("live-tail") && t.isAlive())
        .count();
  }

  private static void awaitViewers(RunningService service, int n) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (service.meters().get("trellis.live.viewers").gauge().value() != n) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("viewers never went to " + n);
      }
      Thread.onSpinWait();
    }
  }

  @Test
  void aViewerThatFellBehindIsToldHowManyEventsItMissed() throws Exception {
    // The smallest viewer buffer, and a socket that takes nothing until the events are in.
    try (RunningService service =
        RunningService.start(dir, Map.of("live.viewer-buffer", "64KiB"))) {
      String key = service.createKey("acme");
      try (SseStream slow = SseStream.open(service.adminPort(), "/live/events", 4096)) {
        awaitViewers(service, 1);
        String pad = "x".repeat(4000);
        int sent = 0;
        for (int i = 0; i < 40; i++) {
          StringBuilder batch = new StringBuilder("[");
          for (int j = 0; j < 50; j++) {
            batch.append(j == 0 ? "" : ",").append("{\"event\":\"e\",\"pad\":\"").append(pad);
            batch.append("\"}");
            sent++;
          }
          post(service, "/batch", key, batch.append(']').toString());
        }
        awaitDropped(service);

        slow.startReading();
        slow.await(
            f -> {
              long got = slow.data("event").size();
              List<String> d = slow.data("dropped");
              return !d.isEmpty()
                  && got + RunningService.json(d.get(d.size() - 1)).path("dropped").asLong()
                      >= 2000;
            },
            Duration.ofSeconds(30));
        List<String> dropped = slow.data("dropped");
        long missed = RunningService.json(dropped.get(dropped.size() - 1)).path("dropped").asLong();
        assertThat(missed).isPositive();
        // Every event was either shown or counted as dropped: none twice, none unaccounted.
        assertThat(slow.data("event").size() + missed).isEqualTo(sent);
        assertThat(
                events(slow).stream()
                    .map(e -> e.path("event_id").asText())
                    .collect(Collectors.toSet()))
            .hasSize(slow.data("event").size());
      }
    }
  }

  private static void awaitDropped(RunningService service) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (service.meters().get("trellis.live.dropped").counter().count() == 0) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("nothing was dropped for the stalled viewer");
      }
      Thread.onSpinWait();
    }
  }

  @Test
  void aPageOfAnotherHostNameIsRefusedAndTheCapturePortHasNoLiveView() {
    try (RunningService service = RunningService.start(dir)) {
      String answer =
          io.trellis.ingress.testing.RawHttp.exchange(
              service.adminPort(),
              "GET /live/events HTTP/1.1\r\nHost: rebound.example:9090\r\nConnection: close\r\n\r\n");
      assertThat(io.trellis.ingress.testing.RawHttp.status(answer)).isEqualTo(403);
      assertThat(io.trellis.ingress.testing.RawHttp.body(answer)).contains("host_not_allowed");
      // A host Vert.x 5.0 cannot read (it throws on a percent-encoded octet at the end).
      String odd =
          io.trellis.ingress.testing.RawHttp.exchange(
              service.adminPort(),
              "GET /live/events HTTP/1.1\r\nHost: rebound%41\r\nConnection: close\r\n\r\n");
      assertThat(io.trellis.ingress.testing.RawHttp.status(odd)).isEqualTo(403);
      assertThat(io.trellis.ingress.testing.RawHttp.body(odd)).contains("host_not_allowed");

      HttpResponse<String> page =
          service.send(HttpRequest.newBuilder(service.adminUri("/live")).GET());
      assertThat(page.statusCode()).isEqualTo(200);
      assertThat(page.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
      assertThat(page.body()).contains("/live/events");

      assertThat(service.get("/live").statusCode()).isEqualTo(404);
      assertThat(service.get("/live/events").statusCode()).isEqualTo(404);
      assertThat(
              service
                  .send(
                      HttpRequest.newBuilder(
                              URI.create(service.adminUri("/live/events").toString()))
                          .POST(HttpRequest.BodyPublishers.noBody()))
                  .statusCode())
          .isEqualTo(405);
    }
  }
}
