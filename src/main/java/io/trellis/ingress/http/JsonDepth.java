package io.trellis.ingress.http;

/**
 * Measures how deeply a JSON text nests, in one pass over its bytes and without parsing it, so a
 * hostile document (a million opening brackets) is refused before any parser or downstream reader
 * recurses into it. Stateless.
 */
final class JsonDepth {
  private JsonDepth() {}

  /** True when the text looks like JSON: its first non-blank byte opens an object or array. */
  static boolean looksLikeJson(byte[] utf8) {
    for (byte b : utf8) {
      if (b == '{' || b == '[') {
        return true;
      }
      if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
        return false;
      }
    }
    return false;
  }

  /** True when objects and arrays nest deeper than {@code max}; brackets in strings don't count. */
  static boolean exceeds(byte[] utf8, int max) {
    int depth = 0;
    boolean inString = false;
    boolean escaped = false;
    for (byte b : utf8) {
      if (inString) {
        if (escaped) {
          escaped = false;
        } else if (b == '\\') {
          escaped = true;
        } else if (b == '"') {
          inString = false;
        }
      } else if (b == '"') {
        inString = true;
      } else if (b == '{' || b == '[') {
        if (++depth > max) {
          return true;
        }
      } else if ((b == '}' || b == ']') && depth > 0) {
        depth--;
      }
    }
    return false;
  }
}
