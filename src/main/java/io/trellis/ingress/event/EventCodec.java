package io.trellis.ingress.event;

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
 * Version 1 holds the first 16 components; version 2 adds a 17th string, {@code bodyBase64}. An
 * event without exact body bytes (nearly all) is written as version 1, so its records are the same
 * as before version 2 existed; both versions are read.
 *
 * <p>Thread-safe (stateless).
 */
public final class EventCodec {
  public static final byte VERSION = 1;

  /** The version of events that carry their body's exact bytes. */
  public static final byte VERSION_EXACT_BODY = 2;

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
    boolean exact = !e.bodyBase64().isEmpty();
    byte[] base64 = exact ? utf8(e.bodyBase64()) : null;
    int size = 1 + 8 + 4 * STRINGS + (exact ? 4 + base64.length : 0);
    for (byte[] p : parts) {
      size += p.length;
    }
    ByteBuffer buf = ByteBuffer.allocate(size);
    buf.put(exact ? VERSION_EXACT_BODY : VERSION).putLong(e.timestamp());
    for (byte[] p : parts) {
      buf.putInt(p.length).put(p);
    }
    if (exact) {
      buf.putInt(base64.length).put(base64);
    }
    return buf.array();
  }

  public static TrafficEvent decode(byte[] bytes) {
    return decode(ByteBuffer.wrap(bytes));
  }

  /** Decodes one event from the buffer's remaining bytes; throws on any malformed input. */
  public static TrafficEvent decode(ByteBuffer buf) {
    try {
      int strings = strings(buf.get());
      long ts = buf.getLong();
      String[] s = new String[STRINGS + 1];
      for (int i = 0; i < strings; i++) {
        int len = length(buf);
        s[i] =
            new String(
                buf.array(), buf.arrayOffset() + buf.position(), len, StandardCharsets.UTF_8);
        buf.position(buf.position() + len);
      }
      return new TrafficEvent(
          s[0], s[1], ts, s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9], s[10], s[11], s[12],
          s[13], s[14], s[15], s[16]);
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
      int strings = strings(buf.get());
      buf.getLong();
      for (int i = 0; i < strings; i++) {
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

  /** The number of strings of a version, which must be one of this codec's. */
  private static int strings(byte version) {
    if (version == VERSION) {
      return STRINGS;
    }
    if (version == VERSION_EXACT_BODY) {
      return STRINGS + 1;
    }
    throw new IllegalArgumentException("unknown event encoding version " + version);
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
