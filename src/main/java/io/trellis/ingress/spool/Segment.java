package io.trellis.ingress.spool;

import static java.util.Objects.requireNonNull;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.OptionalLong;

/**
 * One segment file of the spool log, named by the offset of its first record, zero-padded to 20
 * digits ({@code 00000000000000012345.segment}) so that names sort like offsets:
 *
 * <pre>
 *   +----------------------------+-----------+-----------+-----+-----------+
 *   | header (16 bytes)          | record    | record    | ... | record    |
 *   | magic "TRSPOOL" | version  |           |           |     |           |
 *   | 7 bytes         | 1 byte   | see RecordFrame       |     |           |
 *   | base offset (int64)        |           |           |     |           |
 *   +----------------------------+-----------+-----------+-----+-----------+
 *   0                            16                                 &lt;= spool.segment-size
 * </pre>
 *
 * A segment is filled up to {@code spool.segment-size}; a record that does not fit starts the next
 * segment, so a record never spans two files. Only the newest segment is written to; older ones are
 * sealed and only read or deleted.
 *
 * <p>Thread-safe: the two mutable fields are volatile, written by the one writer thread and read by
 * sink readers; {@code durableSize} only grows while the segment is active.
 */
final class Segment {
  static final String SUFFIX = ".segment";
  static final int HEADER_BYTES = 16;
  static final byte VERSION = 1;
  private static final byte[] MAGIC = "TRSPOOL".getBytes(StandardCharsets.US_ASCII);

  final long baseOffset;
  final Path path;

  /** Bytes of the file that readers may read: written (and synced, if the policy says so). */
  private volatile long durableSize;

  /** True once the writer moved to a newer segment: nothing is appended any more. */
  private volatile boolean sealed;

  Segment(long baseOffset, Path path, long durableSize, boolean sealed) {
    this.baseOffset = baseOffset;
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
    return String.format("%020d%s", baseOffset, SUFFIX);
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

  static ByteBuffer header(long baseOffset) {
    ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES);
    b.put(MAGIC).put(VERSION).putLong(baseOffset).flip();
    return b;
  }

  /** Null when the header is the one a segment with this base offset must start with. */
  static String checkHeader(ByteBuffer header, long baseOffset) {
    if (header.remaining() < HEADER_BYTES) {
      return "header is " + header.remaining() + " bytes, expected " + HEADER_BYTES;
    }
    byte[] magic = new byte[MAGIC.length];
    header.get(magic);
    if (!Arrays.equals(magic, MAGIC)) {
      return "not a spool segment (bad magic)";
    }
    byte version = header.get();
    if (version != VERSION) {
      return "unknown segment version " + version;
    }
    long base = header.getLong();
    if (base != baseOffset) {
      return "header says base offset " + base + " but the file name says " + baseOffset;
    }
    return null;
  }

  @Override
  public String toString() {
    return path.getFileName() + "[" + durableSize + (sealed ? ", sealed]" : "]");
  }
}
