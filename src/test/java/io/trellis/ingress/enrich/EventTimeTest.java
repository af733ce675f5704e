package io.trellis.ingress.enrich;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.capture.Endpoint;
import io.trellis.ingress.capture.JsonFields;
import io.trellis.ingress.capture.RequestData;
import io.trellis.ingress.event.Enrichment;
import io.trellis.ingress.event.TrafficEvent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** client_timestamp, sent_at and event_time from real SDK payloads. */
class EventTimeTest {
  private static final long RECEIVED = Instant.parse("2026-12-04T17:00:00.000Z").toEpochMilli();
  private static Enricher enricher;

  @BeforeAll
  static void open() throws IOException {
    enricher = Enricher.open(EnrichConfig.defaults());
  }

  private static long at(String iso) {
    return Instant.parse(iso).toEpochMilli();
  }

  @Test
  void aDeviceClockAnHourSlowIsCorrectedBySegmentsRule() {
    // RudderStack's message: the phone's clock is 1 h 0 min 7 s behind; the event happened 5 s
    // before the queue was flushed.
    String body =
        "{\"type\":\"track\",\"event\":\"Order Completed\",\"anonymousId\":\"a1\","
            + "\"originalTimestamp\":\"2026-12-04T15:59:48.000Z\","
            + "\"sentAt\":\"2026-12-04T15:59:53.000Z\"}";
    Enrichment e = enricher.enrich(Captured.post(Endpoint.SEGMENT_TRACK, body, RECEIVED));

    assertThat(e.clientTimestamp()).isEqualTo(at("2026-12-04T15:59:48.000Z"));
    assertThat(e.sentAt()).isEqualTo(at("2026-12-04T15:59:53.000Z"));
    assertThat(e.eventTime()).isEqualTo(at("2026-12-04T16:59:55.000Z"));
    assertThat(e.eventTimeSource()).isEqualTo("skew_corrected");
  }

  @Test
  void aClockAheadIsCorrectedTooAndOffsetsAreUnderstood() {
    // trellis.js: sent_at, and a client time with an offset, 3 minutes ahead of the service.
    String body =
        "{\"event\":\"pageview\",\"visitor_id\":\"v\",\"timestamp\":\"2026-12-04T18:02:30+01:00\","
            + "\"sent_at\":\"2026-12-04T17:03:00.000Z\"}";
    Enrichment e = enricher.enrich(Captured.post(Endpoint.EVENTS, body, RECEIVED));

    assertThat(e.eventTime()).isEqualTo(at("2026-12-04T16:59:30.000Z"));
    assertThat(e.eventTimeSource()).isEqualTo("skew_corrected");
  }

  @Test
  void aBatchEnvelopesSendTimeCorrectsItsEventsClocks() {
    // analytics-node's /v1/batch: sentAt only on the envelope, which the capture keeps with each
    // event among its query parameters; the item carries its own timestamp.
    String item =
        "{\"type\":\"track\",\"event\":\"Signed Up\",\"userId\":\"u1\","
            + "\"timestamp\":\"2026-12-04T15:59:40.000Z\"}";
    RequestData req =
        new RequestData(
            "POST",
            "http://in.example/v1/batch",
            List.of(),
            List.of(Map.entry("sentAt", "2026-12-04T15:59:50.000Z")),
            "203.0.113.9",
            RECEIVED);
    TrafficEvent captured =
        Captured.CAPTURE.event(
            Captured.CAPTURE.request(req, null),
            "acme",
            Endpoint.SEGMENT_BATCH,
            item,
            JsonFields.parse(item.getBytes(StandardCharsets.UTF_8)));

    Enrichment e = enricher.enrich(captured);

    assertThat(e.sentAt()).isEqualTo(at("2026-12-04T15:59:50.000Z"));
    assertThat(e.eventTime()).isEqualTo(at("2026-12-04T16:59:50.000Z"));
    assertThat(e.eventTimeSource()).isEqualTo("skew_corrected");
  }

  @Test
  void withoutASendTimeTheClientTimeIsTakenAsItIs() {
    String body = "{\"event\":\"signup\",\"timestamp\":\"2026-12-04T16:40:00.000Z\"}";
    Enrichment e = enricher.enrich(Captured.post(Endpoint.EVENTS, body, RECEIVED));

    assertThat(e.eventTime()).isEqualTo(at("2026-12-04T16:40:00.000Z"));
    assertThat(e.sentAt()).isEqualTo(Enrichment.NO_TIME);
    assertThat(e.eventTimeSource()).isEqualTo("client");
  }

