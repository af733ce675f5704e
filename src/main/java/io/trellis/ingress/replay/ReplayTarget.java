package io.trellis.ingress.replay;

import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.SinkException;
import java.util.List;

/**
 * A sink as a replay sees it: the part of a replay that differs per sink. The driver ({@link
 * Replayer}) reads the files, keeps the checkpoint and the progress; the target stores a chunk and
 * says how much of it the sink had already.
 */
interface ReplayTarget extends AutoCloseable {
  String name();

  /**
   * Takes the replay's checkpoint before the first write, for a sink that keeps its position in it
   * ({@link ReplayCheckpoint#note()}). Called again when that position must be given up.
   */
  default void open(ReplayCheckpoint checkpoint) throws SinkException {}

  /**
   * Stores those of the events the sink lacks, as rows {@code firstRow}, {@code firstRow + 1}, … of
   * this replay, and returns how many of them the sink held already. After a failure or a kill the
   * same events come again with the same {@code firstRow}.
   *
   * @throws SinkException of kind {@code ROWS} naming refused events by their index in {@code
   *     events}; unless {@link SinkException#othersStored()}, nothing of the events was stored and
   *     the others come again without them
   */
  long write(List<TrafficEvent> events, long firstRow) throws SinkException;

  @Override
  void close();
}
