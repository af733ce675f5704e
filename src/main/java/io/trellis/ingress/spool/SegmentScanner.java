package io.trellis.ingress.spool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Reads the events of one segment file in order and validates each frame (length in range, frame
 * inside the readable end, CRC32C, offsets after the previous frame's), batch frames and the event
 * frames of earlier releases alike ({@link RecordFrame}). A batch frame is validated whole, then
 * handed out one event at a time, each with its own offset. After a bad frame, {@link #resync}
 * searches byte by byte for the next good one, which is what lets a corrupt frame in the middle of
 * a segment be skipped and quarantined instead of ending the log there.
 *
 * <p>Used by recovery, by each sink's reader and by {@code spool status}. Not thread-safe: one
 * owner.
 */
final class SegmentScanner {
  enum Status {
    RECORD,
    END,
    CORRUPT
  }

  private static final int MIN_BUFFER = 1 << 20;

  private final FileChannel channel;
  private final int maxRecordBytes;
  private final CRC32C crc = new CRC32C();
  private final byte[] salt;
  private ByteBuffer buf;
  private long bufStart;
  private long position;
  private long end;
  private long lastOffset;

  private long recordOffset;
  private long recordPosition;
  private int payloadPos;
  private int payloadLength;
  private boolean batch;
  private String problem;

  // The frame validate() found: its first offset, events and where its first payload is.
  private long frameOffset;
  private int frameCount;
  private int frameLength;
  private boolean frameBatch;
  private int framePayloadPos;
  private int framePayloadLength;

  // Events of the current batch frame not handed out yet, and where the next entry is in buf.
  private int eventsLeft;
  private int entryPos;

  /**
   * @param header the segment's header: where the first record starts, the checksums' salt
   * @param end how many bytes of the file may be read
   * @param lastOffset records must have offsets above this
   */
  SegmentScanner(
      FileChannel channel, int maxRecordBytes, Segment.Header header, long end, long lastOffset) {
    this.channel = channel;
    this.maxRecordBytes = maxRecordBytes;
    this.salt = header.salt();
    this.position = header.bytes();
    this.end = end;
    this.lastOffset = lastOffset;
    this.buf = ByteBuffer.allocate(MIN_BUFFER);
    this.buf.limit(0);
  }

  /**
   * Reads the next event: {@link Status#RECORD}, END or CORRUPT. The position moves past a frame
   * when its first event is read; the other events of a batch frame come from memory.
   */
  Status next() throws IOException {
    if (eventsLeft > 0) {
      eventsLeft--;
      recordOffset++;
      payloadLength = buf.getInt(entryPos);
      payloadPos = entryPos + RecordFrame.ENTRY_HEADER_BYTES;
      entryPos = payloadPos + payloadLength;
      return Status.RECORD;
    }
    if (position >= end) {
      return Status.END;
    }
    problem = validate(position);
    if (problem != null) {
      return Status.CORRUPT;
    }
    recordPosition = position;
    position += RecordFrame.HEADER_BYTES + frameLength;
    recordOffset = frameOffset;
    batch = frameBatch;
    payloadPos = framePayloadPos;
    payloadLength = framePayloadLength;
    entryPos = payloadPos + payloadLength;
    eventsLeft = frameCount - 1;
    lastOffset = frameOffset + frameCount - 1;
    return Status.RECORD;
  }

  /**
   * The position of the first good record at or after {@code from}, or -1 when there is none before
   * the end. Does not move the scanner; {@link #seek} does.
   */
  long resync(long from) throws IOException {
    for (long q = from; q + RecordFrame.HEADER_BYTES <= end; q++) {
      if (validate(q) == null) {
        return q;
      }
    }
    return -1;
  }

  /** The first offset of the frame the last successful {@link #resync} found. */
  long resyncOffset() {
    return frameOffset;
  }

  /** Moves to a frame boundary (as {@link #resync} found one); the rest of a frame is dropped. */
  void seek(long newPosition) {
    this.position = newPosition;
    this.eventsLeft = 0;
  }

  void end(long newEnd) {
    this.end = newEnd;
  }

  long end() {
    return end;
  }

  long position() {
    return position;
  }

  long lastOffset() {
    return lastOffset;
  }

  long recordOffset() {
    return recordOffset;
  }

  /** Where the frame of the last event starts (a batch frame's events share it). */
  long recordPosition() {
    return recordPosition;
  }

  /** Bytes the last event takes on disk: its frame, or its entry in a batch frame. */
  int frameBytes() {
    return (batch ? RecordFrame.ENTRY_HEADER_BYTES : RecordFrame.HEADER_BYTES) + payloadLength;
  }

  /** The payload of the last record; valid until the next call on this scanner. */
  ByteBuffer payload() {
    return ByteBuffer.wrap(buf.array(), payloadPos, payloadLength);
  }

  /**
   * A copy of the payload of the last record, for a reader that keeps it: one array, without a
   * buffer view around it.
   */
  byte[] payloadCopy() {
    return Arrays.copyOfRange(buf.array(), payloadPos, payloadPos + payloadLength);
  }

  /** The length of the payload of the last record. */
  int payloadLength() {
    return payloadLength;
  }

  /** Copies the payload of the last record to the start of {@code into}. */
  void copyPayload(byte[] into) {
    System.arraycopy(buf.array(), payloadPos, into, 0, payloadLength);
  }

  /** Why the last {@link Status#CORRUPT} frame is bad. */
  String problem() {
    return problem;
  }

  /** Null and the frame fields set when a good frame starts at {@code p}; what is wrong else. */
  private String validate(long p) throws IOException {
    long left = end - p;
    if (left < RecordFrame.HEADER_BYTES) {
      return left + " bytes left, less than a record header";
    }
    if (!fill(p, RecordFrame.HEADER_BYTES)) {
      return "file ends before the record header";
    }
    int at = (int) (p - bufStart);
    int field = buf.getInt(at);
    int storedCrc = buf.getInt(at + 4);
    long offset = buf.getLong(at + 8);
    boolean isBatch = (field & RecordFrame.BATCH_FLAG) != 0;
    int length = field & ~RecordFrame.BATCH_FLAG;
    int min = isBatch ? 4 + RecordFrame.MIN_EVENT_BYTES : 1;
    int max = isBatch ? RecordFrame.maxBatchLength(maxRecordBytes) : maxRecordBytes;
    if (length < min || length > max) {
      return (isBatch ? "batch frame length " : "record length ") + length + " out of range";
    }
    if (RecordFrame.HEADER_BYTES + (long) length > left) {
      return "record of " + length + " bytes runs past the end (" + left + " bytes left)";
    }
    if (!fill(p, RecordFrame.HEADER_BYTES + length)) {
      return "file ends inside the record";
    }
    at = (int) (p - bufStart);
    if (RecordFrame.checksum(buf.array(), at, length, salt, crc) != storedCrc) {
      return "CRC32C mismatch";
    }
    if (offset <= lastOffset) {
      return "offset " + offset + " is not after " + lastOffset;
    }
    int count = 1;
    int first = at + RecordFrame.HEADER_BYTES;
    int firstLength = length;
    if (isBatch) {
      count = buf.getInt(at + RecordFrame.HEADER_BYTES);
      first = at + RecordFrame.BATCH_HEADER_BYTES;
      String bad = checkEntries(first, at + RecordFrame.HEADER_BYTES + length, count);
      if (bad != null) {
        return bad;
      }
      if (offset + count - 1 < offset) {
        return "offsets of " + count + " events from " + offset + " overflow";
      }
      firstLength = buf.getInt(first);
      first += RecordFrame.ENTRY_HEADER_BYTES;
    }
    frameOffset = offset;
    frameCount = count;
    frameLength = length;
    frameBatch = isBatch;
    framePayloadPos = first;
    framePayloadLength = firstLength;
    return null;
  }

  /**
   * Null when the entries from {@code pos} are {@code count} payloads of at least one byte that end
   * exactly at {@code end}. A frame whose checksum passed fails this only if it was written wrong.
   */
  private String checkEntries(int pos, int end, int count) {
    if (count < 1 || count > (end - pos) / RecordFrame.MIN_EVENT_BYTES) {
      return "batch frame count " + count + " out of range";
    }
    for (int i = 0; i < count; i++) {
      if (end - pos < RecordFrame.MIN_EVENT_BYTES) {
        return "batch frame ends before event " + i + " of " + count;
      }
      int n = buf.getInt(pos);
      if (n < 1 || n > end - pos - RecordFrame.ENTRY_HEADER_BYTES) {
        return "batch frame event " + i + " has length " + n;
      }
      pos += RecordFrame.ENTRY_HEADER_BYTES + n;
    }
    return pos == end ? null : "batch frame has " + (end - pos) + " bytes after its events";
  }

  /** Makes bytes {@code [p, p + n)} available in the buffer; false when the file is shorter. */
  private boolean fill(long p, int n) throws IOException {
    if (p >= bufStart && p + n <= bufStart + buf.limit()) {
      return true;
    }
    if (buf.capacity() < n) {
      buf = ByteBuffer.allocate(Math.max(n, MIN_BUFFER));
    }
    buf.clear();
    int want = (int) Math.min(buf.capacity(), Math.max(n, end - p));
    buf.limit(want);
    bufStart = p;
    FileReads.readAt(channel, buf, p);
    return buf.limit() >= n;
  }
}
