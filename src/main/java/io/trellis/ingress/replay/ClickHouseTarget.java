package io.trellis.ingress.replay;

import io.trellis.ingress.event.SpooledEvent;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.SinkBatch;
import io.trellis.ingress.sink.SinkException;
import io.trellis.ingress.sink.clickhouse.ClickHouseSink;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Replays into ClickHouse through the service's own sink (same table set-up, same rows, and on
 * 22.2+ the same insert tokens), asking the table which event ids it has before each insert: the
 * lookup, not the row numbers, keeps each event once, so a rerun with {@code --restart} stores
 * nothing twice either.
 */
final class ClickHouseTarget extends SinkTarget<ClickHouseSink> {
  ClickHouseTarget(ClickHouseSink sink) throws SinkException {
    super(sink);
  }

  @Override
  public long write(List<TrafficEvent> events, long firstRow) throws SinkException {
    Set<String> stored = sink.storedEventIds(events);
    List<SpooledEvent> missing = new ArrayList<>(events.size());
    List<Integer> indexes = new ArrayList<>(events.size());
    for (int i = 0; i < events.size(); i++) {
      if (!stored.contains(events.get(i).eventId())) {
        missing.add(new SpooledEvent(firstRow + i, events.get(i)));
        indexes.add(i);
      }
    }
    if (missing.isEmpty()) {
      return events.size();
    }
    try {
      sink.write(new SinkBatch(missing));
    } catch (SinkException e) {
      if (e.kind() != SinkException.Kind.ROWS) {
        throw e;
      }
      // The sink names rows of its batch; the caller knows the events by their place in its list.
      Map<Integer, String> refused = new LinkedHashMap<>();
      e.rowErrors().forEach((i, reason) -> refused.put(indexes.get(i), reason));
      throw e.othersStored()
          ? SinkException.rowsOthersStored(e.getMessage(), refused)
          : SinkException.rows(e.getMessage(), refused);
    }
    return events.size() - missing.size();
  }
}
