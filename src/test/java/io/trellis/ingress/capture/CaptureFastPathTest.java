package io.trellis.ingress.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.base.JsonText;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The request path writes headers and query as JSON without intermediate maps and strips secret
 * parameters from the URL without splitting it. These tests pin that the fast paths give exactly
 * what the straightforward versions give, on many random requests with repeats, mixed case,
 * secrets, escapes and empty parts.
 */
class CaptureFastPathTest {
  private static final String[] HEADER_NAMES = {
    "Host",
    "User-Agent",
    "user-agent",
    "Accept",
    "Cookie",
    "cookie",
    "Authorization",
    "X-Api-Key",
    "x-shop-token",
    "X-Shop-Token",
    "Referer",
    "X-Forwarded-For",
    "Ünïcode",
    "X-Quote\"d",
    "COOKIE",
    "X-API-KEY",
    "X-Back\\slash",
    "X-Tab\tName",
    "X-\u212Aelvin"
  };
  private static final String[] PARAM_NAMES = {
    "api_key",
    "api%5Fkey",
    "api+key",
    "e",
    "dl",
    "utm_source",
    "utm_source",
    "secret",
    "a",
    "",
    "x%"
  };
  private static final String[] VALUES = {
    "v",
    "",
    "a b",
    "quote\"d",
    "back\\slash",
    "line\nbreak",
    "ünï",
    "1,2",
    "; x",
    "%41",
    "\u00ff",
    "漢字",
    "€"
  };

  private final EventCapture capture =
      new EventCapture(new CaptureConfig(List.of(), Set.of("x-shop-token"), Set.of("secret")));

  @Test
  void headersJsonEqualsTheMapBasedJoin() {
    Random r = new Random(42);
    for (int i = 0; i < 5_000; i++) {
      List<Map.Entry<String, String>> headers = new ArrayList<>();
      int n = r.nextInt(12);
      for (int j = 0; j < n; j++) {
        headers.add(Map.entry(pick(r, HEADER_NAMES), pick(r, VALUES)));
      }
      assertThat(capture.headersJson(headers)).isEqualTo(mapped(headers, true));
    }
  }

  @Test
  void queryJsonEqualsTheMapBasedObject() {
    Random r = new Random(7);
    for (int i = 0; i < 5_000; i++) {
      List<Map.Entry<String, String>> query = new ArrayList<>();
      int n = r.nextInt(12);
      for (int j = 0; j < n; j++) {
        query.add(Map.entry(pick(r, PARAM_NAMES), pick(r, VALUES)));
      }
      assertThat(capture.queryJson(query)).isEqualTo(mapped(query, false));
    }
  }

  @Test
  void longHeadersGiveTheSameResultAsTheyGrowTheThreadsBuffer() {
    for (int length : new int[] {900, 1_100, 5_000, 70_000}) {
      List<Map.Entry<String, String>> headers =
          List.of(
              Map.entry("Host", "h.example"),
              Map.entry("X-Long", "é".repeat(length)),
              Map.entry("Authorization", "Bearer secret"),
              Map.entry("Referer", "https://h.example/" + "a".repeat(length)));
      assertThat(capture.headersJson(headers)).isEqualTo(mapped(headers, true));
      // The short head after a long one on the same thread.
      List<Map.Entry<String, String>> small = List.of(Map.entry("Host", "h.example"));
      assertThat(capture.headersJson(small)).isEqualTo(mapped(small, true));
    }
  }

  @Test
  void manyHeadersTakeTheMapBasedPathWithTheSameResult() {
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      headers.add(Map.entry("X-H" + (i % 37), "v" + i));
    }
    headers.add(Map.entry("Authorization", "Bearer secret"));
    assertThat(capture.headersJson(headers)).isEqualTo(mapped(headers, true));
    assertThat(capture.queryJson(headers)).isEqualTo(mapped(headers, false));
  }

  @Test
  void withoutParamsEqualsSplittingTheQuery() {
    Random r = new Random(3);
    Set<String> names = Set.of("api_key", "secret");
    for (int i = 0; i < 20_000; i++) {
      StringBuilder url = new StringBuilder("https://h.example/p");
      if (r.nextInt(10) > 0) {
        url.append('?');
        int n = r.nextInt(6);
        for (int j = 0; j < n; j++) {
          if (j > 0 || r.nextInt(5) == 0) {
            url.append('&');
          }
          String name = pick(r, PARAM_NAMES);
          url.append(name);
          if (r.nextBoolean()) {
            url.append('=').append(r.nextInt(100));
          }
        }
      }
      if (r.nextInt(4) == 0) {
        url.append("#frag&api_key=x");
      }
      String u = url.toString();
      assertThat(EventCapture.withoutParams(u, names)).as(u).isEqualTo(splitting(u, names));
    }
  }

  @Test
  void withoutParamsKeepsAnUntouchedUrlAsTheSameString() {
    String url = "https://h.example/pixel?e=pageview&dl=https%3A%2F%2Fx&z=1";
    assertThat(EventCapture.withoutParams(url, Set.of("api_key"))).isSameAs(url);
  }

  private static String pick(Random r, String[] from) {
    return from[r.nextInt(from.length)];
  }

  /** The straightforward version: group in maps, join, then write the object. */
  private static String mapped(List<Map.Entry<String, String>> entries, boolean headers) {
    Set<String> secret =
        headers
            ? Set.of("authorization", "proxy-authorization", "x-api-key", "x-shop-token")
            : Set.of("api_key", "secret");
    java.util.LinkedHashMap<String, List<String>> byName = new java.util.LinkedHashMap<>();
    for (Map.Entry<String, String> e : entries) {
      String name = headers ? e.getKey().toLowerCase(java.util.Locale.ROOT) : e.getKey();
      if (!secret.contains(name)) {
        byName.computeIfAbsent(name, k -> new ArrayList<>()).add(e.getValue());
      }
    }
    if (headers) {
      byName.replaceAll(
          (name, values) -> List.of(String.join(name.equals("cookie") ? "; " : ", ", values)));
    }
    return JsonText.object(byName);
  }

  /** The straightforward version of withoutParams: split on '&', decode each name, rejoin. */
  private static String splitting(String url, Set<String> names) {
    int q = url.indexOf('?');
    if (q < 0) {
      return url;
    }
    int hash = url.indexOf('#', q);
    String query = hash < 0 ? url.substring(q + 1) : url.substring(q + 1, hash);
    StringBuilder kept = new StringBuilder();
    boolean removed = false;
    for (String part : query.split("&", -1)) {
      int eq = part.indexOf('=');
      String raw = eq < 0 ? part : part.substring(0, eq);
      String name;
      try {
        name = URLDecoder.decode(raw, StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        name = raw;
      }
      if (names.contains(name)) {
        removed = true;
        continue;
      }
      if (kept.length() > 0) {
        kept.append('&');
      }
      kept.append(part);
    }
    if (!removed) {
      return url;
    }
    String base = url.substring(0, q);
    String fragment = hash < 0 ? "" : url.substring(hash);
    return kept.length() == 0 ? base + fragment : base + "?" + kept + fragment;
  }
}
