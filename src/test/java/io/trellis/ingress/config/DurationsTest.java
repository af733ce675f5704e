package io.trellis.ingress.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {

  @Test
  void parsesEveryUnitAndMillisecondsWithoutOne() {
    assertThat(Durations.parse("250us")).isEqualTo(Duration.ofNanos(250_000));
    assertThat(Durations.parse("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(Durations.parse("250")).isEqualTo(Duration.ofMillis(250));
    assertThat(Durations.parse(" 30 S ")).isEqualTo(Duration.ofSeconds(30));
    assertThat(Durations.parse("5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(Durations.parse("1h")).isEqualTo(Duration.ofHours(1));
    assertThat(Durations.parse("2d")).isEqualTo(Duration.ofDays(2));
    assertThat(Durations.parse("0us")).isEqualTo(Duration.ZERO);
  }

  @Test
  void formatsInTheLargestExactUnit() {
    assertThat(Durations.format(Duration.ofNanos(250_000))).isEqualTo("250us");
    assertThat(Durations.format(Duration.ofNanos(1_500_000))).isEqualTo("1500us");
    assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1500ms");
    assertThat(Durations.format(Duration.ofSeconds(30))).isEqualTo("30s");
    assertThat(Durations.format(Duration.ofMinutes(5))).isEqualTo("5m");
    assertThat(Durations.format(Duration.ofHours(2))).isEqualTo("2h");
    assertThat(Durations.format(Duration.ZERO)).isEqualTo("0ms");
  }

  @Test
  void formatReadsBackAsTheSameDuration() {
    for (String text : new String[] {"1us", "999us", "1001us", "7ms", "61s", "90m", "25h"}) {
      Duration d = Durations.parse(text);
      assertThat(Durations.parse(Durations.format(d))).as(text).isEqualTo(d);
    }
  }

  @Test
  void refusesUnknownUnitsAndOverflowWithAClearMessage() {
    assertThatThrownBy(() -> Durations.parse("5 weeks"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("250us, 250ms, 30s");
    assertThatThrownBy(() -> Durations.parse("-1s")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Durations.parse("9223372036854775807us"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("too large");
    assertThatThrownBy(() -> Durations.parse("99999999999999999999s"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("too large");
  }
}
