package io.trellis.ingress.replay;

import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.SinkException;
import java.util.List;
import java.util.Set;

/** A sink as a replay sees it: what it holds already, and a write of what it lacks. */
interface ReplayTarget extends AutoCloseable {
  String name();

  /** The event ids among these that the sink already stores. */
  Set<String> storedIds(List<TrafficEvent> events) throws SinkException;

  /** Stores the events; {@code firstOffset} numbers them for the sink's insert tokens. */
  void write(List<TrafficEvent> events, long firstOffset) throws SinkException;

  @Override
  void close();
}
