package io.trellis.ingress.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * What the capture port counts: requests by endpoint and status with their latency, events accepted
 * by endpoint, and events (or requests) refused by endpoint and reason. Reasons are the stable
 * error codes of the JSON answers; a refusal that happened below the handler (a limit enforced
 * while reading) is counted under {@code http_<status>}. No key or client data in any tag.
 */
final class HttpMetrics {
  private final MeterRegistry registry;
  private final ConcurrentHashMap<String, Timer> requests = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();

  HttpMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** The outcome of one request, filled in while it is handled. Not thread-safe: one context. */
  static final class Outcome {
    final long startNanos = System.nanoTime();
    String endpoint;
    String reason;

    Outcome(String endpoint) {
      this.endpoint = endpoint;
    }
  }

  void finished(Outcome o, int status) {
    String key = o.endpoint + '|' + status;
    requests
        .computeIfAbsent(
            key,
            k ->
                Timer.builder("trellis.http.requests")
                    .description("Capture requests by endpoint and status")
                    .tags("endpoint", o.endpoint, "status", Integer.toString(status))
                    .publishPercentileHistogram()
                    .maximumExpectedValue(Duration.ofSeconds(30))
                    .register(registry))
        .record(System.nanoTime() - o.startNanos, TimeUnit.NANOSECONDS);
    if (status >= 400) {
      rejected(o.endpoint, o.reason != null ? o.reason : "http_" + status, 1);
    }
  }

  void accepted(String endpoint, int events) {
    counter("trellis.events.accepted", endpoint, null).increment(events);
  }

  void rejected(String endpoint, String reason, int events) {
    counter("trellis.events.rejected", endpoint, reason).increment(events);
  }

  private Counter counter(String name, String endpoint, String reason) {
    String key = name + '|' + endpoint + '|' + reason;
    return counters.computeIfAbsent(
        key,
        k ->
            reason == null
                ? registry.counter(name, "endpoint", endpoint)
                : registry.counter(name, "endpoint", endpoint, "reason", reason));
  }
}
