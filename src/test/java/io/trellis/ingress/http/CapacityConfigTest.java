package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.ingress.cli.ServiceSettings;
import io.trellis.ingress.config.ConfigException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CapacityConfigTest {
  private static final long MIB = 1L << 20;
  /* The default limits.url-max plus limits.header-max. */
  private static final long HEAD = 80 * 1024;

  @Test
  void defaultsAreDerivedFromTheProcess() {
    CapacityConfig c =
        CapacityConfig.from(ServiceSettings.defaults())
            .resolve(1024, 150, 256 * MIB, 256 * MIB, 20 * MIB, HEAD);

    // 1024 files, 150 open, 128 kept in reserve.
    assertThat(c.connectionsMax()).isEqualTo(746);
    assertThat(c.connectionsPerClient()).isEqualTo(93);
    assertThat(c.bodyMemoryMax()).isEqualTo(32 * MIB);
    // Half the total is 16 MiB; one whole batch from one address still fits.
    assertThat(c.bodyMemoryPerClient()).isEqualTo(20 * MIB);
    assertThat(c.lingerTime()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.lingerMaxBytes()).isEqualTo(64 * MIB);
  }

  @Test
  void aLargeFileLimitKeepsAnEighthInReserve() {
    CapacityConfig c =
        CapacityConfig.from(ServiceSettings.defaults())
            .resolve(65536, 100, 4096 * MIB, 64 * 1024 * MIB, 20 * MIB, HEAD);

    assertThat(c.connectionsMax()).isEqualTo(65536 - 100 - 8192);
    assertThat(c.connectionsPerClient()).isEqualTo((65536 - 100 - 8192) / 8);
    assertThat(c.bodyMemoryPerClient()).isEqualTo(256 * MIB);
  }

  @Test
  void connectionsAtTheirLargestRequestHeadsFitInHalfTheDirectMemory() {
    CapacityConfig c =
        CapacityConfig.from(ServiceSettings.defaults())
            .resolve(20_000, 150, 256 * MIB, 256 * MIB, 20 * MIB, HEAD);

    // 128 MiB over 160 KiB: far fewer than the 17,350 the files would allow.
    assertThat(c.connectionsMax()).isEqualTo(819);
    assertThat(c.connectionsPerClient()).isEqualTo(102);
    assertThat(
            CapacityConfig.from(ServiceSettings.defaults())
                .resolve(20_000, 150, 256 * MIB, 1024 * MIB, 20 * MIB, HEAD)
                .connectionsMax())
        .isEqualTo(3276);
  }

  @Test
  void aConfiguredLimitPastTheDirectMemoryIsWarnedAbout() {
    CapacityConfig derived =
        CapacityConfig.from(ServiceSettings.defaults())
            .resolve(20_000, 150, 256 * MIB, 256 * MIB, 20 * MIB, HEAD);
    assertThat(derived.directMemoryWarning(256 * MIB, HEAD)).isNull();

    CapacityConfig configured =
        CapacityConfig.from(ServiceSettings.config(Map.of("limits.connections-max", "5000")))
            .resolve(20_000, 150, 256 * MIB, 256 * MIB, 20 * MIB, HEAD);
    assertThat(configured.directMemoryWarning(256 * MIB, HEAD))
        .startsWith("limits.connections-max 5000 is more than the 819 connections")
        .contains("256 MiB");
    assertThat(configured.directMemoryWarning(2048 * MIB, HEAD)).isNull();
  }

  @Test
  void explicitSettingsAreKeptAndAShareNeverExceedsTheTotal() {
    CapacityConfig c =
        CapacityConfig.from(
                ServiceSettings.config(
                    Map.of(
                        "limits.connections-max", "100",
                        "limits.connections-per-client", "500",
                        "limits.body-memory-max", "10MiB",
                        "limits.body-memory-per-client", "1MiB",
                        "limits.linger-time", "5s",
                        "limits.linger-max", "1MiB")))
            .resolve(1024, 150, 256 * MIB, 256 * MIB, 20 * MIB, HEAD);

    assertThat(c.connectionsMax()).isEqualTo(100);
    assertThat(c.connectionsPerClient()).isEqualTo(100);
    assertThat(c.bodyMemoryMax()).isEqualTo(10 * MIB);
    assertThat(c.bodyMemoryPerClient()).isEqualTo(MIB);
    assertThat(c.lingerTime()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.lingerMaxBytes()).isEqualTo(MIB);
  }

  @Test
  void negativeValuesAreRefused() {
    assertThatThrownBy(
            () ->
                CapacityConfig.from(ServiceSettings.config(Map.of("limits.connections-max", "-1"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("limits.connections-max");
  }
}
