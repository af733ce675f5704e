package io.trellis.ingress.base;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.util.List;
import java.util.Map;

/** Small helpers that write JSON text directly, on the request path, without a tree. */
public final class JsonText {
  private static final JsonStringEncoder ENCODER = JsonStringEncoder.getInstance();

  private JsonText() {}

  public static StringBuilder quote(StringBuilder sb, String s) {
    sb.append('"');
    return escape(sb, s).append('"');
  }

  /**
   * Appends the string's JSON escape, without quotes: Jackson's, which escapes only the quote, the
   * backslash and control characters. A string with none of them, as most header values and
   * parameters are, is appended whole rather than char by char.
   */
  public static StringBuilder escape(StringBuilder sb, String s) {
    if (needsNoEscape(s)) {
      return sb.append(s);
    }
    ENCODER.quoteAsString(s, sb);
    return sb;
  }

  private static boolean needsNoEscape(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == '"' || c == '\\') {
        return false;
      }
    }
    return true;
  }

  /** A JSON object of string values; a name seen more than once gets an array of its values. */
  public static String object(Map<String, List<String>> values) {
    StringBuilder sb = new StringBuilder(64 + values.size() * 32);
    sb.append('{');
    boolean first = true;
    for (Map.Entry<String, List<String>> e : values.entrySet()) {
      if (!first) {
        sb.append(',');
      }
      first = false;
      quote(sb, e.getKey()).append(':');
      List<String> vs = e.getValue();
      if (vs.size() == 1) {
        quote(sb, vs.get(0));
      } else {
        sb.append('[');
        for (int i = 0; i < vs.size(); i++) {
          if (i > 0) {
            sb.append(',');
          }
          quote(sb, vs.get(i));
        }
        sb.append(']');
      }
    }
    return sb.append('}').toString();
  }
}
