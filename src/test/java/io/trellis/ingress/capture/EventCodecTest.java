package io.trellis.ingress.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class EventCodecTest {
  static TrafficEvent sample() {
    return new TrafficEvent(
        "acme",
        "0190a6b0-0000-7000-8000-000000000001",
        1_764_000_000_123L,
        "POST",
        "http://h/events?x=1",
        "{\"a\":\"b\"}",
        "{\"x\":\"1\"}",
        "{\"ü\":\"\\u0000 ☃\"}",
        "127.0.0.1",
        "UA",
        "https://r/",
        "signup",
        "G1",
        "S1",
        "google",
        "cpc",
        "spring");
  }

  @Test
  void roundTripKeepsEveryField() {
    TrafficEvent e = sample();
    assertThat(EventCodec.decode(EventCodec.encode(e))).isEqualTo(e);
  }

  @Test
  void truncatedOrUnknownInputIsRejectedNotMisread() {
    byte[] bytes = EventCodec.encode(sample());
    assertThatThrownBy(() -> EventCodec.decode(Arrays.copyOf(bytes, bytes.length - 3)))
        .isInstanceOf(IllegalArgumentException.class);
    bytes[0] = 99;
    assertThatThrownBy(() -> EventCodec.decode(bytes))
        .hasMessageContaining("unknown event encoding version");
  }
}
