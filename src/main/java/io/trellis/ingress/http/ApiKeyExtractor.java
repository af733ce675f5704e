package io.trellis.ingress.http;

import io.trellis.ingress.capture.RequestData;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Finds the API key of a request: {@code Authorization: Bearer KEY}, {@code Authorization: Basic}
 * with the key as user name (as Segment-style SDKs send it), {@code X-Api-Key}, or the {@code
 * api_key} query parameter for pixels and links.
 */
final class ApiKeyExtractor {
  private ApiKeyExtractor() {}

  /** The key, or null when the request carries none. */
  static String extract(RequestData req) {
    String auth = req.header("authorization");
    if (auth != null) {
      String a = auth.trim();
      if (a.regionMatches(true, 0, "Bearer ", 0, 7)) {
        return emptyToNull(a.substring(7).trim());
      }
      if (a.regionMatches(true, 0, "Basic ", 0, 6)) {
        try {
          String decoded =
              new String(Base64.getDecoder().decode(a.substring(6).trim()), StandardCharsets.UTF_8);
          int colon = decoded.indexOf(':');
          return emptyToNull(colon < 0 ? decoded : decoded.substring(0, colon));
        } catch (IllegalArgumentException e) {
          return null;
        }
      }
    }
    String header = req.header("x-api-key");
    if (header != null) {
      return emptyToNull(header.trim());
    }
    return emptyToNull(req.param("api_key"));
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }
}
