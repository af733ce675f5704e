package io.trellis.ingress.spool;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the log for one sink, in offset order, from a starting offset, through segment after
 * segment, never past what the writer published. Records are read from the files (the page cache),
 * not kept on the heap, so a sink that is down for hours costs disk, not memory.
 *
 * <p>Every frame is validated as it is read, and a batch frame's events are handed out one by one
 * with their offsets; a start offset inside a batch frame skips the frame's earlier events. A
 * corrupt frame is quarantined (once, whichever sink finds it first), the reader resumes at the
 * next good frame, and the sink simply never sees the corrupt bytes: no loop, no stop.
 *
 * <p>Not thread-safe: owned by one delivery thread.
 */
final class LogReader implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LogReader.class);

  private final SegmentLog segmentLog;
  private final boolean quarantine;
  private long want;
  private Segment segment;
  private FileChannel channel;
  private SegmentScanner scanner;

  LogReader(SegmentLog segmentLog, long from) {
    this(segmentLog, from, true);
  }

  /**
   * A reader that, with {@code quarantine} false, throws {@link CorruptRecordException} at a bad
   * frame instead of quarantining it: for readers that keep no cursor and may be behind a segment
   * the sinks have already let go (and whose file may be reused), where bad bytes mean "fell
   * behind", not damage.
   */
  LogReader(SegmentLog segmentLog, long from, boolean quarantine) {
    this.segmentLog = segmentLog;
    this.quarantine = quarantine;
    this.want = from;
  }

  /** A bad frame met by a reader that does not quarantine. */
  static final class CorruptRecordException extends IOException {
    CorruptRecordException(String message) {
      super(message);
    }
  }

  /**
   * Moves to the next record at or after the start offset. Returns false when nothing more is
   * published now; the record's fields are valid until the next call.
   */
  boolean next() throws IOException {
    while (true) {
      if (segment == null && !open(segmentLog.segmentFor(want))) {
        return false;
      }
      // Sealed first: a segment is sealed only after its final size is set.
      boolean sealed = segment.sealed();
      long end = segment.durableSize();
      scanner.end(end);
      switch (scanner.next()) {
        case RECORD -> {
          if (scanner.recordOffset() >= want) {
            want = scanner.recordOffset() + 1;
            return true;
          }
        }
        case CORRUPT -> skipCorrupt(end);
        case END -> {
          if (!sealed) {
            return false;
          }
          Segment after = segmentLog.segmentAfter(segment);
          if (after == null) {
            return false;
          }
          close();
          if (!open(after)) {
            return false;
          }
        }
      }
    }
  }

  long offset() {
    return scanner.recordOffset();
  }

  /** A copy of the last record's payload. */
  byte[] payloadCopy() {
    return scanner.payloadCopy();
  }

  /** The length of the last record's payload. */
  int payloadLength() {
    return scanner.payloadLength();
  }

  /** Copies the last record's payload to the start of {@code into} (at least that long). */
  void copyPayload(byte[] into) {
    scanner.copyPayload(into);
  }

  int frameBytes() {
    return scanner.frameBytes();
  }

  private void skipCorrupt(long end) throws IOException {
    long bad = scanner.position();
    String why = scanner.problem();
    if (!quarantine) {
      throw new CorruptRecordException(
          "spool segment " + segment.path + ": bad record at byte " + bad + " (" + why + ")");
    }
    long resume = scanner.resync(bad + 1);
    long to = resume >= 0 ? resume : end;
    long next = resume >= 0 ? scanner.resyncOffset() : -1;
    if (next < 0 && segment.sealed()) {
      Segment after = segmentLog.segmentAfter(segment);
      next = after == null ? -1 : after.baseOffset;
    }
    String offsets = Quarantine.lostOffsets(scanner.lastOffset(), next);
    if (segmentLog.quarantine().range(segment.path, bad, to, why, offsets)) {
      log.warn(
          "Spool segment {}: corrupt frame at byte {} ({}); moved bytes {}..{} to quarantine,"
              + " events at offsets {}",
          segment.path,
          bad,
          why,
          bad,
          to,
          offsets);
    }
    scanner.seek(to);
  }

  private boolean open(Segment s) throws IOException {
    segment = null;
    if (s == null) {
      return false;
    }
    try {
      channel = FileChannel.open(s.path, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      return false;
    }
    segment = s;
    scanner =
        new SegmentScanner(
            channel, segmentLog.maxRecordBytes(), s.header, s.durableSize(), s.baseOffset - 1);
    return true;
  }

  @Override
  public void close() throws IOException {
    if (channel != null) {
      channel.close();
      channel = null;
    }
  }
}
