package io.trellis.ingress.capture;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The spool's binary encoding of a {@link TrafficEvent}. Compact, allocation-light and versioned:
 *
 * <pre>
 *   +---------+-----------+------------------------------------------------+
 *   | version | timestamp | 16 strings, each: length (int32) + UTF-8 bytes  |
 *   | 1 byte  | int64     | in the order of the record components           |
 *   +---------+-----------+------------------------------------------------+
 * </pre>
 *
 * Thread-safe (stateless).
 */
public final class EventCodec {
  public static final byte VERSION = 1;
  private static final int STRINGS = 16;

  private EventCodec() {}

  public static byte[] encode(TrafficEvent e) {
    byte[][] parts = {
      utf8(e.organizationId()),
      utf8(e.eventId()),
      utf8(e.method()),
      utf8(e.url()),
      utf8(e.headers()),
      utf8(e.queryParams()),
      utf8(e.body()),
      utf8(e.ip()),
      utf8(e.userAgent()),
      utf8(e.referer()),
      utf8(e.eventType()),
      utf8(e.clickId()),
      utf8(e.sessionId()),
      utf8(e.source()),
      utf8(e.medium()),
      utf8(e.campaign())
    };
    int size = 1 + 8 + 4 * STRINGS;
    for (byte[] p : parts) {
      size += p.length;
    }
    ByteBuffer buf = ByteBuffer.allocate(size);
    buf.put(VERSION).putLong(e.timestamp());
    for (byte[] p : parts) {
      buf.putInt(p.length).put(p);
    }
    return buf.array();
  }

  public static TrafficEvent decode(byte[] bytes) {
    return decode(ByteBuffer.wrap(bytes));
  }

  /** Decodes one event from the buffer's remaining bytes; throws on any malformed input. */
  public static TrafficEvent decode(ByteBuffer buf) {
    try {
      long ts = header(buf);
      String[] s = new String[STRINGS];
      for (int i = 0; i < STRINGS; i++) {
        int len = length(buf);
        s[i] =
            new String(
                buf.array(), buf.arrayOffset() + buf.position(), len, StandardCharsets.UTF_8);
        buf.position(buf.position() + len);
      }
      return new TrafficEvent(
          s[0], s[1], ts, s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9], s[10], s[11], s[12],
          s[13], s[14], s[15]);
    } catch (BufferUnderflowException e) {
      throw new IllegalArgumentException("truncated event encoding", e);
    }
  }

  /**
   * Checks that {@code bytes} are one well-formed encoding, as {@link #decode(byte[])} would read
   * it, without building the strings.
   *
   * @throws IllegalArgumentException when they are not
   */
  public static void check(byte[] bytes) {
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    try {
      header(buf);
      for (int i = 0; i < STRINGS; i++) {
        skipString(buf);
      }
    } catch (BufferUnderflowException e) {
      throw new IllegalArgumentException("truncated event encoding", e);
    }
  }

  /** The event id (the second string) of a well-formed encoding. */
  public static String eventId(byte[] bytes) {
    ByteBuffer buf = ByteBuffer.wrap(bytes, 1 + 8, bytes.length - 1 - 8);
    skipString(buf);
    int len = length(buf);
    return new String(bytes, buf.position(), len, StandardCharsets.UTF_8);
  }

  /** The timestamp (epoch milliseconds) of a well-formed encoding. */
  public static long timestamp(byte[] bytes) {
    return ByteBuffer.wrap(bytes).getLong(1);
  }

  /** Reads the version, which must be this codec's, and returns the timestamp after it. */
  private static long header(ByteBuffer buf) {
    byte version = buf.get();
    if (version != VERSION) {
      throw new IllegalArgumentException("unknown event encoding version " + version);
    }
    return buf.getLong();
  }

  private static void skipString(ByteBuffer buf) {
    int len = length(buf);
    buf.position(buf.position() + len);
  }

  /** Reads a string's length and checks that its bytes follow; underflows when truncated. */
  private static int length(ByteBuffer buf) {
    int len = buf.getInt();
    if (len < 0 || len > buf.remaining()) {
      throw new IllegalArgumentException("bad string length " + len + " in event encoding");
    }
    return len;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
