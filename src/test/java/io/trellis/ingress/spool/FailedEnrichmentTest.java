package io.trellis.ingress.spool;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.event.Enrichment;
import io.trellis.ingress.event.Enrichments;
import io.trellis.ingress.event.EventLines;
import io.trellis.ingress.event.TrafficEvent;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An event that enrichment fails on is still written, with its derived columns empty: a sink whose
 * batch threw would retry it without end and hold every event behind that one.
 */
class FailedEnrichmentTest {
  @AfterEach
  void uninstall() {
    Enrichments.install(Enrichment::none);
  }

  @Test
  void theEventIsWrittenWithItsRawDataAndNoDerivedColumnsAndTheOthersAreEnriched()
      throws Exception {
    Enrichments.install(
        e -> {
          if (e.eventId().equals("bad")) {
            throw new StringIndexOutOfBoundsException("index 12 out of bounds for length 11");
          }
          Enrichment none = Enrichment.none(e);
          return new Enrichment(
              none.clientTimestamp(),
              none.sentAt(),
              none.eventTime(),
              "client",
              "user-" + e.eventId(),
              none.anonymousId(),
              none.term(),
              none.content(),
              none.referrerClass(),
              "Firefox",
              none.browserVersion(),
              none.os(),
              none.deviceClass(),
              none.isBot(),
              none.geoCountry(),
              none.geoRegion(),
              none.geoCity(),
              none.geoAsn(),
              none.privacySignal());
        });
    List<TrafficEvent> events =
        List.of(Events.event("a"), Events.event("bad", "{\"event\":\"x\"}"), Events.event("b"));

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new EventLines().writeAll(out, events, System.currentTimeMillis());
    String[] lines = out.toString(StandardCharsets.UTF_8).split("\n");

    assertThat(lines).hasSize(3);
    assertThat(lines[0]).contains("\"user_id\":\"user-a\"", "\"browser\":\"Firefox\"");
    assertThat(lines[1])
        .contains("\"event_id\":\"bad\"", "\"body\":\"{\\\"event\\\":\\\"x\\\"}\"")
        .contains("\"user_id\":\"\"", "\"browser\":\"\"", "\"event_time_source\":\"received\"");
    assertThat(lines[2]).contains("\"user_id\":\"user-b\"", "\"browser\":\"Firefox\"");
  }
}
