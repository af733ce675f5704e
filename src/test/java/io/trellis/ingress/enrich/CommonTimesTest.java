package io.trellis.ingress.enrich;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The hand-read forms give what java.time gives for them, and the common ones are hand-read. */
class CommonTimesTest {
  @Provide
  Arbitrary<String> isoLike() {
    // Fields out of range too: month 13, day 32, hour 24, second 60.
    Arbitrary<String> date = fields("%04d-%02d-%02d", 9999, 13, 32);
    Arbitrary<String> time = fields("%02d:%02d:%02d", 25, 60, 61);
    Arbitrary<String> fraction =
        Arbitraries.oneOf(Arbitraries.just(""), Arbitraries.strings().numeric().ofMaxLength(11))
            .map(f -> f.isEmpty() ? "" : "." + f);
    Arbitrary<String> zone =
        Arbitraries.oneOf(
            Arbitraries.of("", "Z", "z", "+00:00", "-00:00", "+0100", "+01", "+01:00:30", " "),
            Combinators.combine(
                    Arbitraries.of('+', '-'),
                    Arbitraries.integers().between(0, 19),
                    Arbitraries.integers().between(0, 60))
                .as((sign, h, m) -> String.format("%c%02d:%02d", sign, h, m)));
    Arbitrary<Character> separator = Arbitraries.of('T', 'T', 'T', 't', ' ', '_');
    return Combinators.combine(date, separator, time, fraction, zone)
        .as((d, sep, t, f, z) -> d + sep + t + f + z);
  }

  private static Arbitrary<String> fields(String format, int max1, int max2, int max3) {
    return Combinators.combine(
            Arbitraries.integers().between(0, max1),
            Arbitraries.integers().between(0, max2),
            Arbitraries.integers().between(0, max3))
        .as((a, b, c) -> String.format(format, a, b, c));
  }

  @Property(tries = 5000)
  void isoTimesReadByHandAreWhatJavaTimeGives(@ForAll("isoLike") String s) {
    long byHand = CommonTimes.iso(s);
    if (byHand != CommonTimes.OTHER) {
      assertThat(byHand).as(s).isEqualTo(EventTimes.javaTime(s));
    }
  }

  @Property(tries = 2000)
  void epochNumbersReadByHandAreWhatTheDoublePathGives(@ForAll("epochLike") String s) {
    long byHand = CommonTimes.epoch(s);
    if (byHand != CommonTimes.OTHER) {
      double v = Double.parseDouble(s);
      assertThat(byHand).as(s).isEqualTo((long) (v < 1e11 ? v * 1000 : v));
    }
  }

  @Provide
  Arbitrary<String> epochLike() {
    return Arbitraries.oneOf(
        Arbitraries.strings().numeric().ofMinLength(1).ofMaxLength(17),
        Arbitraries.longs().between(0, 99_999_999_999_999L).map(String::valueOf));
  }

  @Example
  void theFormsSdksSendAreReadByHand() {
    for (String s :
        new String[] {
          "2026-11-30T12:34:56.789Z",
          "2026-11-30T12:34:56Z",
          "2026-11-30T12:34:56.123456Z",
          "2026-11-30T12:34:56.789+01:00",
          "2026-11-30T12:34:56-05:30",
          "2026-11-30T12:34:56.789"
        }) {
      assertThat(CommonTimes.iso(s)).as(s).isEqualTo(EventTimes.javaTime(s));
    }
    assertThat(CommonTimes.epoch("1764867590")).isEqualTo(1_764_867_590_000L);
    assertThat(CommonTimes.epoch("1764867590250")).isEqualTo(1_764_867_590_250L);
  }
}
