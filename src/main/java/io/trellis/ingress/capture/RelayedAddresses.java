package io.trellis.ingress.capture;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Client addresses that a request carries in its payload rather than in its headers: Snowplow's
 * {@code ip} parameter (pixel query, form field, tracker payload field), Segment's and
 * RudderStack's {@code context.ip}, PostHog's {@code $ip}. Server-side SDKs and proxies put the
 * browser's address there, so it is the same personal data as the request's own address and is
 * anonymized with it (see {@link IpAnonymizer}), wherever the request is stored: the query
 * parameters, the URL, the body. Only values that are IP literals change; everything else stays as
 * sent. Stateless.
 */
final class RelayedAddresses {
  /** The query parameter and form field that carry an address (Snowplow's tracker protocol). */
  static final String PARAM = "ip";

  private RelayedAddresses() {}

  /** The parameters with the address in each {@link #PARAM} anonymized. */
  static List<Map.Entry<String, String>> query(List<Map.Entry<String, String>> query) {
    List<Map.Entry<String, String>> out = null;
    for (int i = 0; i < query.size(); i++) {
      Map.Entry<String, String> e = query.get(i);
      String anonymized = e.getKey().equals(PARAM) ? anonymized(e.getValue()) : null;
      if (anonymized != null) {
        if (out == null) {
          out = new ArrayList<>(query);
        }
        out.set(i, Map.entry(e.getKey(), anonymized));
      }
    }
    return out == null ? query : out;
  }

  /** The URL with the address in each {@link #PARAM} of its query anonymized. */
  static String url(String url) {
    int q = url.indexOf('?');
    if (q < 0 || !url.contains(PARAM + "=")) {
      return url;
    }
    int hash = url.indexOf('#', q);
    int end = hash < 0 ? url.length() : hash;
    return url.substring(0, q + 1) + form(url.substring(q + 1, end)) + url.substring(end);
  }

  /**
   * URL-encoded text ({@code a=1&ip=203.0.113.77}) with the address in each {@link #PARAM}
   * anonymized; a name or value that does not decode is kept as it is.
   */
  static String form(String text) {
    if (!text.contains(PARAM + "=")) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length());
    int start = 0;
    while (start <= text.length()) {
      int amp = text.indexOf('&', start);
      int end = amp < 0 ? text.length() : amp;
      String pair = text.substring(start, end);
      int eq = pair.indexOf('=');
      String anonymized =
          eq > 0 && PARAM.equals(decode(pair.substring(0, eq)))
              ? anonymized(decode(pair.substring(eq + 1)))
              : null;
      out.append(
          anonymized == null
              ? pair
              : pair.substring(0, eq + 1) + URLEncoder.encode(anonymized, StandardCharsets.UTF_8));
      if (amp < 0) {
        break;
      }
      out.append('&');
      start = amp + 1;
    }
    return out.toString();
  }

  /**
   * A JSON body with the addresses an SDK relays in it anonymized: each JSON string that is the
   * value of the body's {@code ip} or {@code $ip}, {@code context.ip} or {@code properties.$ip} is
   * replaced wherever it occurs in the body (the same address elsewhere is the same person's).
   */
  static String body(String body, JsonFields json) {
    if (json == null || body == null) {
      return body;
    }
    String out = body;
    for (String value :
        new String[] {
          json.text(PARAM), json.text("$ip"), json.context(PARAM), json.property("$ip")
        }) {
      String anonymized = anonymized(value);
      if (anonymized != null) {
        out = out.replace('"' + value + '"', '"' + anonymized + '"');
      }
    }
    return out;
  }

  /**
   * A body that is not JSON (a form without a {@code data} field, or text) with the address in each
   * {@link #PARAM} field anonymized.
   */
  static String text(String body) {
    return body == null || body.isEmpty() || body.charAt(0) == '{' || body.charAt(0) == '['
        ? body
        : form(body);
  }

  /** The exact bytes of a body that was not valid UTF-8, with the same replacements. */
  static byte[] bytes(byte[] exact, JsonFields json) {
    // ISO-8859-1 maps each byte to one char and back; addresses are ASCII.
    String latin = new String(exact, StandardCharsets.ISO_8859_1);
    String replaced = json != null ? body(latin, json) : text(latin);
    return replaced.equals(latin) ? exact : replaced.getBytes(StandardCharsets.ISO_8859_1);
  }

  /** The anonymized form of an address value, or null when the value is not an address. */
  private static String anonymized(String value) {
    if (value == null || value.isEmpty()) {
      return null;
    }
    String a = IpAnonymizer.anonymize(value.trim());
    return a == null || a.equals(value) ? null : a;
  }

  private static String decode(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
