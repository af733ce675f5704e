package io.trellis.ingress.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.event.EventCodec;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.testing.TrafficEvents;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The record written straight from a request's bytes is, byte for byte, the record of the event
 * built as strings: what the spool stores does not depend on which path captured it.
 */
class EncodeFromBytesTest {
  private static final String KEY = "trk_live_0123456789abcdef_XYZ";
  private static final long AT = 1_733_000_000_000L;

  private static RequestData request(String method, String url, List<Map.Entry<String, String>> q) {
    return new RequestData(
        method,
        url,
        List.of(
            Map.entry("Host", "in.example"),
            Map.entry("Authorization", "Bearer " + KEY),
            Map.entry("X-Forwarded-For", "203.0.113.77"),
            Map.entry("User-Agent", "Mozilla/5.0 (X11) é"),
            Map.entry("Referer", "https://shop.example/p?k=" + KEY),
            Map.entry("Cookie", "a=1"),
            Map.entry("Cookie", "b=2")),
        q,
        "10.0.0.9",
        AT);
  }

  private static final RequestData POST = request("POST", "http://in.example/events", List.of());

  private static final RequestData PIXEL =
      request(
          "GET",
          "http://in.example/pixel?api_key=" + KEY + "&e=pv&utm_source=news&gclid=abc",
          List.of(
              Map.entry("api_key", KEY),
              Map.entry("e", "pv"),
              Map.entry("utm_source", "news"),
              Map.entry("gclid", "abc"),
              Map.entry("url", "https://shop.example/?utm_medium=mail&fbclid=f1")));

  private static EventCapture capture(boolean anonymize) {
    return new EventCapture(
        new CaptureConfig(List.of("10.0.0.0/8"), Set.of(), Set.of(), anonymize, Set.of()));
  }

  /** Encodes both ways; the event id (a fresh UUIDv7 when the body has none) is the bytes' one. */
  private static void assertSameRecord(
      EventCapture capture,
      RequestData req,
      String key,
      boolean relay,
      Endpoint endpoint,
      byte[] all,
      int offset,
      int length,
      byte[] exact) {
    EventCapture.SharedRequest s = capture.request(req, key, relay, "acme");
    String text = new String(all, offset, length, StandardCharsets.UTF_8);
    JsonFields json =
        JsonFields.parse(text.getBytes(StandardCharsets.UTF_8)); // null for a non-object body
    EventCapture.Encoded encoded =
        capture.encode(s, "acme", endpoint, all, offset, length, json, exact);
    TrafficEvent e = capture.event(s, "acme", endpoint, text, json, exact);
    assertThat(encoded.record())
        .isEqualTo(EventCodec.encode(TrafficEvents.withEventId(e, encoded.eventId())));
    // A batch's records copy the request's fields encoded once: the same bytes.
    EventCapture.Encoded shared =
        capture.encode(
            s, EventCapture.sharedFields(s), "acme", endpoint, all, offset, length, json, exact);
    assertThat(shared.record())
        .isEqualTo(EventCodec.encode(TrafficEvents.withEventId(e, shared.eventId())));
  }

  private static void assertSameRecord(
      EventCapture capture, RequestData req, boolean relay, Endpoint endpoint, String body) {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    assertSameRecord(capture, req, KEY, relay, endpoint, b, 0, b.length, null);
  }

  @Test
  void aJsonEventWithoutTheKeyIsTheSameRecord() {
    assertSameRecord(
        capture(false),
        POST,
        false,
        Endpoint.EVENTS,
        "{\"event\":\"buy\",\"session_id\":\"s1\",\"url\":\"https://s.example/?utm_source=g\"}");
  }

  @Test
  void aBodyWithAnEventIdKeepsIt() {
    String id = "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b";
    byte[] b = ("{\"event_id\":\"" + id + "\",\"event\":\"x\"}").getBytes(StandardCharsets.UTF_8);
    EventCapture c = capture(false);
    EventCapture.Encoded e =
        c.encode(
            c.request(POST, KEY, false, "acme"),
            "acme",
            Endpoint.EVENTS,
            b,
            0,
            b.length,
            JsonFields.parse(b),
            null);

    assertThat(e.eventId()).isEqualTo(id);
    assertThat(EventCodec.decode(e.record()).eventId()).isEqualTo(id);
    assertSameRecord(c, POST, false, Endpoint.EVENTS, new String(b, StandardCharsets.UTF_8));
  }

