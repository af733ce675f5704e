package io.trellis.ingress.spool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * Rebuilds the header of a segment whose header is damaged, from what the file name and the frames
 * carry: the base offset is in the name, every frame (a batch or an event of an earlier release,
 * see {@link RecordFrame}) carries its first offset and checksum, and the one thing only the header
 * holds, the salt, can be solved from the frames' checksums.
 *
 * <p>CRC32C is affine over GF(2): for inputs of one length, {@code crc(a ^ b) = crc(a) ^ crc(b) ^
 * crc(0)}. A record's checksum covers {@code salt || offset || payload}, so it equals {@code
 * crc(0^8 || offset || payload)} XOR a linear function of the 64 salt bits, which depends on the
 * record's length only. Each record thus gives 32 linear equations in the salt's 64 bits; records
 * of two or more lengths usually pin it down, and where they do not (all records of one length),
 * the intact bytes of the damaged salt fill in what is missing. Every candidate header is accepted
 * only if the first record validates under it.
 *
 * <p>Thread-safe (stateless).
 */
final class HeaderRecovery {
  /** Records used for the equations; more only matter when many have the same length. */
  private static final int MAX_RECORDS = 32;

  /** Larger records are skipped for the equations (each costs 64 checksums of its length). */
  private static final int MAX_EQUATION_RECORD = 64 << 10;

  private HeaderRecovery() {}

  /**
   * A header under which the first record of the file validates, or empty when none is found (no
   * record, or the first one itself is damaged).
   */
  static Optional<Segment.Header> rebuild(FileChannel ch, long base, int maxRecordBytes)
      throws IOException {
    long size = ch.size();
    ByteBuffer raw = ByteBuffer.allocate(Segment.HEADER_BYTES);
    FileReads.readAt(ch, raw, 0);
    byte[] storedSalt = new byte[8];
    if (raw.remaining() == Segment.HEADER_BYTES) {
      raw.position(16);
      raw.get(storedSalt);
    }
    // The stored salt (a damaged magic, version or base offset) and the old unsalted layout.
    for (Segment.Header h :
        List.of(
            new Segment.Header(Segment.VERSION, base, storedSalt),
            new Segment.Header(1, base, new byte[0]))) {
      if (validRun(ch, h, maxRecordBytes, size, 1) >= 1) {
        return Optional.of(h);
      }
    }
    Chain chain = equations(ch, base, maxRecordBytes, size);
    if (chain.records() == 0) {
      return Optional.empty();
    }
    long stored = toBits(storedSalt);
    List<Long> solved = new ArrayList<>();
    solved.add(solve(chain.rows(), stored, 0));
    for (int damagedByte = 0; damagedByte < 8; damagedByte++) {
      // Assume every other byte of the stored salt is intact.
      solved.add(solve(chain.rows(), stored, ~(0xFFL << (8 * damagedByte))));
    }
    // A solved salt must validate every record of the chain it was solved from (up to 8): a
    // damaged record among them makes the equations contradict, or the check fail.
    int need = Math.min(chain.records(), 8);
    for (Long salt : solved) {
      if (salt == null) {
        continue;
      }
      Segment.Header h = new Segment.Header(Segment.VERSION, base, fromBits(salt));
      if (validRun(ch, h, maxRecordBytes, size, need) >= need) {
        return Optional.of(h);
      }
    }
    return Optional.empty();
  }

  /** Records of the file that validate under {@code header} one after another, up to max. */
  private static int validRun(
      FileChannel ch, Segment.Header header, int maxRecordBytes, long size, int max)
      throws IOException {
    SegmentScanner s =
        new SegmentScanner(ch, maxRecordBytes, header, size, header.baseOffset() - 1);
    int n = 0;
    while (n < max && s.next() == SegmentScanner.Status.RECORD) {
      n++;
    }
    return n;
  }

  /** Equations of the first records (see {@link #equations}) and how many records gave them. */
  private record Chain(List<long[]> rows, int records) {}

  /** True when the file's first record is a good record of a segment with this header. */
  static boolean firstRecordValid(
      FileChannel ch, Segment.Header header, int maxRecordBytes, long size) throws IOException {
    SegmentScanner s =
        new SegmentScanner(ch, maxRecordBytes, header, size, header.baseOffset() - 1);
    return s.next() == SegmentScanner.Status.RECORD;
  }

