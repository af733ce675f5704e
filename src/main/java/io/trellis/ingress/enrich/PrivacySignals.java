package io.trellis.ingress.enrich;

/**
 * The privacy preference the browser sent with the request: {@code gpc} for Global Privacy Control
 * ({@code Sec-GPC: 1}), {@code dnt} for Do Not Track ({@code DNT: 1}), {@code gpc,dnt} for both,
 * empty for neither. The service stores the event either way (the site decides what the signal
 * means for it); this column lets queries honour it. Stateless.
 */
final class PrivacySignals {
  private PrivacySignals() {}

  static String of(EventFields f) {
    boolean gpc = "1".equals(trim(f.header(EventFields.Header.SEC_GPC)));
    boolean dnt = "1".equals(trim(f.header(EventFields.Header.DNT)));
    return gpc && dnt ? "gpc,dnt" : gpc ? "gpc" : dnt ? "dnt" : "";
  }

  private static String trim(String s) {
    return s == null ? null : s.trim();
  }
}
