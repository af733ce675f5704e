package io.trellis.ingress.clients;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.testing.NodeClients;
import io.trellis.ingress.testing.RunningService;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server-side SDKs of RudderStack, PostHog and Snowplow, unchanged, each sending every call
 * type with the browser's IP and user agent relayed. They run twice: with keys whose organization
 * may relay client data ({@code keys create --relay}) and with plain keys. Every event must be
 * stored exactly once with the protocol's fields; the relayed IP and user agent become the event's
 * only for the relay keys, and the socket's address is always kept.
 */
class ServerSdksIT {
  private static final String BROWSER_IP = "203.0.113.7";
  private static final List<String> LIBS = List.of("rudder", "posthog", "snowplow");

  @TempDir static Path dir;
  private static RunningService service;
  private static final Map<String, String> keys = new HashMap<>();
  private static final String run = UUID.randomUUID().toString().substring(0, 8);
  private static JsonNode relayed;
  private static JsonNode plain;

  @BeforeAll
  static void runTheSdks() {
    Path clients = NodeClients.clientsDir();
    service = RunningService.start(dir);
    List<String> relayArgs = new ArrayList<>(List.of(url(), run));
    List<String> plainArgs = new ArrayList<>(List.of(url(), run));
    for (String lib : LIBS) {
      String relayKey = service.createKey(lib + "-relay", true);
      String plainKey = service.createKey(lib + "-plain");
      keys.put(lib + "-relay", relayKey);
      keys.put(lib + "-plain", plainKey);
      relayArgs.add(lib + "=" + relayKey);
      plainArgs.add(lib + "=" + plainKey);
    }
    relayed =
        NodeClients.node(clients, 120, "sdks-node.mjs", relayArgs.toArray(String[]::new)).json();
    plain =
        NodeClients.node(clients, 120, "sdks-node.mjs", plainArgs.toArray(String[]::new)).json();
  }

  private static String url() {
    return "http://127.0.0.1:" + service.port();
  }

  @AfterAll
  static void stop() {
    if (service != null) {
      service.close();
    }
  }

  @Test
  void rudderStackNodeCallsAreStoredOnceWithTheirFields() {
    for (String mode : List.of("relay", "plain")) {
      JsonNode ids = ids("rudder", mode);
      Map<String, JsonNode> byId = storedOnce("rudder-" + mode, 6, "messageId");
      Map<String, String> type =
          Map.of(
              "track", "Order Completed",
              "page", "page",
              "screen", "screen",
              "identify", "identify",
              "group", "group",
              "alias", "alias");
      type.forEach(
          (call, eventType) -> {
            JsonNode e = byId.get(ids.path(call).asText());
            assertThat(e).as(call).isNotNull();
            assertThat(e.path("event_id").asText()).isEqualTo(ids.path(call).asText());
            assertThat(e.path("event_type").asText()).isEqualTo(eventType);
            assertThat(e.path("url").asText()).endsWith("/v1/batch");
            // The batch's own send time, beside each event's.
            assertSentAt(e.path("query_params").path("sentAt").asText());
            assertSentAt(body(e).path("sentAt").asText());
            assertDerivedTimes(e, body(e).path("originalTimestamp").asText());
            assertThat(e.path("user_id").asText()).isEqualTo("user-" + run);
            assertThat(e.path("session_id").asText()).isEqualTo("rs-" + run);
            assertThat(e.path("click_id").asText()).isEqualTo("G-" + run);
            assertThat(e.path("source").asText()).isEqualTo("newsletter");
            assertRelay(e, mode, "analytics-node");
          });
    }
  }

