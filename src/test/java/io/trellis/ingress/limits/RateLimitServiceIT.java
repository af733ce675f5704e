package io.trellis.ingress.limits;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.testing.RunningService;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rate limits through the real service: 429 with Retry-After, and nothing stored for it. */
class RateLimitServiceIT {
  @TempDir Path dir;
  private RunningService service;

  private RunningService start(Map<String, String> settings) {
    service = RunningService.start(dir, settings);
    return service;
  }

  @AfterEach
  void stop() {
    if (service != null) {
      service.close();
    }
  }

  private static String batch(int n, String tag) {
    return IntStream.range(0, n)
        .mapToObj(i -> "{\"event\":\"" + tag + "\",\"n\":" + i + "}")
        .collect(Collectors.joining(",", "[", "]"));
  }

  private HttpResponse<String> from(String ip, String key, String path, String body) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(service.uri(path))
            .header("X-Forwarded-For", ip)
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return service.send(b);
  }

  @Test
  void organizationOverItsRateGets429AndOtherOrganizationsAreStillServed() {
    start(Map.of("limits.org.rate", "1", "limits.org.burst", "50"));
    String noisy = service.createKey("noisy");
    String quiet = service.createKey("quiet");

    assertThat(service.postJson("/batch", noisy, batch(50, "first")).statusCode()).isEqualTo(200);
    HttpResponse<String> limited = service.postJson("/batch", noisy, batch(50, "second"));
    HttpResponse<String> other = service.postJson("/batch", quiet, batch(50, "quiet"));

    assertThat(limited.statusCode()).isEqualTo(429);
    assertThat(RunningService.json(limited.body()).get("error").asText()).isEqualTo("rate_limited");
    long retryAfter = Long.parseLong(limited.headers().firstValue("Retry-After").orElseThrow());
    assertThat(retryAfter).isBetween(1L, 50L);
    assertThat(other.statusCode()).isEqualTo(200);

    List<JsonNode> stored = service.awaitStored(es -> es.size() >= 100);
    assertThat(stored).hasSize(100);
    assertThat(stored).noneMatch(e -> e.get("event_type").asText().equals("second"));
  }

  @Test
  void perOrganizationOverridesReplaceTheDefault() {
    start(
        Map.of(
            "limits.org.rate", "1",
            "limits.org.burst", "10",
            "limits.org.overrides", "big=1000:1000"));
    String big = service.createKey("big");
    String small = service.createKey("small");

    assertThat(service.postJson("/batch", big, batch(500, "a")).statusCode()).isEqualTo(200);
    assertThat(service.postJson("/batch", big, batch(500, "b")).statusCode()).isEqualTo(200);
    assertThat(service.postJson("/batch", small, batch(10, "c")).statusCode()).isEqualTo(200);
    assertThat(service.postJson("/batch", small, batch(10, "d")).statusCode()).isEqualTo(429);
  }

  @Test
  void addressThatKeepsFailingAuthenticationIsSlowedWhateverKeyItSendsNext() {
    start(
        Map.of(
            "capture.trusted-proxies", "127.0.0.1",
            "limits.auth-failures.burst", "3",
            "limits.auth-failures.per-minute", "1"));
    String valid = service.createKey("acme");
    String guesser = "198.51.100.7";

    for (int i = 0; i < 3; i++) {
      String guess = "trk_aaaaaaaaaaa" + i + "_00000000000000000000000000000000";
      assertThat(from(guesser, guess, "/events", "{}").statusCode()).isEqualTo(401);
    }
    HttpResponse<String> blocked = from(guesser, "trk_guess", "/events", "{}");
    HttpResponse<String> blockedValid = from(guesser, valid, "/events", "{\"event\":\"x\"}");
    HttpResponse<String> otherClient = from("203.0.113.9", valid, "/events", "{\"event\":\"y\"}");

    assertThat(blocked.statusCode()).isEqualTo(429);
    assertThat(Long.parseLong(blocked.headers().firstValue("Retry-After").orElseThrow()))
        .isBetween(1L, 60L);
    assertThat(blockedValid.statusCode()).isEqualTo(429);
    assertThat(otherClient.statusCode()).isEqualTo(200);
    List<JsonNode> stored = service.awaitStored(es -> es.size() >= 1);
    assertThat(stored).extracting(e -> e.get("event_type").asText()).containsExactly("y");
  }

  @Test
  void requestsWithoutAnyKeyAreNotCountedAsGuesses() {
    start(
        Map.of(
            "capture.trusted-proxies", "127.0.0.1",
            "limits.auth-failures.burst", "2",
            "limits.auth-failures.per-minute", "1"));
    String valid = service.createKey("acme");

    for (int i = 0; i < 10; i++) {
      assertThat(from("198.51.100.7", null, "/events", "{}").statusCode()).isEqualTo(401);
    }
    assertThat(from("198.51.100.7", valid, "/events", "{}").statusCode()).isEqualTo(200);
  }
}
