package io.trellis.ingress.spool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.zip.CRC32C;

/**
 * Reads the records of one segment file in order and validates each frame (length in range, record
 * inside the readable end, CRC32C, offset after the previous one). After a bad frame, {@link
 * #resync} searches byte by byte for the next good one, which is what lets a corrupt record in the
 * middle of a segment be skipped and quarantined instead of ending the log there.
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
  private String problem;

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

  /** Reads the next record: {@link Status#RECORD} (position moves past it), END or CORRUPT. */
  Status next() throws IOException {
    if (position >= end) {
      return Status.END;
    }
    problem = validate(position);
    if (problem != null) {
      return Status.CORRUPT;
    }
    recordPosition = position;
    position += RecordFrame.HEADER_BYTES + payloadLength;
    lastOffset = recordOffset;
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

  void seek(long newPosition) {
    this.position = newPosition;
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

  long recordPosition() {
    return recordPosition;
  }

  int frameBytes() {
    return RecordFrame.HEADER_BYTES + payloadLength;
  }

  /** The payload of the last record; valid until the next call on this scanner. */
  ByteBuffer payload() {
    return ByteBuffer.wrap(buf.array(), payloadPos, payloadLength);
  }

  /** Why the last {@link Status#CORRUPT} frame is bad. */
  String problem() {
    return problem;
  }

  /** Null and the record fields set when a good frame starts at {@code p}; what is wrong else. */
  private String validate(long p) throws IOException {
    long left = end - p;
    if (left < RecordFrame.HEADER_BYTES) {
      return left + " bytes left, less than a record header";
    }
    if (!fill(p, RecordFrame.HEADER_BYTES)) {
      return "file ends before the record header";
    }
    int at = (int) (p - bufStart);
    int length = buf.getInt(at);
    int storedCrc = buf.getInt(at + 4);
    long offset = buf.getLong(at + 8);
    if (length < 1 || length > maxRecordBytes) {
      return "record length " + length + " out of range";
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
    recordOffset = offset;
    payloadPos = at + RecordFrame.HEADER_BYTES;
    payloadLength = length;
    return null;
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
