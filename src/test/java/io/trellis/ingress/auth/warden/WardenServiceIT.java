package io.trellis.ingress.auth.warden;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.testing.Await;
import io.trellis.ingress.testing.FakeWarden;
import io.trellis.ingress.testing.RunningService;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The service in auth.mode=warden, against a local Warden, over real HTTP. */
class WardenServiceIT {
  private static final String ACME_KEY = "wk_acme_4f9b2c7d1e8a6035";
  private static final String GLOBEX_KEY = "wk_globex_9a8b7c6d5e4f3021";

  @TempDir Path dir;
  private final FakeWarden warden =
      new FakeWarden().grant(ACME_KEY, "acme").grant(GLOBEX_KEY, "globex");
  private RunningService service;

  private RunningService start(Map<String, String> extra) {
    Map<String, String> settings = new HashMap<>();
    settings.put("auth.mode", "warden");
    settings.put("auth.warden.url", warden.url());
    settings.putAll(extra);
    service = RunningService.start(dir, settings);
    return service;
  }

  @AfterEach
  void stop() {
    if (service != null) {
      service.close();
    }
    warden.close();
  }

  private HttpResponse<String> post(String key, String json) {
    return service.postJson("/events", key, json);
  }

  @Test
  void eventIsStoredUnderTheOrganizationWardenNames() {
    start(Map.of());

    HttpResponse<String> r = post(ACME_KEY, "{\"event\":\"signup\"}");

    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode stored = service.awaitEvent(RunningService.json(r.body()).get("event_id").asText());
    assertThat(stored.get("organization_id").asText()).isEqualTo("acme");
  }

  /**
   * Warden's keys may hold a '+'. Sent unencoded in another query parameter, each '+' decodes to a
   * space, and the stored parameter holds no escape at all: the key must be redacted there too, as
   * in the URL, where it kept its '+'.
   */
  @Test
  void aKeyWithPlusSignsIsRedactedInAParameterThatDecodedThemToSpaces() {
    String key = "wk+acme+4f9b2c7d1e8a6035";
    warden.grant(key, "acme");
    start(Map.of());

    HttpResponse<String> r = post(key, "{\"event\":\"signup\"}");
    assertThat(r.statusCode()).isEqualTo(200);
    HttpResponse<String> sent =
        service.postJson("/events?ref=" + key + "&page=2", key, "{\"event\":\"shared\"}");
    assertThat(sent.statusCode()).isEqualTo(200);

    JsonNode stored = service.awaitEvent(RunningService.json(sent.body()).get("event_id").asText());
    assertThat(stored.get("query_params").toString())
        .contains("[redacted]")
        .doesNotContain("4f9b2c7d1e8a6035");
    assertThat(stored.get("url").asText()).doesNotContain("4f9b2c7d1e8a6035");
    assertThat(stored.toString()).doesNotContain("4f9b2c7d1e8a6035");
  }

  @Test
  void invalidKeyIs401AndWrongScopeIs403AndNothingIsStored() {
    warden.grant("wk_readonly_11112222", "acme", "read");
    start(Map.of());

    assertThat(post("wk_unknown_00000000", "{\"event\":\"a\"}").statusCode()).isEqualTo(401);
    HttpResponse<String> forbidden = post("wk_readonly_11112222", "{\"event\":\"b\"}");
    assertThat(forbidden.statusCode()).isEqualTo(403);
    assertThat(forbidden.body()).contains("ingest");

    assertThat(post(ACME_KEY, "{\"event\":\"marker\"}").statusCode()).isEqualTo(200);
    List<JsonNode> events = service.awaitStored(es -> es.size() >= 1);
    assertThat(events).hasSize(1);
  }

  @Test
  void hundredConcurrentRequestsWithANewKeyCallWardenOnce() throws Exception {
    start(Map.of());
    ExecutorService pool = Executors.newFixedThreadPool(20);
    try {
      List<CompletableFuture<Integer>> statuses = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        int n = i;
        statuses.add(
            CompletableFuture.supplyAsync(
                () -> post(GLOBEX_KEY, "{\"event\":\"hit\",\"n\":" + n + "}").statusCode(), pool));
      }
      for (CompletableFuture<Integer> s : statuses) {
        assertThat(s.get(30, TimeUnit.SECONDS)).isEqualTo(200);
      }
    } finally {
      pool.shutdownNow();
    }

