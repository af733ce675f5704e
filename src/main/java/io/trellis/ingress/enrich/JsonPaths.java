package io.trellis.ingress.enrich;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.IOException;
import java.io.UncheckedIOException;
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
 * end of its first value has no values. Thread-safe (immutable).
 */
final class JsonPaths {
  /* Stored bodies passed the capture port's depth limit (at most 500 levels). */
  private static final JsonFactory JSON =
      JsonFactory.builder()
          .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(1000).build())
          .build();

  /*
   * A tree materializes every string and fails on one longer than this; a skipped string is never
   * materialized, so a document that could hold one has its strings read (see skip).
   */
  private static final int MAX_STRING = JSON.streamReadConstraints().getMaxStringLength();

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

    private void set(int slot, String value, boolean isFalse) {
      text[slot] = value;
      falses = isFalse ? falses | (1L << slot) : falses & ~(1L << slot);
    }
  }

  /** One object level: the keys wanted there, each a value slot, a deeper level, or both. */
  private static final class Level {
    final Map<String, Level> children = new HashMap<>();
    int slot = -1;
    /* Every slot at or under this key: a repeated key forgets what its earlier value gave. */
    int[] slots = new int[0];
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
    boolean readStrings = text.length() > MAX_STRING;
    try (JsonParser p = JSON.createParser(text)) {
      p.nextToken();
      Values values = new Values(size);
      object(p, root, values, readStrings);
      return values;
    } catch (JsonProcessingException e) {
      return new Values(size);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a String is not read from a device
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

  /** The fields of the object whose START_OBJECT {@code p} is on, up to its END_OBJECT. */
  private void object(JsonParser p, Level level, Values values, boolean readStrings)
      throws IOException {
    for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
      Level wanted = level.children.get(p.currentName());
      JsonToken value = p.nextToken();
      if (wanted == null) {
        skip(p, value, readStrings);
        continue;
      }
      for (int s : wanted.slots) {
        values.set(s, null, false);
      }
      if (value == JsonToken.START_OBJECT && !wanted.children.isEmpty()) {
        object(p, wanted, values, readStrings);
      } else if (wanted.slot >= 0) {
        values.set(wanted.slot, value(p, value, readStrings), value == JsonToken.VALUE_FALSE);
      } else {
        skip(p, value, readStrings);
      }
    }
    // A token other than FIELD_NAME or END_OBJECT here is a syntax error the parser has thrown.
  }

  private String value(JsonParser p, JsonToken t, boolean readStrings) throws IOException {
    if (t == JsonToken.START_ARRAY && firstOfArray) {
      JsonToken first = p.nextToken();
      String v = first == JsonToken.END_ARRAY ? null : scalar(p, first);
      if (first != JsonToken.END_ARRAY) {
        skip(p, first, readStrings);
        skipRest(p, readStrings);
      }
      return v;
    }
    String v = scalar(p, t);
    skip(p, t, readStrings);
    return v;
  }

  /** The text a tree's node gives for the current token; null for containers and null. */
  private static String scalar(JsonParser p, JsonToken t) throws IOException {
    String s =
        switch (t) {
          case VALUE_STRING -> p.getText();
          case VALUE_NUMBER_INT ->
              switch (p.getNumberType()) {
                case INT -> Integer.toString(p.getIntValue());
                case LONG -> Long.toString(p.getLongValue());
                default -> p.getBigIntegerValue().toString();
              };
          case VALUE_NUMBER_FLOAT -> Double.toString(p.getDoubleValue());
          case VALUE_TRUE -> "true";
          case VALUE_FALSE -> "false";
          default -> null;
        };
    return s == null || s.isEmpty() ? null : s;
  }

  /** Past the value whose first token is {@code t}, checking it as a tree would. */
  private static void skip(JsonParser p, JsonToken t, boolean readStrings) throws IOException {
    if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
      if (readStrings) {
        skipRest(p, true);
      } else {
        p.skipChildren();
      }
    } else if (t == JsonToken.VALUE_STRING && readStrings) {
      p.getText();
    } else if (t == null) {
      throw new JsonParseException(p, "unexpected end of input");
    }
  }

  /** Past the END_OBJECT or END_ARRAY closing the container the parser is in. */
  private static void skipRest(JsonParser p, boolean readStrings) throws IOException {
    for (int depth = 1; depth > 0; ) {
      JsonToken t = p.nextToken();
      if (t == null) {
        throw new JsonParseException(p, "unexpected end of input");
      } else if (t.isStructStart()) {
        depth++;
      } else if (t.isStructEnd()) {
        depth--;
      } else if (t == JsonToken.VALUE_STRING && readStrings) {
        p.getText();
      }
    }
  }

  private static int[] append(int[] a, int v) {
    int[] b = Arrays.copyOf(a, a.length + 1);
    b[a.length] = v;
    return b;
  }
}
