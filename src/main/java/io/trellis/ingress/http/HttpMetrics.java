package io.trellis.ingress.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * What the capture port counts: requests by endpoint and status with their latency, events accepted
 * by endpoint, and events (or requests) refused by endpoint and reason. Reasons are the stable
 * error codes of the JSON answers; a refusal that happened below the handler (a limit enforced
 * while reading) is counted under {@code http_<status>}. No key or client data in any tag.
 */
final class HttpMetrics {
  private final MeterRegistry registry;
  /* Per endpoint, the timers by status code: found without building a key for each request. */
  private final ConcurrentHashMap<String, AtomicReferenceArray<Timer>> requests =
      new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> accepted = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> rejected = new ConcurrentHashMap<>();

  HttpMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** The outcome of one request, filled in while it is handled. Not thread-safe: one context. */
  static final class Outcome {
    final long startNanos = System.nanoTime();
    String endpoint;
    String reason;

    /** The client's address once it is known: a trusted proxy's client, else the peer. */
    String client;

    Outcome(String endpoint) {
      this.endpoint = endpoint;
    }
  }

  void finished(Outcome o, int status) {
    timer(o.endpoint, status).record(System.nanoTime() - o.startNanos, TimeUnit.NANOSECONDS);
    if (status >= 400) {
      rejected(o.endpoint, o.reason != null ? o.reason : "http_" + status, 1);
    }
  }

  void accepted(String endpoint, int events) {
    accepted
        .computeIfAbsent(endpoint, e -> registry.counter("trellis.events.accepted", "endpoint", e))
        .increment(events);
  }

  void rejected(String endpoint, String reason, int events) {
    rejected
        .computeIfAbsent(
            endpoint + '|' + reason,
            k ->
                registry.counter("trellis.events.rejected", "endpoint", endpoint, "reason", reason))
        .increment(events);
  }

  private Timer timer(String endpoint, int status) {
    boolean known = status >= 100 && status < 600;
    AtomicReferenceArray<Timer> byStatus =
        requests.computeIfAbsent(endpoint, e -> new AtomicReferenceArray<>(600));
    Timer t = known ? byStatus.get(status) : null;
    if (t == null) {
      // Registering is idempotent: two threads racing here get the same timer.
      t =
          Timer.builder("trellis.http.requests")
              .description("Capture requests by endpoint and status")
              .tags("endpoint", endpoint, "status", Integer.toString(status))
              .publishPercentileHistogram()
              .maximumExpectedValue(Duration.ofSeconds(30))
              .register(registry);
      if (known) {
        byStatus.set(status, t);
      }
    }
    return t;
  }
}
