package io.trellis.ingress.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.base.JsonPaths;
import io.trellis.ingress.event.EventCodec;
import io.trellis.ingress.event.EventField;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.testing.TrafficEvents;
import java.io.ByteArrayOutputStream;
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

  /*
   * Fields read from the very bytes stored as the body: the record also says where the values of the
   * enrichments' fields start, and is otherwise the same record.
   */
  @Test
  void aBodyReadFromItsOwnBytesAlsoStoresWhereItsFieldsStart() throws Exception {
    EventCapture c = capture(false);
    EventCapture.SharedRequest s = c.request(POST, KEY, false, "acme");
    byte[] b =
        ("{\"event\":\"x\",\"userId\":\"u\u00e9\",\"timestamp\":1764867590,"
                + "\"properties\":{\"$is_identified\":false,\"url\":\"https://s.example/é\"}}")
            .getBytes(StandardCharsets.UTF_8);
    JsonFields json = JsonFields.parse(b);
    EventCapture.Encoded encoded = c.encode(s, "acme", Endpoint.EVENTS, b, 0, b.length, json, null);
    TrafficEvent e =
        c.event(s, "acme", Endpoint.EVENTS, new String(b, StandardCharsets.UTF_8), json, null);
    assertThat(withoutIndex(encoded.record()))
        .isEqualTo(EventCodec.encode(TrafficEvents.withEventId(e, encoded.eventId())));
    JsonPaths.Values v = EventCodec.indexedBody(encoded.record());
    assertThat(v).isNotNull();
    assertThat(v.text(EventField.USER_ID_CAMEL.ordinal())).isEqualTo("u\u00e9");
    assertThat(v.text(EventField.TIMESTAMP.ordinal())).isEqualTo("1764867590");
    assertThat(v.isFalse(EventField.PROPERTIES_IS_IDENTIFIED.ordinal())).isTrue();
    assertThat(v.text(EventField.PROPERTIES_URL.ordinal())).isEqualTo("https://s.example/é");
    assertThat(v.text(EventField.ANONYMOUS_ID.ordinal())).isNull();

    // Each item of a batch, from its range of the request's bytes.
    byte[] batch =
        ("[{\"userId\":\"a\"}, {\"event\":\"b\",\"sentAt\":\"2026-12-04T17:00:00Z\"}]")
            .getBytes(StandardCharsets.UTF_8);
    List<BatchItems.Item> items = BatchItems.parse(batch, 100, 64);
    BatchItems.Item second = items.get(1);
    byte[] record =
        c.encode(
                s,
                "acme",
                Endpoint.BATCH,
                batch,
                second.start(),
                second.end() - second.start(),
                second.json(),
                null)
            .record();
    JsonPaths.Values item = EventCodec.indexedBody(record);
    assertThat(item.text(EventField.SENT_AT_CAMEL.ordinal())).isEqualTo("2026-12-04T17:00:00Z");
    assertThat(item.text(EventField.USER_ID_CAMEL.ordinal())).isNull();
  }

  /* Where the stored body is not those bytes, or not an object from its first byte: no index. */
  @Test
  void aBodyStoredOtherwiseThanReadHasNoIndex() {
    EventCapture c = capture(false);
    EventCapture.SharedRequest s = c.request(POST, KEY, false, "acme");
    for (String body :
        List.of(
            " {\"userId\":\"u\"}", // the stored text does not start with the object
            "{\"userId\":\"u\",\"k\":\"" + KEY + "\"}")) { // the key is removed from it
      byte[] b = body.getBytes(StandardCharsets.UTF_8);
      JsonFields json = JsonFields.parse(b);
      assertThat(json).isNotNull();
      byte[] record = c.encode(s, "acme", Endpoint.EVENTS, b, 0, b.length, json, null).record();
      assertThat(EventCodec.indexedBody(record)).as(body).isNull();
      assertThat(withoutIndex(record)).isEqualTo(record);
    }
    // Fields read from a copy of the bytes.
    byte[] b = "{\"userId\":\"u\"}".getBytes(StandardCharsets.UTF_8);
    byte[] record =
        c.encode(s, "acme", Endpoint.EVENTS, b, 0, b.length, JsonFields.parse(b.clone()), null)
            .record();
    assertThat(EventCodec.indexedBody(record)).isNull();
    // An organization that anonymizes addresses stores its body rewritten.
    EventCapture.SharedRequest anonymized = capture(true).request(POST, KEY, false, "acme");
    record =
        capture(true)
            .encode(anonymized, "acme", Endpoint.EVENTS, b, 0, b.length, JsonFields.parse(b), null)
            .record();
    assertThat(EventCodec.indexedBody(record)).isNull();
  }

  /** The record without its body index (tag 18), the rest as it is. */
  static byte[] withoutIndex(byte[] record) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(record, 0, 9);
    for (int pos = 9; pos < record.length; ) {
      long tag = varint(record, pos);
      long len = varint(record, (int) (tag >>> 32));
      int end = (int) (len >>> 32) + (int) len;
      if ((int) tag != EventCodec.Field.BODY_INDEX) {
        out.write(record, pos, end - pos);
      }
      pos = end;
    }
    return out.toByteArray();
  }

  /** The varint at {@code pos}: its value in the low 32 bits, the position after it in the high. */
  private static long varint(byte[] b, int pos) {
    int value = 0;
    for (int shift = 0; ; shift += 7) {
      byte x = b[pos++];
      value |= (x & 0x7f) << shift;
      if (x >= 0) {
        return (long) pos << 32 | (value & 0xffffffffL);
      }
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
