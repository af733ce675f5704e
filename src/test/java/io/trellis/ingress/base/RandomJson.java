package io.trellis.ingress.base;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Random;

/**
 * Random JSON texts for the tests that compare a reader with Jackson's tree: objects and arrays of
 * a few keys and scalars (so keys repeat and every kind of value meets a wanted path), cut or with
 * one char changed; and what the tree gives at a path.
 */
public final class RandomJson {
  private final String[] keys;
  private final String[] scalars;
  private final int maxDepth;

  /**
   * Texts of these keys (as written between quotes) and scalars (as written), with containers below
   * {@code maxDepth} levels only.
   */
  public RandomJson(String[] keys, String[] scalars, int maxDepth) {
    this.keys = keys;
    this.scalars = scalars;
    this.maxDepth = maxDepth;
  }

  /** An object at {@code depth}: up to six fields at the top, up to three below. */
  public void object(Random r, StringBuilder b, int depth) {
    b.append('{');
    int n = r.nextInt(depth == 0 ? 7 : 4);
    for (int i = 0; i < n; i++) {
      b.append(i > 0 ? "," : "").append('"').append(keys[r.nextInt(keys.length)]).append("\":");
      value(r, b, depth + 1);
    }
    b.append('}');
  }

  /** A scalar, object or array at {@code depth}; only scalars past the depth limit. */
  public void value(Random r, StringBuilder b, int depth) {
    int kind = depth > maxDepth ? 0 : r.nextInt(5);
    if (kind <= 2) {
      b.append(scalars[r.nextInt(scalars.length)]);
    } else if (kind == 3) {
      object(r, b, depth);
    } else {
      b.append('[');
      int n = r.nextInt(3);
      for (int i = 0; i < n; i++) {
        b.append(i > 0 ? "," : "");
        value(r, b, depth + 1);
      }
      b.append(']');
    }
  }

  /** The text cut at a random place. */
  public static String cut(Random r, String s) {
    return s.substring(0, r.nextInt(s.length() + 1));
  }

  /** The text with one char replaced by one of {@code chars}. */
  public static String changeOneChar(Random r, String s, String chars) {
    int at = r.nextInt(s.length());
    return s.substring(0, at) + chars.charAt(r.nextInt(chars.length())) + s.substring(at + 1);
  }

  /** A check of one text. */
  public interface Check {
    void accept(String text) throws Exception;
  }

  /**
   * Runs {@code check} on every cut of {@code s} and on every text with one of its chars replaced
   * by one of {@code chars}.
   */
  public static void everyCutAndChange(String s, String chars, Check check) throws Exception {
    for (int cut = 0; cut <= s.length(); cut++) {
      check.accept(s.substring(0, cut));
    }
    for (int at = 0; at < s.length(); at++) {
      for (int m = 0; m < chars.length(); m++) {
        check.accept(s.substring(0, at) + chars.charAt(m) + s.substring(at + 1));
      }
    }
  }

  /** The node at a dotted path of objects, or null. */
  public static JsonNode at(JsonNode n, String path) {
    for (String part : path.split("\\.")) {
      if (n == null || !n.isObject()) {
        return null;
      }
      n = n.get(part);
    }
    return n;
  }

  /** A scalar node's text as a reader gives it: null for null, a container and an empty string. */
  public static String scalar(JsonNode n) {
    if (n == null || n.isNull() || n.isContainerNode()) {
      return null;
    }
    String s = n.asText();
    return s.isEmpty() ? null : s;
  }
}
