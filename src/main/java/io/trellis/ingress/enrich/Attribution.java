package io.trellis.ingress.enrich;

import io.trellis.ingress.capture.UrlEncoding;
import java.util.List;
import java.util.Map;

/**
 * {@code term} and {@code content}, beside the {@code source}, {@code medium} and {@code campaign}
 * the capture step extracts, from the same places in the same order: {@code utm_term}/{@code term}
 * (and {@code utm_content}/{@code content}) in the body, then in the query, then Segment's and
 * RudderStack's {@code context.campaign}, then the query of the page URL. Stateless.
 */
final class Attribution {
  record Terms(String term, String content) {}

  private Attribution() {}

  static Terms of(EventFields f) {
    return new Terms(value(f, "utm_term", "term"), value(f, "utm_content", "content"));
  }

  private static String value(EventFields f, String utm, String plain) {
    String v = f.first(utm, plain);
    if (v == null) {
      v = f.bodyPath("context.campaign." + plain);
    }
    if (v == null) {
      v = pageParam(f.pageUrl(), utm);
    }
    return v == null ? "" : v;
  }

  private static String pageParam(String url, String name) {
    if (url == null) {
      return null;
    }
    int q = url.indexOf('?');
    if (q < 0) {
      return null;
    }
    int hash = url.indexOf('#', q);
    int end = hash < 0 ? url.length() : hash;
    List<Map.Entry<String, String>> params = UrlEncoding.params(url, q + 1, end, 1000);
    for (Map.Entry<String, String> p : params) {
      if (p.getKey().equals(name) && !p.getValue().isEmpty()) {
        return p.getValue();
      }
    }
    return null;
  }
}
