package io.trellis.ingress.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.SplittableRandom;
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
  void exactBodyBytesRideInVersionTwoAndOtherEventsStayVersionOne() {
    TrafficEvent plain = sample();
    TrafficEvent s = sample();
    TrafficEvent exact =
        new TrafficEvent(
            s.organizationId(),
            s.eventId(),
            s.timestamp(),
            s.method(),
            s.url(),
            s.headers(),
            s.queryParams(),
            "caf\uFFFD",
            s.ip(),
            s.userAgent(),
            s.referer(),
            s.eventType(),
            s.clickId(),
            s.sessionId(),
            s.source(),
            s.medium(),
            s.campaign(),
            "Y2Fmww==");

    byte[] v1 = EventCodec.encode(plain);
    byte[] v2 = EventCodec.encode(exact);

    assertThat(v1[0]).isEqualTo(EventCodec.VERSION);
    assertThat(v2[0]).isEqualTo(EventCodec.VERSION_EXACT_BODY);
    assertThat(EventCodec.decode(v1)).isEqualTo(plain);
    assertThat(EventCodec.decode(v2)).isEqualTo(exact);
    EventCodec.check(v2);
    assertThat(EventCodec.eventId(v2)).isEqualTo(exact.eventId());
    assertThatThrownBy(() -> EventCodec.check(Arrays.copyOf(v2, v2.length - 1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void truncatedOrUnknownInputIsRejectedNotMisread() {
    byte[] bytes = EventCodec.encode(sample());
    assertThatThrownBy(() -> EventCodec.decode(Arrays.copyOf(bytes, bytes.length - 3)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> EventCodec.check(Arrays.copyOf(bytes, bytes.length - 3)))
        .isInstanceOf(IllegalArgumentException.class);
    bytes[0] = 99;
    assertThatThrownBy(() -> EventCodec.decode(bytes))
        .hasMessageContaining("unknown event encoding version");
    assertThatThrownBy(() -> EventCodec.check(bytes))
        .hasMessageContaining("unknown event encoding version");
  }

  @Test
  void checkRejectsExactlyWhatDecodeRejects() {
    byte[] good = EventCodec.encode(sample());
    EventCodec.check(good);
    for (int len = 0; len < good.length; len++) {
      byte[] cut = Arrays.copyOf(good, len);
      assertThat(rejects(() -> EventCodec.check(cut)))
          .as("prefix of %d bytes", len)
          .isTrue()
          .isEqualTo(rejects(() -> EventCodec.decode(cut)));
    }
    SplittableRandom random = new SplittableRandom(7);
    for (int i = 0; i < 20_000; i++) {
      byte[] bad = good.clone();
      // Damage a length field (or the version) most of the time; anywhere otherwise.
      int at = random.nextInt(4) > 0 ? lengthFieldByte(good, random) : random.nextInt(bad.length);
      bad[at] = (byte) random.nextInt(256);
      assertThat(rejects(() -> EventCodec.check(bad)))
          .as("byte %d set to %d", at, bad[at])
          .isEqualTo(rejects(() -> EventCodec.decode(bad)));
    }
  }

  @Test
  void theIdAndTimeAreReadWithoutDecodingTheRest() {
    TrafficEvent e = sample();
    byte[] bytes = EventCodec.encode(e);
    assertThat(EventCodec.eventId(bytes)).isEqualTo(e.eventId());
    assertThat(EventCodec.timestamp(bytes)).isEqualTo(e.timestamp());
  }

  private static boolean rejects(Runnable r) {
    try {
      r.run();
      return false;
    } catch (IllegalArgumentException e) {
      return true;
    }
  }

  /** A byte of the version or of one of the 16 length fields. */
  private static int lengthFieldByte(byte[] encoded, SplittableRandom random) {
    int field = random.nextInt(17);
    if (field == 16) {
      return 0;
    }
    int pos = 1 + 8;
    for (int i = 0; i < field; i++) {
      int len =
          ((encoded[pos] & 0xff) << 24)
              | ((encoded[pos + 1] & 0xff) << 16)
              | ((encoded[pos + 2] & 0xff) << 8)
              | (encoded[pos + 3] & 0xff);
      pos += 4 + len;
    }
    return pos + random.nextInt(4);
  }
}
