package io.trellis.ingress.spool;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * How one event is framed in a segment:
 *
 * <pre>
 *   byte 0        4        8                 16                    16 + length
 *        +--------+--------+-----------------+---------------------+
 *        | length | crc    | offset          | payload             |
 *        | int32  | int32  | int64           | length bytes        |
 *        +--------+--------+-----------------+---------------------+
 *   length  payload size, 1 .. spool.max-record-size
 *   crc     CRC32C of the segment's salt (8 bytes, see Segment), then of the offset field and
 *           the payload (bytes 8 .. 16 + length); version 1 segments have no salt
 *   offset  the event's spool offset, strictly increasing through the log
 *   payload EventCodec.encode(event)
 * </pre>
 *
 * All integers are big-endian. The offset is stored in every record (rather than derived from the
 * record's position) so that a reader can find the next good record after a corrupt one and still
 * know its offset; see RATIONALE.md.
 *
 * <p>Thread-safe (stateless).
 */
final class RecordFrame {
  static final int HEADER_BYTES = 16;

  private RecordFrame() {}

  static int frameBytes(int payloadLength) {
    return HEADER_BYTES + payloadLength;
  }

  /** Writes the 16-byte header for the payload into {@code header} at its position. */
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
   * The CRC a record stored in {@code array} at {@code pos} should carry: over the salt, the offset
   * field and the payload of {@code length} bytes.
   */
  static int checksum(byte[] array, int pos, int length, byte[] salt, CRC32C crc) {
    crc.reset();
    crc.update(salt, 0, salt.length);
    crc.update(array, pos + 8, 8 + length);
    return (int) crc.getValue();
  }
}
