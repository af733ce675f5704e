package io.trellis.ingress.enrich;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A fixed set of dotted paths ({@code url}, {@code context.page.url}) into a JSON object, read in
 * one streaming pass that keeps the values at those paths and skips everything else. Enrichment
 * reads a few dozen names out of every stored body, query and header set; building a tree of each
 * cost more than all the enrichments that use it.
 *
 * <p>A value is what a Jackson tree of the same text gives at the path, as text: strings, numbers
 * (as the tree's number node prints them) and booleans; null for an absent path, JSON {@code null},
 * an object or array, and the empty string. A key that occurs twice counts once, its last value (as
 * in a tree). A text that does not start with <code>{</code> or is not well-formed JSON up to the
 * end of its first value has no values. The scan is {@link JsonPathReader}'s, strict as Jackson's
 * default parser. Thread-safe (immutable).
 */
final class JsonPaths {
  /** What a read found: the text at each slot, and which slots hold the JSON literal false. */
  static final class Values {
    private final String[] text;
    private long falses;

    private Values(int size) {
      text = new String[size];
    }

    /** The value at a slot as text, or null. */
    String text(int slot) {
      return text[slot];
    }

    /** Whether the value at a slot is {@code false} itself (not the string "false"). */
    boolean isFalse(int slot) {
      return (falses & (1L << slot)) != 0;
    }

    void set(int slot, String value, boolean isFalse) {
      text[slot] = value;
      falses = isFalse ? falses | (1L << slot) : falses & ~(1L << slot);
    }
  }

  /**
   * One object level: the keys wanted there, each a value slot, a deeper level, or both; found by
   * the hash of a name's chars in an open-addressing table, so a name in the text is matched
   * without making it a {@code String}.
   */
  static final class Level {
    private final Map<String, Level> children = new HashMap<>();
    int slot = -1;
    /* Every slot at or under this key: a repeated key forgets what its earlier value gave. */
    int[] slots = new int[0];

    private String[] names = new String[1];
    private Level[] levels = new Level[1];
    private int mask;

    boolean hasChildren() {
      return !children.isEmpty();
    }

    /**
     * The child named by {@code len} chars of {@code s} from {@code start}, whose hash is given.
     */
    Level find(char[] s, int start, int len, int hash) {
      for (int i = spread(hash) & mask; names[i] != null; i = (i + 1) & mask) {
        String n = names[i];
        if (n.length() == len && n.hashCode() == hash && matches(s, start, n)) {
          return levels[i];
        }
      }
      return null;
    }

    private static boolean matches(char[] s, int start, String n) {
      for (int i = 0; i < n.length(); i++) {
        if (s[start + i] != n.charAt(i)) {
          return false;
        }
      }
      return true;
    }

    Level find(String name) {
      return find(name.toCharArray(), 0, name.length(), name.hashCode());
    }

    /** Builds the lookup table once every child is known. */
    private void seal() {
      int size = Integer.highestOneBit(Math.max(1, children.size()) * 4);
      names = new String[size];
      levels = new Level[size];
      mask = size - 1;
      for (Map.Entry<String, Level> e : children.entrySet()) {
        int i = spread(e.getKey().hashCode()) & mask;
        while (names[i] != null) {
          i = (i + 1) & mask;
        }
        names[i] = e.getKey();
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

  private JsonPaths(List<String> paths, boolean firstOfArray) {
    if (paths.size() > Long.SIZE) {
      throw new IllegalArgumentException("more than " + Long.SIZE + " paths");
    }
    this.size = paths.size();
    this.firstOfArray = firstOfArray;
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
  static JsonPaths of(List<String> paths) {
    return new JsonPaths(paths, false);
  }

  /**
   * Top-level names of an object whose values may be arrays, the first element being the value: a
   * query string's parameters as the capture step stores them.
   */
  static JsonPaths firstOfArrays(List<String> names) {
    return new JsonPaths(names, true);
  }

  /** The value at each path, by slot; all null when the text is not a well-formed object. */
  Values read(String text) {
    if (text == null || text.length() <= 2 || text.charAt(0) != '{' || absent(text)) {
      return new Values(size);
    }
    Values values = new Values(size);
    try {
      new JsonPathReader(text, firstOfArray, values).read(root);
      return values;
    } catch (JsonPathReader.Malformed e) {
      return new Values(size);
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
