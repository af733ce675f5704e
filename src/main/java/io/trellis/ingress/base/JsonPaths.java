package io.trellis.ingress.base;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A fixed set of dotted paths ({@code url}, {@code context.page.url}) into a JSON object, read in
 * one streaming pass that keeps the values at those paths and skips everything else. Capture reads
 * a few dozen names out of every event it receives, enrichment out of every stored body, query and
 * header set; a tree of each, or a general parser's token per name, cost more than all the work
 * that uses them.
 *
 * <p>A value is what a Jackson tree of the same text gives at the path, as text: strings, numbers
 * (as the tree's number node prints them) and booleans; null for an absent path, JSON {@code null},
 * an object or array, and the empty string. A key that occurs twice counts once, its last value (as
 * in a tree). A text that does not start with <code>{</code> or is not well-formed JSON up to the
 * end of its first value has no values. The scan is {@link JsonScanner}'s, on UTF-8 bytes, strict
 * as Jackson's default parser. Thread-safe (immutable).
 */
public final class JsonPaths {
  /**
   * What a read found: the text at each slot, which slots hold the JSON literal false, and which
   * paths occur at all (whatever their value).
   */
  public static final class Values {
    private final String[] text;
    private final long[] falses;
    private final long[] present;
    /* Where each value starts in source, when the paths keep positions; else null. */
    private final int[] starts;
    private byte[] source;

    private Values(int size, boolean positions) {
      text = new String[size];
      falses = new long[(size + 63) >>> 6];
      present = new long[falses.length];
      starts = positions ? new int[size] : null;
    }

    /**
     * Where the value at a slot that has {@link #text} starts in {@link #source} (its first byte: a
     * quote, digit, sign or letter), when the paths were made {@link #withPositions}; else -1.
     */
    public int start(int slot) {
      return starts == null || text[slot] == null ? -1 : starts[slot];
    }

    /** The bytes that were read, when the paths keep positions and a read found an object. */
    public byte[] source() {
      return source;
    }

    /** The value at a slot as text, or null. */
    public String text(int slot) {
      return text[slot];
    }

    /** Whether the value at a slot is {@code false} itself (not the string "false"). */
    public boolean isFalse(int slot) {
      return (falses[slot >>> 6] & (1L << slot)) != 0;
    }

    /** Whether the path of a slot occurs in the object, whatever its value (null, an object). */
    public boolean has(int slot) {
      return (present[slot >>> 6] & (1L << slot)) != 0;
    }

    void set(int slot, String value, boolean isFalse) {
      text[slot] = value;
      int w = slot >>> 6;
      falses[w] = isFalse ? falses[w] | (1L << slot) : falses[w] & ~(1L << slot);
    }

    void present(int slot) {
      present[slot >>> 6] |= 1L << slot;
    }
  }

  /**
   * One object level: the keys wanted there, each a value slot, a deeper level, or both; found by a
   * name's hash in an open-addressing table and compared with its UTF-8 bytes, so a plain name in
   * the text is matched without making it a {@code String}.
   */
  private static final class Level {
    private final Map<String, Level> children = new HashMap<>();
    int slot = -1;
    /* Every slot at or under this key: a repeated key forgets what its earlier value gave. */
    int[] slots = new int[0];

    private String[] names = new String[1];
    /* Each name's UTF-8 bytes, at the same index; what a name in the text is compared with. */
    private byte[][] bytes = new byte[1][];
    private int[] hashes = new int[1];
    private Level[] levels = new Level[1];
    private int mask;

    boolean hasChildren() {
      return !children.isEmpty();
    }

    /**
     * The child named by the {@code len} ASCII bytes of {@code s} from {@code start}, whose hash
     * (as a string's) is given.
     */
    Level find(byte[] s, int start, int len, int hash) {
      for (int i = spread(hash) & mask; names[i] != null; i = (i + 1) & mask) {
        byte[] n = bytes[i];
        if (hashes[i] == hash
            && n.length == len
            && Arrays.equals(n, 0, len, s, start, start + len)) {
          return levels[i];
        }
      }
      return null;
    }

    Level find(String name) {
      for (int i = spread(name.hashCode()) & mask; names[i] != null; i = (i + 1) & mask) {
        if (names[i].equals(name)) {
          return levels[i];
        }
      }
      return null;
    }

    /** Builds the lookup table once every child is known. */
    private void seal() {
      int size = Integer.highestOneBit(Math.max(1, children.size()) * 4);
      names = new String[size];
      bytes = new byte[size][];
      hashes = new int[size];
      levels = new Level[size];
      mask = size - 1;
      for (Map.Entry<String, Level> e : children.entrySet()) {
        int i = spread(e.getKey().hashCode()) & mask;
        while (names[i] != null) {
          i = (i + 1) & mask;
        }
        names[i] = e.getKey();
        bytes[i] = e.getKey().getBytes(UTF_8);
        hashes[i] = e.getKey().hashCode();
        levels[i] = e.getValue();
        e.getValue().seal();
      }
    }

    private static int spread(int h) {
      return h ^ (h >>> 16);
    }
  }

  private static final int MAX_NAMES_SEARCHED = 4;

  private final Level root = new Level();
  private final String[] quotedNames;
  private final int size;
  private final boolean firstOfArray;
  private final boolean positions;

  private JsonPaths(List<String> paths, boolean firstOfArray, boolean positions) {
    this.size = paths.size();
    this.firstOfArray = firstOfArray;
    this.positions = positions;
    for (int slot = 0; slot < paths.size(); slot++) {
      Level at = root;
      List<Level> along = new ArrayList<>();
      for (String name : paths.get(slot).split("\\.", -1)) {
        at = at.children.computeIfAbsent(name, n -> new Level());
        along.add(at);
      }
      if (at.slot >= 0) {
        throw new IllegalArgumentException("path twice: " + paths.get(slot));
      }
      at.slot = slot;
      for (Level l : along) {
        l.slots = append(l.slots, slot);
      }
    }
    root.seal();
    this.quotedNames =
        root.children.keySet().stream().map(n -> '"' + n + '"').toArray(String[]::new);
  }

  /**
   * Paths into objects; an array's value is null, as in a body. Slot {@code i} is path {@code i}.
   */
  public static JsonPaths of(List<String> paths) {
    return new JsonPaths(paths, false, false);
  }

  /** As {@link #of}, and each value read keeps where it starts ({@link Values#start}). */
  public static JsonPaths withPositions(List<String> paths) {
    return new JsonPaths(paths, false, true);
  }

  /**
   * Top-level names of an object whose values may be arrays, the first element being the value: a
   * query string's parameters as the capture step stores them.
   */
  public static JsonPaths firstOfArrays(List<String> names) {
    return new JsonPaths(names, true, false);
  }

  /**
   * The value at each path of the object that starts the text (its first char is <code>{</code>),
   * by slot; all null when the text does not start with a well-formed object. What follows the
   * object is not looked at.
   */
  public Values read(String text) {
    if (text == null || text.length() <= 2 || text.charAt(0) != '{' || absent(text)) {
      return new Values(size, positions);
    }
    byte[] utf8 = text.getBytes(UTF_8);
    return read(utf8, 0, utf8.length);
  }

  /**
   * The value at each path of the object that starts at {@code utf8[from]}, read no further than
   * {@code to}; all null when no well-formed object starts there. What follows it is not looked at.
   */
  public Values read(byte[] utf8, int from, int to) {
    Values values = new Values(size, positions);
    if (to - from <= 2 || utf8[from] != '{') {
      return values;
    }
    JsonScanner s = new JsonScanner(utf8, from + 1, to, JsonScanner.MAX_DEPTH);
    try {
      s.enter();
      object(s, root, values);
      values.source = utf8;
      return values;
    } catch (JsonScanner.Malformed e) {
      return new Values(size, positions);
    }
  }

  /**
   * The value at each path of {@code utf8} when it is exactly one well-formed object, with nothing
   * but whitespace around it, whose objects and arrays nest at most {@code maxDepth} deep; null
   * when it is anything else.
   *
   * @throws JsonScanner.TooDeep when they nest deeper before the text stops being JSON
   */
  public Values readWhole(byte[] utf8, int maxDepth) throws JsonScanner.TooDeep {
    JsonScanner s = new JsonScanner(utf8, 0, utf8.length, maxDepth);
    try {
      if (s.nonSpace() != '{') {
        return null;
      }
      Values values = read(s);
      return s.atEnd() ? values : null;
    } catch (JsonScanner.TooDeep e) {
      throw e;
    } catch (JsonScanner.Malformed e) {
      return null;
    }
  }

  /**
   * The value at each path of the object whose <code>{</code> the scanner just read, which it
   * leaves past the object's <code>}</code>.
   *
   * @throws JsonScanner.Malformed when the object is not well-formed or nests too deep
   */
  public Values read(JsonScanner s) throws JsonScanner.Malformed {
    Values values = new Values(size, positions);
    s.enter();
    object(s, root, values);
    values.source = s.b;
    return values;
  }

  /**
   * The values a read of the object in {@code utf8[from, to)} found, from where each one starts:
   * {@code starts[i]} (from {@code from}) is where the value of {@code slots[i]} starts, as {@link
   * Values#start} gave them for the same bytes. Each value is read as {@link #read} reads it, so
   * the texts and {@link Values#isFalse} are the same for these slots, and every other slot is null
   * ({@link Values#has} is true for these slots only). Null when a slot or start is out of range or
   * no scalar starts there: an index that does not fit these bytes is not used.
   */
  public Values valuesAt(byte[] utf8, int from, int to, int[] slots, int[] starts, int n) {
    Values values = new Values(size, false);
    JsonScanner s = new JsonScanner(utf8, from, to, JsonScanner.MAX_DEPTH);
    try {
      for (int i = 0; i < n; i++) {
        int slot = slots[i];
        int at = from + starts[i];
        if (slot < 0 || slot >= size || starts[i] < 0 || at >= to) {
          return null;
        }
        int c = utf8[at];
        s.moveTo(at + 1);
        String text = s.scalar(c);
        if (text == null) {
          return null;
        }
        values.set(slot, text, c == 'f');
        values.present(slot);
      }
    } catch (JsonScanner.Malformed e) {
      return null;
    }
    return values;
  }

  /**
   * The fields of the object whose <code>{</code> the scanner just read (and entered), up to its
   * <code>}</code>: each name {@code level} wants goes to its slot, every other value is only
   * checked. A wanted plain ASCII name is found by its bytes' hash in the level's table, without
   * becoming a {@code String}.
   */
  private void object(JsonScanner s, Level level, Values values) throws JsonScanner.Malformed {
    int c = s.nonSpace();
    if (c == '}') {
      s.leave();
      return;
    }
    while (true) {
      if (c != '"') {
        throw s.malformed("expected a name");
      }
      s.readName();
      Level wanted =
          s.decodedName == null
              ? level.find(s.b, s.nameStart, s.nameEnd - s.nameStart, s.nameHash)
              : level.find(s.decodedName);
      s.colon();
      c = s.nonSpace();
      if (wanted == null) {
        s.skip(c);
      } else {
        for (int slot : wanted.slots) {
          values.set(slot, null, false);
        }
        if (wanted.slot >= 0) {
          values.present(wanted.slot);
        }
        if (c == '{' && wanted.hasChildren()) {
          s.enter();
          object(s, wanted, values);
        } else if (wanted.slot >= 0) {
          value(s, values, wanted.slot, c);
        } else {
          s.skip(c);
        }
      }
      if (!s.more('}')) {
        return;
      }
      c = s.nonSpace();
    }
  }

  /** A wanted value, whose first byte {@code c} was just read, into {@code slot}. */
  private void value(JsonScanner s, Values values, int slot, int c) throws JsonScanner.Malformed {
    if (c == '[' && firstOfArray) {
      s.enter();
      c = s.nonSpace();
      if (c == ']') {
        s.leave();
        return;
      }
      // The value's first token is the array, never false itself.
      values.set(slot, s.scalar(c), false);
      s.arrayRest();
      return;
    }
    int start = s.position() - 1;
    values.set(slot, s.scalar(c), c == 'f');
    if (values.starts != null) {
      values.starts[slot] = start;
    }
  }

  /**
   * Whether no wanted top-level name can be in the text: none occurs as a quoted string, and there
   * is no escape that could spell one. Then nothing is found, whether the text is well-formed or
   * not, without parsing it. Looked for only when there are few names (the two headers enrichment
   * reads, among a browser's dozen): a search per name is cheaper than a parse for a few names, not
   * for dozens.
   */
  private boolean absent(String text) {
    if (quotedNames.length > MAX_NAMES_SEARCHED || text.indexOf('\\') >= 0) {
      return false;
    }
    for (String name : quotedNames) {
      if (text.contains(name)) {
        return false;
      }
    }
    return true;
  }

  private static int[] append(int[] a, int v) {
    int[] b = Arrays.copyOf(a, a.length + 1);
    b[a.length] = v;
    return b;
  }
}
