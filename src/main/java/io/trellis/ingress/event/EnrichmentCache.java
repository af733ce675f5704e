package io.trellis.ingress.event;

import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Function;

/**
 * The enrichments of the spool's most recent events, by spool offset, shared by every sink's
 * delivery: the first sink to render an event enriches it, the others read the result. Each sink
 * writes the same events in the same order, at most about one batch apart, so a ring of the last
 * {@code capacity} offsets holds the events the next sink is about to render. An event that has
 * left the ring (a sink far behind the others, an outage's backlog) is enriched again: the same
 * event always gives the same enrichment, so only the CPU differs.
 *
 * <p>Bounded: at most {@code capacity} enrichments are held. Thread-safe; two sinks that reach one
 * event at the same moment compute it once (the second waits for the first).
 */
public final class EnrichmentCache {
  private static final int STRIPES = 64;

  private final AtomicReferenceArray<Entry> slots;
  private final int mask;
  private final Object[] locks = new Object[STRIPES];

  private record Entry(long offset, Function<TrafficEvent, Enrichment> by, Enrichment value) {}

  /** A ring of at least {@code capacity} offsets (rounded up to a power of two). */
  public EnrichmentCache(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1");
    }
    int size = Integer.highestOneBit(Math.max(1, capacity - 1)) << 1;
    size = capacity == 1 ? 1 : Math.max(size, capacity);
    slots = new AtomicReferenceArray<>(size);
    mask = size - 1;
    for (int i = 0; i < STRIPES; i++) {
      locks[i] = new Object();
    }
  }

  /** The enrichment of the event at {@code offset}, computed by {@code by} only when not held. */
  Enrichment get(long offset, TrafficEvent event, Function<TrafficEvent, Enrichment> by) {
    int slot = (int) (offset & mask);
    Entry e = slots.get(slot);
    if (e != null && e.offset == offset && e.by == by) {
      return e.value;
    }
    synchronized (locks[slot & (STRIPES - 1)]) {
      e = slots.get(slot);
      if (e != null && e.offset == offset && e.by == by) {
        return e.value;
      }
      Enrichment value = by.apply(event);
      slots.set(slot, new Entry(offset, by, value));
      return value;
    }
  }

  /** How many offsets fit. */
  public int capacity() {
    return mask + 1;
  }
}