  @Test
  void theKeyInTheBodyInAnyFormIsRedactedAsInText() {
    EventCapture c = capture(false);
    assertSameRecord(c, POST, false, Endpoint.EVENTS, "{\"event\":\"x\",\"k\":\"" + KEY + "\"}");
    assertSameRecord(
        c, POST, false, Endpoint.EVENTS, "{\"k\":\"" + KEY.replace("_", "%5F") + "\"}");
    assertSameRecord(
        c, POST, false, Endpoint.EVENTS, "{\"k\":\"" + KEY.replace("_", "\\u005f") + "\"}");
    assertSameRecord(c, POST, false, Endpoint.EVENTS, "{\"u\":\"https://x/?a=%20b\\n\"}");
  }

  @Test
  void textBeyondAsciiIsTheSameRecord() {
    assertSameRecord(
        capture(false),
        POST,
        false,
        Endpoint.EVENTS,
        "{\"event\":\"café 🎉\",\"utm_source\":\"ünï\",\"k\":\"" + KEY + " ✓\"}");
  }

  @Test
  void withoutAKeyTheBodyIsCopiedAsItIs() {
    byte[] b = "{\"event\":\"x\",\"p\":\"%41\"}".getBytes(StandardCharsets.UTF_8);
    assertSameRecord(capture(false), POST, null, false, Endpoint.EVENTS, b, 0, b.length, null);
  }

  @Test
  void aRelayedAddressAnonymizedInTheBodyIsTheSameRecord() {
    assertSameRecord(
        capture(true),
        POST,
        true,
        Endpoint.SEGMENT_TRACK,
        "{\"type\":\"track\",\"event\":\"x\",\"context\":{\"ip\":\"198.51.100.23\","
            + "\"userAgent\":\"UA/1\"}}");
  }

  @Test
  void addressesInTheBodyOfAnAnonymizingOrganizationAreTheSameRecord() {
    EventCapture c = capture(true);
    assertSameRecord(c, POST, false, Endpoint.EVENTS, "{\"event\":\"x\",\"ip\":\"198.51.100.23\"}");
    byte[] exact =
        "{\"ip\":\"198.51.100.23\",\"e\":\"\u00ff\"}".getBytes(StandardCharsets.ISO_8859_1);
    byte[] text = new String(exact, StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8);
    assertSameRecord(c, POST, KEY, false, Endpoint.EVENTS, text, 0, text.length, exact);
  }

  @Test
  void pixelsAndSnowplowPixelsWithoutABodyAreTheSameRecord() {
    EventCapture c = capture(false);
    assertSameRecord(c, PIXEL, false, Endpoint.PIXEL, "");
    assertSameRecord(c, PIXEL, false, Endpoint.SNOWPLOW_PIXEL, "");
  }

  @Test
  void aBatchItemIsEncodedFromItsRangeOfTheBody() throws Exception {
    byte[] body =
        ("[{\"event\":\"a\",\"k\":\"" + KEY + "\"},{\"event\":\"b\"},{\"event\":\"é\"}]")
            .getBytes(StandardCharsets.UTF_8);
    EventCapture c = capture(false);
    for (BatchItems.Item item : BatchItems.parse(body, 100, 64)) {
      assertSameRecord(
          c, POST, KEY, false, Endpoint.BATCH, body, item.start(), item.end() - item.start(), null);
    }
  }

  @Test
  void theExactBytesOfAnInvalidBodyAreKeptAsBeforeWithTheKeyRedacted() {
    byte[] exact = ("{\"e\":\"\u00ff" + KEY + "\"}").getBytes(StandardCharsets.ISO_8859_1);
    byte[] text = new String(exact, StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8);
    assertSameRecord(
        capture(false), POST, KEY, false, Endpoint.EVENTS, text, 0, text.length, exact);
  }
}
