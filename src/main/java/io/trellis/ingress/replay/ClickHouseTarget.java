package io.trellis.ingress.replay;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.event.SpooledEvent;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.SinkBatch;
import io.trellis.ingress.sink.SinkException;
import io.trellis.ingress.sink.clickhouse.ClickHouseSink;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Replays into ClickHouse through the service's own sink (same table set-up, same rows, and on
 * 22.2+ the same insert tokens), asking the table which event ids it has before each insert.
 */
final class ClickHouseTarget implements ReplayTarget {
  private final ClickHouseSink sink;

  ClickHouseTarget(ClickHouseSink sink) throws SinkException {
    this.sink = requireNonNull(sink, "sink is null");
    sink.start();
  }

  @Override
  public String name() {
    return sink.name();
  }

  @Override
  public Set<String> storedIds(List<TrafficEvent> events) throws SinkException {
    return sink.storedEventIds(events);
  }

  @Override
  public void write(List<TrafficEvent> events, long firstOffset) throws SinkException {
    List<SpooledEvent> items = new ArrayList<>(events.size());
    for (int i = 0; i < events.size(); i++) {
      items.add(new SpooledEvent(firstOffset + i, events.get(i)));
    }
    sink.write(new SinkBatch(items));
  }

  @Override
  public void close() {
    sink.close();
  }

  @Override
  public String toString() {
    return sink.toString();
  }
}
