package io.trellis.ingress.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.testing.Await;
import io.trellis.ingress.testing.RunningService;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CredentialRemovalIT {
  @TempDir static Path dir;
  static RunningService service;
  static String key;

  @BeforeAll
  static void start() {
    service =
        RunningService.start(
            dir,
            Map.of(
                "capture.secret-headers", "X-Shop-Token",
                "capture.secret-params", "token"));
    key = service.createKey("acme");
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  private static JsonNode stored(HttpResponse<String> res) {
    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    return service.awaitEvent(RunningService.json(res.body()).path("event_id").asText());
  }

  @Test
  void keyInTheQueryIsRemovedFromParamsAndUrlAndEverythingElseIsKept() {
    JsonNode e = stored(service.get("/track?a=1&api_key=" + key + "&b=2#frag"));

    assertThat(e.path("query_params").has("api_key")).isFalse();
    assertThat(e.path("query_params").path("a").asText()).isEqualTo("1");
    assertThat(e.path("query_params").path("b").asText()).isEqualTo("2");
    assertThat(e.path("url").asText()).endsWith("/track?a=1&b=2").doesNotContain(key);
  }

  @Test
  void authorizationHeadersAreRemoved() {
    JsonNode e =
        stored(
            service.send(
                HttpRequest.newBuilder(service.uri("/events"))
                    .header("Authorization", "Bearer " + key)
                    .header("Proxy-Authorization", "Basic cHJveHk6c2VjcmV0")
                    .header("X-Kept", "yes")
                    .POST(HttpRequest.BodyPublishers.ofString("{}"))));

    assertThat(e.path("headers").has("authorization")).isFalse();
    assertThat(e.path("headers").has("proxy-authorization")).isFalse();
    assertThat(e.path("headers").path("x-kept").asText()).isEqualTo("yes");
  }

  @Test
  void basicAuthHeaderIsRemoved() {
    String basic = Base64.getEncoder().encodeToString((key + ":").getBytes(StandardCharsets.UTF_8));
    JsonNode e =
        stored(
            service.send(
                HttpRequest.newBuilder(service.uri("/events"))
                    .header("Authorization", "Basic " + basic)
                    .POST(HttpRequest.BodyPublishers.ofString("{}"))));

    assertThat(e.path("headers").has("authorization")).isFalse();
    assertThat(e.toString()).doesNotContain(basic);
  }

  @Test
  void theKeyIsRedactedWhereverElseItAppears() {
    JsonNode e =
        stored(
            service.send(
                HttpRequest.newBuilder(service.uri("/events"))
                    .header("Authorization", "Bearer " + key)
                    .header("Referer", "https://site.example/?api_key=" + key)
                    .POST(
                        HttpRequest.BodyPublishers.ofString(
                            "{\"event\":\"x\",\"note\":\"my key is " + key + "\"}"))));

    assertThat(e.toString()).doesNotContain(key);
    assertThat(e.path("body").asText()).contains(EventCapture.REDACTED);
    assertThat(e.path("referer").asText()).isEqualTo("https://site.example/?api_key=[redacted]");
  }

  @Test
  void configuredSecretHeadersAndParamsAreRemoved() {
    JsonNode e =
        stored(
            service.send(
                HttpRequest.newBuilder(service.uri("/events?token=t0p&keep=1"))
                    .header("Authorization", "Bearer " + key)
                    .header("X-Shop-Token", "s3cret")
                    .POST(HttpRequest.BodyPublishers.ofString("{}"))));

    assertThat(e.path("headers").has("x-shop-token")).isFalse();
    assertThat(e.path("query_params").has("token")).isFalse();
    assertThat(e.path("url").asText()).endsWith("/events?keep=1");
  }

  @Test
  void noStoredFileContainsTheKey() throws Exception {
    service.get("/pixel?api_key=" + key + "&e=1");
    service.postJson("/batch", key, "[{\"k\":\"" + key + "\"}]");
    service.awaitStored(es -> es.size() >= 2);
    // The files sink's cursor is written after its lines: look once it has caught up.
    Await.until(
        () ->
            service.meters().get("trellis.sink.lag.events").gauges().stream()
                .allMatch(g -> g.value() == 0));

    for (Path f : service.allFiles()) {
      if (f.getFileName().toString().startsWith("keys.")) {
        continue;
      }
      assertThat(Files.readString(f, StandardCharsets.ISO_8859_1))
          .as(f.toString())
          .doesNotContain(key);
    }
    assertThat(Files.readString(dir.resolve("keys.json"))).doesNotContain(key);
  }
}
