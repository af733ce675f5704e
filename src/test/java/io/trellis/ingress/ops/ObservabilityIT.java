package io.trellis.ingress.ops;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.trellis.ingress.testing.FakeWarden;
import io.trellis.ingress.testing.RunningService;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** What an operator sees after traffic: metric families, and the access log. */
class ObservabilityIT {
  @TempDir Path dir;

  private static String metrics(RunningService s) {
    HttpResponse<String> res = s.send(HttpRequest.newBuilder(s.adminUri("/metrics")).GET());
    assertThat(res.statusCode()).isEqualTo(200);
    return res.body();
  }

  @Test
  void everyMetricFamilyAnOperatorNeedsIsPresentAfterTraffic() {
    try (RunningService s = RunningService.start(dir)) {
      String key = s.createKey("acme");
      s.postJson("/events", key, "{\"event\":\"a\"}");
      s.postJson("/batch", key, "[{\"event\":\"b\"}, 7]");
      s.postJson("/events", "trk_nope", "{}");
      s.postJson("/events", key, "{\"x\":\"" + "y".repeat(1_100_000) + "\"}");
      s.awaitStored(es -> es.size() >= 2);

      String text = metrics(s);
      assertThat(text)
          // requests by endpoint and status, with a latency histogram
          .contains("trellis_http_requests_seconds_count{endpoint=\"events\"")
          .contains("status=\"200\"")
          .contains("status=\"401\"")
          .contains("trellis_http_requests_seconds_bucket")
          // events accepted and rejected by reason
          .containsPattern("trellis_events_accepted_total\\{endpoint=\"batch\".*\\} 1\\.0")
          .contains("reason=\"not_an_object\"")
          .contains("reason=\"unauthorized\"")
          .contains("reason=\"payload_too_large\"")
          // acknowledgement and fsync latency histograms, spool size and per-sink lag
          .contains("trellis_spool_ack_latency_seconds_bucket")
          .contains("trellis_spool_fsync_seconds_bucket")
          .contains("trellis_spool_bytes")
          .contains("trellis_spool_segments")
          .contains("trellis_sink_lag_events{")
          .contains("trellis_sink_lag_seconds{")
          // sink batches, rows, bytes, retries, failures, dead letters
          .contains("trellis_sink_batches_total{")
          .contains("trellis_sink_rows_total{")
          .contains("trellis_sink_bytes_total{")
          .contains("trellis_sink_retries_total{")
          .contains("trellis_sink_failures_total{")
          .contains("trellis_sink_dead_letters_total{")
          // JVM and process
          .contains("jvm_memory_used_bytes")
          .contains("process_cpu_usage")
          .doesNotContain(key);
    }
  }

  @Test
  void wardenModeCountsCacheHitsMissesAndWardenLatency() throws Exception {
    try (FakeWarden warden = new FakeWarden().grant("wk_0123456789abcdef", "acme", "ingest");
        RunningService s =
            RunningService.start(
                dir, Map.of("auth.mode", "warden", "auth.warden.url", warden.url()))) {
      for (int i = 0; i < 3; i++) {
        assertThat(s.postJson("/events", "wk_0123456789abcdef", "{}").statusCode()).isEqualTo(200);
      }
      String text = metrics(s);
      assertThat(text)
          .contains("trellis_auth_warden_cache")
          .contains("trellis_auth_warden_calls")
          .doesNotContain("wk_0123456789abcdef");
    }
  }

  @Test
  void theAccessLogHasOneLinePerRequestWithoutQueryOrCredentials() {
    try (AccessLines lines = new AccessLines();
        RunningService s = RunningService.start(dir, Map.of("log.access", "true"))) {
      String key = s.createKey("acme");
      s.get("/track?event=view&api_key=" + key);
      s.postJson("/events", key, "{}");
      lines.await(2);
      assertThat(lines.list()).hasSizeGreaterThanOrEqualTo(2);
      assertThat(lines.list().get(0).getFormattedMessage())
          .matches(
              "GET /track HTTP/(1\\.1|2) 200 reason=- bytes=\\d+ ms=[0-9.]+ peer=127\\.0\\.0\\.1")
          .doesNotContain(key)
          .doesNotContain("event=view");
      assertThat(lines.list().get(1).getFormattedMessage())
          .matches("POST /events HTTP/(1\\.1|2) 200 .*");
    }
  }

