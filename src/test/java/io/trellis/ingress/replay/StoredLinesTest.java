package io.trellis.ingress.replay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.trellis.ingress.event.EventLines;
import io.trellis.ingress.event.TrafficEvent;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
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
}
