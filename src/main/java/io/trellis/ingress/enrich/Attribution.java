package io.trellis.ingress.enrich;

import io.trellis.ingress.capture.UrlEncoding;
import io.trellis.ingress.event.EventField;

/**
 * {@code term} and {@code content}, beside the {@code source}, {@code medium} and {@code campaign}
 * the capture step extracts, from the same places in the same order: {@code utm_term}/{@code term}
 * (and {@code utm_content}/{@code content}) in the body, then in the query, then Segment's and
 * RudderStack's {@code context.campaign}, then the query of the page URL. Thread-safe: the last
 * page URL read is kept per thread.
 */
final class Attribution {
  record Terms(String term, String content) {}

  private static final EventField[] TERM = {EventField.UTM_TERM, EventField.TERM};
  private static final EventField[] CONTENT = {EventField.UTM_CONTENT, EventField.CONTENT};
  private static final String UTM_TERM = "utm_term";
  private static final String UTM_CONTENT = "utm_content";

  /* The capture step's limit on a query's parameters (UrlEncoding.params), for the page URL's. */
  private static final int MAX_PARAMS = 1000;

  private Attribution() {}

  static Terms of(EventFields f) {
    String term = sent(f, TERM, EventField.CAMPAIGN_TERM);
    String content = sent(f, CONTENT, EventField.CAMPAIGN_CONTENT);
    if (term == null || content == null) {
      String[] page = pageParams(f.pageUrl());
      term = term == null ? page[0] : term;
      content = content == null ? page[1] : content;
    }
    return new Terms(orEmpty(term), orEmpty(content));
  }

  private static String sent(EventFields f, EventField[] names, EventField campaign) {
    String v = f.first(names);
    return v != null ? v : f.body(campaign);
  }

  /**
   * The first non-empty {@code utm_term} and {@code utm_content} of the page URL's query, in one
   * pass that decodes only the parts whose name can be one of them; what {@link UrlEncoding#params}
   * and a search of its list give. The array is shared: read it, do not change it.
   */
  private static String[] pageParams(String url) {
    LastPage last = LAST_PAGE.get();
    if (url != null && url.equals(last.url)) {
      return last.params;
    }
    String[] found = params(url);
    last.url = url;
    last.params = found;
    return found;
  }

  /*
   * The page URL read last on this thread and its two values: a page's events (a batch from one
   * page, a session's hits) name the same page one after another.
   */
  private static final ThreadLocal<LastPage> LAST_PAGE = ThreadLocal.withInitial(LastPage::new);

  private static final class LastPage {
    private String url;
    private String[] params;
  }

  /** {@link #pageParams} of a URL not read last on this thread. */
  private static String[] params(String url) {
    String[] found = new String[2];
    int q = url == null ? -1 : url.indexOf('?');
    if (q < 0) {
      return found;
    }
    int hash = url.indexOf('#', q);
    int end = hash < 0 ? url.length() : hash;
    int parts = 0;
    for (int start = q + 1; start < end && parts <= MAX_PARAMS; ) {
      int amp = url.indexOf('&', start);
      int partEnd = amp < 0 || amp > end ? end : amp;
      if (partEnd > start) {
        parts++;
        int eq = url.indexOf('=', start);
        int nameEnd = eq < 0 || eq > partEnd ? partEnd : eq;
        int which = which(url, start, nameEnd);
        if (which >= 0 && found[which] == null && nameEnd < partEnd) {
          String v = UrlEncoding.decode(url, nameEnd + 1, partEnd);
          found[which] = v.isEmpty() ? null : v;
        }
      }
      start = partEnd + 1;
    }
    return found;
  }

  /** 0 for a name that decodes to {@code utm_term}, 1 for {@code utm_content}, else -1. */
  private static int which(String s, int start, int end) {
    int len = end - start;
    if (len == UTM_TERM.length() && s.startsWith(UTM_TERM, start)) {
      return 0;
    }
    if (len == UTM_CONTENT.length() && s.startsWith(UTM_CONTENT, start)) {
      return 1;
    }
    if (!needsDecoding(s, start, end)) {
      return -1;
    }
    String name = UrlEncoding.decode(s, start, end);
    return name.equals(UTM_TERM) ? 0 : name.equals(UTM_CONTENT) ? 1 : -1;
  }

  private static boolean needsDecoding(String s, int start, int end) {
    for (int i = start; i < end; i++) {
      char c = s.charAt(i);
      if (c == '%' || c == '+') {
        return true;
      }
    }
    return false;
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }
}
