package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.testing.RunningService;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CorsIT {
  @TempDir static Path dir;
  @TempDir static Path listDir;
  @TempDir static Path privateDir;
  static RunningService service;
  static RunningService listed;
  static RunningService privateNetwork;
  static String key;

  @BeforeAll
  static void start() {
    service = RunningService.start(dir);
    key = service.createKey("acme");
    listed =
        RunningService.start(
            listDir,
            Map.of("cors.allowed-origins", "https://shop.example, https://*.brand.example"));
    privateNetwork = RunningService.start(privateDir, Map.of("cors.allow-private-network", "true"));
  }

  @AfterAll
  static void stop() {
    service.close();
    listed.close();
    privateNetwork.close();
  }

  private static HttpRequest.Builder preflight(RunningService s, String path, String origin) {
    return HttpRequest.newBuilder(s.uri(path))
        .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "authorization, content-type, x-trace");
  }

  @Test
  void preflightOnEveryCaptureEndpointMirrorsOriginHeadersAndCredentials() {
    for (String path :
        new String[] {"/events", "/batch", "/pixel", "/track", "/r", "/v1/track", "/v1/batch"}) {
      HttpResponse<String> res = service.send(preflight(service, path, "https://site.example"));

      assertThat(res.statusCode()).as(path).isEqualTo(204);
      assertThat(res.headers().firstValue("access-control-allow-origin"))
          .as(path)
          .hasValue("https://site.example");
      assertThat(res.headers().firstValue("access-control-allow-credentials")).hasValue("true");
      assertThat(res.headers().firstValue("access-control-allow-headers"))
          .hasValue("authorization, content-type, x-trace");
      assertThat(res.headers().firstValue("access-control-allow-methods").orElseThrow())
          .contains("OPTIONS");
      assertThat(res.headers().firstValue("access-control-max-age")).hasValue("86400");
    }
  }

  @Test
  void actualRequestAnswerCarriesTheMirroredOrigin() {
    HttpResponse<String> res =
        service.send(
            HttpRequest.newBuilder(service.uri("/events"))
                .header("Origin", "https://site.example")
                .header("Authorization", "Bearer " + key)
                .POST(HttpRequest.BodyPublishers.ofString("{\"event\":\"cors\"}")));

    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.headers().firstValue("access-control-allow-origin"))
        .hasValue("https://site.example");
    assertThat(res.headers().firstValue("access-control-allow-credentials")).hasValue("true");
    assertThat(res.headers().allValues("vary")).anySatisfy(v -> assertThat(v).contains("Origin"));
  }

  @Test
  void errorAnswersCarryCorsHeadersSoPagesCanReadThem() {
    HttpResponse<String> res =
        service.send(
            HttpRequest.newBuilder(service.uri("/events"))
                .header("Origin", "https://site.example")
                .POST(HttpRequest.BodyPublishers.ofString("{}")));

    assertThat(res.statusCode()).isEqualTo(401);
    assertThat(res.headers().firstValue("access-control-allow-origin"))
        .hasValue("https://site.example");
  }

  @Test
  void allowListAcceptsListedOriginsAndSubdomainPatterns() {
    assertThat(listed.send(preflight(listed, "/events", "https://shop.example")).statusCode())
        .isEqualTo(204);
    HttpResponse<String> sub =
        listed.send(preflight(listed, "/events", "https://eu.brand.example"));
    assertThat(sub.statusCode()).isEqualTo(204);
    assertThat(sub.headers().firstValue("access-control-allow-origin"))
        .hasValue("https://eu.brand.example");
  }

  @Test
  void allowListRefusesOtherOriginsWithAJsonError() {
    HttpResponse<String> res = listed.send(preflight(listed, "/events", "https://evil.example"));

    assertThat(res.statusCode()).isEqualTo(403);
    assertThat(res.headers().firstValue("access-control-allow-origin")).isEmpty();
    assertThat(RunningService.json(res.body()).path("error").asText())
        .isEqualTo("origin_not_allowed");
    assertThat(
            listed
                .send(preflight(listed, "/events", "https://brand.example.evil.com"))
                .statusCode())
        .isEqualTo(403);
  }

  @Test
  void plainOptionsWithoutPreflightAnswersAllow() {
    HttpResponse<String> res =
        service.send(
            HttpRequest.newBuilder(service.uri("/pixel"))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()));

    assertThat(res.statusCode()).isEqualTo(204);
    assertThat(res.headers().firstValue("allow")).hasValue("GET, POST, OPTIONS");
  }

  @Test
  void theOpaqueNullOriginIsNeverMirrored() {
    HttpResponse<String> pre = service.send(preflight(service, "/events", "null"));

    assertThat(pre.statusCode()).isEqualTo(403);
    assertThat(RunningService.json(pre.body()).path("error").asText())
        .isEqualTo("origin_not_allowed");
    assertThat(pre.headers().firstValue("access-control-allow-origin")).isEmpty();
    assertThat(pre.headers().firstValue("access-control-allow-credentials")).isEmpty();

    // A simple request (a beacon from a sandboxed frame) is still captured; its answer is not
    // readable by the page.
    HttpResponse<String> res =
        service.send(
            HttpRequest.newBuilder(service.uri("/events"))
                .header("Origin", "null")
                .header("Authorization", "Bearer " + key)
                .POST(HttpRequest.BodyPublishers.ofString("{\"event\":\"sandboxed\"}")));
    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.headers().firstValue("access-control-allow-origin")).isEmpty();
    assertThat(res.headers().firstValue("access-control-allow-credentials")).isEmpty();
  }

  @Test
  void privateNetworkAccessIsGrantedOnlyWhenConfigured() {
    HttpResponse<String> byDefault =
        service.send(
            preflight(service, "/events", "https://site.example")
                .header("Access-Control-Request-Private-Network", "true"));
    assertThat(byDefault.statusCode()).isEqualTo(204);
    assertThat(byDefault.headers().firstValue("access-control-allow-private-network")).isEmpty();

    HttpResponse<String> configured =
        privateNetwork.send(
            preflight(privateNetwork, "/events", "https://site.example")
                .header("Access-Control-Request-Private-Network", "true"));
    assertThat(configured.statusCode()).isEqualTo(204);
    assertThat(configured.headers().firstValue("access-control-allow-private-network"))
        .hasValue("true");
  }
}
