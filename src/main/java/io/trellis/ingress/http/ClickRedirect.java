package io.trellis.ingress.http;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;

/**
 * The target check of {@code GET /r?u=URL}: only absolute http(s) URLs whose host is on the
 * allow-list are followed, so the service is never an open redirect. Immutable.
 */
final class ClickRedirect {
  /** The query parameter that carries the target. */
  static final String TARGET = "u";

  private final List<String> hosts;

  ClickRedirect(ClientConfig config) {
    this.hosts = config.redirectHosts();
  }

  /** The Location to answer with, or the error when the target may not be followed. */
  sealed interface Verdict {}

  record Follow(String location) implements Verdict {}

  record Refuse(HttpError error) implements Verdict {}

  Verdict check(String target) {
    if (target == null || target.isBlank()) {
      return refuse("missing_target", "give the target URL in the u query parameter");
    }
    URI uri;
    try {
      uri = new URI(target.trim());
    } catch (URISyntaxException e) {
      return refuse("invalid_target", "the target is not a valid URL");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      return refuse("invalid_target", "the target must be an absolute http or https URL");
    }
    if (uri.getRawUserInfo() != null) {
      return refuse("invalid_target", "the target may not carry user information");
    }
    String host = uri.getHost();
    if (host == null || host.isEmpty()) {
      return refuse("invalid_target", "the target has no host");
    }
    if (!allowed(host)) {
      return refuse(
          "redirect_not_allowed",
          "the target's host " + host + " is not on the redirect allow-list");
    }
    return new Follow(uri.toASCIIString());
  }

  boolean allowed(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    if (h.endsWith(".")) {
      h = h.substring(0, h.length() - 1);
    }
    for (String a : hosts) {
      if (a.startsWith("*.")) {
        String suffix = a.substring(1);
        if (h.endsWith(suffix) && h.length() > suffix.length()) {
          return true;
        }
      } else if (a.equals(h)) {
        return true;
      }
    }
    return false;
  }

  private static Refuse refuse(String code, String message) {
    return new Refuse(new HttpError(400, code, message));
  }

  @Override
  public String toString() {
    return "ClickRedirect{allowed=" + hosts + "}";
  }
}
