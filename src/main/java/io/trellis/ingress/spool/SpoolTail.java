package io.trellis.ingress.spool;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.event.SpooledEvent;
import java.io.IOException;
import java.util.function.Consumer;

/**
 * Follows the spool from its end, as it was when the tail was opened: every event acknowledged from
 * then on, in order, read from the segment files like a sink's reader but with no cursor on disk
 * and no hold on segments. Nothing on the append path knows a tail exists; a tail that falls so far
 * behind that the sinks let its segment go jumps to the end and counts what it passed over as
 * {@link #skipped()}.
 *
 * <p>Not thread-safe: one reading thread.
 */
public final class SpoolTail implements AutoCloseable {
  private final SegmentLog segmentLog;
  private LogReader reader;
  private long position;
  private long skipped;

  SpoolTail(SegmentLog segmentLog) {
    this.segmentLog = requireNonNull(segmentLog, "segmentLog is null");
    this.position = segmentLog.nextOffset();
    this.reader = new LogReader(segmentLog, position, false);
  }

  /**
   * Hands the events published since the last call, at most {@code max}, to {@code consumer};
   * returns how many were read (0: nothing new now).
   */
  public int poll(int max, Consumer<SpooledEvent> consumer) throws IOException {
    int n = 0;
    while (n < max) {
      if (position < segmentLog.oldestOffset()) {
        jumpToEnd();
      }
      boolean got;
      try {
        got = reader.next();
      } catch (LogReader.CorruptRecordException e) {
        // Its segment was let go (and maybe reused) under this reader: it was too far behind.
        jumpToEnd();
        continue;
      }
      if (!got) {
        return n;
      }
      position = reader.offset() + 1;
      byte[] raw = reader.payloadCopy();
      SpooledEvent event;
      try {
        event = SpooledEvent.encoded(reader.offset(), raw);
      } catch (IllegalArgumentException e) {
        continue; // the sinks' readers dead-letter it; a viewer just does not see it
      }
      consumer.accept(event);
      n++;
    }
    return n;
  }

  /** Events passed over because the tail fell behind what the spool keeps. */
  public long skipped() {
    return skipped;
  }

  /** Offset of the next event the tail will read. */
  public long position() {
    return position;
  }

  private void jumpToEnd() throws IOException {
    reader.close();
    long end = segmentLog.nextOffset();
    skipped += Math.max(0, end - position);
    position = end;
    reader = new LogReader(segmentLog, position, false);
  }

  @Override
  public void close() throws IOException {
    reader.close();
  }
}
