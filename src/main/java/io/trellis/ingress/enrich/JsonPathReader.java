package io.trellis.ingress.enrich;

import com.fasterxml.jackson.core.StreamReadConstraints;

/**
 * One read of a JSON object's text for {@link JsonPaths}: a strict scanner of RFC 8259 JSON that
 * keeps the values at the wanted paths and only checks everything else, without building a token, a
 * name or a string it does not keep. A wanted name is found by its chars' hash in the level's table
 * ({@link JsonPaths.Level#find}), so no name becomes a {@code String} unless it holds an escape.
 *
 * <p>It accepts and refuses what Jackson's default parser (the tree the values must equal) does up
 * to the end of the first value: no comments, single quotes, unquoted names, leading zeros,
 * trailing commas, {@code NaN}, unescaped control characters or unknown escapes; whitespace is
 * space, tab, line feed and carriage return. It refuses what exceeds Jackson's default constraints
 * the same way: more than 1,000 nested containers, a string longer than {@code maxStringLength}, a
 * name longer than {@code maxNameLength}, an integer of more digits than {@code maxNumberLength},
 * or a number with a fraction or exponent whose integer (none for a lone 0), fraction and exponent
 * digits together exceed it. Numbers become the text a tree's node prints ({@code -0} is {@code 0};
 * a number with a fraction or an exponent is a double). Not thread-safe; one per read.
 */
final class JsonPathReader {
  static final int MAX_DEPTH = 1000;
  private static final StreamReadConstraints LIMITS = StreamReadConstraints.defaults();
  private static final int MAX_STRING = LIMITS.getMaxStringLength();
  private static final int MAX_NAME = LIMITS.getMaxNameLength();
  private static final int MAX_NUMBER = LIMITS.getMaxNumberLength();

  /** Not well-formed: thrown without a stack trace, caught by {@link JsonPaths#read}. */
  static final class Malformed extends Exception {
    static final Malformed INSTANCE = new Malformed();

    private Malformed() {
      super("malformed JSON", null, false, false);
    }
  }

  private static final int MAX_SCRATCH_CHARS = 64 * 1024;
  private static final ThreadLocal<char[]> SCRATCH = ThreadLocal.withInitial(() -> new char[1024]);

  /* An object none of whose names is wanted: it is only checked. */
  private static final JsonPaths.Level NOTHING_WANTED = new JsonPaths.Level();

  /* The text's chars, copied once into this thread's scratch array (only the first len count):
   * a plain array read per char, where String.charAt checks the index and the string's coding on
   * every call (a fifth of this class's time). */
  private final char[] chars;
  private final int len;
  private final boolean firstOfArray;
  private final JsonPaths.Values values;
  private int pos;
  private int depth;

  /* Set by name(): where a name without escapes is in s, its hash, or the decoded name. */
  private int nameStart;
  private int nameEnd;
  private int nameHash;
  private String escapedName;

  JsonPathReader(String s, boolean firstOfArray, JsonPaths.Values values) {
    this.len = s.length();
    this.chars = scratch(len);
    s.getChars(0, len, chars, 0);
    this.firstOfArray = firstOfArray;
    this.values = values;
  }

  /**
   * A char array of at least {@code n} chars: this thread's, reused from read to read (each read is
   * over before the next starts, and every value it keeps is a string of its own), unless the text
   * is longer than {@value #MAX_SCRATCH_CHARS} chars.
   */
  private static char[] scratch(int n) {
    char[] a = SCRATCH.get();
    if (a.length >= n) {
      return a;
    }
    if (n > MAX_SCRATCH_CHARS) {
      return new char[n];
    }
    a = new char[Math.max(n, Math.min(MAX_SCRATCH_CHARS, 2 * a.length))];
    SCRATCH.set(a);
    return a;
  }

  /** Reads the object that starts the text (its first char is <code>{</code>). */
  void read(JsonPaths.Level root) throws Malformed {
    pos = 1;
    depth = 1;
    object(root);
  }

