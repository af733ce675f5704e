package io.trellis.ingress.enrich;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class EventFieldsHostTest {
  /** What {@code java.net.URI} makes of a well-formed URL, as referrer classes were read. */
  private static String byUri(String url) {
    String h = URI.create(url.trim().replace(" ", "%20")).getHost();
    if (h == null) {
      return null;
    }
    h = h.toLowerCase(Locale.ROOT);
    h = h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
    return h.isEmpty() ? null : h.startsWith("www.") ? h.substring(4) : h;
  }

  @Test
  void wellFormedUrlsGiveTheHostJavaNetUriGives() {
    List<String> urls =
        List.of(
            "https://www.google.com/",
            "https://www.google.com/search?q=shoes&oq=shoes",
            "http://Shop.Example.COM:8080/p?x=1#top",
            "https://user:secret@mail.example.org/inbox",
            "https://user@t.co",
            "https://l.facebook.com/l.php?u=https%3A%2F%2Fshop.example%2F",
            "http://[2001:db8::1]:8080/x",
            "https://[::1]/",
            "https://example.com.",
            "  https://www.bing.com/search?q=a  ",
            "android-app://com.google.android.gm/",
            "https://duckduckgo.com?q=a@b",
            "https://news.ycombinator.com#x@y",
            "http://192.168.1.10/admin",
            "//cdn.example.net/lib.js");
    for (String u : urls) {
      assertThat(EventFields.host(u)).as(u).isEqualTo(byUri(u)).isNotNull();
    }
  }

  @Test
  void urlsJavaNetUriRefusesAreCutByHand() {
    assertThat(EventFields.host("https://my_host.example.com/a b"))
        .isEqualTo("my_host.example.com");
    assertThat(EventFields.host("http://ex%41mple.com/%zz")).isEqualTo("ex%41mple.com");
    assertThat(EventFields.host("https://user:pw@under_score.io:443/")).isEqualTo("under_score.io");
  }

  @Test
  void textWithoutAnAuthorityHasNoHost() {
    assertThat(EventFields.host(null)).isNull();
    assertThat(EventFields.host("")).isNull();
    assertThat(EventFields.host("google.com")).isNull();
    assertThat(EventFields.host("mailto:a@b.c")).isNull();
    assertThat(EventFields.host("https://")).isNull();
    assertThat(EventFields.host("https:///path")).isNull();
  }
}
