package io.trellis.ingress.base;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Eight bytes of an array handled as one long, the first byte lowest, for scans that look at eight
 * bytes per step: JSON escaping of the files sink's lines, the key check of captured bodies.
 */
public final class ByteWords {
  /** 0x01 in every byte. */
  public static final long ONES = 0x0101010101010101L;

  /** The top bit of every byte. */
  public static final long HIGH_BITS = 0x8080808080808080L;

  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private ByteWords() {}

  /** The eight bytes at {@code at}, the first lowest. */
  public static long get(byte[] b, int at) {
    return (long) LONGS.get(b, at);
  }

  /** Writes {@code v} as the eight bytes at {@code at}, the lowest first. */
  public static void set(byte[] b, int at, long v) {
    LONGS.set(b, at, v);
  }

  /** {@code b} in each of the eight bytes. */
  public static long repeated(byte b) {
    return (b & 0xffL) * ONES;
  }

  /**
   * Non-zero when a byte of {@code x} is zero. The lowest such byte gets its top bit set; a byte
   * above it may too (a borrow), never a byte when none is zero.
   */
  public static long zeroByte(long x) {
    return (x - ONES) & ~x & HIGH_BITS;
  }
}
