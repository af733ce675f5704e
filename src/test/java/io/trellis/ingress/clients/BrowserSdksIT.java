package io.trellis.ingress.clients;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.testing.NodeClients;
import io.trellis.ingress.testing.RunningService;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The browser SDKs of Segment (analytics.js), RudderStack, PostHog and Snowplow, unchanged, in one
 * headless Chromium run: each page on another origin, set up with the service's URL and a key of
 * its own organization, sends every call type its library has. Each test then reads what that
 * organization got, field by field, and counts every event stored exactly once.
 */
class BrowserSdksIT {
  @TempDir static Path dir;
  private static RunningService service;
  private static final Map<String, String> keys = new HashMap<>();
  private static final String run = UUID.randomUUID().toString().substring(0, 8);
  private static JsonNode out;

  @BeforeAll
  static void runTheSdks() {
    Path clients = NodeClients.clientsDir();
    NodeClients.chromium();
    service = RunningService.start(dir);
    List<String> args = new ArrayList<>(List.of("http://127.0.0.1:" + service.port(), run));
    for (String lib : List.of("segment", "rudder", "posthog", "snowplow")) {
      keys.put(lib, service.createKey(lib + "-browser"));
      args.add(lib + "=" + keys.get(lib));
    }
    out = NodeClients.node(clients, 180, "sdks-browser.mjs", args.toArray(String[]::new)).json();
  }

  @AfterAll
  static void stop() {
    if (service != null) {
      service.close();
    }
  }

  @Test
  void analyticsJsCallsAreStoredOnceWithTheirFields() {
    JsonNode lib = result("segment");
    // analytics.js fetched its settings from the service (cdnURL), none were given inline.
    assertThat(lib.path("requests").toString())
        .contains(
            "\"http://127.0.0.1:"
                + service.port()
                + "/v1/projects/"
                + keys.get("segment")
                + "/settings\"");
    JsonNode ids = lib.path("calls");
    assertThat(ids.size()).as(lib.toString()).isEqualTo(6);
    Map<String, JsonNode> byId = storedOnce("segment", 6, e -> body(e).path("messageId").asText());
    Map<String, String> type =
        Map.of(
            "track", "Order Completed",
            "page", "page",
            "identify", "identify",
            "group", "group",
            "alias", "alias",
            "screen", "screen");
    type.forEach(
        (call, eventType) -> {
          JsonNode e = byId.get(ids.path(call).asText());
          assertThat(e).as(call).isNotNull();
          assertThat(e.path("event_type").asText()).isEqualTo(eventType);
          assertThat(e.path("url").asText()).endsWith("/v1/" + call.charAt(0));
          assertThat(e.path("campaign").asText()).isEqualTo("spring");
          assertThat(e.path("user_agent").asText()).contains("Chrome/141");
          assertThat(e.path("ip").asText()).isEqualTo("127.0.0.1");
          assertThat(body(e).path("writeKey").asText()).isEqualTo("[redacted]");
          ServerSdksIT.assertDerivedTimes(e, body(e).path("timestamp").asText());
          assertThat(e.path("anonymous_id").asText())
              .isEqualTo(body(e).path("anonymousId").asText())
              .isNotEmpty();
          // The page call's properties.url is the page it names; the others come from the page.
          assertThat(e.path("click_id").asText())
              .isEqualTo(call.equals("page") ? "G-page-" + run : "G-segment-" + run);
        });
    assertThat(byId.get(ids.path("page").asText()).path("source").asText()).isEqualTo("seg");
    assertThat(byId.get(ids.path("identify").asText()).path("user_id").asText())
        .isEqualTo("user-" + run);
  }

  @Test
  void rudderStackCallsAreStoredOnceWithTheirFields() {
    result("rudder");
    Map<String, JsonNode> byId = storedOnce("rudder", 5, e -> body(e).path("messageId").asText());
    Map<String, JsonNode> byType =
        byId.values().stream()
            .collect(Collectors.toMap(e -> e.path("event_type").asText(), e -> e));
    assertThat(byType).containsOnlyKeys("Order Completed", "page", "identify", "group", "alias");
    for (JsonNode e : byType.values()) {
      assertThat(e.path("event_id").asText()).isEqualTo(body(e).path("messageId").asText());
      assertThat(e.path("session_id").asText())
          .isEqualTo(body(e).path("context").path("sessionId").asText())
          .isNotEmpty();
      assertThat(e.path("click_id").asText()).isEqualTo("G-rudder-" + run);
      assertThat(e.path("campaign").asText()).isEqualTo("spring");
      assertThat(e.path("headers").toString()).doesNotContain(keys.get("rudder"));
      ServerSdksIT.assertDerivedTimes(e, body(e).path("originalTimestamp").asText());
      assertThat(e.path("anonymous_id").asText())
          .isEqualTo(body(e).path("anonymousId").asText())
          .isNotEmpty();
    }
    assertThat(byType.get("identify").path("user_id").asText()).isEqualTo("user-" + run);
  }

