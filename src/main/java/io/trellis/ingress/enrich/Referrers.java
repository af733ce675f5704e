package io.trellis.ingress.enrich;

import static java.util.Objects.requireNonNull;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Classifies where a visit came from: {@code paid}, {@code email}, {@code social}, {@code search},
 * {@code internal}, {@code direct} or {@code other} (a site not in the lists). The host and medium
 * lists are a data file ({@code referrers.txt} in this package, or the operator's copy named by
 * {@code enrich.referrer.file}), so they are updated without a release. Thread-safe (immutable).
 *
 * <p>The order decides: a click id (the ad platforms' {@code gclid}, {@code fbclid}, … in the
 * {@code click_id} column) or a paid {@code utm_medium} is {@code paid}; an email or social medium
 * is that; with no referrer the visit is {@code direct}; a referrer on the page's own host is
 * {@code internal}; then the host lists; anything else is {@code other}.
 */
final class Referrers {
  static final String PAID = "paid";
  static final String EMAIL = "email";
  static final String SOCIAL = "social";
  static final String SEARCH = "search";
  static final String INTERNAL = "internal";
  static final String DIRECT = "direct";
  static final String OTHER = "other";

  private final Map<String, String> hostClass;
  private final Map<String, String> anyTldClass;
  private final Map<String, String> mediumClass;

  private Referrers(
      Map<String, String> hostClass,
      Map<String, String> anyTldClass,
      Map<String, String> mediumClass) {
    this.hostClass = Map.copyOf(hostClass);
    this.anyTldClass = Map.copyOf(anyTldClass);
    this.mediumClass = Map.copyOf(mediumClass);
  }

  /** The lists shipped with the service. */
  static Referrers builtIn() {
    try (InputStream in = Referrers.class.getResourceAsStream("referrers.txt")) {
      return parse(
          new String(requireNonNull(in, "referrers.txt").readAllBytes(), UTF8), "built-in");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The lists of an operator's file (same format as the built-in one). */
  static Referrers load(Path file) throws IOException {
    return parse(Files.readString(file, UTF8), file.toString());
  }

  private static final java.nio.charset.Charset UTF8 = StandardCharsets.UTF_8;
  private static final Set<String> CLASSES = Set.of(SEARCH, SOCIAL, EMAIL);
  private static final Set<String> MEDIUM_CLASSES = Set.of(PAID, EMAIL, SOCIAL);

  static Referrers parse(String text, String origin) {
    Map<String, String> hosts = new HashMap<>();
    Map<String, String> anyTld = new HashMap<>();
    Map<String, String> mediums = new HashMap<>();
    int lineNo = 0;
    try (BufferedReader r = new BufferedReader(new java.io.StringReader(text))) {
      for (String line; (line = r.readLine()) != null; ) {
        lineNo++;
        String t = line.strip();
        if (t.isEmpty() || t.startsWith("#")) {
          continue;
        }
        String[] words = t.toLowerCase(Locale.ROOT).split("\\s+");
        String kind = words[0];
        for (int i = 1; i < words.length; i++) {
          String w = words[i];
          if (kind.endsWith("-medium")
              && MEDIUM_CLASSES.contains(kind.substring(0, kind.length() - 7))) {
            mediums.put(w, kind.substring(0, kind.length() - 7));
          } else if (CLASSES.contains(kind)) {
            String host = w.startsWith("www.") ? w.substring(4) : w;
            if (host.endsWith(".*")) {
              anyTld.put(host.substring(0, host.length() - 2), kind);
            } else {
              hosts.put(host, kind);
            }
          } else {
            throw new IllegalArgumentException(
                origin + " line " + lineNo + ": unknown class '" + words[0] + "'");
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Referrers(hosts, anyTld, mediums);
  }

  /**
   * The class of a visit.
   *
   * @param referrerHost the referrer's host (lower case, no {@code www.}), or null when none
   * @param pageHost the host of the page the event happened on, or null when unknown
   * @param clickId the event's click id, empty when none
   * @param medium the event's {@code utm_medium}, empty when none
   */
  String classify(String referrerHost, String pageHost, String clickId, String medium) {
    String c = byCampaign(clickId, medium);
    return c != null ? c : byHosts(referrerHost, pageHost);
  }

  /**
   * The class a click id or a listed {@code utm_medium} gives, which {@link #classify} answers
   * before it looks at any host; null when neither gives one.
   */
  String byCampaign(String clickId, String medium) {
    if (!clickId.isEmpty()) {
      return PAID;
    }
    return medium.isEmpty() ? null : mediumClass.get(medium.toLowerCase(Locale.ROOT));
  }

  /** {@link #classify} of a visit that {@link #byCampaign} does not class. */
  String byHosts(String referrerHost, String pageHost) {
    if (referrerHost == null) {
      return DIRECT;
    }
    if (referrerHost.equals(pageHost)) {
      return INTERNAL;
    }
    String c = hostClass(referrerHost);
    return c != null ? c : OTHER;
  }

  /** The class of a host or of its closest listed parent domain; null when unlisted. */
  String hostClass(String host) {
    for (String h = host; ; ) {
      String c = hostClass.get(h);
      if (c != null) {
        return c;
      }
      int dot = h.indexOf('.');
      if (dot < 0) {
        break;
      }
      h = h.substring(dot + 1);
    }
    // NAME.*: NAME followed by one or two labels (google.com, google.co.uk, news.google.de).
    String[] labels = host.split("\\.");
    for (int i = 0; i < labels.length - 1; i++) {
      String c = anyTldClass.get(labels[i]);
      if (c != null && labels.length - i - 1 <= 2) {
        return c;
      }
    }
    return null;
  }

  /** Every host the lists name, for tests and the documentation. */
  Set<String> hosts() {
    Set<String> all = new HashSet<>(hostClass.keySet());
    anyTldClass.keySet().forEach(n -> all.add(n + ".*"));
    return all;
  }
}
