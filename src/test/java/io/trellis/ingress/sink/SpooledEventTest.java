package io.trellis.ingress.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.ingress.event.EventCodec;
import io.trellis.ingress.event.SpooledEvent;
import io.trellis.ingress.event.TrafficEvent;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class SpooledEventTest {
  private static TrafficEvent event(String id, long ts, String body) {
    return new TrafficEvent(
        "acme",
        id,
        ts,
        "POST",
        "http://h/events",
        "{\"a\":\"b\"}",
        "{}",
        body,
        "10.0.0.1",
        "UA",
        "",
        "signup",
        "",
        "",
        "google",
        "cpc",
        "");
  }

  @Test
  void anEventHeldEncodedReadsAsTheSameEventAsOneHeldDecoded() {
    TrafficEvent e = event("0190a6b0-0000-7000-8000-000000000001", 1_764_000_000_123L, "{\"ü\":1}");
    SpooledEvent decoded = new SpooledEvent(42, e);
    SpooledEvent encoded = SpooledEvent.encoded(42, EventCodec.encode(e));
    assertThat(encoded.event()).isEqualTo(e);
    assertThat(encoded.eventId()).isEqualTo(e.eventId()).isEqualTo(decoded.eventId());
    assertThat(encoded.timestamp()).isEqualTo(e.timestamp()).isEqualTo(decoded.timestamp());
    assertThat(encoded.offset()).isEqualTo(42);
    assertThat(encoded).isEqualTo(decoded).hasSameHashCodeAs(decoded);
    assertThat(encoded).isNotEqualTo(SpooledEvent.encoded(43, EventCodec.encode(e)));
    assertThat(encoded.toString()).contains("offset=42", e.eventId());
  }

  @Test
  void eachReadDecodesAnewSoNoDecodedCopyIsKept() {
    TrafficEvent e = event("e1", 1L, "{}");
    SpooledEvent s = SpooledEvent.encoded(0, EventCodec.encode(e));
    assertThat(s.event()).isEqualTo(s.event()).isNotSameAs(s.event());
  }

  @Test
  void aMalformedEncodingIsRefusedWhenTheEventIsMadeNotWhenASinkReadsIt() {
    byte[] bytes = EventCodec.encode(event("e1", 1L, "{}"));
    byte[] cut = Arrays.copyOf(bytes, bytes.length - 1);
    assertThatThrownBy(() -> SpooledEvent.encoded(0, cut))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aBatchOfEncodedEventsGivesTheSinkTheEventsAndTheOffsets() {
    List<TrafficEvent> events = List.of(event("e1", 1L, "{}"), event("e2", 2L, "{\"n\":2}"));
    SinkBatch batch =
        new SinkBatch(
            List.of(
                SpooledEvent.encoded(7, EventCodec.encode(events.get(0))),
                SpooledEvent.encoded(8, EventCodec.encode(events.get(1)))));
    assertThat(batch.events()).containsExactlyElementsOf(events);
    assertThat(batch.firstOffset()).isEqualTo(7);
    assertThat(batch.lastOffset()).isEqualTo(8);
  }
}