    assertThat(warden.calls(GLOBEX_KEY)).isEqualTo(1);
    List<JsonNode> events = service.awaitStored(es -> es.size() == 100);
    assertThat(events)
        .allSatisfy(e -> assertThat(e.get("organization_id").asText()).isEqualTo("globex"));
  }

  @Test
  void duringAnOutageKnownKeysWorkFromCacheAndUnknownKeysGet503WithRetryAfter() throws Exception {
    start(Map.of("auth.warden.cache-valid-ttl", "200ms", "auth.warden.retry-interval", "3s"));
    assertThat(post(ACME_KEY, "{\"event\":\"before\"}").statusCode()).isEqualTo(200);
    warden.mode(FakeWarden.Mode.FAIL);
    Thread.sleep(300); // let acme's verdict pass its TTL: from now on it is stale

    HttpResponse<String> known = post(ACME_KEY, "{\"event\":\"during\"}");
    HttpResponse<String> unknown = post(GLOBEX_KEY, "{\"event\":\"during\"}");

    assertThat(known.statusCode()).isEqualTo(200);
    assertThat(unknown.statusCode()).isEqualTo(503);
    assertThat(unknown.headers().firstValue("Retry-After")).isPresent();
    assertThat(Long.parseLong(unknown.headers().firstValue("Retry-After").get())).isBetween(1L, 3L);
    assertThat(service.meters().find("trellis.auth.warden.stale").counter().count())
        .isGreaterThanOrEqualTo(1);
    List<JsonNode> events = service.awaitStored(es -> es.size() >= 2);
    assertThat(events)
        .allSatisfy(e -> assertThat(e.get("organization_id").asText()).isEqualTo("acme"));
  }

  @Test
  void wardenRecoveringLetsWaitingClientsInWithoutARestart() {
    start(Map.of("auth.warden.retry-interval", "200ms"));
    warden.mode(FakeWarden.Mode.FAIL);
    assertThat(post(GLOBEX_KEY, "{\"event\":\"x\"}").statusCode()).isEqualTo(503);

    warden.mode(FakeWarden.Mode.SERVE);

    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    int status;
    do {
      status = post(GLOBEX_KEY, "{\"event\":\"x\"}").statusCode();
    } while (status == 503 && System.nanoTime() < deadline);
    assertThat(status).isEqualTo(200);
  }

  @Test
  void hangingWardenTimesOutInto503() {
    start(Map.of("auth.warden.timeout", "200ms"));
    warden.mode(FakeWarden.Mode.HANG);

    HttpResponse<String> r = post(GLOBEX_KEY, "{\"event\":\"x\"}");

    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.headers().firstValue("Retry-After")).isPresent();
    assertThat(r.body()).doesNotContain(GLOBEX_KEY);
  }

  @Test
  void keyRevokedInWardenMidStreamStopsWritingOnceTheCacheLearnsIt() throws Exception {
    start(Map.of("auth.warden.cache-valid-ttl", "500ms"));
    List<int[]> sent = new CopyOnWriteArrayList<>(); // {marker, status}
    AtomicBoolean stop = new AtomicBoolean();
    Thread sender =
        new Thread(
            () -> {
              long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
              for (int i = 0; !stop.get() && i < 5000 && System.nanoTime() < deadline; i++) {
                int status =
                    post(ACME_KEY, "{\"event\":\"tick\",\"marker\":" + i + "}").statusCode();
                sent.add(new int[] {i, status});
              }
            },
            "sender");
    sender.start();
    try {
      Await.until(() -> sent.stream().filter(s -> s[1] == 200).count() >= 20);
      warden.revoke(ACME_KEY);
      Await.until(() -> trailingRefusals(sent) >= 20);
    } finally {
      stop.set(true);
      sender.join(30_000);
    }

    int firstRefused = 0;
    while (sent.get(firstRefused)[1] == 200) {
      firstRefused++;
    }
    assertThat(sent.subList(firstRefused, sent.size()))
        .as("once refused, always refused")
        .allSatisfy(s -> assertThat(s[1]).isIn(401, 429));
    Set<Integer> accepted =
        sent.stream().filter(s -> s[1] == 200).map(s -> s[0]).collect(Collectors.toSet());
    List<JsonNode> stored = service.awaitStored(es -> es.size() >= accepted.size());
    assertThat(stored).hasSize(accepted.size());
    assertThat(stored)
        .extracting(e -> RunningService.json(e.get("body").asText()).get("marker").asInt())
        .containsExactlyInAnyOrderElementsOf(accepted);
    assertThat(stored)
        .allSatisfy(e -> assertThat(e.get("organization_id").asText()).isEqualTo("acme"));
  }

  private static int trailingRefusals(List<int[]> sent) {
    int n = 0;
    for (int i = sent.size() - 1; i >= 0 && sent.get(i)[1] != 200; i--) {
      n++;
    }
    return n;
  }

  @Test
  void organizationClaimsInTheRequestAreIgnored() {
    start(Map.of());

    HttpResponse<String> r =
        service.send(
            HttpRequest.newBuilder(service.uri("/events?organization_id=globex&org=globex"))
                .header("Authorization", "Bearer " + ACME_KEY)
                .header("X-Organization-Id", "globex")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"event\":\"x\",\"organization_id\":\"globex\"}")));

    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode stored = service.awaitEvent(RunningService.json(r.body()).get("event_id").asText());
    assertThat(stored.get("organization_id").asText()).isEqualTo("acme");
  }
}
