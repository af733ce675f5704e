package io.trellis.ingress.base;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.core.StreamReadConstraints;

/**
 * A strict scanner of RFC 8259 JSON in UTF-8 bytes that builds nothing it is not asked for: it
 * checks a value it skips, and makes a {@code String} only of a value or name that is kept. It
 * knows no paths: the path reader of this package walks objects with it to read the values at a few
 * paths, and a caller that walks a structure itself (a batch's array of events) moves through it
 * with {@link #nonSpace}, {@link #name}, {@link #string} and {@link #skip}.
 *
 * <p>It accepts and refuses what Jackson's default parser does up to the end of the value read: no
 * comments, single quotes, unquoted names, leading zeros, trailing commas, {@code NaN}, unescaped
 * control characters or unknown escapes; whitespace is space, tab, line feed and carriage return.
 * It refuses what exceeds Jackson's default constraints the same way: containers nested deeper than
 * the scanner's limit (Jackson's default is 1,000), a string longer than {@code maxStringLength}
 * chars, a name longer than {@code maxNameLength}, an integer of more digits than {@code
 * maxNumberLength}, or a number with a fraction or exponent whose integer (none for a lone 0),
 * fraction and exponent digits together exceed it.
 *
 * <p>The bytes must be valid UTF-8 (the capture step checks every body before anything reads it):
 * bytes of multi-byte characters are only ever copied or decoded, never checked. Not thread-safe;
 * one per read.
 */
public final class JsonScanner {
  /** Jackson's default limit on nesting. */
  public static final int MAX_DEPTH = 1000;

  private static final StreamReadConstraints LIMITS = StreamReadConstraints.defaults();
  private static final int MAX_STRING = LIMITS.getMaxStringLength();
  private static final int MAX_NAME = LIMITS.getMaxNameLength();
  private static final int MAX_NUMBER = LIMITS.getMaxNumberLength();

  /** Not well-formed JSON: why, and at which byte. Thrown without a stack trace. */
  public static class Malformed extends Exception {
    Malformed(String reason, int at) {
      super(reason + " at byte " + at, null, false, false);
    }
  }

  /** Containers nested deeper than the scanner's limit. */
  public static final class TooDeep extends Malformed {
    TooDeep(int at) {
      super("containers nested too deep", at);
    }
  }

  final byte[] b;
  private final int end;
  private final int maxDepth;
  private int pos;
  private int depth;

  /* Set by readName(): where a plain ASCII name is in b, and its hash; or the decoded name. */
  int nameStart;
  int nameEnd;
  int nameHash;
  String decodedName;

  /**
   * A scanner of {@code b[from, to)}, starting at {@code from}, allowing containers {@code
   * maxDepth} deep.
   */
  public JsonScanner(byte[] b, int from, int to, int maxDepth) {
    this.b = b;
    this.pos = from;
    this.end = to;
    this.maxDepth = maxDepth;
  }

  /** Reads on from {@code p}, at the top level, as a new scanner of the same bytes would. */
  void moveTo(int p) {
    pos = p;
    depth = 0;
  }

  /** The offset of the next byte to read. */
  public int position() {
    return pos;
  }

