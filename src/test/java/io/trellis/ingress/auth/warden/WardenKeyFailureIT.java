package io.trellis.ingress.auth.warden;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.testing.Await;
import io.trellis.ingress.testing.FakeWarden;
import io.trellis.ingress.testing.RunningService;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A key that draws a bad answer from Warden is a failure of that key alone: over real HTTP, against
 * a local Warden, other keys keep working and the sender pays for it from its auth-failure budget.
 */
class WardenKeyFailureIT {
  private static final String VALID = "wk_acme_4f9b2c7d1e8a6035";
  private static final String ATTACKER = "198.51.100.7";
  private static final String CUSTOMER = "203.0.113.9";

  @TempDir Path dir;
  private final FakeWarden warden = new FakeWarden().grant(VALID, "acme");
  private RunningService service;

  private void start(Map<String, String> extra) {
    Map<String, String> settings = new HashMap<>();
    settings.put("auth.mode", "warden");
    settings.put("auth.warden.url", warden.url());
    settings.put("auth.warden.retry-interval", "30s");
    settings.put("capture.trusted-proxies", "127.0.0.1");
    settings.putAll(extra);
    service = RunningService.start(dir, settings);
  }

  @AfterEach
  void stop() {
    if (service != null) {
      service.close();
    }
    warden.close();
  }

  private HttpRequest.Builder request(String ip, String key, String json) {
    return HttpRequest.newBuilder(service.uri("/events"))
        .header("X-Forwarded-For", ip)
        .header("Authorization", "Bearer " + key)
        .POST(HttpRequest.BodyPublishers.ofString(json));
  }

  private HttpResponse<String> from(String ip, String key, String json) {
    return service.send(request(ip, key, json));
  }

  private void assertOtherKeysStillWork(String badKey) {
    HttpResponse<String> bad = from(ATTACKER, badKey, "{\"event\":\"bad\"}");
    assertThat(bad.statusCode()).isEqualTo(503);
    assertThat(bad.headers().firstValue("Retry-After")).isPresent();
    assertThat(bad.body()).doesNotContain(badKey);

    HttpResponse<String> fresh = from(CUSTOMER, VALID, "{\"event\":\"fresh\"}");

    assertThat(fresh.statusCode()).isEqualTo(200);
    service.awaitEvent(RunningService.json(fresh.body()).get("event_id").asText());
    // The bad key is refused from the cache, without asking Warden again.
    assertThat(from(ATTACKER, badKey, "{}").statusCode()).isEqualTo(503);
    assertThat(warden.calls(badKey)).isEqualTo(1);
  }

  @Test
  void keyAnswered400DoesNotShutOutOtherKeys() {
    String bad = "wk_bad_request_0000";
    warden.answer(bad, 400, "{\"error\":\"bad_request\"}");
    start(Map.of());

    assertOtherKeysStillWork(bad);
  }

  @Test
  void keyAnsweredWithAnInvalidOrganizationDoesNotShutOutOtherKeys() {
    String bad = "wk_bad_org_00000000";
    warden.answer(
        bad, 200, "{\"organization_id\":\"../../etc\",\"key_id\":\"k\",\"scopes\":[\"ingest\"]}");
    start(Map.of());

    assertOtherKeysStillWork(bad);
  }

  @Test
  void keyAnsweredTooSlowlyDoesNotShutOutOtherKeys() {
    String bad = "wk_slow_000000000000";
    warden.slow(bad);
    // The slow key hangs for 30 s; a 3 s timeout cuts it off while the valid key's call, which on
    // a loaded machine can take longer than 300 ms, still gets its answer.
    start(Map.of("auth.warden.timeout", "3s"));

    assertOtherKeysStillWork(bad);
  }

  @Test
  void keysThatDrawBadAnswersCountAgainstTheSender() {
    start(Map.of("limits.auth-failures.burst", "3", "limits.auth-failures.per-minute", "1"));
    for (int i = 0; i < 3; i++) {
      String bad = "wk_bad_request_000" + i;
      warden.answer(bad, 400, "{\"error\":\"bad_request\"}");
      assertThat(from(ATTACKER, bad, "{}").statusCode()).isEqualTo(503);
    }
    String next = "wk_bad_request_0009";
    warden.answer(next, 400, "{\"error\":\"bad_request\"}");

    HttpResponse<String> blocked = from(ATTACKER, next, "{}");

    assertThat(blocked.statusCode()).isEqualTo(429);
    assertThat(blocked.body()).contains("\"status\":\"error\"");
    assertThat(warden.calls(next)).isZero();
    assertThat(from(CUSTOMER, VALID, "{\"event\":\"ok\"}").statusCode()).isEqualTo(200);
  }

  @Test
  void concurrentUnknownKeysFromOneAddressCallWardenAtMostBurstTimes() throws Exception {
    // The documented default burst (10); a slow refill so that the test's own time adds no token.
    start(Map.of("auth.warden.timeout", "20s", "limits.auth-failures.per-minute", "1"));
    warden.hold(); // every call waits: all 400 requests are in flight together
    int n = 400;
    ExecutorService pool = Executors.newFixedThreadPool(16);
    HttpClient client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .executor(pool)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        responses.add(
            client.sendAsync(
                request(ATTACKER, "wk_guess_" + i + "_00000000", "{}")
                    .timeout(Duration.ofSeconds(30))
                    .build(),
                HttpResponse.BodyHandlers.ofString()));
      }
      // All but the budget's worth are refused without waiting for Warden: once every request
      // is either answered or held by Warden, count the refusals.
      Await.until(
          () -> responses.stream().filter(CompletableFuture::isDone).count() + warden.calls() >= n,
          Duration.ofSeconds(30),
          () -> warden.calls() + " Warden calls");
      long refused =
          responses.stream()
              .filter(r -> r.isDone() && !r.isCompletedExceptionally())
              .filter(r -> r.join().statusCode() == 429)
              .count();
      warden.release();
      List<Integer> statuses = new ArrayList<>();
      for (CompletableFuture<HttpResponse<String>> r : responses) {
        statuses.add(r.get(30, TimeUnit.SECONDS).statusCode());
      }

      assertThat(warden.calls()).as("Warden calls").isLessThanOrEqualTo(10);
      assertThat(refused).isGreaterThanOrEqualTo(n - 10);
      assertThat(statuses).allSatisfy(s -> assertThat(s).isIn(401, 429, 503));
      assertThat(statuses.stream().filter(s -> s == 401).count()).isLessThanOrEqualTo(10);
    } finally {
      warden.release();
      pool.shutdownNow();
    }
  }
}
