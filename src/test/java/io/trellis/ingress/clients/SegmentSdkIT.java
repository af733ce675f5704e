package io.trellis.ingress.clients;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.testing.NodeClients;
import io.trellis.ingress.testing.RunningService;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Segment's own {@code @segment/analytics-node}, unchanged, pointed at the service. */
class SegmentSdkIT {
  @TempDir Path dir;

  @Test
  void analyticsNodeCallsAreStoredWithTheirMessageIds() {
    Path clients = NodeClients.clientsDir();
    try (RunningService service = RunningService.start(dir)) {
      String key = service.createKey("acme");
      String run = UUID.randomUUID().toString();

      JsonNode out =
          NodeClients.node(
                  clients, 120, "segment-node.mjs", "http://127.0.0.1:" + service.port(), key, run)
              .json();

      assertThat(out.path("errors")).as(out.toString()).isEmpty();
      assertThat(out.path("statuses")).isNotEmpty().allMatch(s -> s.asInt() == 200);
      Map<String, String> expectedType =
          Map.of(
              "track", "Order Completed",
              "page", "page",
              "identify", "identify",
              "screen", "screen",
              "group", "group",
              "alias", "alias");
      JsonNode ids = out.path("messageIds");
      assertThat(ids.size()).isEqualTo(6);
      List<JsonNode> stored = service.awaitStored(es -> matching(es, ids).size() == 6);
      for (String type : expectedType.keySet()) {
        String messageId = ids.path(type).asText();
        JsonNode e =
            matching(stored, ids).stream()
                .filter(s -> body(s).path("messageId").asText().equals(messageId))
                .findFirst()
                .orElseThrow();
        assertThat(e.path("organization_id").asText()).isEqualTo("acme");
        assertThat(e.path("event_type").asText()).as(type).isEqualTo(expectedType.get(type));
        assertThat(body(e).path("type").asText()).isEqualTo(type);
        assertThat(e.path("url").asText()).endsWith("/v1/batch");
        // analytics-node puts the send time only in the batch's envelope: kept with each event.
        ServerSdksIT.assertSentAt(e.path("query_params").path("sentAt").asText());
        // The envelope's sentAt corrects the item's own timestamp.
        ServerSdksIT.assertDerivedTimes(e, body(e).path("timestamp").asText());
        assertThat(e.toString()).doesNotContain(key);
      }
    }
  }

  private static List<JsonNode> matching(List<JsonNode> stored, JsonNode ids) {
    List<String> wanted = new java.util.ArrayList<>();
    ids.forEach(id -> wanted.add(id.asText()));
    return stored.stream()
        .filter(s -> wanted.contains(body(s).path("messageId").asText()))
        .toList();
  }

  private static JsonNode body(JsonNode stored) {
    String b = stored.path("body").asText();
    return b.startsWith("{") ? RunningService.json(b) : RunningService.json("{}");
  }
}