  @Test
  void postHogCallsAreStoredOnceWithTheirFields() {
    JsonNode lib = result("posthog");
    assertThat(lib.path("calls").path("flags")).isEmpty();
    assertThat(lib.path("requests").toString()).contains("/flags/", "/e/");
    // Nothing is on, so the SDK loads no extension script (surveys.js and the like).
    assertThat(lib.path("network").toString()).doesNotContain("/static/");
    List<JsonNode> stored = service.awaitStored(es -> hasPostHogCalls(of("posthog", es)));
    Map<String, JsonNode> byId = once(of("posthog", stored), e -> body(e).path("uuid").asText());
    Map<String, JsonNode> byType = new HashMap<>();
    byId.values().forEach(e -> byType.putIfAbsent(e.path("event_type").asText(), e));
    assertThat(byType)
        .containsKeys(
            "$pageview",
            "order_completed",
            "$identify",
            "$groupidentify",
            "$create_alias",
            "$pageleave");
    String session = lib.path("calls").path("session_id").asText();
    for (JsonNode e : byId.values()) {
      assertThat(e.path("event_id").asText()).isEqualTo(body(e).path("uuid").asText());
      assertThat(e.path("url").asText()).contains("/e/");
      assertThat(e.path("session_id").asText()).isEqualTo(session);
      assertThat(e.path("body").asText()).doesNotContain(keys.get("posthog"));
      // posthog-js sends the batch's send time in the envelope (or the query): kept with each.
      assertThat(e.path("query_params").path("sent_at").asText()).isNotEmpty();
      assertThat(e.path("event_time_source").asText()).isEqualTo("skew_corrected");
      assertThat(e.path("client_timestamp").asText()).isNotEmpty();
    }
    // Before identify, distinct_id is the browser's anonymous id; identify names the person.
    assertThat(byType.get("$pageview").path("anonymous_id").asText()).isNotEmpty();
    assertThat(byType.get("$identify").path("user_id").asText()).isEqualTo("user-" + run);
    JsonNode pageview = byType.get("$pageview");
    assertThat(pageview.path("click_id").asText()).isEqualTo("G-posthog-" + run);
    assertThat(pageview.path("campaign").asText()).isEqualTo("spring");
  }

  @Test
  void snowplowEventsAreStoredOnceWithTheirFields() {
    JsonNode lib = result("snowplow");
    List<String> delivered = new ArrayList<>();
    lib.path("calls").path("delivered").forEach(d -> delivered.add(d.asText()));
    long pings = delivered.stream().filter("pp"::equals).count();
    assertThat(pings).as(delivered.toString()).isPositive();
    // The POST tracker's events and pings as it counted them, plus the pixel's page view. The
    // page keeps moving the mouse until its first ping is acknowledged, so a later ping may be
    // stored before the page stops: pings are at least those the tracker counted, each once.
    List<JsonNode> stored =
        service.awaitStored(es -> of("snowplow", es).size() >= delivered.size() + 1);
    Map<String, JsonNode> byId = once(of("snowplow", stored), e -> eid(e));
    List<String> types =
        byId.values().stream()
            .map(e -> e.path("event_type").asText())
            .filter(t -> !t.equals("page_ping"))
            .toList();
    assertThat(types).containsExactlyInAnyOrder("checkout", "event", "page_view", "page_view");
    assertThat(
            byId.values().stream().filter(e -> e.path("event_type").asText().equals("page_ping")))
        .hasSizeGreaterThanOrEqualTo((int) pings);
    for (JsonNode e : byId.values()) {
      assertThat(e.path("event_id").asText()).isEqualTo(eid(e));
      assertThat(e.path("click_id").asText()).isEqualTo("G-snowplow-" + run);
      assertThat(e.path("campaign").asText()).isEqualTo("spring");
      assertThat(e.path("session_id").asText()).isNotEmpty();
      assertThat(e.path("anonymous_id").asText()).isNotEmpty();
      assertThat(e.path("event_time_source").asText()).as(e.toString()).isEqualTo("skew_corrected");
      assertThat(e.path("url").asText())
          .contains("/snowplow/[redacted]/")
          .doesNotContain(keys.get("snowplow"));
      // The entities sent with each event, plain (co) or base64 (cx), are stored as sent: the
      // page's own and the custom one.
      JsonNode entities = contexts(e).path("data");
      List<String> schemas = new ArrayList<>();
      entities.forEach(c -> schemas.add(c.path("schema").asText()));
      assertThat(schemas)
          .as(e.toString())
          .contains(
              "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0",
              "iglu:com.acme/cart/jsonschema/1-0-0");
      entities.forEach(
          c -> {
            if (c.path("schema").asText().equals("iglu:com.acme/cart/jsonschema/1-0-0")) {
              assertThat(c.path("data").path("runId").asText()).isEqualTo(run);
            }
          });
    }
    List<JsonNode> pixels =
        byId.values().stream().filter(e -> e.path("method").asText().equals("GET")).toList();
    assertThat(pixels).hasSize(1);
    assertThat(pixels.get(0).path("query_params").path("e").asText()).isEqualTo("pv");
    assertThat(pixels.get(0).path("query_params").path("cx").asText()).isNotEmpty();
    JsonNode structured =
        body(
            byId.values().stream()
                .filter(e -> e.path("event_type").asText().equals("event"))
                .findFirst()
                .orElseThrow());
    assertThat(structured.path("se_ca").asText()).isEqualTo("shop");
    assertThat(structured.path("se_ac").asText()).isEqualTo("add-to-basket");
    assertThat(structured.path("se_la").asText()).isEqualTo(run);
    assertThat(structured.path("se_pr").asText()).isEqualTo("sku-1");
    assertThat(structured.path("se_va").asText()).isEqualTo("2");
  }

