package io.trellis.ingress.sink;

import io.trellis.ingress.event.SpooledEvent;
import io.trellis.ingress.event.TrafficEvent;
import java.util.AbstractList;
import java.util.List;

/**
 * A batch of spooled events for one sink, in spool order. A retried batch is identical to the first
 * attempt (same events, same offsets), which lets sinks derive deduplication tokens from the
 * offsets.
 */
public record SinkBatch(List<SpooledEvent> items) {
  public SinkBatch {
    if (items.isEmpty()) {
      throw new IllegalArgumentException("empty batch");
    }
    items = List.copyOf(items);
  }

  public int size() {
    return items.size();
  }

  public long firstOffset() {
    return items.get(0).offset();
  }

  public long lastOffset() {
    return items.get(items.size() - 1).offset();
  }

  /** The events alone, as a view. */
  public List<TrafficEvent> events() {
    return events(items);
  }

  /** The events of {@code items}, as a view: each is decoded when it is read. */
  public static List<TrafficEvent> events(List<SpooledEvent> items) {
    return new AbstractList<>() {
      @Override
      public TrafficEvent get(int index) {
        return items.get(index).event();
      }

      @Override
      public int size() {
        return items.size();
      }
    };
  }

  /** The sub-batch {@code [from, to)}, for isolating bad rows. */
  public SinkBatch slice(int from, int to) {
    return new SinkBatch(items.subList(from, to));
  }
}