  /** Whether only whitespace is left. */
  public boolean atEnd() {
    for (int p = pos; p < end; p++) {
      byte c = b[p];
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
        return false;
      }
    }
    return true;
  }

  /** The next byte that is not whitespace, consumed. */
  public int nonSpace() throws Malformed {
    while (pos < end) {
      byte c = b[pos++];
      if (c > ' ') {
        return c;
      }
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
        throw malformed("unexpected character");
      }
    }
    throw malformed("unexpected end of input");
  }

  /**
   * Counts one more level of nesting, for a container whose opening byte was just read.
   *
   * @throws TooDeep past the limit
   */
  public void enter() throws TooDeep {
    if (++depth > maxDepth) {
      throw new TooDeep(pos - 1);
    }
  }

  /** Counts a container's closing byte, just read. */
  public void leave() {
    depth--;
  }

  /** Past the value whose first byte {@code c} was just read, checking it. */
  public void skip(int c) throws Malformed {
    switch (c) {
      case '"' -> string(false);
      case '{' -> {
        enter();
        skipObject();
      }
      case '[' -> {
        enter();
        c = nonSpace();
        if (c == ']') {
          leave();
          return;
        }
        skip(c);
        arrayRest();
      }
      case 't' -> literal("true");
      case 'f' -> literal("false");
      case 'n' -> literal("null");
      default -> {
        if (c == '-' || (c >= '0' && c <= '9')) {
          numberEnd();
        } else {
          throw malformed("unexpected character");
        }
      }
    }
  }

  /** A name or string value whose opening quote was just read, decoded, past its closing quote. */
  public String name() throws Malformed {
    return text(MAX_NAME, true);
  }

  /** A string value whose opening quote was just read, decoded, past its closing quote. */
  public String string() throws Malformed {
    return text(MAX_STRING, true);
  }

  /** Past the fields of the object whose <code>{</code> was just read, checking them. */
  private void skipObject() throws Malformed {
    int c = nonSpace();
    if (c == '}') {
      leave();
      return;
    }
    while (true) {
      if (c != '"') {
        throw malformed("expected a name");
      }
      readName();
      colon();
      skip(nonSpace());
      if (!more('}')) {
        return;
      }
      c = nonSpace();
    }
  }

  /** Past the {@code :} after a name just read. */
  public void colon() throws Malformed {
    if (nonSpace() != ':') {
      throw malformed("expected ':'");
    }
  }

  /**
   * After a member of the container just entered, whose closing bracket is {@code close}: true when
   * a {@code ,} announces another member, false when the container ended (and was left).
   */
  public boolean more(char close) throws Malformed {
    int c = nonSpace();
    if (c == close) {
      leave();
      return false;
    }
    if (c != ',') {
      throw malformed(close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
    return true;
  }

  /**
   * The text of the value whose first byte {@code c} was just read, past its end: strings, numbers
   * and booleans as a tree prints them, null for null, an empty string and containers.
   */
  String scalar(int c) throws Malformed {
    switch (c) {
      case '"':
        String v = string(true);
        return v.isEmpty() ? null : v;
      case 't':
        literal("true");
        return "true";
      case 'f':
        literal("false");
        return "false";
      default:
        if (c == '-' || (c >= '0' && c <= '9')) {
          return number();
        }
        skip(c);
        return null;
    }
  }

  /** Past the elements after an array's first one, up to its <code>]</code>. */
  void arrayRest() throws Malformed {
    while (more(']')) {
      skip(nonSpace());
    }
  }

  /**
   * A name whose opening quote was just read, past its closing quote: a plain ASCII name is left in
   * the bytes ({@link #nameStart}, {@link #nameEnd}) with its hash as a string's ({@link
   * #nameHash}), without becoming a {@code String}; any other is decoded ({@link #decodedName}).
   */
  void readName() throws Malformed {
    int start = pos;
    int h = 0;
    byte[] s = b;
    while (pos < end) {
      byte c = s[pos];
      if (c == '"') {
        if (pos - start > MAX_NAME) {
          throw malformed("name too long");
        }
        nameStart = start;
        nameEnd = pos++;
        nameHash = h;
        decodedName = null;
        return;
      }
      if (c == '\\' || c < 0) {
        pos = start;
        decodedName = text(MAX_NAME, true);
        return;
      }
      if (c < ' ') {
        throw malformed("control character in a name");
      }
      h = 31 * h + c;
      pos++;
    }
    throw malformed("unexpected end of input");
  }

  /**
   * A string value whose opening quote was just read, past its closing quote; its text when {@code
   * keep}, else null. Skipped eight bytes at a time while none of them is a quote, a backslash or a
   * control character.
   */
  private String string(boolean keep) throws Malformed {
    int start = pos;
    int p = pos;
    byte[] s = b;
    while (p + Long.BYTES <= end) {
      long special = special(ByteWords.get(s, p));
      if (special != 0) {
        p += Long.numberOfTrailingZeros(special) >>> 3;
        break;
      }
      p += Long.BYTES;
    }
    while (p < end) {
      byte c = s[p];
      if (c == '"') {
        pos = p + 1;
        if (p - start > MAX_STRING && charCount(start, p) > MAX_STRING) {
          throw malformed("string too long");
        }
        return keep ? new String(s, start, p - start, UTF_8) : null;
      }
      if (c == '\\') {
        pos = start;
        return text(MAX_STRING, keep);
      }
      if (c >= 0 && c < ' ') {
        pos = p;
        throw malformed("control character in a string");
      }
      p++;
    }
    pos = p;
    throw malformed("unexpected end of input");
  }

  /**
   * The high bit of each byte of {@code x} that is {@code "}, {@code \} or below 0x20 (an ASCII
   * control char), for bytes below 0x80; a byte from 0x80 up (part of a multi-byte char) is never
   * marked. A subtraction's borrow may also mark a byte above a marked one, never one below: the
   * lowest mark is always a byte to look at.
   */
  private static long special(long x) {
    return ((x - 0x20 * ByteWords.ONES)
            | ((x ^ ('"' * ByteWords.ONES)) - ByteWords.ONES)
            | ((x ^ ('\\' * ByteWords.ONES)) - ByteWords.ONES))
        & ~x
        & ByteWords.HIGH_BITS;
  }

  /** How many chars the UTF-8 bytes {@code [from, to)} decode to. */
  private int charCount(int from, int to) {
    int n = 0;
    for (int i = from; i < to; i++) {
      int c = b[i] & 0xff;
      if ((c & 0xc0) != 0x80) {
        n += c >= 0xf0 ? 2 : 1;
      }
    }
    return n;
  }

  /**
   * A string from {@code pos} (after its quote), past its quote: decoded when {@code keep}, else
   * only checked, so a skipped string costs no memory however many escapes a client sends. Runs of
   * bytes without escapes are decoded as UTF-8 (an escape is ASCII, so no run splits a char),
   * escapes char by char. Its length is counted in chars, as Jackson counts it.
   */
  private String text(int max, boolean keep) throws Malformed {
    int start = pos;
    StringBuilder out = null;
    int run = pos;
    // Bytes of the escapes beyond the one char each stands for.
    int saved = 0;
    while (pos < end) {
      byte c = b[pos];
      if (c == '"') {
        int p = pos++;
        if (p - start - saved > max && charCount(start, p) - saved > max) {
          throw malformed("string too long");
        }
        if (!keep) {
          return null;
        }
        String last = new String(b, run, p - run, UTF_8);
        return out == null ? last : out.append(last).toString();
      }
      if (c >= 0 && c < ' ') {
        throw malformed("control character in a string");
      }
      if (c != '\\') {
        pos++;
        continue;
      }
      if (keep) {
        if (out == null) {
          out = new StringBuilder();
        }
        out.append(new String(b, run, pos - run, UTF_8));
      }
      pos++;
      if (pos >= end) {
        throw malformed("unexpected end of input");
      }
      byte e = b[pos++];
      char decoded =
          switch (e) {
            case '"', '\\', '/' -> (char) e;
            case 'b' -> '\b';
            case 'f' -> '\f';
            case 'n' -> '\n';
            case 'r' -> '\r';
            case 't' -> '\t';
            case 'u' -> hex4();
            default -> throw malformed("unknown escape");
          };
      saved += e == 'u' ? 5 : 1;
      if (keep) {
        out.append(decoded);
      }
      run = pos;
    }
    throw malformed("unexpected end of input");
  }

  private char hex4() throws Malformed {
    if (pos + 4 > end) {
      throw malformed("unexpected end of input");
    }
    int v = 0;
    for (int i = 0; i < 4; i++) {
      byte c = b[pos++];
      int d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      } else {
        throw malformed("bad \\u escape");
      }
      v = v << 4 | d;
    }
    return (char) v;
  }

  /**
   * {@code true}, {@code false} or {@code null}, whose first byte was just read. (Jackson also
   * refuses one followed by a letter or digit, which no container allows after a value anyway.)
   */
  private void literal(String word) throws Malformed {
    int n = word.length() - 1;
    if (pos + n > end) {
      throw malformed("unexpected end of input");
    }
    for (int i = 1; i <= n; i++) {
      if (b[pos + i - 1] != word.charAt(i)) {
        throw malformed("unrecognized token");
      }
    }
    pos += n;
  }

  /** A number whose first byte was just read, as a tree's node prints it. */
  private String number() throws Malformed {
    int start = pos - 1;
    boolean integer = numberEnd();
    if (integer) {
      return pos - start == 2 && b[start] == '-' && b[start + 1] == '0'
          ? "0"
          : new String(b, start, pos - start, UTF_8);
    }
    return Double.toString(Double.parseDouble(new String(b, start, pos - start, UTF_8)));
  }

  /**
   * Past a number whose first byte was just read, checking its form and length; whether it is an
   * integer (no fraction, no exponent).
   */
  private boolean numberEnd() throws Malformed {
    int p = pos - 1;
    if (b[p] == '-') {
      p++;
    }
    int intStart = p;
    if (p >= end) {
      throw malformed("unexpected end of input");
    }
    byte c = b[p];
    if (c == '0') {
      p++;
    } else if (c >= '1' && c <= '9') {
      p = digits(p);
    } else {
      throw malformed("bad number");
    }
    // Jackson counts no integer digit for a lone 0 ("0.5" has one digit, its fraction's).
    int intDigits = c == '0' ? 0 : p - intStart;
    int fraction = 0;
    int exponent = 0;
    boolean integer = true;
    if (p < end && b[p] == '.') {
      int from = ++p;
      p = digits(p);
      fraction = p - from;
      if (fraction == 0) {
        throw malformed("bad number");
      }
      integer = false;
    }
    if (p < end && (b[p] == 'e' || b[p] == 'E')) {
      p++;
      if (p < end && (b[p] == '+' || b[p] == '-')) {
        p++;
      }
      int from = p;
      p = digits(p);
      exponent = p - from;
      if (exponent == 0) {
        throw malformed("bad number");
      }
      integer = false;
    }
    if (integer ? intDigits > MAX_NUMBER : intDigits + fraction + exponent > MAX_NUMBER) {
      throw malformed("number too long");
    }
    pos = p;
    return integer;
  }

  private int digits(int p) {
    while (p < end) {
      byte c = b[p];
      if (c < '0' || c > '9') {
        break;
      }
      p++;
    }
    return p;
  }

  /** Not well-formed at the byte just read: for a caller that walks a structure itself. */
  public Malformed malformed(String reason) {
    return new Malformed(reason, Math.max(0, pos - 1));
  }
}