  /** The fields of the object whose <code>{</code> was just read, up to its <code>}</code>. */
  private void object(JsonPaths.Level level) throws Malformed {
    int c = nonSpace();
    if (c == '}') {
      depth--;
      return;
    }
    while (true) {
      if (c != '"') {
        throw Malformed.INSTANCE;
      }
      name();
      JsonPaths.Level wanted =
          escapedName == null
              ? level.find(chars, nameStart, nameEnd - nameStart, nameHash)
              : level.find(escapedName);
      if (nonSpace() != ':') {
        throw Malformed.INSTANCE;
      }
      c = nonSpace();
      if (wanted == null) {
        skip(c);
      } else {
        for (int slot : wanted.slots) {
          values.set(slot, null, false);
        }
        if (c == '{' && wanted.hasChildren()) {
          enter();
          object(wanted);
        } else if (wanted.slot >= 0) {
          value(wanted.slot, c);
        } else {
          skip(c);
        }
      }
      c = nonSpace();
      if (c == '}') {
        depth--;
        return;
      }
      if (c != ',') {
        throw Malformed.INSTANCE;
      }
      c = nonSpace();
    }
  }

  /** A wanted value, whose first char {@code c} was just read, into {@code slot}. */
  private void value(int slot, int c) throws Malformed {
    if (c == '[' && firstOfArray) {
      enter();
      c = nonSpace();
      if (c == ']') {
        depth--;
        return;
      }
      // The value's first token is the array, never false itself.
      values.set(slot, scalar(c), false);
      arrayRest();
      return;
    }
    values.set(slot, scalar(c), c == 'f');
  }

  /**
   * The text of the value whose first char {@code c} was just read, past its end: strings, numbers
   * and booleans as a tree prints them, null for null, an empty string and containers.
   */
  private String scalar(int c) throws Malformed {
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

  /** Past the value whose first char {@code c} was just read, checking it. */
  private void skip(int c) throws Malformed {
    switch (c) {
      case '"' -> string(false);
      case '{' -> {
        enter();
        object(NOTHING_WANTED);
      }
      case '[' -> {
        enter();
        c = nonSpace();
        if (c == ']') {
          depth--;
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
          throw Malformed.INSTANCE;
        }
      }
    }
  }

  /** Past the elements after an array's first one, up to its <code>]</code>. */
  private void arrayRest() throws Malformed {
    while (true) {
      int c = nonSpace();
      if (c == ']') {
        depth--;
        return;
      }
      if (c != ',') {
        throw Malformed.INSTANCE;
      }
      skip(nonSpace());
    }
  }

  private void enter() throws Malformed {
    if (++depth > MAX_DEPTH) {
      throw Malformed.INSTANCE;
    }
  }

  /** The next char that is not whitespace, consumed; -1 at the end. */
  private int nonSpace() throws Malformed {
    while (pos < len) {
      char c = chars[pos++];
      if (c > ' ') {
        return c;
      }
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
        throw Malformed.INSTANCE;
      }
    }
    throw Malformed.INSTANCE;
  }

  /** A name whose opening quote was just read: sets the name fields. */
  private void name() throws Malformed {
    int start = pos;
    int h = 0;
    while (pos < len) {
      char c = chars[pos];
      if (c == '"') {
        if (pos - start > MAX_NAME) {
          throw Malformed.INSTANCE;
        }
        nameStart = start;
        nameEnd = pos++;
        nameHash = h;
        escapedName = null;
        return;
      }
      if (c == '\\') {
        pos = start;
        escapedName = escaped(MAX_NAME);
        return;
      }
      if (c < ' ') {
        throw Malformed.INSTANCE;
      }
      h = 31 * h + c;
      pos++;
    }
    throw Malformed.INSTANCE;
  }

  /**
   * A string value whose opening quote was just read, past its closing quote; its text when {@code
   * keep}, else null.
   */
  private String string(boolean keep) throws Malformed {
    int start = pos;
    while (pos < len) {
      char c = chars[pos];
      if (c == '"') {
        if (pos - start > MAX_STRING) {
          throw Malformed.INSTANCE;
        }
        pos++;
        return keep ? new String(chars, start, pos - 1 - start) : null;
      }
      if (c == '\\') {
        pos = start;
        String v = escaped(MAX_STRING);
        return keep ? v : null;
      }
      if (c < ' ') {
        throw Malformed.INSTANCE;
      }
      pos++;
    }
    throw Malformed.INSTANCE;
  }

