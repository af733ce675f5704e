package io.trellis.ingress.base;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Eight bytes of an array handled as one long, the first byte lowest, for scans that look at eight
 * bytes per step: the JSON escaping of the files sink's lines.
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
}
