package io.trellis.ingress.clients;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.testing.NodeClients;
import io.trellis.ingress.testing.RunningService;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Headless Chromium loads a page from another origin that sends an {@code <img>} pixel, a {@code
 * sendBeacon}, a {@code fetch} with JSON and Authorization (so a CORS preflight), and a form post;
 * every event must be stored with the right fields.
 */
class BrowserClientsIT {
  @TempDir Path dir;

  @Test
  void pageOnAnotherOriginSendsPixelBeaconFetchAndForm() {
    Path clients = NodeClients.clientsDir();
    String chromium = NodeClients.chromium();
    try (RunningService service = RunningService.start(dir)) {
      String key = service.createKey("acme");
      String run = UUID.randomUUID().toString();

      JsonNode page =
          NodeClients.node(
                  clients, 120, "browser.mjs", "http://127.0.0.1:" + service.port(), key, run)
              .json();

      assertThat(chromium).isNotNull();
      assertThat(page.path("pixel").path("loaded").asBoolean()).as(page.toString()).isTrue();
      assertThat(page.path("pixel").path("width").asInt()).isEqualTo(1);
      assertThat(page.path("beacon").asBoolean()).isTrue();
      assertThat(page.path("fetch").path("status").asInt()).as(page.toString()).isEqualTo(200);
      assertThat(page.path("form").path("submitted").asBoolean()).isTrue();
      String origin = page.path("pageOrigin").asText();

      List<JsonNode> stored = service.awaitStored(es -> ofRun(es, run).size() == 4);
      List<JsonNode> mine = ofRun(stored, run);

      JsonNode pixel = byType(mine, "img_pixel");
      assertThat(pixel.path("method").asText()).isEqualTo("GET");
      assertThat(pixel.path("source").asText()).isEqualTo("img");
      assertThat(pixel.path("headers").path("user-agent").asText()).contains("Chrome");
      assertThat(pixel.path("referer").asText()).startsWith(origin);

      JsonNode beacon = byType(mine, "beacon_unload");
      assertThat(beacon.path("method").asText()).isEqualTo("POST");
      assertThat(beacon.path("headers").path("content-type").asText()).startsWith("text/plain");
      assertThat(beacon.path("source").asText()).isEqualTo("beacon");
      assertThat(beacon.path("headers").path("origin").asText()).isEqualTo(origin);

      JsonNode fetch = byType(mine, "fetch_json");
      assertThat(fetch.path("event_id").asText())
          .isEqualTo(page.path("fetch").path("body").path("event_id").asText());
      assertThat(fetch.path("click_id").asText()).isEqualTo("G-" + run);
      assertThat(fetch.path("headers").path("origin").asText()).isEqualTo(origin);
      assertThat(fetch.path("headers").has("authorization")).isFalse();

      JsonNode form = byType(mine, "form_post");
      assertThat(form.path("headers").path("content-type").asText())
          .isEqualTo("application/x-www-form-urlencoded");
      assertThat(RunningService.json(form.path("body").asText()).path("run").asText())
          .isEqualTo(run);
      assertThat(form.path("query_params").has("api_key")).isFalse();

      for (JsonNode e : mine) {
        assertThat(e.path("organization_id").asText()).isEqualTo("acme");
        assertThat(e.toString()).doesNotContain(key);
      }
    }
  }

  private static List<JsonNode> ofRun(List<JsonNode> stored, String run) {
    return stored.stream()
        .filter(
            e ->
                e.path("query_params").path("run").asText().equals(run)
                    || e.path("body").asText().contains(run))
        .toList();
  }

  private static JsonNode byType(List<JsonNode> events, String type) {
    return events.stream()
        .filter(e -> e.path("event_type").asText().equals(type))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no stored " + type + " event in " + events));
  }
}