  @Test
  void theAccessLogAnonymizesThePeerWhenAddressesAreAnonymized() {
    try (AccessLines lines = new AccessLines();
        RunningService s =
            RunningService.start(
                dir,
                Map.of(
                    "log.access", "true", "capture.ip-anonymize-organizations", "someone-else"))) {
      String key = s.createKey("acme");
      s.postJson("/events", key, "{}");
      s.get("/no-such-endpoint");
      lines.await(2);
      assertThat(lines.list()).hasSizeGreaterThanOrEqualTo(2);
      for (ILoggingEvent line : lines.list()) {
        assertThat(line.getFormattedMessage()).endsWith(" peer=127.0.0.0");
        assertThat(line.getKeyValuePairs())
            .anySatisfy(
                kv -> {
                  assertThat(kv.key).isEqualTo("peer");
                  assertThat(kv.value).isEqualTo("127.0.0.0");
                });
      }
    }
  }

  @Test
  void behindATrustedProxyTheAccessLogNamesTheClientToo() {
    try (AccessLines lines = new AccessLines();
        RunningService s =
            RunningService.start(
                dir,
                Map.of(
                    "log.access", "true",
                    "capture.trusted-proxies", "127.0.0.0/8",
                    "capture.ip-anonymize-organizations", "someone-else"))) {
      String key = s.createKey("acme");
      HttpResponse<String> proxied =
          s.send(
              HttpRequest.newBuilder(s.uri("/events"))
                  .header("Authorization", "Bearer " + key)
                  .header("X-Forwarded-For", "198.51.100.7")
                  .POST(HttpRequest.BodyPublishers.ofString("{}")));
      assertThat(proxied.statusCode()).isEqualTo(200);
      // The proxy's own request: no client other than the peer.
      assertThat(s.postJson("/events", key, "{}").statusCode()).isEqualTo(200);
      lines.await(2);
      assertThat(lines.list()).hasSizeGreaterThanOrEqualTo(2);
      // Each request's line is written as its answer ends: find them by what they say.
      ILoggingEvent forClient =
          lines.list().stream()
              .filter(l -> l.getFormattedMessage().contains(" client="))
              .findFirst()
              .orElseThrow();
      ILoggingEvent forProxy = lines.list().get(lines.list().get(0) == forClient ? 1 : 0);
      assertThat(forClient.getFormattedMessage())
          .matches(
              "POST /events HTTP/(1\\.1|2) 200 .* peer=127\\.0\\.0\\.0 client=198\\.51\\.100\\.0");
      assertThat(forClient.getKeyValuePairs())
          .anySatisfy(
              kv -> {
                assertThat(kv.key).isEqualTo("client");
                assertThat(kv.value).isEqualTo("198.51.100.0");
              });
      assertThat(forProxy.getFormattedMessage()).endsWith(" peer=127.0.0.0");
      assertThat(forProxy.getKeyValuePairs())
          .noneSatisfy(kv -> assertThat(kv.key).isEqualTo("client"));
    }
  }

  @Test
  void theAccessLogIsOffByDefault() {
    try (AccessLines lines = new AccessLines();
        RunningService s = RunningService.start(dir)) {
      String key = s.createKey("acme");
      assertThat(s.postJson("/events", key, "{}").statusCode()).isEqualTo(200);
      assertThat(lines.list()).isEmpty();
    }
  }

  /** The access log's lines, from its opening until it is closed. */
  private static final class AccessLines implements AutoCloseable {
    private final Logger access =
        ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(LogSetup.ACCESS_LOGGER);
    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();

    AccessLines() {
      lines.start();
      access.addAppender(lines);
    }

    /** Waits until there are {@code n} lines, for 5 s at most. */
    void await(int n) {
      long deadline = System.currentTimeMillis() + 5000;
      while (lines.list.size() < n && System.currentTimeMillis() < deadline) {
        Thread.onSpinWait();
      }
    }

    List<ILoggingEvent> list() {
      return lines.list;
    }

    @Override
    public void close() {
      access.detachAppender(lines);
    }
  }
}
