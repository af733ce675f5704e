package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.auth.LocalKeyStore;
import io.trellis.ingress.testing.RunningService;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuthenticationIT {
  @TempDir static Path dir;
  static RunningService service;
  static String key;

  @BeforeAll
  static void start() {
    service = RunningService.start(dir);
    key = service.createKey("acme");
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  private static HttpRequest.Builder post(String marker) {
    return HttpRequest.newBuilder(service.uri("/events"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"event\":\"" + marker + "\"}"));
  }

  @Test
  void bearerKeyIsAccepted() {
    assertThat(service.send(post("bearer").header("Authorization", "Bearer " + key)).statusCode())
        .isEqualTo(200);
  }

  @Test
  void basicAuthWithTheKeyAsUserNameIsAccepted() {
    String basic = Base64.getEncoder().encodeToString((key + ":").getBytes(StandardCharsets.UTF_8));
    assertThat(service.send(post("basic").header("Authorization", "Basic " + basic)).statusCode())
        .isEqualTo(200);
  }

  @Test
  void apiKeyQueryParameterIsAccepted() {
    HttpResponse<String> res = service.get("/track?event=q&api_key=" + key);
    assertThat(res.statusCode()).isEqualTo(200);
  }

  @Test
  void missingKeyIs401AndNothingIsStored() {
    HttpResponse<String> res = service.send(post("missing-key-marker"));

    assertThat(res.statusCode()).isEqualTo(401);
    assertThat(RunningService.json(res.body()).path("error").asText()).isEqualTo("unauthorized");
    assertThat(service.storedEvents())
        .noneMatch(e -> e.path("body").asText().contains("missing-key-marker"));
  }

  @Test
  void unknownKeyIs401AndNothingIsStored() {
    String forged = key.substring(0, key.length() - 4) + "AAAA";
    HttpResponse<String> res =
        service.send(post("forged-key-marker").header("Authorization", "Bearer " + forged));

    assertThat(res.statusCode()).isEqualTo(401);
    assertThat(res.body()).doesNotContain(forged);
    assertThat(service.storedEvents())
        .noneMatch(e -> e.path("body").asText().contains("forged-key-marker"));
  }

  @Test
  void revokedKeyIsRefusedWithinSeconds() throws Exception {
    String other = service.createKey("acme");
    assertThat(service.send(post("before").header("Authorization", "Bearer " + other)).statusCode())
        .isEqualTo(200);
    LocalKeyStore store = LocalKeyStore.open(dir);
    String id = other.substring(4, 16);
    assertThat(store.revoke(id)).isTrue();

    long deadline = System.currentTimeMillis() + 10_000;
    int status = 200;
    while (status == 200 && System.currentTimeMillis() < deadline) {
      status = service.send(post("after").header("Authorization", "Bearer " + other)).statusCode();
      Thread.sleep(50);
    }
    assertThat(status).isEqualTo(401);
  }
}
