package io.trellis.ingress.enrich;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.capture.Endpoint;
import io.trellis.ingress.event.Enrichment;
import java.io.IOException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** user_id and anonymous_id under each SDK's names. */
class IdentitiesTest {
  private static final long NOW = 1_764_867_600_000L;
  private static Enricher enricher;

  @BeforeAll
  static void open() throws IOException {
    enricher = Enricher.open(EnrichConfig.defaults());
  }

  private static Enrichment post(Endpoint endpoint, String body) {
    return enricher.enrich(Captured.post(endpoint, body, NOW));
  }

  @Test
  void segmentAndRudderStackNames() {
    Enrichment e =
        post(
            Endpoint.SEGMENT_TRACK,
            "{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":\"user-42\","
                + "\"anonymousId\":\"5f1c2a7e-anon\",\"context\":{\"library\":{\"name\":"
                + "\"analytics-node-next\"}}}");

    assertThat(e.userId()).isEqualTo("user-42");
    assertThat(e.anonymousId()).isEqualTo("5f1c2a7e-anon");
  }

  @Test
  void theTrackersVisitorAndUser() {
    Enrichment e =
        post(
            Endpoint.EVENTS,
            "{\"event\":\"pageview\",\"visitor_id\":\"0b9e-visitor\",\"user_id\":\"u7\","
                + "\"session_id\":\"s1\",\"lib\":\"trellis.js/1.0.0\"}");

    assertThat(e.userId()).isEqualTo("u7");
    assertThat(e.anonymousId()).isEqualTo("0b9e-visitor");
  }

  @Test
  void postHogsDistinctIdIsAnonymousUntilIdentified() {
    Enrichment anonymous =
        post(
            Endpoint.POSTHOG,
            "{\"event\":\"$pageview\",\"distinct_id\":\"01939f-device\","
                + "\"properties\":{\"$is_identified\":false,\"$device_id\":\"01939f-device\"}}");
    Enrichment identified =
        post(
            Endpoint.POSTHOG,
            "{\"event\":\"purchase\",\"distinct_id\":\"user-42\","
                + "\"properties\":{\"$is_identified\":true,\"$device_id\":\"01939f-device\"}}");
    Enrichment server =
        post(Endpoint.POSTHOG, "{\"event\":\"purchase\",\"distinct_id\":\"user-42\"}");

    assertThat(anonymous.userId()).isEmpty();
    assertThat(anonymous.anonymousId()).isEqualTo("01939f-device");
    assertThat(identified.userId()).isEqualTo("user-42");
    assertThat(identified.anonymousId()).isEqualTo("01939f-device");
    assertThat(server.userId()).isEqualTo("user-42");
  }

  @Test
  void postHogJsSendsDistinctIdAmongTheProperties() {
    // The shape posthog-js 1.449 posts to /e/: distinct_id inside properties, no top-level one.
    Enrichment before =
        post(
            Endpoint.POSTHOG,
            "{\"event\":\"$pageview\",\"properties\":{\"distinct_id\":\"01a2-device\","
                + "\"$device_id\":\"01a2-device\",\"$is_identified\":false}}");
    Enrichment after =
        post(
            Endpoint.POSTHOG,
            "{\"event\":\"$identify\",\"properties\":{\"distinct_id\":\"user-42\","
                + "\"$device_id\":\"01a2-device\",\"$is_identified\":true}}");

    assertThat(before.userId()).isEmpty();
    assertThat(before.anonymousId()).isEqualTo("01a2-device");
    assertThat(after.userId()).isEqualTo("user-42");
    assertThat(after.anonymousId()).isEqualTo("01a2-device");
  }

  @Test
  void snowplowsUidAndDomainUserIdFromAPixel() {
    Enrichment e =
        enricher.enrich(
            Captured.get(
                Endpoint.SNOWPLOW_PIXEL, "e=pv&uid=user-9&duid=duid-123", NOW, "203.0.113.9"));

    assertThat(e.userId()).isEqualTo("user-9");
    assertThat(e.anonymousId()).isEqualTo("duid-123");
  }

  @Test
  void aPixelsQueryParameters() {
    Enrichment e =
        enricher.enrich(
            Captured.get(
                Endpoint.PIXEL, "event=open&uid=sub-77&anonymous_id=a-1", NOW, "203.0.113.9"));

    assertThat(e.userId()).isEqualTo("sub-77");
    assertThat(e.anonymousId()).isEqualTo("a-1");
  }
}
