package io.trellis.ingress.enrich;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.ingress.cli.ServiceSettings;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EnrichConfigTest {
  @Test
  void theDefaultsAreThoseOfTheSettings() {
    assertThat(EnrichConfig.from(ServiceSettings.defaults())).isEqualTo(EnrichConfig.defaults());
  }

  @Test
  void cacheSizesAreSettingsOfAtLeastOne() {
    EnrichConfig c =
        EnrichConfig.from(
            ServiceSettings.config(
                Map.of("enrich.geoip.cache-size", "5", "enrich.user-agent.cache-size", "7")));
    assertThat(c.geoipCacheSize()).isEqualTo(5);
    assertThat(c.userAgentCacheSize()).isEqualTo(7);
    assertThatThrownBy(
            () -> EnrichConfig.from(ServiceSettings.config(Map.of("enrich.geoip.cache-size", "0"))))
        .hasMessageContaining("enrich.geoip.cache-size: must be at least 1");
  }
}
