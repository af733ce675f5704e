package io.trellis.ingress.sink.files;

import static java.nio.charset.StandardCharsets.US_ASCII;

import io.trellis.ingress.event.TrafficEvent;
import java.io.CharConversionException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * Events as NDJSON lines, keyed by the stored column names:
 *
 * <pre>
 * {"organization_id":"..","event_id":"..","timestamp":"2025-11-26T23:59:59.000Z","method":"..",
 *  "url":"..","headers":{..},"query_params":{..},"body":"..","ip":"..","user_agent":"..",
 *  "referer":"..","event_type":"..","click_id":"..","session_id":"..","source":"..","medium":"..",
 *  "campaign":"..","ingested_at":"2025-11-26T23:59:59.123Z"}
 * </pre>
 *
 * {@code headers} and {@code query_params} are written as the JSON object text they already are;
 * {@code body} is the raw body as a string; times are ISO-8601 UTC with milliseconds. {@code
 * "body_base64"} follows {@code body} only in lines of events whose body bytes were not valid
 * UTF-8.
 *
 * <p>The bytes are exactly those of Jackson's default UTF-8 generator (which wrote these lines
 * before, and is the reference the tests compare with): {@code "} and {@code \} escaped, control
 * characters as {@code \}{@code uXXXX} except the short forms {@code \b \t \n \f \r}, every UTF-16
 * surrogate in a string as {@code \}{@code uXXXX} (upper-case hex), everything else as UTF-8; raw
 * values as plain UTF-8, a malformed surrogate pair there being an error. (Jackson also refused
 * those, except two low surrogates in a row, of which it made four bytes that are not UTF-8.)
 * Strings decoded from the spool never hold a lone surrogate: its encoding replaces them.
 *
 * <p>One instance holds a 64 KiB output buffer, a scratch char array and the formatted time of the
 * last second seen, and reuses them for every line; the field names are written as constant byte
 * runs. Not thread-safe: one instance per writing thread.
 */
public final class EventLines {
  static final int BUFFER_BYTES = 64 * 1024;

  /** The most bytes one string char can become: {@code \}{@code uXXXX}. */
  private static final int MAX_STRING_CHAR_BYTES = 6;

  /** The most bytes one raw char can become (3; a surrogate pair is 4 bytes for 2 chars). */
  private static final int MAX_RAW_CHAR_BYTES = 3;

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

  private static final byte[] ORGANIZATION_ID = ascii("{\"organization_id\":\"");
  private static final byte[] EVENT_ID = ascii("\",\"event_id\":\"");
  private static final byte[] TIMESTAMP = ascii("\",\"timestamp\":\"");
  private static final byte[] METHOD = ascii("\",\"method\":\"");
  private static final byte[] URL = ascii("\",\"url\":\"");
  private static final byte[] HEADERS = ascii("\",\"headers\":");
  private static final byte[] QUERY_PARAMS = ascii(",\"query_params\":");
  private static final byte[] BODY = ascii(",\"body\":\"");
  private static final byte[] BODY_BASE64 = ascii("\",\"body_base64\":\"");
  private static final byte[] IP = ascii("\",\"ip\":\"");
  private static final byte[] USER_AGENT = ascii("\",\"user_agent\":\"");
  private static final byte[] REFERER = ascii("\",\"referer\":\"");
  private static final byte[] EVENT_TYPE = ascii("\",\"event_type\":\"");
  private static final byte[] CLICK_ID = ascii("\",\"click_id\":\"");
  private static final byte[] SESSION_ID = ascii("\",\"session_id\":\"");
  private static final byte[] SOURCE = ascii("\",\"source\":\"");
  private static final byte[] MEDIUM = ascii("\",\"medium\":\"");
  private static final byte[] CAMPAIGN = ascii("\",\"campaign\":\"");
  private static final byte[] INGESTED_AT = ascii("\",\"ingested_at\":\"");
  private static final byte[] END = ascii("\"}\n");

  private final byte[] buf;
  private final char[] chars;
  private final Second eventSecond = new Second();
  private final Second ingestedSecond = new Second();
  private OutputStream out;
  private int pos;

  public EventLines() {
    this(BUFFER_BYTES);
  }

  EventLines(int bufferBytes) {
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

  private void line(TrafficEvent e, long ingestedAt) throws IOException {
    bytes(ORGANIZATION_ID);
    string(e.organizationId());
    bytes(EVENT_ID);
    string(e.eventId());
    bytes(TIMESTAMP);
    time(e.timestamp(), eventSecond);
    bytes(METHOD);
    string(e.method());
    bytes(URL);
    string(e.url());
    bytes(HEADERS);
    raw(e.headers());
    bytes(QUERY_PARAMS);
    raw(e.queryParams());
    bytes(BODY);
    string(e.body());
    if (!e.bodyBase64().isEmpty()) {
      bytes(BODY_BASE64);
      string(e.bodyBase64());
    }
    bytes(IP);
    string(e.ip());
    bytes(USER_AGENT);
    string(e.userAgent());
    bytes(REFERER);
    string(e.referer());
    bytes(EVENT_TYPE);
    string(e.eventType());
    bytes(CLICK_ID);
    string(e.clickId());
    bytes(SESSION_ID);
    string(e.sessionId());
    bytes(SOURCE);
    string(e.source());
    bytes(MEDIUM);
    string(e.medium());
    bytes(CAMPAIGN);
    string(e.campaign());
    bytes(INGESTED_AT);
    time(ingestedAt, ingestedSecond);
    bytes(END);
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
    if (pos + 4 > buf.length) {
      flush();
    }
    buf[pos] = (byte) ('0' + millis / 100);
    buf[pos + 1] = (byte) ('0' + millis / 10 % 10);
    buf[pos + 2] = (byte) ('0' + millis % 10);
    buf[pos + 3] = 'Z';
    pos += 4;
  }

  /** A JSON string's content (the quotes are part of the constant runs around it). */
  private void string(String s) throws IOException {
    int len = s.length();
    int from = 0;
    while (from < len) {
      int room = (buf.length - pos) / MAX_STRING_CHAR_BYTES;
      if (room < MIN_CHUNK && room < len - from) {
        flush();
        room = buf.length / MAX_STRING_CHAR_BYTES;
      }
      int n = Math.min(len - from, room);
      s.getChars(from, from + n, chars, 0);
      pos = escape(chars, n, buf, pos);
      from += n;
    }
  }

  private static int escape(char[] cs, int n, byte[] b, int p) {
    for (int i = 0; i < n; i++) {
      char c = cs[i];
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

  /** JSON text written as it is, in UTF-8. */
  private void raw(String s) throws IOException {
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
