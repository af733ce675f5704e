package io.trellis.ingress.tracker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.testing.NodeClients;
import io.trellis.ingress.testing.RunningService;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * trellis.js as the service serves it, in headless Chromium on a site of another origin, across
 * real navigations (clients/tracker-browser.mjs); every check reads the events the service stored.
 */
class TrackerBrowserIT {
  @TempDir Path dir;

  private static JsonNode run(RunningService service, String scenario, String key) {
    Path clients = NodeClients.clientsDir();
    NodeClients.chromium();
    return NodeClients.node(
            clients,
            120,
            "tracker-browser.mjs",
            scenario,
            "http://127.0.0.1:" + service.port(),
            key)
        .json();
  }

  @Test
  void signupTheNextDayCarriesTheLandingPagesGclidAndTheSameVisitor() {
    try (RunningService service = RunningService.start(dir)) {
      String key = service.createKey("acme");
      String gclid = "X-" + key.substring(key.length() - 6);

      JsonNode page = run(service, "journey", key);

      List<JsonNode> stored = service.awaitStored(es -> es.size() >= 7);
      assertThat(stored).hasSize(7);
      assertThat(distinctIds(stored)).hasSize(7);
      String visitor = page.path("day1").path("visitor").asText();
      assertThat(visitor).isNotEmpty().isEqualTo(page.path("day2").path("visitor").asText());
      String day1Session = page.path("day1").path("session").asText();
      assertThat(page.path("day2").path("session").asText()).isNotEqualTo(day1Session);
      assertThat(page.path("now").asText()).startsWith("2026-11-03T16:");

      String site = page.path("pageOrigin").asText();
      List<JsonNode> pageviews = ofType(stored, "pageview");
      assertThat(pageviews)
          .extracting(e -> body(e).path("url").asText())
          .containsExactlyInAnyOrder(
              site + "/?gclid=" + gclid + "&utm_source=google&utm_medium=cpc",
              site + "/pricing",
              site + "/features",
              site + "/signup",
              site + "/pricing");
      JsonNode spa = byUrlEnding(pageviews, "/features");
      assertThat(body(spa).path("referrer").asText()).isEqualTo(site + "/pricing");
      assertThat(body(spa).path("session_id").asText()).isEqualTo(day1Session);
      assertThat(body(spa).path("title").asText()).isNotEmpty();
      assertThat(body(spa).path("screen").asText()).matches("\\d+x\\d+");
      assertThat(body(spa).path("language").asText()).isNotEmpty();

      JsonNode signup = ofType(stored, "signup").get(0);
      assertThat(signup.path("organization_id").asText()).isEqualTo("acme");
      assertThat(signup.path("click_id").asText()).isEqualTo(gclid);
      assertThat(signup.path("source").asText()).isEqualTo("google");
      assertThat(signup.path("medium").asText()).isEqualTo("cpc");
      assertThat(signup.path("session_id").asText())
          .isEqualTo(page.path("day2").path("session").asText());
      JsonNode signupBody = body(signup);
      assertThat(signupBody.path("visitor_id").asText()).isEqualTo(visitor);
      assertThat(signupBody.path("gclid").asText()).isEqualTo(gclid);
      assertThat(signupBody.path("user_id").asText()).isEqualTo("user-42");
      assertThat(signupBody.path("properties").path("plan").asText()).isEqualTo("pro");
      assertThat(signupBody.path("sent_at").asText()).startsWith("2026-11-03T16:");
      assertThat(signupBody.path("landed_at").asText()).startsWith("2026-11-02T10:");
      assertThat(body(ofType(stored, "identify").get(0)).path("traits").path("plan").asText())
          .isEqualTo("pro");

      for (JsonNode e : stored) {
        assertThat(body(e).path("visitor_id").asText()).isEqualTo(visitor);
        assertThat(e.toString()).doesNotContain(key);
        boolean afterWindow = body(e).path("sent_at").asText().startsWith("2027-02-01");
        assertThat(e.path("click_id").asText()).isEqualTo(afterWindow ? "" : gclid);
      }
      assertThat(stored.stream().filter(e -> body(e).path("sent_at").asText().startsWith("2027")))
          .hasSize(1);
      assertThat(stored.stream().filter(e -> e.path("session_id").asText().equals(day1Session)))
          .hasSize(3);
    }
  }

  @Test
  void eventsTrackedOfflineAreSentOnceWhenTheBrowserIsBack() {
    try (RunningService service = RunningService.start(dir)) {
      String key = service.createKey("acme");

      JsonNode page = run(service, "offline", key);

      List<JsonNode> stored = service.awaitStored(es -> es.size() >= 4);
      assertThat(stored).hasSize(4);
      Set<String> queued = texts(page.path("queued"));
      assertThat(queued).hasSize(3);
      assertThat(distinctIds(stored)).hasSize(4).containsAll(queued);
      assertThat(stored)
          .extracting(e -> e.path("event_type").asText())
          .containsExactlyInAnyOrder("pageview", "offline_a", "offline_b", "offline_c");
    }
  }

