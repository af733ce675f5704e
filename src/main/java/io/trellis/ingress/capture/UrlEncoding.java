package io.trellis.ingress.capture;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Splitting and percent-decoding of query strings and form fields, as {@link URLDecoder} does it
 * ({@code +} is a space, {@code %XX} bytes are UTF-8), but without copying text that holds nothing
 * encoded, which is most names and values. Malformed escapes leave the text as it was sent.
 */
public final class UrlEncoding {
  private UrlEncoding() {}

  /**
   * The {@code name=value} pairs of {@code s[start, end)}, decoded, in order; empty parts are
   * skipped and a part without {@code =} has an empty value. Stops after {@code limit + 1} pairs,
   * so a caller that refuses more than {@code limit} does no more work than it must.
   */
  public static List<Map.Entry<String, String>> params(String s, int start, int end, int limit) {
    List<Map.Entry<String, String>> out = new ArrayList<>();
    while (start < end && out.size() <= limit) {
      int amp = s.indexOf('&', start);
      int partEnd = amp < 0 || amp > end ? end : amp;
      if (partEnd > start) {
        int eq = start;
        while (eq < partEnd && s.charAt(eq) != '=') {
          eq++;
        }
        boolean valued = eq < partEnd;
        String name = decode(s, start, valued ? eq : partEnd);
        String value = valued ? decode(s, eq + 1, partEnd) : "";
        out.add(new AbstractMap.SimpleImmutableEntry<>(name, value));
      }
      start = partEnd + 1;
    }
    return out;
  }

  /**
   * The pairs of {@code s[start, end)} as {@link #params} splits them, found but not decoded: a
   * lookup compares names in place and decodes only the value it answers. For a query read for a
   * few names (a page URL's, for every event that has one), not for one stored whole.
   */
  static Query query(String s, int start, int end) {
    return new Query(s, start, end);
  }

  /** See {@link #query}. Immutable. */
  static final class Query {
    static final Query EMPTY = new Query("", 0, 0);

    private final String s;

    /* Per pair: where its name starts and ends, and its value starts (-1: no '=') and ends. */
    private final int[] at;
    private final int pairs;

    private Query(String s, int start, int end) {
      this.s = s;
      int[] a = new int[16];
      int n = 0;
      while (start < end) {
        int amp = s.indexOf('&', start);
        int partEnd = amp < 0 || amp > end ? end : amp;
        if (partEnd > start) {
          int eq = start;
          boolean encoded = false;
          for (char c; eq < partEnd && (c = s.charAt(eq)) != '='; eq++) {
            encoded |= c == '%' || c == '+';
          }
          if (4 * n + 4 > a.length) {
            a = Arrays.copyOf(a, a.length * 2);
          }
          boolean valued = eq < partEnd;
          // A name to decode before comparing is marked by its start, negated.
          a[4 * n] = encoded ? ~start : start;
          a[4 * n + 1] = valued ? eq : partEnd;
          a[4 * n + 2] = valued ? eq + 1 : -1;
          a[4 * n + 3] = partEnd;
          n++;
        }
        start = partEnd + 1;
      }
      this.at = a;
      this.pairs = n;
    }

    /** {@link UrlEncoding#first} of the decoded pairs: the value of the first named so, or null. */
    String first(String name) {
      int len = name.length();
      for (int i = 0; i < pairs; i++) {
        int from = at[4 * i];
        int to = at[4 * i + 1];
        if (from >= 0
            ? to - from == len && s.regionMatches(from, name, 0, len)
            : decode(s, ~from, to).equals(name)) {
          return at[4 * i + 2] < 0 ? "" : decode(s, at[4 * i + 2], at[4 * i + 3]);
        }
      }
      return null;
    }
  }

  /** The value of the first pair named {@code name}, or null. */
  public static String first(List<Map.Entry<String, String>> params, String name) {
    // Indexed (the lists are array-backed): capture looks up a dozen names per event.
    for (int i = 0; i < params.size(); i++) {
      Map.Entry<String, String> p = params.get(i);
      if (p.getKey().equals(name)) {
        return p.getValue();
      }
    }
    return null;
  }

  /** The decoded text of {@code s}; {@code s} itself when nothing in it is encoded. */
  public static String decode(String s) {
    return decode(s, 0, s.length());
  }

  /** The decoded text of {@code s[start, end)}. */
  public static String decode(String s, int start, int end) {
    for (int i = start; i < end; i++) {
      char c = s.charAt(i);
      if (c == '%' || c == '+') {
        return decodeAscii(s, start, end);
      }
    }
    return start == 0 && end == s.length() ? s : s.substring(start, end);
  }

  /**
   * {@link #decode} of text that holds an escape: its bytes gathered in one array and read as UTF-8
   * once. This is URLDecoder's result: it reads each run of escapes as UTF-8 on its own, but runs
   * are separated by ASCII chars, which no UTF-8 sequence spans, so reading all the bytes at once
   * replaces the same malformed bytes. Text with a char beyond ASCII, or an escape that is not two
   * hex digits, goes to URLDecoder itself (its sign handling, its refusals).
   */
  private static String decodeAscii(String s, int start, int end) {
    byte[] out = new byte[end - start];
    int n = 0;
    int i = start;
    while (i < end) {
      char c = s.charAt(i);
      if (c == '+') {
        out[n++] = ' ';
        i++;
      } else if (c == '%') {
        int v = i + 2 < end ? hex(s.charAt(i + 1)) << 4 | hex(s.charAt(i + 2)) : -1;
        if (v < 0) {
          return viaUrlDecoder(s, start, end);
        }
        out[n++] = (byte) v;
        i += 3;
      } else if (c < 0x80) {
        out[n++] = (byte) c;
        i++;
      } else {
        return viaUrlDecoder(s, start, end);
      }
    }
    return new String(out, 0, n, StandardCharsets.UTF_8);
  }

  /** The value of an ASCII hex digit, or a negative number. */
  private static int hex(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    char lower = (char) (c | 0x20);
    return lower >= 'a' && lower <= 'f' ? lower - 'a' + 10 : -0x100;
  }

  private static String viaUrlDecoder(String s, int start, int end) {
    String part = s.substring(start, end);
    try {
      return URLDecoder.decode(part, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return part;
    }
  }
}
