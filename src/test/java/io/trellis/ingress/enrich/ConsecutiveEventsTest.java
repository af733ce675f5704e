package io.trellis.ingress.enrich;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.capture.Endpoint;
import io.trellis.ingress.capture.EventCapture;
import io.trellis.ingress.capture.JsonFields;
import io.trellis.ingress.capture.RequestData;
import io.trellis.ingress.event.Enrichment;
import io.trellis.ingress.event.TrafficEvent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The enricher keeps, per thread, what it read from the last event's headers, query and page URL,
 * which the next event of the same request or page shares. An event must get the columns it gets
 * alone, whatever came before it on the thread.
 */
class ConsecutiveEventsTest {
  private static final long NOW = 1_796_403_600_000L;
  private static Enricher enricher;
  private static ExecutorService alone;

  @BeforeAll
  static void open() throws IOException {
    enricher = Enricher.open(EnrichConfig.defaults());
    alone = Executors.newCachedThreadPool();
  }

  @AfterAll
  static void close() throws IOException {
    alone.shutdownNow();
    enricher.close();
  }

  private static EventCapture.SharedRequest post(String... headers) {
    return Captured.CAPTURE.request(
        new RequestData(
            "POST",
            "http://in.example/batch",
            Captured.pairs(headers),
            List.of(),
            "203.0.113.9",
            NOW),
        null);
  }

  private static EventCapture.SharedRequest get(String query, String... params) {
    return Captured.CAPTURE.request(
        new RequestData(
            "GET",
            "http://in.example/pixel?" + query,
            List.of(),
            Captured.pairs(params),
            "203.0.113.9",
            NOW),
        null);
  }

  private static TrafficEvent event(EventCapture.SharedRequest r, String body) {
    return Captured.CAPTURE.event(
        r,
        "acme",
        Endpoint.BATCH,
        body,
        body.isEmpty() ? null : JsonFields.parse(body.getBytes(StandardCharsets.UTF_8)));
  }

  private static String page(String url, String referrer) {
    return "{\"event\":\"pageview\",\"url\":\"" + url + "\",\"referrer\":\"" + referrer + "\"}";
  }

  /** The event's enrichment on a thread that enriched nothing before it. */
  private static Enrichment enrichedAlone(TrafficEvent e) {
    return CompletableFuture.supplyAsync(() -> enricher.enrich(e), alone).join();
  }

  @Test
  void eachEventInARowGetsTheColumnsItGetsAlone() {
    EventCapture.SharedRequest gpc = post("Sec-GPC", "1", "User-Agent", "Mozilla/5.0");
    EventCapture.SharedRequest dnt = post("DNT", "1", "User-Agent", "Mozilla/5.0");
    EventCapture.SharedRequest sameTextAsGpc = post("Sec-GPC", "1", "User-Agent", "Mozilla/5.0");
    EventCapture.SharedRequest pixelA =
        get("utm_term=from+query&ts=1796403590", "utm_term", "from query", "ts", "1796403590");
    EventCapture.SharedRequest pixelB = get("ts=1796403500", "ts", "1796403500");
    String shoes = "https://shop.example/p?utm_term=shoes&utm_content=hero";
    String boots = "https://shop.example/p?utm_term=boots";
    List<TrafficEvent> row =
        List.of(
            event(gpc, page(shoes, "https://www.google.com/")),
            event(gpc, page(shoes, "https://shop.example/")),
            event(gpc, page(boots, "https://t.co/x")),
            event(dnt, page(boots, "")),
            event(gpc, page(shoes, "https://t.co/x")),
            event(sameTextAsGpc, page(boots, "https://t.co/x")),
            event(pixelA, ""),
            event(pixelB, ""),
            event(pixelA, ""),
            event(dnt, page("https://shop.example/plain", "")),
            event(dnt, page("https://shop.example/plain", "https://duckduckgo.com/")));

    List<Enrichment> inARow = new ArrayList<>();
    for (TrafficEvent e : row) {
      inARow.add(enricher.enrich(e));
    }
    for (int i = 0; i < row.size(); i++) {
      assertThat(inARow.get(i)).as("event %d", i).isEqualTo(enrichedAlone(row.get(i)));
    }
    // The row does vary: what each event carries reaches its columns.
    assertThat(inARow.stream().map(Enrichment::privacySignal))
        .containsExactly("gpc", "gpc", "gpc", "dnt", "gpc", "gpc", "", "", "", "dnt", "dnt");
    assertThat(inARow.stream().map(Enrichment::term))
        .containsExactly(
            "shoes",
            "shoes",
            "boots",
            "boots",
            "shoes",
            "boots",
            "from query",
            "",
            "from query",
            "",
            "");
    assertThat(inARow.stream().map(Enrichment::content))
        .containsExactly("hero", "hero", "", "", "hero", "", "", "", "", "", "");
    assertThat(inARow.stream().map(Enrichment::referrerClass))
        .containsExactly(
            "search",
            "internal",
            "social",
            "direct",
            "social",
            "social",
            "direct",
            "direct",
            "direct",
            "direct",
            "search");
    assertThat(inARow.stream().map(Enrichment::clientTimestamp))
        .containsExactly(
            Enrichment.NO_TIME,
            Enrichment.NO_TIME,
            Enrichment.NO_TIME,
            Enrichment.NO_TIME,
            Enrichment.NO_TIME,
            Enrichment.NO_TIME,
            1_796_403_590_000L,
            1_796_403_500_000L,
            1_796_403_590_000L,
            Enrichment.NO_TIME,
            Enrichment.NO_TIME);
  }

  @Test
  void aClickIdOrAPaidMediumClassesTheVisitWhateverTheReferrer() {
    EventCapture.SharedRequest r = post("User-Agent", "Mozilla/5.0");
    Enrichment clicked =
        enricher.enrich(
            event(r, page("https://shop.example/p?gclid=abc", "https://www.google.com/")));
    Enrichment paidMedium =
        enricher.enrich(event(r, page("https://shop.example/p?utm_medium=cpc", "https://t.co/")));
    Enrichment social = enricher.enrich(event(r, page("https://shop.example/p", "https://t.co/")));

    assertThat(clicked.referrerClass()).isEqualTo("paid");
    assertThat(paidMedium.referrerClass()).isEqualTo("paid");
    assertThat(social.referrerClass()).isEqualTo("social");
  }
}