  @Test
  void postHogNodeCallsAreStoredOnceWithTheirFields() {
    for (String mode : List.of("relay", "plain")) {
      JsonNode ids = ids("posthog", mode);
      Map<String, JsonNode> byId = storedOnce("posthog-" + mode, 6, "uuid");
      Map<String, JsonNode> byType =
          byId.values().stream()
              .collect(Collectors.toMap(e -> e.path("event_type").asText(), e -> e));
      assertThat(byType)
          .containsOnlyKeys(
              "order_completed",
              "$pageview",
              "$pageleave",
              "$identify",
              "$create_alias",
              "$groupidentify");
      // The batch's send time, which posthog-node puts only in the envelope, is kept with each.
      byId.values().forEach(e -> assertSentAt(e.path("query_params").path("sent_at").asText()));
      // ... and corrects each event's clock; distinct_id from a server SDK is the person.
      byId.values()
          .forEach(
              e -> {
                assertDerivedTimes(e, body(e).path("timestamp").asText());
                assertThat(e.path("sent_at").asText())
                    .isEqualTo(e.path("query_params").path("sent_at").asText());
              });
      assertThat(byType.get("order_completed").path("user_id").asText()).isEqualTo("user-" + run);
      for (String call : List.of("capture", "pageview", "pageleave")) {
        JsonNode e = byId.get(ids.path(call).asText());
        assertThat(e).as(call).isNotNull();
        assertThat(e.path("session_id").asText()).isEqualTo("ph-" + run);
        assertRelay(e, mode, "posthog-node");
      }
      JsonNode pageview = byType.get("$pageview");
      assertThat(pageview.path("click_id").asText()).isEqualTo("G-" + run);
      assertThat(pageview.path("source").asText()).isEqualTo("newsletter");
      assertThat(pageview.path("referer").asText()).isEqualTo("https://search.example/");
      assertThat(pageview.path("url").asText()).endsWith("/batch/");
      // Calls without $ip keep the socket's address, whatever the key.
      assertThat(byType.get("$identify").path("ip").asText()).isEqualTo("127.0.0.1");
    }
  }

  @Test
  void snowplowNodeEventsAreStoredOnceWithTheirFields() {
    for (String mode : List.of("relay", "plain")) {
      JsonNode ids = ids("snowplow", mode);
      Map<String, JsonNode> byId = storedOnce("snowplow-" + mode, 4, "eid");
      Map<String, String> type =
          Map.of(
              "page_view",
              "page_view",
              "page_ping",
              "page_ping",
              "structured",
              "event",
              "self_describing",
              "checkout");
      type.forEach(
          (call, eventType) -> {
            JsonNode e = byId.get(ids.path(call).asText());
            assertThat(e).as(call).isNotNull();
            assertThat(e.path("event_id").asText()).isEqualTo(ids.path(call).asText());
            assertThat(e.path("event_type").asText()).isEqualTo(eventType);
            assertThat(e.path("session_id").asText()).isEqualTo("sid-" + run);
            assertThat(e.path("url").asText())
                .endsWith("/snowplow/[redacted]/com.snowplowanalytics.snowplow/tp2");
            assertRelay(e, mode, "node");
            assertThat(e.path("anonymous_id").asText()).isEqualTo("duid-" + run);
            assertThat(e.path("event_time_source").asText()).isEqualTo("skew_corrected");
            assertThat(Instant.parse(e.path("client_timestamp").asText()).toEpochMilli())
                .isEqualTo(Long.parseLong(body(e).path("dtm").asText()));
            assertThat(Instant.parse(e.path("sent_at").asText()).toEpochMilli())
                .isEqualTo(Long.parseLong(body(e).path("stm").asText()));
            // The custom entity, sent as plain JSON (co), is stored as sent.
            JsonNode entity = BrowserSdksIT.contexts(e).path("data").path(0);
            assertThat(entity.path("schema").asText())
                .isEqualTo("iglu:com.acme/cart/jsonschema/1-0-0");
            assertThat(entity.path("data").path("runId").asText()).isEqualTo(run);
          });
      JsonNode ping = body(byId.get(ids.path("page_ping").asText()));
      assertThat(ping.path("pp_mix").asText()).isEqualTo("5");
      assertThat(ping.path("pp_max").asText()).isEqualTo("10");
      assertThat(ping.path("pp_miy").asText()).isEqualTo("20");
      assertThat(ping.path("pp_may").asText()).isEqualTo("300");
      JsonNode structured = body(byId.get(ids.path("structured").asText()));
      assertThat(structured.path("se_ca").asText()).isEqualTo("shop");
      assertThat(structured.path("se_ac").asText()).isEqualTo("add-to-basket");
      assertThat(structured.path("se_la").asText()).isEqualTo(run);
      assertThat(structured.path("se_pr").asText()).isEqualTo("sku-1");
      assertThat(structured.path("se_va").asText()).isEqualTo("2");
      // The envelope's schema is kept with each event.
      assertThat(byId.values().iterator().next().path("query_params").path("schema").asText())
          .startsWith("iglu:com.snowplowanalytics.snowplow/payload_data/");
      JsonNode pageView = byId.get(ids.path("page_view").asText());
      assertThat(pageView.path("click_id").asText()).isEqualTo("G-" + run);
      assertThat(pageView.path("referer").asText()).isEqualTo("https://search.example/");
    }
  }

