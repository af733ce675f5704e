package io.trellis.ingress.event;

import io.trellis.ingress.base.JsonPaths;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The spool's binary encoding of a {@link TrafficEvent}. The first byte is the version, and the
 * decoder dispatches on it. Events are written as version 3; versions 1 and 2, written by earlier
 * releases, are still read, so a spool left by one of them drains after an upgrade.
 *
 * <p><b>Version 3</b> is self-describing: after the timestamp come tagged fields, each one a tag, a
 * length and that many bytes of UTF-8:
 *
 * <pre>
 *   +---------+-----------+--------------------------------------------------------+
 *   | version | timestamp | fields, any order: tag (varint) length (varint) bytes   |
 *   | 1 byte  | int64     | tag 1..17: {@link Field}; an empty string is left out   |
 *   +---------+-----------+--------------------------------------------------------+
 * </pre>
 *
 * Tag 18 ({@link Field#BODY_INDEX}) is not a string: its bytes are varints, {@link
 * EventField#LIST_ID} and then, for each {@link EventField} that has a value in the body, its
 * ordinal and where its value starts, counted in bytes from the body's first. Capture writes it
 * when it read those fields from the very bytes stored as the body; {@link #indexedBody} reads the
 * values back from there without parsing the body again. A record without it (an earlier release's,
 * or a body capture did not read as one object) is parsed instead.
 *
 * <p>A field absent from a record is the empty string. A tag this decoder does not know is skipped
 * by its length, so a later release can add fields within version 3 and this one still reads its
 * records; a change that older decoders must not misread takes a new version. Varints are unsigned
 * LEB128 (7 bits a byte, low bits first).
 *
 * <p><b>Versions 1 and 2</b> are positional: the timestamp, then 16 strings (17 in version 2, the
 * last one {@code bodyBase64}), each an int32 length and UTF-8 bytes, in the order of the record's
 * components.
 *
 * <p>All integers are big-endian. Thread-safe (the encoder's scratch buffer is per thread).
 */
public final class EventCodec {
  /** Positional, 16 strings. Read only. */
  public static final byte VERSION_1 = 1;

  /** Positional, 17 strings (the 17th the exact body, base64). Read only. */
  public static final byte VERSION_2 = 2;

  /** Tagged fields; what {@link #encode} writes. */
  public static final byte VERSION = 3;

  /** The field tags of version 3. A tag is never reused for another field. */
  public static final class Field {
    public static final int ORGANIZATION_ID = 1;
    public static final int EVENT_ID = 2;
    public static final int METHOD = 3;
    public static final int URL = 4;
    public static final int HEADERS = 5;
    public static final int QUERY_PARAMS = 6;
    public static final int BODY = 7;
    public static final int IP = 8;
    public static final int USER_AGENT = 9;
    public static final int REFERER = 10;
    public static final int EVENT_TYPE = 11;
    public static final int CLICK_ID = 12;
    public static final int SESSION_ID = 13;
    public static final int SOURCE = 14;
    public static final int MEDIUM = 15;
    public static final int CAMPAIGN = 16;
    public static final int BODY_BASE64 = 17;

    /** Where the values of the {@link EventField}s start in the body; varints, not a string. */
    public static final int BODY_INDEX = 18;

    /** The highest tag of a string field this decoder knows. */
    static final int LAST = BODY_BASE64;

    /** The highest tag this decoder knows: an array of fields' places holds one long per tag. */
    static final int KNOWN = BODY_INDEX;

    private Field() {}
  }

  private static final int POSITIONAL_STRINGS = 16;
  private static final int HEAD_BYTES = 1 + 8;

  private static final ThreadLocal<Writer> WRITERS = ThreadLocal.withInitial(Writer::new);

  private EventCodec() {}

  /** Encodes the event as version 3, in one array of exactly its size. */
  public static byte[] encode(TrafficEvent e) {
    Writer w = WRITERS.get().start(e.timestamp());
    for (int tag = Field.ORGANIZATION_ID; tag <= Field.LAST; tag++) {
      w.field(tag, text(e, tag));
    }
    return w.toByteArray();
  }

  /**
   * Decodes one event; throws on any malformed input. A version 3 record (every record a sink reads
   * from a current spool) is read by index from the array, without a buffer view.
   */
  public static TrafficEvent decode(byte[] bytes) {
    return decode(bytes, bytes.length, null, null);
  }

  /**
   * The record a thread decoded last, its strings and where each was in it, for the next {@link
   * #decode(byte[], int, long[], Previous)} on that thread.
   */
  static final class Previous {
    private byte[] bytes;
    private final long[] at = new long[Field.LAST + 1];
    private String[] strings;
  }

  /**
   * {@link #decode(byte[])}, noting in the same walk where each field this decoder knows is, by
   * tag, as {@link #checkNoting} does ({@link Field#BODY_INDEX} too): {@code at[0]} is 1 when they
   * were noted, 0 for a record of version 1 or 2. A string field whose bytes are those of the same
   * field of the {@code previous} record decodes to the previous record's string, not a new one;
   * then {@code previous} is this record. The events of one request share its URL, headers, query,
   * address and user agent, and a batch's records are read one after another: its strings are
   * decoded once, and the user agent's hash, which the enrichment's cache computes, once.
   *
   * @param length the record is {@code bytes[0, length)}
   * @param at null, or at least {@link Field#KNOWN} + 1 long
   * @param previous null, or (with {@code at} not null) the record decoded before on this thread
   */
  static TrafficEvent decode(byte[] bytes, int length, long[] at, Previous previous) {
    if (length < HEAD_BYTES || bytes[0] != VERSION) {
      if (at != null) {
        at[0] = 0;
      }
      if (previous != null) {
        previous.bytes = null;
      }
      return decode(ByteBuffer.wrap(bytes, 0, length));
    }
    String[] s = new String[Field.LAST + 1];
    if (at != null) {
      Arrays.fill(at, 0, Field.KNOWN + 1, NOT_FOUND);
    }
    fields(bytes, length, s, at, 0, previous != null && previous.bytes != null ? previous : null);
    if (at != null) {
      at[0] = 1;
    }
    if (previous != null) {
      previous.bytes = bytes;
      System.arraycopy(at, 0, previous.at, 0, previous.at.length);
      previous.strings = s;
    }
    return event(timestamp(bytes), s);
  }

  /**
   * The string of the UTF-8 {@code bytes[pos, pos + n)}, field {@code tag} of a record: the
   * previous record's string when that record's field of the tag has the same bytes.
   */
  private static String string(byte[] bytes, int pos, int n, int tag, Previous previous) {
    if (previous != null) {
      long was = previous.at[tag];
      int from = (int) (was >>> 32);
      if (was != NOT_FOUND
          && (int) was == n
          && Arrays.equals(bytes, pos, pos + n, previous.bytes, from, from + n)) {
        return previous.strings[tag];
      }
    }
    return new String(bytes, pos, n, StandardCharsets.UTF_8);
  }

  /**
   * Walks the tagged fields of a version 3 record held in {@code bytes}, checking each, decodes the
   * string fields this version knows into {@code into} by tag (with {@code into} null, only
   * checks), notes where each field of a tag below {@code at.length} is in {@code at} by tag (when
   * not null), and answers where the last field of tag {@code find} is: its offset in the high 32
   * bits and its length in the low 32, or {@link #NOT_FOUND}. Each string is decoded as {@link
   * #string} does with {@code previous} (when not null).
   */
  private static long fields(
      byte[] bytes, int length, String[] into, long[] at, int find, Previous previous) {
    long found = NOT_FOUND;
    for (int pos = HEAD_BYTES; pos < length; ) {
      long tag = varint(bytes, pos);
      if ((int) tag == 0) {
        throw new IllegalArgumentException("field tag 0 in event encoding");
      }
      long len = varint(bytes, (int) (tag >>> 32));
      pos = (int) (len >>> 32);
      int n = (int) len;
      if (n > length - pos) {
        throw new IllegalArgumentException("bad string length " + n + " in event encoding");
      }
      if (into != null && (int) tag <= Field.LAST) {
        into[(int) tag] = string(bytes, pos, n, (int) tag, previous);
      }
      if (at != null && (int) tag < at.length) {
        at[(int) tag] = (long) pos << 32 | n;
      }
      if ((int) tag == find) {
        found = (long) pos << 32 | n;
      }
      pos += n;
    }
    return found;
  }

  /** Decodes one event from the buffer's remaining bytes; throws on any malformed input. */
  public static TrafficEvent decode(ByteBuffer buf) {
    try {
      byte version = buf.get();
      long ts = buf.getLong();
      String[] s = new String[Field.LAST + 1];
      if (version == VERSION) {
        while (buf.hasRemaining()) {
          int tag = tag(buf);
          int len = length(buf, varint(buf));
          if (tag <= Field.LAST) {
            s[tag] = string(buf, len);
          }
          buf.position(buf.position() + len);
        }
      } else {
        int strings = positionalStrings(version);
        for (int i = 1; i <= strings; i++) {
          int len = length(buf, buf.getInt());
          s[i] = string(buf, len);
          buf.position(buf.position() + len);
        }
      }
      return event(ts, s);
    } catch (BufferUnderflowException e) {
      throw new IllegalArgumentException("truncated event encoding", e);
    }
  }

  /** The event of the fields decoded by tag (or by position, 1 to 17). */
  private static TrafficEvent event(long ts, String[] s) {
    return new TrafficEvent(
        orEmpty(s[Field.ORGANIZATION_ID]),
        orEmpty(s[Field.EVENT_ID]),
        ts,
        s[Field.METHOD],
        s[Field.URL],
        s[Field.HEADERS],
        s[Field.QUERY_PARAMS],
        s[Field.BODY],
        s[Field.IP],
        s[Field.USER_AGENT],
        s[Field.REFERER],
        s[Field.EVENT_TYPE],
        s[Field.CLICK_ID],
        s[Field.SESSION_ID],
        s[Field.SOURCE],
        s[Field.MEDIUM],
        s[Field.CAMPAIGN],
        s[Field.BODY_BASE64]);
  }

  /**
   * Checks that {@code bytes} are one well-formed encoding, as {@link #decode(byte[])} would read
   * it, without building the strings.
   *
   * @throws IllegalArgumentException when they are not
   */
  public static void check(byte[] bytes) {
    check(bytes, bytes.length);
  }

  private static void check(byte[] bytes, int length) {
    if (length >= HEAD_BYTES && bytes[0] == VERSION) {
      fields(bytes, length, null, null, 0, null);
      return;
    }
    // A version 1 or 2 record, or one shorter than its head (which the timestamp's read refuses).
    ByteBuffer buf = ByteBuffer.wrap(bytes, 0, length);
    try {
      byte version = buf.get();
      buf.getLong();
      int strings = positionalStrings(version);
      for (int i = 0; i < strings; i++) {
        skip(buf, buf.getInt());
      }
    } catch (BufferUnderflowException e) {
      throw new IllegalArgumentException("truncated event encoding", e);
    }
  }

  /** {@link #checkNoting}'s place of a field a version 3 record does not hold. */
  public static final long NOT_FOUND = -1;

  /** {@link #checkNoting}'s place of any field of a record of version 1 or 2. */
  public static final long POSITIONAL = -2;

  /**
   * {@link #check}, which reads every field of the record anyway, noting where each field of a tag
   * below {@code at.length} is in a version 3 record, by tag: the offset of its bytes in the high
   * 32 bits and their length in the low 32, of the last field of the tag (as {@link #decode} reads
   * it), {@link #NOT_FOUND} when it has none. A record of version 1 or 2 has {@link #POSITIONAL}
   * noted for each. The record is {@code bytes[0, length)}.
   *
   * @throws IllegalArgumentException when the bytes are not one well-formed encoding
   */
  static void checkNoting(byte[] bytes, int length, long[] at) {
    boolean tagged = length >= HEAD_BYTES && bytes[0] == VERSION;
    Arrays.fill(at, tagged ? NOT_FOUND : POSITIONAL);
    if (tagged) {
      fields(bytes, length, null, at, 0, null);
    } else {
      check(bytes, length);
    }
  }

  /** The event's value of string field {@code tag}, as {@link #encode} writes it under that tag. */
  static String text(TrafficEvent e, int tag) {
    return switch (tag) {
      case Field.ORGANIZATION_ID -> e.organizationId();
      case Field.EVENT_ID -> e.eventId();
      case Field.METHOD -> e.method();
      case Field.URL -> e.url();
      case Field.HEADERS -> e.headers();
      case Field.QUERY_PARAMS -> e.queryParams();
      case Field.BODY -> e.body();
      case Field.IP -> e.ip();
      case Field.USER_AGENT -> e.userAgent();
      case Field.REFERER -> e.referer();
      case Field.EVENT_TYPE -> e.eventType();
      case Field.CLICK_ID -> e.clickId();
      case Field.SESSION_ID -> e.sessionId();
      case Field.SOURCE -> e.source();
      case Field.MEDIUM -> e.medium();
      case Field.CAMPAIGN -> e.campaign();
      case Field.BODY_BASE64 -> e.bodyBase64();
      default -> throw new IllegalArgumentException("no string field of tag " + tag);
    };
  }

  /** The event id of a well-formed encoding. */
  public static String eventId(byte[] bytes) {
    return string(bytes, Field.EVENT_ID);
  }

  /** The organization of a well-formed encoding. */
  public static String organizationId(byte[] bytes) {
    return string(bytes, Field.ORGANIZATION_ID);
  }

  /**
   * One string field of a well-formed encoding, by its tag (its position in versions 1 and 2),
   * without decoding the others; empty when absent. A tag given twice reads as its last value, as
   * {@link #decode} reads it.
   */
  private static String string(byte[] bytes, int field) {
    if (bytes[0] == VERSION) {
      long at = fields(bytes, bytes.length, null, null, field, null);
      return at == NOT_FOUND
          ? ""
          : new String(bytes, (int) (at >>> 32), (int) at, StandardCharsets.UTF_8);
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes, HEAD_BYTES, bytes.length - HEAD_BYTES);
    for (int i = 1; i < field; i++) {
      skip(buf, buf.getInt());
    }
    return string(buf, length(buf, buf.getInt()));
  }

  /**
   * The values of the {@link EventField}s in the body of a well-formed encoding, read from where
   * its {@link Field#BODY_INDEX} says they start: what {@link EventField#BODY_PATHS} reads of the
   * body at those slots. Null when the record has no index, it was made for another list of fields,
   * or it does not fit the body: then the body is to be parsed.
   */
  public static JsonPaths.Values indexedBody(byte[] bytes) {
    if (bytes.length < HEAD_BYTES || bytes[0] != VERSION) {
      return null;
    }
    return indexedBody(
        bytes,
        fields(bytes, bytes.length, null, null, Field.BODY, null),
        fields(bytes, bytes.length, null, null, Field.BODY_INDEX, null));
  }

  /**
   * {@link #indexedBody(byte[])} of a version 3 record whose fields' places a {@link
   * #decode(byte[], int, long[], Previous)} of it noted in {@code at}, without walking its fields
   * again.
   */
  static JsonPaths.Values indexedBody(byte[] bytes, long[] at) {
    return at[0] == 1 ? indexedBody(bytes, at[Field.BODY], at[Field.BODY_INDEX]) : null;
  }

  private static JsonPaths.Values indexedBody(byte[] bytes, long body, long index) {
    if (body == NOT_FOUND || index == NOT_FOUND) {
      return null;
    }
    int bodyFrom = (int) (body >>> 32);
    int bodyTo = bodyFrom + (int) body;
    int indexFrom = (int) (index >>> 32);
    int indexTo = indexFrom + (int) index;
    // An entry takes two bytes at least (its slot's and its start's varints).
    int max = Math.min(EventField.values().length, Math.max(0, (indexTo - indexFrom) / 2));
    int[] slots = new int[max];
    int[] starts = new int[max];
    int n = 0;
    try {
      long v = varint(bytes, indexFrom);
      if ((int) v != EventField.LIST_ID || (int) (v >>> 32) > indexTo) {
        return null;
      }
      for (int pos = (int) (v >>> 32); pos < indexTo; n++) {
        if (n == max) {
          return null;
        }
        long slot = varint(bytes, pos);
        long start = varint(bytes, (int) (slot >>> 32));
        pos = (int) (start >>> 32);
        if (pos > indexTo) {
          return null;
        }
        slots[n] = (int) slot;
        starts[n] = (int) start;
      }
    } catch (IllegalArgumentException e) {
      return null;
    }
    return EventField.BODY_PATHS.valuesAt(bytes, bodyFrom, bodyTo, slots, starts, n);
  }

  /** The timestamp (epoch milliseconds) of a well-formed encoding. */
  public static long timestamp(byte[] bytes) {
    long ts = 0;
    for (int i = 1; i < HEAD_BYTES; i++) {
      ts = ts << 8 | (bytes[i] & 0xff);
    }
    return ts;
  }

  /**
   * The unsigned LEB128 varint of at most 31 bits at {@code pos}, as {@link #varint(ByteBuffer)}
   * reads it: the value in the low 32 bits, the position after it in the high 32.
   */
  private static long varint(byte[] b, int pos) {
    int value = 0;
    for (int shift = 0; shift < 35; shift += 7) {
      if (pos >= b.length) {
        throw new IllegalArgumentException("truncated event encoding");
      }
      byte x = b[pos++];
      if (shift == 28 && (x & 0xf8) != 0) {
        break;
      }
      value |= (x & 0x7f) << shift;
      if (x >= 0) {
        return (long) pos << 32 | (value & 0xffffffffL);
      }
    }
    throw new IllegalArgumentException("varint too long in event encoding");
  }

  /** The number of strings of a positional version, which must be one of this codec's. */
  private static int positionalStrings(byte version) {
    if (version == VERSION_1) {
      return POSITIONAL_STRINGS;
    }
    if (version == VERSION_2) {
      return POSITIONAL_STRINGS + 1;
    }
    throw new IllegalArgumentException("unknown event encoding version " + version);
  }

  private static int tag(ByteBuffer buf) {
    int tag = varint(buf);
    if (tag == 0) {
      throw new IllegalArgumentException("field tag 0 in event encoding");
    }
    return tag;
  }

  /** An unsigned LEB128 varint of at most 31 bits; underflows when truncated. */
  private static int varint(ByteBuffer buf) {
    int value = 0;
    for (int shift = 0; shift < 35; shift += 7) {
      byte b = buf.get();
      if (shift == 28 && (b & 0xf8) != 0) {
        break;
      }
      value |= (b & 0x7f) << shift;
      if (b >= 0) {
        return value;
      }
    }
    throw new IllegalArgumentException("varint too long in event encoding");
  }

  private static void skip(ByteBuffer buf, int len) {
    buf.position(buf.position() + length(buf, len));
  }

  /** Checks a string's length against the bytes that follow; returns it. */
  private static int length(ByteBuffer buf, int len) {
    if (len < 0 || len > buf.remaining()) {
      throw new IllegalArgumentException("bad string length " + len + " in event encoding");
    }
    return len;
  }

  private static String string(ByteBuffer buf, int len) {
    return new String(buf.array(), buf.arrayOffset() + buf.position(), len, StandardCharsets.UTF_8);
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }

  /**
   * Builds one version 3 record in a reused per-thread buffer: strings are written as UTF-8
   * straight into it (no array per field), byte ranges that already are UTF-8 are copied as they
   * are. Empty fields are left out.
   */
  public static final class Writer {
    private byte[] buf;
    private int pos;

    Writer() {
      this(4096);
    }

    private Writer(int capacity) {
      buf = new byte[capacity];
    }

    /** The writer of the calling thread, started on a new record. */
    public static Writer forThread(long timestamp) {
      return WRITERS.get().start(timestamp);
    }

    Writer start(long timestamp) {
      pos = 0;
      ensure(HEAD_BYTES);
      buf[pos++] = VERSION;
      for (int shift = 56; shift >= 0; shift -= 8) {
        buf[pos++] = (byte) (timestamp >>> shift);
      }
      return this;
    }

    /** The longest string {@link #field(int, String)} tries to copy as ASCII in place. */
    private static final int SHORT_ASCII = 127;

    /**
     * Adds a field from a string, as UTF-8 (an unpaired surrogate becomes '?', as in Java). A short
     * ASCII string (most fields: ids, the method, the type, an address) is copied char by char
     * behind a one-byte length, with no array of its own; anything longer or beyond ASCII goes
     * through the JDK's encoder, which copies an ASCII string's bytes in one go.
     */
    public Writer field(int tag, String s) {
      int n = s.length();
      if (n == 0) {
        return this;
      }
      if (n <= SHORT_ASCII) {
        ensure(6 + n); // a tag of at most five varint bytes, a one-byte length, the chars
        int start = pos;
        putVarint(tag);
        int lengthAt = pos;
        byte[] b = buf;
        int p = lengthAt + 1;
        for (int i = 0; i < n; i++) {
          char c = s.charAt(i);
          if (c >= 0x80) {
            pos = start;
            return encoded(tag, s);
          }
          b[p++] = (byte) c;
        }
        b[lengthAt] = (byte) n;
        pos = p;
        return this;
      }
      return encoded(tag, s);
    }

    private Writer encoded(int tag, String s) {
      byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
      return field(tag, utf8, 0, utf8.length);
    }

    /** Adds a field from bytes that are UTF-8 already, copied as they are. */
    public Writer field(int tag, byte[] utf8, int offset, int length) {
      if (length == 0) {
        return this;
      }
      ensure(10 + length);
      putVarint(tag);
      putVarint(length);
      System.arraycopy(utf8, offset, buf, pos, length);
      pos += length;
      return this;
    }

    /** Adds a field whose bytes are the first {@code n} of {@code values}, each as a varint. */
    public Writer varints(int tag, int[] values, int n) {
      int length = 0;
      for (int i = 0; i < n; i++) {
        length += varintBytes(values[i]);
      }
      ensure(10 + length);
      putVarint(tag);
      putVarint(length);
      for (int i = 0; i < n; i++) {
        putVarint(values[i]);
      }
      return this;
    }

    private static int varintBytes(int v) {
      return v == 0 ? 1 : (38 - Integer.numberOfLeadingZeros(v)) / 7;
    }

    /**
     * Adds fields encoded before by {@link #encodedFields}, copied as they are: the fields that
     * every event of one request shares are encoded once for all of them.
     */
    public Writer fields(byte[] encoded) {
      ensure(encoded.length);
      System.arraycopy(encoded, 0, buf, pos, encoded.length);
      pos += encoded.length;
      return this;
    }

    /**
     * String fields as {@link #field(int, String)} adds them, in this order, for {@link #fields}.
     */
    public static byte[] encodedFields(int[] tags, String... values) {
      if (tags.length != values.length) {
        throw new IllegalArgumentException(tags.length + " tags for " + values.length + " values");
      }
      Writer w = new Writer(256);
      for (int i = 0; i < tags.length; i++) {
        w.field(tags[i], values[i]);
      }
      return Arrays.copyOf(w.buf, w.pos);
    }

    /** The record, in an array of its size. */
    public byte[] toByteArray() {
      byte[] out = new byte[pos];
      System.arraycopy(buf, 0, out, 0, pos);
      if (buf.length > 1 << 20) {
        // One huge event must not pin a huge buffer to the thread.
        buf = new byte[4096];
      }
      return out;
    }

    private void putVarint(int v) {
      while ((v & ~0x7f) != 0) {
        buf[pos++] = (byte) (v & 0x7f | 0x80);
        v >>>= 7;
      }
      buf[pos++] = (byte) v;
    }

    private void ensure(int more) {
      if (buf.length - pos < more) {
        byte[] bigger = new byte[Math.max(buf.length * 2, pos + more)];
        System.arraycopy(buf, 0, bigger, 0, pos);
        buf = bigger;
      }
    }
  }
}