  /**
   * The equations the first records give, one per checksum bit: {@code {mask of salt bits, right
   * hand side (0 or 1)}}. Frames are followed by their length fields from the first frame's
   * position, as long as their offsets count up from the base (a batch frame by its count).
   */
  private static Chain equations(FileChannel ch, long base, int maxRecordBytes, long size)
      throws IOException {
    List<long[]> rows = new ArrayList<>();
    int records = 0;
    CRC32C crc = new CRC32C();
    long p = Segment.HEADER_BYTES;
    ByteBuffer head = ByteBuffer.allocate(RecordFrame.BATCH_HEADER_BYTES);
    long expected = base;
    for (int k = 0; k < MAX_RECORDS && p + RecordFrame.HEADER_BYTES <= size; k++) {
      head.clear();
      FileReads.readAt(ch, head, p);
      if (head.remaining() < RecordFrame.HEADER_BYTES) {
        break;
      }
      int field = head.getInt(0);
      boolean batch = (field & RecordFrame.BATCH_FLAG) != 0;
      int length = field & ~RecordFrame.BATCH_FLAG;
      int storedCrc = head.getInt(4);
      long offset = head.getLong(8);
      int max = batch ? RecordFrame.maxBatchLength(maxRecordBytes) : maxRecordBytes;
      if (length < 1 || length > max || p + RecordFrame.HEADER_BYTES + length > size) {
        break;
      }
      if (offset != expected) {
        break;
      }
      if (batch) {
        if (head.remaining() < RecordFrame.BATCH_HEADER_BYTES) {
          break;
        }
        int count = head.getInt(RecordFrame.HEADER_BYTES);
        if (count < 1 || count > length / RecordFrame.MIN_EVENT_BYTES) {
          break;
        }
        expected += count;
      } else {
        expected++;
      }
      if (length <= MAX_EQUATION_RECORD) {
        ByteBuffer data = ByteBuffer.allocate(8 + length);
        FileReads.readAt(ch, data, p + 8);
        addRows(rows, data.array(), storedCrc, crc);
      }
      records++;
      p += RecordFrame.HEADER_BYTES + length;
    }
    return new Chain(rows, records);
  }

  /** The 32 equations of one record whose offset field and payload are {@code data}. */
  private static void addRows(List<long[]> rows, byte[] data, int storedCrc, CRC32C crc) {
    int n = data.length;
    int zeroSalt = crcOf(new byte[8], data, crc);
    int target = storedCrc ^ zeroSalt;
    byte[] zeros = new byte[n];
    int allZero = crcOf(new byte[8], zeros, crc);
    long[] maskPerBit = new long[32];
    for (int i = 0; i < 64; i++) {
      byte[] unit = new byte[8];
      unit[i / 8] = (byte) (1 << (i % 8));
      int g = crcOf(unit, zeros, crc) ^ allZero;
      for (int b = 0; b < 32; b++) {
        if (((g >>> b) & 1) != 0) {
          maskPerBit[b] |= 1L << i;
        }
      }
    }
    for (int b = 0; b < 32; b++) {
      rows.add(new long[] {maskPerBit[b], (target >>> b) & 1});
    }
  }

  private static int crcOf(byte[] salt, byte[] data, CRC32C crc) {
    crc.reset();
    crc.update(salt, 0, salt.length);
    crc.update(data, 0, data.length);
    return (int) crc.getValue();
  }

  /**
   * Solves the equations by Gaussian elimination over GF(2), with the salt bits in {@code keep}
   * fixed to those of {@code stored}; bits left free take the stored value. Null when the equations
   * contradict each other.
   */
  private static Long solve(List<long[]> records, long stored, long keep) {
    long[] pivotRow = new long[64];
    long[] pivotRhs = new long[64];
    boolean[] has = new boolean[64];
    List<long[]> rows = new ArrayList<>(records);
    for (int i = 0; i < 64; i++) {
      if (((keep >>> i) & 1) != 0) {
        rows.add(new long[] {1L << i, (stored >>> i) & 1});
      }
    }
    for (long[] row : rows) {
      long mask = row[0];
      long rhs = row[1];
      for (int i = 0; i < 64 && mask != 0; i++) {
        if (((mask >>> i) & 1) != 0 && has[i]) {
          mask ^= pivotRow[i];
          rhs ^= pivotRhs[i];
        }
      }
      if (mask == 0) {
        if (rhs != 0) {
          return null;
        }
        continue;
      }
      int p = Long.numberOfTrailingZeros(mask);
      pivotRow[p] = mask;
      pivotRhs[p] = rhs;
      has[p] = true;
    }
    long salt = 0;
    for (int i = 63; i >= 0; i--) {
      long bit;
      if (has[i]) {
        // Every other bit of a pivot row is above i, and already decided.
        bit = pivotRhs[i] ^ (Long.bitCount(pivotRow[i] & ~(1L << i) & salt) & 1);
      } else {
        bit = (stored >>> i) & 1;
      }
      salt |= bit << i;
    }
    return salt;
  }

  /** The salt bytes as 64 bits: bit {@code i} is bit {@code i % 8} of byte {@code i / 8}. */
  private static long toBits(byte[] salt) {
    long bits = 0;
    for (int i = 0; i < 64; i++) {
      if (((salt[i / 8] >>> (i % 8)) & 1) != 0) {
        bits |= 1L << i;
      }
    }
    return bits;
  }

  /** The salt bytes of {@code bits}, the inverse of {@link #toBits}. */
  static byte[] fromBits(long bits) {
    byte[] salt = new byte[8];
    for (int i = 0; i < 64; i++) {
      if (((bits >>> i) & 1) != 0) {
        salt[i / 8] |= (byte) (1 << (i % 8));
      }
    }
    return salt;
  }
}