  /**
   * The derived time columns of an event whose SDK sent its own time and a send time: the client
   * time is the one in the body, and event_time is corrected for the device's clock (here the same
   * clock as the service's, so it lies between the client time and the receipt time).
   */
  static void assertDerivedTimes(JsonNode e, String bodyTime) {
    assertThat(bodyTime).as("the SDK's own event time").isNotEmpty();
    assertThat(Instant.parse(e.path("client_timestamp").asText()))
        .isEqualTo(Instant.parse(bodyTime));
    assertSentAt(e.path("sent_at").asText());
    assertThat(e.path("event_time_source").asText()).isEqualTo("skew_corrected");
    Instant eventTime = Instant.parse(e.path("event_time").asText());
    assertThat(eventTime)
        .isBetween(
            Instant.parse(bodyTime).minusSeconds(5), Instant.parse(e.path("timestamp").asText()));
  }

  /** An ISO-8601 instant within the last hour: the time an SDK sent a batch. */
  static void assertSentAt(String sentAt) {
    assertThat(sentAt).isNotEmpty();
    assertThat(java.time.Instant.parse(sentAt))
        .isBetween(java.time.Instant.now().minusSeconds(3600), java.time.Instant.now());
  }

  /** Relay keys: the browser's IP and UA, socket address in a header; plain keys: the socket's. */
  private static void assertRelay(JsonNode e, String mode, String sdkAgent) {
    JsonNode headers = e.path("headers");
    assertThat(headers.path("user-agent").asText()).startsWith(sdkAgent);
    if (mode.equals("relay")) {
      assertThat(e.path("ip").asText()).isEqualTo(BROWSER_IP);
      assertThat(e.path("user_agent").asText()).isEqualTo("Mozilla/5.0 (relayed) Shop/" + run);
      assertThat(headers.path("x-trellis-socket-ip").asText()).isEqualTo("127.0.0.1");
    } else {
      assertThat(e.path("ip").asText()).isEqualTo("127.0.0.1");
      assertThat(e.path("user_agent").asText()).startsWith(sdkAgent);
      assertThat(headers.has("x-trellis-socket-ip")).isFalse();
    }
    assertThat(e.toString()).doesNotContain(keys.get(e.path("organization_id").asText()));
  }

  private static JsonNode ids(String lib, String mode) {
    JsonNode r = (mode.equals("relay") ? relayed : plain).path(lib);
    assertThat(r.path("errors")).as(r.toString()).isEmpty();
    assertThat(r.has("error")).as(r.toString()).isFalse();
    return r.path("ids");
  }

  /** Waits for n events of the organization; each id (a body field) must be stored once. */
  private static Map<String, JsonNode> storedOnce(String org, int n, String idField) {
    List<JsonNode> stored =
        service.awaitStored(es -> of(org, es).size() >= n).stream()
            .filter(e -> e.path("organization_id").asText().equals(org))
            .toList();
    Map<String, List<JsonNode>> groups =
        stored.stream().collect(Collectors.groupingBy(e -> body(e).path(idField).asText()));
    groups.forEach((k, v) -> assertThat(v).as("events with id " + k).hasSize(1));
    assertThat(groups).hasSize(n);
    Map<String, JsonNode> byId = new HashMap<>();
    groups.forEach((k, v) -> byId.put(k, v.get(0)));
    return byId;
  }

  private static List<JsonNode> of(String org, List<JsonNode> stored) {
    return stored.stream().filter(e -> e.path("organization_id").asText().equals(org)).toList();
  }

  private static JsonNode body(JsonNode stored) {
    String b = stored.path("body").asText();
    return b.startsWith("{") ? RunningService.json(b) : RunningService.json("{}");
  }
}