  @Test
  void withoutAClientTimeTheEventTimeIsTheReceiptTime() {
    Enrichment e = enricher.enrich(Captured.post(Endpoint.EVENTS, "{\"event\":\"x\"}", RECEIVED));

    assertThat(e.clientTimestamp()).isEqualTo(Enrichment.NO_TIME);
    assertThat(e.eventTime()).isEqualTo(RECEIVED);
    assertThat(e.eventTimeSource()).isEqualTo("received");
  }

  @Test
  void pixelTimesInEpochSecondsAndMillisecondsAreRead() {
    TrafficEvent seconds =
        Captured.get(Endpoint.PIXEL, "event=open&ts=1764867590", RECEIVED, "203.0.113.9");
    TrafficEvent millis =
        Captured.get(
            Endpoint.SNOWPLOW_PIXEL,
            "e=pv&dtm=1764867590250&stm=1764867595250",
            RECEIVED,
            "203.0.113.9");

    assertThat(enricher.enrich(seconds).clientTimestamp()).isEqualTo(1_764_867_590_000L);
    Enrichment snowplow = enricher.enrich(millis);
    assertThat(snowplow.clientTimestamp()).isEqualTo(1_764_867_590_250L);
    assertThat(snowplow.sentAt()).isEqualTo(1_764_867_595_250L);
    assertThat(snowplow.eventTime()).isEqualTo(RECEIVED - 5_000);
  }

  @Test
  void epochSecondsWithAFractionAsAJsonNumberAreRead() {
    // Python's time.time(): a JSON number, not a string, read back from the body as 1.7…E9.
    String body = "{\"event\":\"x\",\"timestamp\":1796403590.25,\"sent_at\":1796403595.5}";
    Enrichment e = enricher.enrich(Captured.post(Endpoint.EVENTS, body, RECEIVED));

    assertThat(e.clientTimestamp()).isEqualTo(1_796_403_590_250L);
    assertThat(e.sentAt()).isEqualTo(1_796_403_595_500L);
    assertThat(e.eventTime()).isEqualTo(RECEIVED - 5_250);
    assertThat(EventTimes.time("1.76486759025E9")).isEqualTo(1_764_867_590_250L);
    assertThat(EventTimes.time("1.7E")).isEqualTo(EventTimes.NONE);
    assertThat(EventTimes.time("1.7E5E5")).isEqualTo(EventTimes.NONE);
    assertThat(EventTimes.time("1e9")).isEqualTo(EventTimes.NONE);
  }

  @Test
  void aTimeInTheFutureIsKeptAsTheClientsButNotUsedAndFlagged() {
    String body = "{\"event\":\"x\",\"timestamp\":\"2027-03-01T00:00:00.000Z\"}";
    Enrichment e = enricher.enrich(Captured.post(Endpoint.EVENTS, body, RECEIVED));

    assertThat(e.clientTimestamp()).isEqualTo(at("2027-03-01T00:00:00.000Z"));
    assertThat(e.eventTime()).isEqualTo(RECEIVED);
    assertThat(e.eventTimeSource()).isEqualTo("out_of_bounds");
  }

  @Test
  void theBoundsAreSettings() throws IOException {
    String body = "{\"event\":\"x\",\"timestamp\":\"2026-12-01T17:00:00.000Z\"}";
    TrafficEvent threeDaysOld = Captured.post(Endpoint.EVENTS, body, RECEIVED);
    EnrichConfig d = EnrichConfig.defaults();
    EnrichConfig oneDay =
        new EnrichConfig(
            true,
            d.userAgent(),
            d.userAgentCacheSize(),
            d.referrer(),
            d.referrerFile(),
            d.geoipDatabases(),
            d.geoipCacheSize(),
            d.privacySignal(),
            Duration.ofMinutes(1),
            Duration.ofDays(1));

    assertThat(enricher.enrich(threeDaysOld).eventTimeSource()).isEqualTo("client");
    try (Enricher strict = Enricher.open(oneDay)) {
      assertThat(strict.enrich(threeDaysOld).eventTimeSource()).isEqualTo("out_of_bounds");
    }
  }

  @Test
  void somethingThatIsNotATimeIsNoTime() {
    assertThat(EventTimes.time("pageview")).isEqualTo(EventTimes.NONE);
    assertThat(EventTimes.time("2026-13-45T99:00:00Z")).isEqualTo(EventTimes.NONE);
    assertThat(EventTimes.time("2026-12-04 17:00:00")).isEqualTo(RECEIVED);
  }
}
