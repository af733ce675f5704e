package io.trellis.ingress.capture;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * Percent-decoding of query strings and form fields, as {@link URLDecoder} does it ({@code +} is a
 * space, {@code %XX} bytes are UTF-8), but without copying text that holds nothing encoded, which
 * is most names and values. Malformed escapes leave the text as it was sent.
 */
public final class UrlEncoding {
  private UrlEncoding() {}

  /** The decoded text of {@code s}; {@code s} itself when nothing in it is encoded. */
  public static String decode(String s) {
    return decode(s, 0, s.length());
  }

  /** The decoded text of {@code s[start, end)}. */
  public static String decode(String s, int start, int end) {
    for (int i = start; i < end; i++) {
      char c = s.charAt(i);
      if (c == '%' || c == '+') {
        String part = s.substring(start, end);
        try {
          return URLDecoder.decode(part, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
          return part;
        }
      }
    }
    return start == 0 && end == s.length() ? s : s.substring(start, end);
  }
}
