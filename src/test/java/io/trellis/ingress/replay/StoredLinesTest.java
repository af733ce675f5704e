package io.trellis.ingress.replay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.ingress.enrich.EnrichConfig;
import io.trellis.ingress.enrich.Enricher;
import io.trellis.ingress.event.Enrichment;
import io.trellis.ingress.event.Enrichments;
import io.trellis.ingress.event.EventLines;
import io.trellis.ingress.event.TrafficEvent;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.Test;

class StoredLinesTest {

  @Test
  void aLineReadBackIsTheEventThatWasWritten() throws Exception {
    byte[] latin1 = "caf\u00e9=1".getBytes(StandardCharsets.ISO_8859_1);
    TrafficEvent written =
        new TrafficEvent(
            "org-1",
            "0190f1f2-3a4b-7c5d-8e9f-0a1b2c3d4e5f",
            1_764_000_000_123L,
            "POST",
            "https://t.example/events?utm_source=google",
            "{\"user-agent\":\"curl\"}",
            "{\"utm_source\":\"google\"}",
            "caf\uFFFD=1",
            "203.0.113.9",
            "curl",
            "https://ref.example/",
            "signup",
            "Cj0KCQ",
            "s-1",
            "google",
            "cpc",
            "spring",
            Base64.getEncoder().encodeToString(latin1));

    ByteArrayOutputStream line = new ByteArrayOutputStream();
    EventLines.write(line, written, 1_764_000_001_000L);
    TrafficEvent read = StoredLines.parse(line.toString(StandardCharsets.UTF_8).strip(), false);

    assertEquals(written, read);
    assertArrayEquals(latin1, Base64.getDecoder().decode(read.bodyBase64()));
  }

  /**
   * A line the files sink wrote before the derived columns existed (the release at cfce545, one
   * Segment track event from an iPhone), read back for a replay: every key it has keeps its value,
   * and the event gets the derived columns the stored request gives.
   */
  @Test
  void aLineOfTheVersionWithoutDerivedColumnsIsReadAndGainsThem() throws Exception {
    String old;
    try (InputStream in =
        Objects.requireNonNull(getClass().getResourceAsStream("line-before-enrichment.ndjson"))) {
      old = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
    }
    TrafficEvent read = StoredLines.parse(old, false);

    try (Enricher enricher = Enricher.open(EnrichConfig.defaults())) {
      Enrichments.install(enricher);
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      EventLines.write(line, read, read.timestamp() + 235);
      ObjectMapper json = new ObjectMapper();
      JsonNode before = json.readTree(old);
      JsonNode after = json.readTree(line.toString(StandardCharsets.UTF_8));
      for (Iterator<Map.Entry<String, JsonNode>> it = before.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> field = it.next();
        assertEquals(field.getValue(), after.get(field.getKey()), field.getKey());
      }
      Enrichment derived = enricher.enrich(read);
      assertEquals("user-42", after.get("user_id").asText());
      assertEquals("anon-7", after.get("anonymous_id").asText());
      assertEquals("red shoes", after.get("term").asText());
      assertEquals("2026-12-05T00:00:00.000Z", after.get("client_timestamp").asText());
      assertEquals("skew_corrected", derived.eventTimeSource());
      assertEquals("Mobile Safari", after.get("browser").asText());
      assertEquals("gpc", after.get("privacy_signal").asText());
    } finally {
      Enrichments.install(Enrichment::none);
    }
  }
}
