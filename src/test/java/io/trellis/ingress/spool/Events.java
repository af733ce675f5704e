package io.trellis.ingress.spool;

import io.trellis.ingress.cli.ServiceSettings;
import io.trellis.ingress.event.TrafficEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** Test events and spool configurations. */
final class Events {
  private Events() {}

  static TrafficEvent event(String id, String body) {
    return new TrafficEvent(
        "acme",
        id,
        System.currentTimeMillis(),
        "POST",
        "http://localhost/events",
        "{\"content-type\":\"application/json\"}",
        "{}",
        body,
        "127.0.0.1",
        "test",
        "",
        "pageview",
        "",
        "",
        "",
        "",
        "");
  }

  static TrafficEvent event(String id) {
    return event(id, "{\"event\":\"pageview\",\"id\":\"" + id + "\"}");
  }

  /** The ids {@link #events} gives events {@code from} to {@code to - 1}. */
  static List<String> ids(String prefix, int from, int to) {
    List<String> out = new ArrayList<>();
    for (int i = from; i < to; i++) {
      out.add(prefix + i);
    }
    return out;
  }

  static List<TrafficEvent> events(String prefix, int n) {
    List<TrafficEvent> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(event(prefix + i));
    }
    return out;
  }

  /** Defaults for tests: small segments, fast batches and retries, an explicit budget. */
  static SpoolConfig config(Map<String, String> overrides) {
    Map<String, String> all = new java.util.HashMap<>();
    all.put("spool.segment-size", "64KiB");
    all.put("spool.max-record-size", "16KiB");
    all.put("spool.max-bytes", "64MiB");
    all.put("spool.batch-max-age", "20ms");
    all.put("spool.retry-initial-backoff", "5ms");
    all.put("spool.retry-max-backoff", "50ms");
    all.put("spool.drain-timeout", "5s");
    all.putAll(overrides);
    return SpoolConfig.from(ServiceSettings.config(all));
  }

  static SpoolConfig config() {
    return config(Map.of());
  }

  /**
   * Appends each event on its own (one record each, in this order) and waits for every ack. The
   * appends are queued together, so they share group commits: one fsync per append, waited for in
   * turn, made the setup of a test as slow as the machine's disk under load.
   */
  static void appendEach(Spool spool, List<TrafficEvent> events) throws Exception {
    List<CompletableFuture<Void>> acks = new ArrayList<>();
    for (TrafficEvent e : events) {
      acks.add(spool.append(List.of(e)));
    }
    CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get();
  }
}
