package io.trellis.ingress.enrich;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.ingress.event.Enrichment;
import io.trellis.ingress.event.EventCodec;
import io.trellis.ingress.event.SpooledEvent;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.testing.TrafficEvents;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;

/**
 * Every enrichment column of 911 stored events, checked against the columns they must get: the
 * payloads of trellis.js, Segment (track, page, identify), RudderStack, PostHog (posthog-js before
 * and after identify, posthog-node), Snowplow (pixel and POST), pixels and links, each with varied
 * queries, headers, referers, click ids and mediums; malformed and odd bodies (truncated, trailing
 * text, repeated keys, escapes, numbers of every form, deep nesting, values of the wrong type);
 * times in every form and place they are read from; page URLs at the parameter limit; and 400
 * random mutations (keys added or repeated, truncation, a character replaced, whitespace) of the
 * SDK payloads. Received at 2026-12-04T17:00:00Z, default settings, geo off.
 *
 * <p>{@code enrichment-corpus.ndjson}: one event a line ({@code body}, {@code query}, {@code
 * headers}, {@code referer}, {@code click_id}, {@code medium}, {@code user_agent}) and {@code
 * expected}, the {@link Enrichment}'s components in their order. A change to how events are read
 * that alters any stored column fails here, with the cases and columns that differ.
 */
class EnrichmentCorpusTest {
  private static final long RECEIVED = 1_796_403_600_000L;
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void everyColumnOfEveryCorpusEventIsAsExpected() throws IOException {
    assertEveryColumnAsExpected(false);
  }

  /*
   * The same events stored as capture stores them: the body's fields read from where the record's
   * index says they start, for every body capture reads as one object.
   */
  @Test
  void everyColumnIsTheSameWhenTheBodyIsReadThroughItsStoredIndex() throws IOException {
    int indexed = assertEveryColumnAsExpected(true);
    assertThat(indexed).isEqualTo(716);
  }

  /** Checks every case; returns how many were read through an index. */
  private int assertEveryColumnAsExpected(boolean stored) throws IOException {
    List<String> differences = new ArrayList<>();
    int cases = 0;
    int indexed = 0;
    try (Enricher enricher = Enricher.open(EnrichConfig.defaults());
        BufferedReader in =
            new BufferedReader(
                new InputStreamReader(
                    Objects.requireNonNull(
                        getClass().getResourceAsStream("enrichment-corpus.ndjson")),
                    StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        JsonNode c = JSON.readTree(line);
        cases++;
        TrafficEvent event = event(c);
        if (stored) {
          byte[] record = TrafficEvents.recordAsCaptured(event);
          if (EventCodec.indexedBody(record) != null) {
            indexed++;
          }
          event = SpooledEvent.encoded(cases, record).event();
        }
        Enrichment actual = enricher.enrich(event);
        RecordComponent[] columns = Enrichment.class.getRecordComponents();
        for (int i = 0; i < columns.length; i++) {
          Object got = value(columns[i], actual);
          Object want = JSON.treeToValue(c.get("expected").get(i), got.getClass());
          if (!got.equals(want)) {
            differences.add(
                c.get("case").asText() + " " + columns[i].getName() + ": " + got + " != " + want);
          }
        }
      }
    }
    assertThat(cases).isEqualTo(911);
    assertThat(differences).isEmpty();
    return indexed;
  }

  private static TrafficEvent event(JsonNode c) {
    return new TrafficEvent(
        "acme",
        "id-" + c.get("case").asText(),
        RECEIVED,
        "POST",
        "http://in.example/events",
        c.get("headers").asText(),
        c.get("query").asText(),
        c.get("body").asText(),
        "203.0.113.9",
        c.get("user_agent").asText(),
        c.get("referer").asText(),
        "pageview",
        c.get("click_id").asText(),
        "",
        "",
        c.get("medium").asText(),
        "");
  }

  private static Object value(RecordComponent column, Enrichment e) {
    try {
      return column.getAccessor().invoke(e);
    } catch (ReflectiveOperationException x) {
      throw new AssertionError(x);
    }
  }
}
