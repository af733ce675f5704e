package io.trellis.ingress.spool;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * How events are framed in a segment. An append (the events of one request) is written as one
 * <b>batch frame</b>, with one checksum for all its events, as a Kafka record batch:
 *
 * <pre>
 *   byte 0            4        8             16       20       24                 24 + n1
 *        +------------+--------+-------------+--------+--------+------------------+--------+---
 *        | 1 | length | crc    | base offset | count  | n1     | payload 1        | n2     | ...
 *        | bit  31    | int32  | int64       | int32  | int32  | n1 bytes         | int32  |
 *        +------------+--------+-------------+--------+--------+------------------+--------+---
 *   length       bytes after the base offset field (count and entries): 4 + sum(4 + n_i),
 *                at most spool.max-record-size + 8; bit 31 of the field marks a batch frame
 *   crc          CRC32C of the segment's salt, then of bytes 8 .. 16 + length
 *   base offset  offset of the first event; event i has offset base + i
 *   count        events in the frame, at least 1
 *   n_i          size of payload i (EventCodec.encode(event)), at least 1
 * </pre>
 *
 * The <b>event frames</b> of earlier releases, one per event, are still read:
 *
 * <pre>
 *        +------------+--------+-------------+---------------------+
 *        | 0 | length | crc    | offset      | payload             |
 *        +------------+--------+-------------+---------------------+
 *   length  payload size, 1 .. spool.max-record-size (bit 31 clear)
 *   crc     CRC32C of the salt, then of bytes 8 .. 16 + length; version 1 segments have no salt
 * </pre>
 *
 * Both carry their first offset (rather than deriving it from the position), so that a reader can
 * find the next good frame after a corrupt one and still know its offsets; see RATIONALE.md. Both
 * checksum the same span, which is what lets {@link HeaderRecovery} solve a salt from either. All
 * integers are big-endian.
 *
 * <p>Thread-safe (stateless).
 */
final class RecordFrame {
  /** Bytes before the payload of an event frame, and before the count of a batch frame. */
  static final int HEADER_BYTES = 16;

  /** Set in the length field of a batch frame. */
  static final int BATCH_FLAG = 0x8000_0000;

  /** Bytes of a batch frame before its first entry: the header and the count. */
  static final int BATCH_HEADER_BYTES = HEADER_BYTES + 4;

  /** Bytes before each payload in a batch frame (its size). */
  static final int ENTRY_HEADER_BYTES = 4;

  /** The fewest bytes an event takes in any frame: an entry of a batch with a 1-byte payload. */
  static final int MIN_EVENT_BYTES = ENTRY_HEADER_BYTES + 1;

  private RecordFrame() {}

  /** Size of an event frame (earlier releases) around a payload. */
  static int frameBytes(int payloadLength) {
    return HEADER_BYTES + payloadLength;
  }

  /** Size of a batch frame holding just this payload: the most one event can take on disk. */
  static int singleBatchBytes(int payloadLength) {
    return BATCH_HEADER_BYTES + ENTRY_HEADER_BYTES + payloadLength;
  }

  /** The largest length field (bytes after the base offset) of a batch frame. */
  static int maxBatchLength(int maxRecordBytes) {
    return maxRecordBytes + 4 + ENTRY_HEADER_BYTES;
  }

  /**
   * Bytes on disk of {@code payloads} written as batch frames of at most {@code maxRecordBytes}
   * (see {@link #maxBatchLength}): usually one frame; a larger append is split between events.
   */
  static long appendBytes(List<byte[]> payloads, int maxRecordBytes) {
    int maxLength = maxBatchLength(maxRecordBytes);
    long bytes = 0;
    int length = 0;
    for (int i = 0; i < payloads.size(); i++) {
      int entry = ENTRY_HEADER_BYTES + payloads.get(i).length;
      if (length == 0 || length + entry > maxLength) {
        bytes += BATCH_HEADER_BYTES;
        length = 4;
      }
      length += entry;
      bytes += entry;
    }
    return bytes;
  }

  /** Writes the 16-byte header of an event frame (earlier releases) into {@code header}. */
  static void putHeader(ByteBuffer header, long offset, byte[] payload, byte[] salt, CRC32C crc) {
    crc.reset();
    crc.update(salt, 0, salt.length);
    crc.update((byte) (offset >>> 56));
    crc.update((byte) (offset >>> 48));
    crc.update((byte) (offset >>> 40));
    crc.update((byte) (offset >>> 32));
    crc.update((byte) (offset >>> 24));
    crc.update((byte) (offset >>> 16));
    crc.update((byte) (offset >>> 8));
    crc.update((byte) offset);
    crc.update(payload, 0, payload.length);
    header.putInt(payload.length).putInt((int) crc.getValue()).putLong(offset);
  }

  /**
   * Writes {@code payloads[from, to)} as one batch frame at the position of {@code out} (which must
   * have room for it) and moves the position past it.
   */
  static void putBatch(
      ByteBuffer out,
      long baseOffset,
      List<byte[]> payloads,
      int from,
      int to,
      byte[] salt,
      CRC32C crc) {
    int start = out.position();
    out.position(start + 8);
    out.putLong(baseOffset).putInt(to - from);
    for (int i = from; i < to; i++) {
      byte[] p = payloads.get(i);
      out.putInt(p.length).put(p);
    }
    int end = out.position();
    int limit = out.limit();
    crc.reset();
    crc.update(salt, 0, salt.length);
    out.position(start + 8).limit(end);
    crc.update(out); // moves the position to end
    out.limit(limit);
    out.putInt(start, BATCH_FLAG | (end - start - HEADER_BYTES));
    out.putInt(start + 4, (int) crc.getValue());
  }

  /**
   * The CRC a frame stored in {@code array} at {@code pos} should carry: over the salt and bytes 8
   * .. 16 + {@code length} of the frame (the length field without its batch bit).
   */
  static int checksum(byte[] array, int pos, int length, byte[] salt, CRC32C crc) {
    crc.reset();
    crc.update(salt, 0, salt.length);
    crc.update(array, pos + 8, 8 + length);
    return (int) crc.getValue();
  }
}
