package io.trellis.ingress.event;

import static io.trellis.ingress.base.ByteWords.HIGH_BITS;
import static io.trellis.ingress.base.ByteWords.ONES;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;

import io.trellis.ingress.base.ByteWords;
import io.trellis.ingress.base.Utf8;
import java.io.CharConversionException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * Events as JSON lines, one object per event keyed by the {@link EventSchema}'s column names in its
 * order: the files sink's NDJSON, the {@code event} of a dead letter, and ClickHouse's {@code
 * JSONEachRow} rows.
 *
 * <pre>
 * {"organization_id":"..","event_id":"..","timestamp":"2025-11-26T23:59:59.000Z","method":"..",
 *  "url":"..","headers":{..},"query_params":{..},"body":"..","ip":"..","user_agent":"..",
 *  "referer":"..","event_type":"..","click_id":"..","session_id":"..","source":"..","medium":"..",
 *  "campaign":"..","ingested_at":"2025-11-26T23:59:59.123Z"}
 * </pre>
 *
 * {@link ColumnType#JSON_OBJECT} values are written as the JSON object text they already are, or,
 * for ClickHouse's text columns ({@code objectsAsText}), as a string holding that text; every other
 * text value as a string; times as ISO-8601 UTC with milliseconds. A column that is {@link
 * Column#omitWhenEmpty()} has no key in the lines of events where it is empty ({@code
 * body_base64}).
 *
 * <p>The bytes are exactly those of Jackson's default UTF-8 generator (which wrote these lines
 * before, and is the reference the tests compare with): {@code "} and {@code \} escaped, control
 * characters as {@code \}{@code uXXXX} except the short forms {@code \b \t \n \f \r}, every UTF-16
 * surrogate in a string as {@code \}{@code uXXXX} (upper-case hex), everything else as UTF-8; raw
 * values as plain UTF-8, a malformed surrogate pair there being an error. (Jackson also refused
 * those, except two low surrogates in a row, of which it made four bytes that are not UTF-8.)
 * Strings decoded from the spool never hold a lone surrogate: its encoding replaces them.
 *
 * <p>One instance holds a 64 KiB output buffer, a scratch char array and, per time column, the
 * formatted time of the last second seen, and reuses them for every line; the keys are written as
 * constant byte runs. Not thread-safe: one instance per writing thread.
 */
public final class EventLines {
  static final int BUFFER_BYTES = 64 * 1024;

  /** The most bytes one string char can become: {@code \}{@code uXXXX}. */
  private static final int MAX_STRING_CHAR_BYTES = 6;

  /** The most bytes one raw char can become (3; a surrogate pair is 4 bytes for 2 chars). */
  private static final int MAX_RAW_CHAR_BYTES = 3;

  /** Strings up to this long are first tried as plain ASCII, char by char. */
  private static final int SHORT_STRING = 64;

  /** Below this many chars of room the buffer is flushed before a string is continued. */
  private static final int MIN_CHUNK = 64;

  private static final DateTimeFormatter SECOND =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.").withZone(ZoneOffset.UTC);

  /**
   * Per ASCII char: 0 written as is, -1 as {@code \}{@code u00XX}, else the short escape letter.
   */
  private static final byte[] ESCAPES = new byte[128];

  static {
    for (int c = 0; c < 0x20; c++) {
      ESCAPES[c] = -1;
    }
    ESCAPES['\b'] = 'b';
    ESCAPES['\t'] = 't';
    ESCAPES['\n'] = 'n';
    ESCAPES['\f'] = 'f';
    ESCAPES['\r'] = 'r';
    ESCAPES['"'] = '"';
    ESCAPES['\\'] = '\\';
  }

  private static final byte[] HEX = ascii("0123456789ABCDEF");

  private static final byte[] END = ascii("}\n");

  private final Column[] columns;

  /** Per column: {@code "name":} and, for a value written as a string, its opening quote. */
  private final byte[][] keys;

  /** Per column: whether the value is a JSON string (else raw JSON text or a time). */
  private final boolean[] quoted;

  /** Per column: the tag of the record field that holds its value ({@link Column#field()}). */
  private final int[] fields;

  private final Second[] seconds;
  private final byte[] buf;
  private final char[] chars;
  private OutputStream out;
  private int pos;

  /** The files sink's lines: every column of {@link EventSchema#EVENTS}, objects as objects. */
  public EventLines() {
    this(EventSchema.EVENTS.columns(), false, BUFFER_BYTES);
  }

  /**
   * Lines of the given columns, in that order.
   *
   * @param objectsAsText write {@link ColumnType#JSON_OBJECT} values as strings holding the JSON
   *     text (ClickHouse's {@code String} columns) instead of as objects
   */
  public EventLines(List<Column> columns, boolean objectsAsText) {
    this(columns, objectsAsText, BUFFER_BYTES);
  }

  EventLines(int bufferBytes) {
    this(EventSchema.EVENTS.columns(), false, bufferBytes);
  }

  EventLines(List<Column> columns, boolean objectsAsText, int bufferBytes) {
    this.columns = columns.toArray(new Column[0]);
    if (this.columns.length == 0) {
      throw new IllegalArgumentException("no columns");
    }
    keys = new byte[this.columns.length][];
    quoted = new boolean[this.columns.length];
    seconds = new Second[this.columns.length];
    fields = new int[this.columns.length];
    for (int i = 0; i < this.columns.length; i++) {
      Column c = this.columns[i];
      boolean raw = c.type() == ColumnType.JSON_OBJECT && !objectsAsText;
      quoted[i] = c.type().isText() && !raw;
      keys[i] = ascii("\"" + c.name() + "\":" + (c.type().isText() && !raw ? "\"" : ""));
      seconds[i] = new Second();
      fields[i] = c.field();
    }
    if (bufferBytes < MIN_CHUNK * MAX_STRING_CHAR_BYTES) {
      throw new IllegalArgumentException("buffer of " + bufferBytes + " bytes is too small");
    }
    buf = new byte[bufferBytes];
    chars = new char[bufferBytes / MAX_STRING_CHAR_BYTES];
  }

  /** One event as one line on {@code out}, through a writer of its own; for occasional lines. */
  public static void write(OutputStream out, TrafficEvent e, long ingestedAt) {
    try {
      new EventLines(4096).writeAll(out, List.of(e), ingestedAt);
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
  }

  /**
   * Writes one line per event, in order, and hands every byte to {@code out} before returning. On
   * an exception some lines (and part of one) may already have been handed over.
   */
  public void writeAll(OutputStream out, List<TrafficEvent> events, long ingestedAt)
      throws IOException {
    this.out = out;
    pos = 0;
    try {
      for (TrafficEvent e : events) {
        line(e, ingestedAt);
      }
      flush();
    } finally {
      this.out = null;
      pos = 0;
    }
  }

  /**
   * One event's line. A value that is a field of the spool record the event was just decoded from
   * ({@link Enrichments#recordOf}) is written from the record's UTF-8, the same bytes as from the
   * decoded string, without encoding that string again; a field whose bytes are not well-formed
   * UTF-8 (decoded with replacements) is written from the string.
   */
  private void line(TrafficEvent e, long ingestedAt) throws IOException {
    // Where the fields are was noted when the record was decoded; a record of version 1 or 2 has
    // no tags to note, and its values are written from the strings.
    long[] fieldAt = Enrichments.fieldsOf(e);
    byte[] record = fieldAt == null ? null : Enrichments.recordOf(e);
    byte comma = '{';
    for (int i = 0; i < columns.length; i++) {
      Column c = columns[i];
      if (c.omitWhenEmpty() && c.omitted(e)) {
        continue;
      }
      ensure(1);
      buf[pos++] = comma;
      comma = ',';
      bytes(keys[i]);
      long at = record != null && fields[i] != 0 ? fieldAt[fields[i]] : EventCodec.NOT_FOUND;
      if (!c.type().isText()) {
        ensure(1);
        buf[pos++] = '"';
        time(c.millis(e, ingestedAt), seconds[i]);
        buf[pos++] = '"';
      } else if (quoted[i]) {
        if (at == EventCodec.NOT_FOUND || !stringBytes(record, at)) {
          string(c.text(e));
        }
        ensure(1);
        buf[pos++] = '"';
      } else if (at == EventCodec.NOT_FOUND || !rawBytes(record, at)) {
        raw(c.text(e));
      }
    }
    if (comma == '{') {
      bytes(ascii("{"));
    }
    bytes(END);
  }

  private void ensure(int n) throws IOException {
    if (pos + n > buf.length) {
      flush();
    }
  }

  private void flush() throws IOException {
    if (pos > 0) {
      out.write(buf, 0, pos);
      pos = 0;
    }
  }

  private void bytes(byte[] b) throws IOException {
    if (pos + b.length > buf.length) {
      flush();
    }
    System.arraycopy(b, 0, buf, pos, b.length);
    pos += b.length;
  }

  /** {@code yyyy-MM-ddTHH:mm:ss.SSSZ}; the part up to the second is formatted once per second. */
  private void time(long epochMillis, Second cache) throws IOException {
    long second = Math.floorDiv(epochMillis, 1000);
    int millis = (int) Math.floorMod(epochMillis, 1000);
    if (cache.prefix == null || cache.second != second) {
      cache.prefix = ascii(SECOND.format(Instant.ofEpochSecond(second)));
      cache.second = second;
    }
    bytes(cache.prefix);
    ensure(5); // the milliseconds, 'Z' and the closing quote
    buf[pos] = (byte) ('0' + millis / 100);
    buf[pos + 1] = (byte) ('0' + millis / 10 % 10);
    buf[pos + 2] = (byte) ('0' + millis % 10);
    buf[pos + 3] = 'Z';
    pos += 4;
  }

  /** A JSON string's content (the quotes are part of the constant runs around it). */
  private void string(String s) throws IOException {
    int n = s.length();
    if (n <= SHORT_STRING) {
      // Most values are short (ids, types, addresses, times' sources, empty): copied char by char
      // when they are plain ASCII, with no array of their own.
      ensure(n);
      byte[] b = buf;
      int p = pos;
      int i = 0;
      for (; i < n; i++) {
        char c = s.charAt(i);
        if (c >= 0x80 || ESCAPES[c] != 0) {
          break;
        }
        b[p + i] = (byte) c;
      }
      if (i == n) {
        pos = p + n;
        return;
      }
    }
    byte[] utf8 = s.getBytes(UTF_8);
    if (utf8.length == s.length()) {
      // One byte per char: the string is ASCII, bar lone surrogates that getBytes made '?'.
      asciiString(s, utf8);
    } else {
      charString(s);
    }
  }

  /**
   * A string whose UTF-8 has one byte per char: {@link #escapeUtf8} of those bytes, each {@code
   * '?'} checked against the string, because a lone surrogate (written as {@code \}{@code uXXXX})
   * also became {@code '?'}.
   */
  private void asciiString(String s, byte[] utf8) throws IOException {
    escapeUtf8(utf8, 0, utf8.length, s);
  }

  /**
   * A JSON string's content from the UTF-8 at {@code at} of {@code record} (offset high, length
   * low): as {@link #string} writes the string those bytes decode to. False, with nothing written,
   * when they are not well-formed UTF-8.
   */
  private boolean stringBytes(byte[] record, long at) throws IOException {
    int from = (int) (at >>> 32);
    int end = from + (int) at;
    if (!Utf8.isValid(record, from, end)) {
      return false;
    }
    escapeUtf8(record, from, end, null);
    return true;
  }

  /**
   * Well-formed UTF-8 {@code src[from, end)} as a JSON string's content: eight bytes of ASCII are
   * copied as one long, with their quotes and backslashes escaped in place, a char of two or three
   * bytes as it is, one of four as its UTF-16 surrogate pair's two escapes. With {@code chars}, the
   * string whose {@code getBytes} one byte per char they are, a {@code '?'} that is a lone
   * surrogate there is written as its escape.
   */
  private void escapeUtf8(byte[] src, int from, int end, String chars) throws IOException {
    boolean questionMarks = chars != null;
    while (from < end) {
      // A sequence begun before the chunk's end is finished past it: 16 bytes of slack hold the
      // eight a word writes and the twelve of a four-byte sequence's two escapes.
      int room = (buf.length - pos - 2 * Long.BYTES) / MAX_STRING_CHAR_BYTES;
      if (room < MIN_CHUNK && room < end - from) {
        flush();
        room = (buf.length - 2 * Long.BYTES) / MAX_STRING_CHAR_BYTES;
      }
      int to = from + Math.min(end - from, room);
      byte[] b = buf;
      int p = pos;
      int i = from;
      while (i < to) {
        if (i + Long.BYTES <= to) {
          long x = ByteWords.get(src, i);
          long special = special(x, questionMarks);
          // Writes eight bytes (the room holds them). A quote or backslash is escaped in place:
          // its backslash, then the word again from it, one byte on. Any other char to look at
          // ends the word there, for the char-by-char path below.
          ByteWords.set(b, p, x);
          int done = 0;
          int stop = Long.BYTES;
          while (special != 0) {
            int shift = Long.numberOfTrailingZeros(special) - 7;
            int c = (byte) (x >>> shift);
            special &= special - 1;
            if (c == '"' || c == '\\') {
              int k = shift >>> 3;
              p += k - done;
              b[p] = '\\';
              ByteWords.set(b, p + 1, x >>> shift);
              p += 2;
              done = k + 1;
            } else if (c < 0x20 || (c == '?' && questionMarks)) {
              // Below 0x20 or, as a signed byte, beyond ASCII. A borrow's mark is none of these.
              stop = shift >>> 3;
              break;
            }
          }
          p += stop - done;
          i += stop;
          if (stop == Long.BYTES) {
            continue;
          }
        }
        int c = src[i];
        if (c >= 0) {
          byte esc = ESCAPES[c];
          char lone = c == '?' && questionMarks ? chars.charAt(i) : '?';
          if (esc == 0 && lone == '?') {
            b[p++] = (byte) c;
          } else {
            b[p++] = '\\';
            p = esc > 0 ? put(b, p, esc) : hex4(esc == 0 ? lone : (char) c, b, p);
          }
          i++;
        } else if ((c & 0xf0) != 0xf0) {
          // Two or three bytes: a char of the Basic Multilingual Plane, not a surrogate, as is.
          int n = (c & 0xe0) == 0xc0 ? 2 : 3;
          System.arraycopy(src, i, b, p, n);
          p += n;
          i += n;
        } else {
          // Four bytes: beyond it, written as the UTF-16 surrogate pair's two escapes.
          int cp =
              (c & 0x07) << 18
                  | (src[i + 1] & 0x3f) << 12
                  | (src[i + 2] & 0x3f) << 6
                  | (src[i + 3] & 0x3f);
          b[p++] = '\\';
          p = hex4(Character.highSurrogate(cp), b, p);
          b[p++] = '\\';
          p = hex4(Character.lowSurrogate(cp), b, p);
          i += 4;
        }
      }
      pos = p;
      from = i;
    }
  }

  private static int put(byte[] b, int p, byte x) {
    b[p] = x;
    return p + 1;
  }

  /**
   * The high bit of each byte of {@code x} that is a control char, {@code "}, {@code \}, beyond
   * ASCII, or with {@code questionMarks} a {@code ?}. A subtraction's borrow may also mark a byte
   * above a marked one, never one below: the lowest mark is always a byte to look at.
   */
  private static long special(long x, boolean questionMarks) {
    long marks = (x - 0x20 * ONES) | ((x ^ ('"' * ONES)) - ONES) | ((x ^ ('\\' * ONES)) - ONES) | x;
    if (questionMarks) {
      marks |= (x ^ ('?' * ONES)) - ONES;
    }
    return marks & HIGH_BITS;
  }

  /**
   * Raw JSON text from the UTF-8 at {@code at} of {@code record}, copied as it is. False, with
   * nothing written, when it is empty (the decoded event holds {@code {}} for an empty object
   * field; capture never writes one, a record from elsewhere might) or not well-formed UTF-8.
   */
  private boolean rawBytes(byte[] record, long at) throws IOException {
    int from = (int) (at >>> 32);
    int end = from + (int) at;
    if (from == end || !Utf8.isValid(record, from, end)) {
      return false;
    }
    copy(record, from, end);
    return true;
  }

  /** The bytes {@code src[from, end)} as they are, across as many flushes as they take. */
  private void copy(byte[] src, int from, int end) throws IOException {
    while (from < end) {
      if (pos == buf.length) {
        flush();
      }
      int n = Math.min(end - from, buf.length - pos);
      System.arraycopy(src, from, buf, pos, n);
      pos += n;
      from += n;
    }
  }

  /** A string with chars beyond ASCII, escaped char by char. */
  private void charString(String s) throws IOException {
    int len = s.length();
    int from = 0;
    while (from < len) {
      int room = (buf.length - pos) / MAX_STRING_CHAR_BYTES;
      if (room < MIN_CHUNK && room < len - from) {
        flush();
        room = buf.length / MAX_STRING_CHAR_BYTES;
      }
      int n = Math.min(len - from, room);
      pos = escape(s, from, from + n, buf, pos);
      from += n;
    }
  }

  /**
   * Chars {@code [from, to)} of {@code s} escaped into {@code b} at {@code p}; the new position.
   * Read with {@code charAt} rather than copied out first: most chars are plain ASCII, written as
   * they are by the first branch.
   */
  private static int escape(String s, int from, int to, byte[] b, int p) {
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        byte esc = ESCAPES[c];
        if (esc == 0) {
          b[p++] = (byte) c;
        } else {
          b[p++] = '\\';
          if (esc > 0) {
            b[p++] = esc;
          } else {
            p = hex4(c, b, p);
          }
        }
      } else if (c < 0x800) {
        b[p++] = (byte) (0xc0 | (c >> 6));
        b[p++] = (byte) (0x80 | (c & 0x3f));
      } else if (Character.isSurrogate(c)) {
        b[p++] = '\\';
        p = hex4(c, b, p);
      } else {
        p = utf8ThreeBytes(c, b, p);
      }
    }
    return p;
  }

  private static int hex4(char c, byte[] b, int p) {
    b[p] = 'u';
    b[p + 1] = HEX[(c >> 12) & 0xf];
    b[p + 2] = HEX[(c >> 8) & 0xf];
    b[p + 3] = HEX[(c >> 4) & 0xf];
    b[p + 4] = HEX[c & 0xf];
    return p + 5;
  }

  private static int utf8ThreeBytes(char c, byte[] b, int p) {
    b[p] = (byte) (0xe0 | (c >> 12));
    b[p + 1] = (byte) (0x80 | ((c >> 6) & 0x3f));
    b[p + 2] = (byte) (0x80 | (c & 0x3f));
    return p + 3;
  }

  /**
   * JSON text written as it is, in UTF-8. Text of one UTF-8 byte per char (the headers and query
   * objects nearly always) is copied as the JDK encoded it, once each {@code '?'} in it is found to
   * be one in the text and not a lone surrogate the encoder replaced; anything else is encoded
   * here, char by char, refusing a malformed surrogate pair.
   */
  private void raw(String s) throws IOException {
    byte[] utf8 = s.getBytes(UTF_8);
    if (utf8.length == s.length() && noReplacedSurrogate(s, utf8)) {
      copy(utf8, 0, utf8.length);
      return;
    }
    encodeRaw(s);
  }

  /** Whether every {@code '?'} of the one-byte-per-char encoding is a {@code '?'} of the text. */
  private static boolean noReplacedSurrogate(String s, byte[] utf8) {
    for (int i = 0; i < utf8.length; i++) {
      if (utf8[i] == '?' && s.charAt(i) != '?') {
        return false;
      }
    }
    return true;
  }

  private void encodeRaw(String s) throws IOException {
    int len = s.length();
    int from = 0;
    while (from < len) {
      int room = (buf.length - pos) / MAX_RAW_CHAR_BYTES;
      if (room < MIN_CHUNK && room < len - from) {
        flush();
        room = buf.length / MAX_RAW_CHAR_BYTES;
      }
      int n = Math.min(len - from, Math.min(room, chars.length));
      if (from + n < len && n > 1 && Character.isHighSurrogate(s.charAt(from + n - 1))) {
        n--; // keep a surrogate pair in one chunk
      }
      s.getChars(from, from + n, chars, 0);
      pos = utf8(chars, n, buf, pos, from);
      from += n;
    }
  }

  private static int utf8(char[] cs, int n, byte[] b, int p, int offset)
      throws CharConversionException {
    for (int i = 0; i < n; i++) {
      char c = cs[i];
      if (c < 0x80) {
        b[p++] = (byte) c;
      } else if (c < 0x800) {
        b[p++] = (byte) (0xc0 | (c >> 6));
        b[p++] = (byte) (0x80 | (c & 0x3f));
      } else if (Character.isSurrogate(c)) {
        if (!Character.isHighSurrogate(c) || i + 1 >= n || !Character.isLowSurrogate(cs[i + 1])) {
          throw new CharConversionException(
              "malformed surrogate pair at char " + (offset + i) + " of a raw JSON value");
        }
        int cp = Character.toCodePoint(c, cs[++i]);
        b[p++] = (byte) (0xf0 | (cp >> 18));
        b[p++] = (byte) (0x80 | ((cp >> 12) & 0x3f));
        b[p++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
        b[p++] = (byte) (0x80 | (cp & 0x3f));
      } else {
        p = utf8ThreeBytes(c, b, p);
      }
    }
    return p;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(US_ASCII);
  }

  /** The formatted {@code yyyy-MM-ddTHH:mm:ss.} of the last epoch second written. */
  private static final class Second {
    long second;
    byte[] prefix;
  }
}