  @Test
  void aRateLimitedBatchIsSentAgainAfterRetryAfterAndStoredOnce() {
    // One event a second with room for two at once: the pageview passes; another sender's six
    // events leave the bucket in debt, so the three tracks wait for Retry-After.
    try (RunningService service =
        RunningService.start(dir, Map.of("limits.org.rate", "1", "limits.org.burst", "2"))) {
      String key = service.createKey("acme");

      JsonNode page = run(service, "retry", key);

      assertThat(texts(page.path("statuses"))).contains("429", "200");
      assertThat(page.path("retryAt").asLong()).isPositive();
      List<JsonNode> stored = service.awaitStored(es -> es.size() >= 10);
      assertThat(stored).hasSize(10);
      assertThat(distinctIds(stored))
          .hasSize(10)
          .containsAll(texts(page.path("ids")))
          .containsAll(texts(page.path("others")));
    }
  }

  @Test
  void respectDntWithGlobalPrivacyControlSendsAndKeepsNothing() {
    try (RunningService service = RunningService.start(dir)) {
      String key = service.createKey("acme");

      JsonNode page = run(service, "dnt", key);

      assertThat(page.has("tracked")).as(page.toString()).isTrue();
      assertThat(page.path("tracked").isNull()).isTrue();
      assertThat(page.path("fetches").asInt()).isZero();
      assertThat(page.path("pending").asInt()).isZero();
      assertThat(page.path("visitor").isNull()).as(page.toString()).isTrue();
    }
  }

  @Test
  void withoutFetchAndBeaconThePageviewArrivesAsAPixel() {
    try (RunningService service = RunningService.start(dir)) {
      String key = service.createKey("acme");

      JsonNode page = run(service, "pixel", key);

      JsonNode e = service.awaitStored(es -> !es.isEmpty()).get(0);
      assertThat(e.path("url").asText()).contains("/pixel?");
      assertThat(e.path("event_type").asText()).isEqualTo("pageview");
      assertThat(e.path("click_id").asText()).isEqualTo("FB-1");
      assertThat(e.path("query_params").path("visitor_id").asText())
          .isEqualTo(page.path("visitor").asText());
      assertThat(e.path("session_id").asText()).isNotEmpty();
    }
  }

  @Test
  void loadedThroughAProxyUnderAPathTheScriptSendsThroughItToo() {
    try (RunningService service =
        RunningService.start(dir, Map.of("capture.trusted-proxies", "127.0.0.1"))) {
      String key = service.createKey("acme");

      JsonNode page = run(service, "prefix", key);

      // The script came from PROXY/collect/trellis.js and sent its batch to PROXY/collect/batch,
      // which the proxy passed on as /batch: the stored url is the one the browser used (its
      // api_key parameter left out, as always).
      assertThat(page.path("statuses").toString()).isEqualTo("[200]");
      JsonNode e = ofType(service.awaitStored(es -> !es.isEmpty()), "pageview").get(0);
      assertThat(e.path("url").asText()).isEqualTo(page.path("proxied").asText() + "/batch");
      assertThat(body(e).path("visitor_id").asText()).isEqualTo(page.path("visitor").asText());
      assertThat(body(e).path("url").asText()).endsWith("/pricing");
    }
  }

  @Test
  void anOutboundLinkToAnAllowedHostGoesThroughTheRedirect() {
    try (RunningService service =
        RunningService.start(dir, Map.of("redirect.allowed-hosts", "127.0.0.1"))) {
      String key = service.createKey("acme");

      JsonNode page = run(service, "link", key);

      assertThat(page.path("landed").asText()).isEqualTo(page.path("target").asText());
      List<JsonNode> stored =
          service.awaitStored(es -> es.stream().anyMatch(e -> isType(e, "outbound_click")));
      JsonNode click = ofType(stored, "outbound_click").get(0);
      assertThat(click.path("url").asText()).contains("/r?");
      assertThat(click.path("query_params").path("u").asText())
          .isEqualTo(page.path("target").asText());
      assertThat(click.path("query_params").path("visitor_id").asText())
          .isEqualTo(page.path("visitor").asText());
      assertThat(click.path("click_id").asText()).isEqualTo("L-1");
    }
  }

  private static JsonNode body(JsonNode event) {
    return RunningService.json(event.path("body").asText());
  }

  private static boolean isType(JsonNode e, String type) {
    return e.path("event_type").asText().equals(type);
  }

  private static List<JsonNode> ofType(List<JsonNode> events, String type) {
    List<JsonNode> found = events.stream().filter(e -> isType(e, type)).toList();
    assertThat(found).as("stored %s events in %s", type, events).isNotEmpty();
    return found;
  }

  private static JsonNode byUrlEnding(List<JsonNode> events, String suffix) {
    return events.stream()
        .filter(e -> body(e).path("url").asText().endsWith(suffix))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no event for " + suffix + " in " + events));
  }

  private static Set<String> distinctIds(List<JsonNode> events) {
    Set<String> ids = new HashSet<>();
    for (JsonNode e : events) {
      ids.add(e.path("event_id").asText());
    }
    return ids;
  }

  private static Set<String> texts(JsonNode array) {
    Set<String> out = new HashSet<>();
    StreamSupport.stream(array.spliterator(), false).forEach(n -> out.add(n.asText()));
    return out;
  }
}
