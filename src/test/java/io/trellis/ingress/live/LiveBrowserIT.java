package io.trellis.ingress.live;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.testing.NodeClients;
import io.trellis.ingress.testing.RunningService;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The live page in headless Chromium (clients/live-browser.mjs): events sent over HTTP while the
 * page is open appear newest first with their fields, a row opens its stored record, the
 * organization filter and pause work, and a screenshot is taken (target/live-view.png).
 */
class LiveBrowserIT {
  @TempDir Path dir;

  @Test
  void eventsAppearAndTheFilterAndPauseWork() throws Exception {
    try (RunningService service = RunningService.start(dir)) {
      String acme = service.createKey("acme");
      String globex = service.createKey("globex");
      Path clients = NodeClients.clientsDir();
      NodeClients.chromium();
      Path screenshot = Path.of("target", "live-view.png").toAbsolutePath();
      Files.createDirectories(screenshot.getParent());
      Files.deleteIfExists(screenshot);

      JsonNode page =
          NodeClients.node(
                  clients,
                  120,
                  "live-browser.mjs",
                  "http://127.0.0.1:" + service.adminPort(),
                  "http://127.0.0.1:" + service.port(),
                  acme,
                  globex,
                  screenshot.toString())
              .json();

      List<String> sent = texts(page.path("sent"));
      JsonNode rows = page.path("rows");
      assertThat(rows).hasSize(4);
      // Newest first: the batch's second item is on top, the first pageview at the bottom.
      assertThat(ids(rows)).containsExactly(sent.get(3), sent.get(2), sent.get(1), sent.get(0));
      JsonNode pageview = rows.get(3).path("cells");
      assertThat(pageview.get(1).asText()).isEqualTo("acme");
      assertThat(pageview.get(2).asText()).isEqualTo("pageview");
      assertThat(pageview.get(3).asText()).isEqualTo("/events");
      assertThat(pageview.get(4).asText()).isEqualTo("Cj0-demo");
      assertThat(pageview.get(5).asText()).isEqualTo("google");
      assertThat(pageview.get(6).asText()).isEqualTo("s-1");
      assertThat(rows.get(0).path("cells").get(3).asText()).isEqualTo("/batch");
      assertThat(rows.get(1).path("cells").get(4).asText()).isEqualTo("ms-demo");

      // The detail is the stored record, as the files sink holds it.
      JsonNode detail = RunningService.json(page.path("detail").asText());
      JsonNode stored = service.awaitEvent(sent.get(1));
      assertThat(detail.path("event_id").asText()).isEqualTo(sent.get(1));
      assertThat(detail.path("organization_id").asText()).isEqualTo("globex");
      assertThat(detail.path("click_id").asText()).isEqualTo("IwAR-demo");
      assertThat(detail.path("headers")).isEqualTo(stored.path("headers"));
      assertThat(detail.path("body").path("plan").asText()).isEqualTo("pro");
      assertThat(page.path("detail").asText()).doesNotContain(globex).doesNotContain(acme);
      assertThat(detail.path("headers").has("authorization")).isFalse();

      // The organization filter: only globex's events, the acme one sent between them is not.
      JsonNode filtered = page.path("filtered");
      assertThat(ids(filtered))
          .containsExactly(
              page.path("filteredSent").path("globex").get(1).asText(),
              page.path("filteredSent").path("globex").get(0).asText());
      assertThat(filtered)
          .allSatisfy(r -> assertThat(r.path("cells").get(1).asText()).isEqualTo("globex"));
      assertThat(ids(filtered)).doesNotContain(page.path("filteredSent").path("acme").asText());

      // Paused: the event arrived (counted on the button) but no row was added until resume.
      assertThat(page.path("pausedRows").asInt()).isEqualTo(2);
      assertThat(page.path("pauseLabel").asText()).contains("1 new");
      assertThat(ids(page.path("resumed")).get(0)).isEqualTo(page.path("pausedId").asText());

      byte[] png = Files.readAllBytes(screenshot);
      assertThat(png.length).isGreaterThan(10_000);
      assertThat(new String(png, 1, 3, java.nio.charset.StandardCharsets.US_ASCII))
          .isEqualTo("PNG");
    }
  }

  private static List<String> ids(JsonNode rows) {
    List<String> out = new ArrayList<>();
    rows.forEach(r -> out.add(r.path("id").asText()));
    return out;
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}