  /** A Snowplow event's entities: its co (JSON text) or cx (base64), in its body or query. */
  static JsonNode contexts(JsonNode stored) {
    JsonNode fields =
        stored.path("method").asText().equals("GET") ? stored.path("query_params") : body(stored);
    if (fields.hasNonNull("co")) {
      return RunningService.json(fields.path("co").asText());
    }
    String cx = fields.path("cx").asText();
    return RunningService.json(
        new String(
            java.util.Base64.getUrlDecoder()
                .decode(cx.replace('+', '-').replace('/', '_').replace("=", "")),
            java.nio.charset.StandardCharsets.UTF_8));
  }

  private static boolean hasPostHogCalls(List<JsonNode> es) {
    List<String> types = es.stream().map(e -> e.path("event_type").asText()).toList();
    return types.containsAll(
        List.of(
            "$pageview",
            "order_completed",
            "$identify",
            "$groupidentify",
            "$create_alias",
            "$pageleave"));
  }

  /**
   * The library's result, after checking that the page finished, that every answer the library got
   * from the service, as the page saw it, was a 2xx (so it has nothing to retry), that no request
   * the browser made (scripts included) was refused, that nothing was fetched from any other host,
   * and that the console holds no error.
   */
  private static JsonNode result(String lib) {
    JsonNode r = out.path(lib);
    assertThat(r.path("error").isMissingNode() || r.path("error").isNull())
        .as(r.toString())
        .isTrue();
    assertThat(r.path("requests")).as(r.toString()).isNotEmpty();
    for (JsonNode req : r.path("requests")) {
      assertThat(req.path("status").asInt()).as(req.toString()).isBetween(200, 299);
    }
    for (JsonNode req : r.path("network")) {
      assertThat(req.path("status").asInt()).as(req.toString()).isLessThan(400);
    }
    assertThat(r.path("others")).as("requests to other hosts").isEmpty();
    assertThat(r.path("errors")).as("console errors").isEmpty();
    return r;
  }

  /** Waits for n events of the library's organization; each id must be stored exactly once. */
  private static Map<String, JsonNode> storedOnce(
      String lib, int n, Function<JsonNode, String> id) {
    List<JsonNode> stored = service.awaitStored(es -> of(lib, es).size() >= n);
    Map<String, JsonNode> byId = once(of(lib, stored), id);
    assertThat(byId).hasSize(n);
    return byId;
  }

  private static Map<String, JsonNode> once(List<JsonNode> events, Function<JsonNode, String> id) {
    Map<String, List<JsonNode>> groups = events.stream().collect(Collectors.groupingBy(id));
    groups.forEach((k, v) -> assertThat(v).as("events with id " + k).hasSize(1));
    Map<String, JsonNode> byId = new HashMap<>();
    groups.forEach((k, v) -> byId.put(k, v.get(0)));
    return byId;
  }

  private static List<JsonNode> of(String lib, List<JsonNode> stored) {
    return stored.stream()
        .filter(e -> e.path("organization_id").asText().equals(lib + "-browser"))
        .toList();
  }

  private static String eid(JsonNode e) {
    return e.path("method").asText().equals("GET")
        ? e.path("query_params").path("eid").asText()
        : body(e).path("eid").asText();
  }

  private static JsonNode body(JsonNode stored) {
    String b = stored.path("body").asText();
    return b.startsWith("{") ? RunningService.json(b) : RunningService.json("{}");
  }
}
