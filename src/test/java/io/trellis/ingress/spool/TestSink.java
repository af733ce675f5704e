package io.trellis.ingress.spool;

import io.micrometer.core.instrument.MeterRegistry;
import io.trellis.ingress.event.SpooledEvent;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.Sink;
import io.trellis.ingress.sink.SinkBatch;
import io.trellis.ingress.sink.SinkException;
import io.trellis.ingress.testing.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/** A sink that records what it stores and fails on command, for delivery tests. */
class TestSink implements Sink {
  final String name;
  final List<SpooledEvent> stored = new CopyOnWriteArrayList<>();
  final List<Integer> batchSizes = new CopyOnWriteArrayList<>();
  final AtomicInteger writes = new AtomicInteger();
  final AtomicInteger transientFailuresLeft = new AtomicInteger();
  volatile Predicate<TrafficEvent> permanentlyBad = e -> false;
  volatile Predicate<TrafficEvent> badRows = e -> false;
  volatile Semaphore gate;

  TestSink(String name) {
    this.name = name;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void write(SinkBatch batch) throws SinkException {
    writes.incrementAndGet();
    Semaphore g = gate;
    if (g != null) {
      try {
        g.acquire();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw SinkException.transientFailure("interrupted", e);
      }
    }
    if (transientFailuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      throw SinkException.transientFailure("store is down", null);
    }
    for (TrafficEvent e : batch.events()) {
      if (permanentlyBad.test(e)) {
        throw SinkException.permanent("bad value in event " + e.eventId(), null);
      }
    }
    Map<Integer, String> rows = new HashMap<>();
    for (int i = 0; i < batch.size(); i++) {
      if (badRows.test(batch.events().get(i))) {
        rows.put(i, "row " + i + " has a bad column");
      }
    }
    if (!rows.isEmpty()) {
      throw SinkException.rows("some rows are bad", rows);
    }
    batchSizes.add(batch.size());
    // The batch's records are readable during this call only (Sink#write): keep them decoded.
    for (SpooledEvent e : batch.items()) {
      stored.add(new SpooledEvent(e.offset(), e.event()));
    }
  }

  List<String> storedIds() {
    List<String> ids = new ArrayList<>();
    for (SpooledEvent e : stored) {
      ids.add(e.event().eventId());
    }
    return ids;
  }

  List<Long> storedOffsets() {
    List<Long> out = new ArrayList<>();
    for (SpooledEvent e : stored) {
      out.add(e.offset());
    }
    return out;
  }

  /** Waits until the sink has stored at least {@code n} events. */
  void awaitStored(int n) {
    Await.until(
        () -> stored.size() >= n,
        Duration.ofSeconds(20),
        () -> name + " has " + stored.size() + " of " + n);
  }

  /**
   * Waits until the spool has nothing more for this sink: its lag gauge (the log's next offset
   * minus the sink's cursor) is 0, so every event it will ever be sent is in {@link #stored}. A
   * test that checks nothing else arrives looks after this, not after a sleep.
   */
  void awaitCaughtUp(MeterRegistry metrics) {
    Await.until(
        () -> metrics.get("trellis.sink.lag.events").tag("sink", name).gauge().value() == 0,
        Duration.ofSeconds(20),
        () -> name + " is behind; stored " + stored.size());
  }
}