  /** A string from {@code pos} (after its quote) holding escapes, decoded, past its quote. */
  private String escaped(int max) throws Malformed {
    StringBuilder b = new StringBuilder();
    while (pos < len) {
      char c = chars[pos++];
      if (c == '"') {
        if (b.length() > max) {
          throw Malformed.INSTANCE;
        }
        return b.toString();
      }
      if (c < ' ') {
        throw Malformed.INSTANCE;
      }
      if (c != '\\') {
        b.append(c);
        continue;
      }
      if (pos >= len) {
        throw Malformed.INSTANCE;
      }
      char e = chars[pos++];
      switch (e) {
        case '"', '\\', '/' -> b.append(e);
        case 'b' -> b.append('\b');
        case 'f' -> b.append('\f');
        case 'n' -> b.append('\n');
        case 'r' -> b.append('\r');
        case 't' -> b.append('\t');
        case 'u' -> b.append(hex4());
        default -> throw Malformed.INSTANCE;
      }
    }
    throw Malformed.INSTANCE;
  }

  private char hex4() throws Malformed {
    if (pos + 4 > len) {
      throw Malformed.INSTANCE;
    }
    int v = 0;
    for (int i = 0; i < 4; i++) {
      char c = chars[pos++];
      int d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      } else {
        throw Malformed.INSTANCE;
      }
      v = v << 4 | d;
    }
    return (char) v;
  }

  /**
   * {@code true}, {@code false} or {@code null}, whose first char was just read. (Jackson also
   * refuses one followed by a letter or digit, which no container allows after a value anyway.)
   */
  private void literal(String word) throws Malformed {
    int n = word.length() - 1;
    if (pos + n > len) {
      throw Malformed.INSTANCE;
    }
    for (int i = 1; i <= n; i++) {
      if (chars[pos + i - 1] != word.charAt(i)) {
        throw Malformed.INSTANCE;
      }
    }
    pos += n;
  }

  /** A number whose first char was just read, as a tree's node prints it. */
  private String number() throws Malformed {
    int start = pos - 1;
    boolean integer = numberEnd();
    if (integer) {
      return pos - start == 2 && chars[start] == '-' && chars[start + 1] == '0'
          ? "0"
          : new String(chars, start, pos - start);
    }
    return Double.toString(Double.parseDouble(new String(chars, start, pos - start)));
  }

  /**
   * Past a number whose first char was just read, checking its form and length; whether it is an
   * integer (no fraction, no exponent).
   */
  private boolean numberEnd() throws Malformed {
    int p = pos - 1;
    if (chars[p] == '-') {
      p++;
    }
    int intStart = p;
    if (p >= len) {
      throw Malformed.INSTANCE;
    }
    char c = chars[p];
    if (c == '0') {
      p++;
    } else if (c >= '1' && c <= '9') {
      p = digits(p);
    } else {
      throw Malformed.INSTANCE;
    }
    // Jackson counts no integer digit for a lone 0 ("0.5" has one digit, its fraction's).
    int intDigits = c == '0' ? 0 : p - intStart;
    int fraction = 0;
    int exponent = 0;
    boolean integer = true;
    if (p < len && chars[p] == '.') {
      int from = ++p;
      p = digits(p);
      fraction = p - from;
      if (fraction == 0) {
        throw Malformed.INSTANCE;
      }
      integer = false;
    }
    if (p < len && (chars[p] == 'e' || chars[p] == 'E')) {
      p++;
      if (p < len && (chars[p] == '+' || chars[p] == '-')) {
        p++;
      }
      int from = p;
      p = digits(p);
      exponent = p - from;
      if (exponent == 0) {
        throw Malformed.INSTANCE;
      }
      integer = false;
    }
    if (integer ? intDigits > MAX_NUMBER : intDigits + fraction + exponent > MAX_NUMBER) {
      throw Malformed.INSTANCE;
    }
    pos = p;
    return integer;
  }

  private int digits(int p) {
    while (p < len) {
      char c = chars[p];
      if (c < '0' || c > '9') {
        break;
      }
      p++;
    }
    return p;
  }
}
