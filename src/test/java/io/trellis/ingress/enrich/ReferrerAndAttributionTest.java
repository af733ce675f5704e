package io.trellis.ingress.enrich;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.ingress.capture.Endpoint;
import io.trellis.ingress.event.Enrichment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** term, content and referrer_class from the places browsers and SDKs put them. */
class ReferrerAndAttributionTest {
  private static final long NOW = 1_796_403_600_000L;
  private static Enricher enricher;

  @BeforeAll
  static void open() throws IOException {
    enricher = Enricher.open(EnrichConfig.defaults());
  }

  private static Enrichment tracker(String page, String referrer) {
    String body =
        "{\"event\":\"pageview\",\"url\":\""
            + page
            + "\",\"referrer\":\""
            + referrer
            + "\",\"visitor_id\":\"v\"}";
    return enricher.enrich(
        Captured.post(Endpoint.EVENTS, body, NOW, "Referer", referrer.isEmpty() ? "" : referrer));
  }

  @Test
  void termAndContentFromThePageUrl() {
    Enrichment e =
        tracker(
            "https://shop.example/sale?utm_source=google&utm_medium=cpc&utm_campaign=spring"
                + "&utm_term=running+shoes&utm_content=ad%202",
            "https://www.google.com/");

    assertThat(e.term()).isEqualTo("running shoes");
    assertThat(e.content()).isEqualTo("ad 2");
    assertThat(e.referrerClass()).isEqualTo("paid");
  }

  @Test
  void termAndContentFromSegmentsContextCampaign() {
    String body =
        "{\"type\":\"page\",\"anonymousId\":\"a\",\"context\":{\"campaign\":{\"name\":\"spring\","
            + "\"source\":\"newsletter\",\"medium\":\"email\",\"term\":\"shoes\","
            + "\"content\":\"hero\"},\"page\":{\"url\":\"https://shop.example/\"}}}";
    Enrichment e = enricher.enrich(Captured.post(Endpoint.SEGMENT_PAGE, body, NOW));

    assertThat(e.term()).isEqualTo("shoes");
    assertThat(e.content()).isEqualTo("hero");
    assertThat(e.referrerClass()).isEqualTo("email");
  }

  @Test
  void referrerHostsAreClassified() {
    String page = "https://shop.example/p/1";
    assertThat(tracker(page, "https://www.google.co.uk/").referrerClass()).isEqualTo("search");
    assertThat(tracker(page, "https://duckduckgo.com/").referrerClass()).isEqualTo("search");
    assertThat(tracker(page, "https://t.co/xYz").referrerClass()).isEqualTo("social");
    assertThat(tracker(page, "https://l.facebook.com/l.php?u=x").referrerClass())
        .isEqualTo("social");
    assertThat(tracker(page, "https://mail.google.com/mail/u/0/").referrerClass())
        .isEqualTo("email");
    assertThat(tracker(page, "https://shop.example/cart").referrerClass()).isEqualTo("internal");
    assertThat(tracker(page, "https://blog.other.example/post").referrerClass()).isEqualTo("other");
    assertThat(tracker(page, "").referrerClass()).isEqualTo("direct");
  }

  @Test
  void theTrackersReportedReferrerWinsOverItsRefererHeaderWhichIsThePageItself() {
    String body =
        "{\"event\":\"pageview\",\"url\":\"https://shop.example/p/1\","
            + "\"referrer\":\"https://duckduckgo.com/\",\"visitor_id\":\"v\"}";
    Enrichment e =
        enricher.enrich(
            Captured.post(Endpoint.EVENTS, body, NOW, "Referer", "https://shop.example/p/1"));

    assertThat(e.referrerClass()).isEqualTo("search");
  }

  @Test
  void anAdClickIdMakesTheVisitPaidWhateverTheReferrer() {
    Enrichment e = tracker("https://shop.example/?gclid=Cj0KCQiA", "https://www.google.com/");

    assertThat(e.referrerClass()).isEqualTo("paid");
  }

  @Test
  void anEmailPixelWithoutReferrerIsEmailByItsMedium() {
    Enrichment e =
        enricher.enrich(
            Captured.get(
                Endpoint.PIXEL,
                "event=open&utm_source=newsletter&utm_medium=email&utm_campaign=n12",
                NOW,
                "203.0.113.9"));

    assertThat(e.referrerClass()).isEqualTo("email");
  }

  @Test
  void theListsAreADataFileThatCanBeReplaced(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("referrers.txt");
    Files.writeString(file, "# ours\nsearch shop-search.example\nsocial other.example\n");
    EnrichConfig d = EnrichConfig.defaults();
    EnrichConfig custom =
        new EnrichConfig(
            true,
            d.userAgent(),
            d.userAgentCacheSize(),
            true,
            Optional.of(file.toString()),
            d.geoipDatabases(),
            d.geoipCacheSize(),
            d.privacySignal(),
            d.maxFuture(),
            d.maxPast());

    try (Enricher ours = Enricher.open(custom)) {
      Enrichment e =
          ours.enrich(
              Captured.post(
                  Endpoint.EVENTS,
                  "{\"event\":\"pageview\",\"url\":\"https://shop.example/\"}",
                  NOW,
                  "Referer",
                  "https://blog.other.example/post"));
      assertThat(e.referrerClass()).isEqualTo("social");
    }
    Files.writeString(file, "searhc typo.example\n");
    assertThatThrownBy(() -> Enricher.open(custom))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("line 1")
        .hasMessageContaining("searhc");
  }

  @Test
  void theBuiltInListNamesTheBigEngines() {
    assertThat(Referrers.builtIn().hosts())
        .contains("google.*", "bing.com", "t.co", "mail.google.com", "linkedin.com");
  }
}
