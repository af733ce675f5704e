package io.trellis.ingress.spool;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.OptionalLong;

/**
 * One segment file of the spool log, named by the offset of its first record, zero-padded to 20
 * digits ({@code 00000000000000012345.segment}) so that names sort like offsets:
 *
 * <pre>
 *   +--------------------------------------+-----------+-----------+-----+-----------+
 *   | header (24 bytes)                    | record    | record    | ... | record    |
 *   | magic "TRSPOOL" | version 2 (1 byte) |           |           |     |           |
 *   | base offset (int64) | salt (int64)   | see RecordFrame       |     |           |
 *   +--------------------------------------+-----------+-----------+-----+-----------+
 *   0                                      24                                 &lt;= spool.segment-size
 * </pre>
 *
 * The salt is random per segment and goes into every record's checksum, so a frame is only valid in
 * the segment that wrote it: not the old records of a reused file, nor a frame a client hid in an
 * event body. Version 1 segments (16-byte header: magic, version, base offset; checksums without a
 * salt) are still read and appended to.
 *
 * <p>A segment is filled up to {@code spool.segment-size}; a record that does not fit starts the
 * next segment, so a record never spans two files. Only the newest segment is written to; older
 * ones are sealed (cut to their last record) and only read, then deleted or kept as a spare file
 * that a later segment reuses (see {@link SegmentLog}).
 *
 * <p>Thread-safe: the two mutable fields are volatile, written by the one writer thread and read by
 * sink readers; {@code durableSize} only grows while the segment is active.
 */
final class Segment {
  static final String SUFFIX = ".segment";

  /** Header size of the version written now; records of a new segment start here. */
  static final int HEADER_BYTES = 24;

  static final byte VERSION = 2;
  private static final int V1_HEADER_BYTES = 16;
  private static final byte[] MAGIC = "TRSPOOL".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] NO_SALT = new byte[0];

  /**
   * What a segment file's header says: its base offset and how its records are framed. {@code salt}
   * is mixed into every record checksum of the segment (empty for version 1).
   */
  record Header(int version, long baseOffset, byte[] salt) {
    /** A header for a new segment, with this salt. */
    static Header current(long baseOffset, long salt) {
      return new Header(VERSION, baseOffset, ByteBuffer.allocate(8).putLong(salt).array());
    }

    /** Where the first record starts. */
    int bytes() {
      return version == 1 ? V1_HEADER_BYTES : HEADER_BYTES;
    }

    /** The header's bytes, ready to be written at the start of the file. */
    ByteBuffer encoded() {
      if (version == 1) {
        // Only to repair a damaged header of a segment written in the old layout.
        return ByteBuffer.allocate(V1_HEADER_BYTES)
            .put(MAGIC)
            .put((byte) 1)
            .putLong(baseOffset)
            .flip();
      }
      return ByteBuffer.allocate(HEADER_BYTES)
          .put(MAGIC)
          .put(VERSION)
          .putLong(baseOffset)
          .put(salt)
          .flip();
    }
  }

  /** A header that is not the one a segment with its name must start with. */
  static final class BadHeaderException extends IOException {
    BadHeaderException(String message) {
      super(message);
    }
  }

  final Header header;
  final long baseOffset;
  final Path path;

  /** Bytes of the file that readers may read: written (and synced, if the policy says so). */
  private volatile long durableSize;

  /** True once the writer moved to a newer segment: nothing is appended any more. */
  private volatile boolean sealed;

  Segment(Header header, Path path, long durableSize, boolean sealed) {
    this.header = requireNonNull(header, "header is null");
    this.baseOffset = header.baseOffset();
    this.path = requireNonNull(path, "path is null");
    this.durableSize = durableSize;
    this.sealed = sealed;
  }

  long durableSize() {
    return durableSize;
  }

  void durableSize(long size) {
    this.durableSize = size;
  }

  boolean sealed() {
    return sealed;
  }

  void seal() {
    this.sealed = true;
  }

  static String fileName(long baseOffset) {
    return fileName(baseOffset, SUFFIX);
  }

  /** The file name {@code baseOffset} with another suffix (as a spare file keeps it). */
  static String fileName(long baseOffset, String suffix) {
    return String.format("%020d%s", baseOffset, suffix);
  }

  /** The base offset a segment file name stands for, or empty for any other file. */
  static OptionalLong parseName(String name) {
    if (!name.endsWith(SUFFIX) || name.length() != 20 + SUFFIX.length()) {
      return OptionalLong.empty();
    }
    for (int i = 0; i < 20; i++) {
      if (!Character.isDigit(name.charAt(i))) {
        return OptionalLong.empty();
      }
    }
    try {
      return OptionalLong.of(Long.parseLong(name.substring(0, 20)));
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
  }

  /**
   * Reads and checks the header of a segment file that should start at {@code baseOffset}.
   *
   * @throws BadHeaderException when it is not such a header (torn, foreign, renamed)
   */
  static Header readHeader(FileChannel channel, long baseOffset) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES);
    FileReads.readAt(channel, b, 0);
    if (b.remaining() < V1_HEADER_BYTES) {
      throw new BadHeaderException(
          "header is " + b.remaining() + " bytes, expected " + HEADER_BYTES);
    }
    byte[] magic = new byte[MAGIC.length];
    b.get(magic);
    if (!Arrays.equals(magic, MAGIC)) {
      throw new BadHeaderException("not a spool segment (bad magic)");
    }
    byte version = b.get();
    if (version != 1 && version != VERSION) {
      throw new BadHeaderException("unknown segment version " + version);
    }
    long base = b.getLong();
    if (base != baseOffset) {
      throw new BadHeaderException(
          "header says base offset " + base + " but the file name says " + baseOffset);
    }
    if (version == 1) {
      return new Header(1, base, NO_SALT);
    }
    if (b.remaining() < 8) {
      throw new BadHeaderException(
          "header is " + (b.position() + b.remaining()) + " bytes, expected " + HEADER_BYTES);
    }
    byte[] salt = new byte[8];
    b.get(salt);
    return new Header(version, base, salt);
  }

  @Override
  public String toString() {
    return path.getFileName() + "[" + durableSize + (sealed ? ", sealed]" : "]");
  }
}
