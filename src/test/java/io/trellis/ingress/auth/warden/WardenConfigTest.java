package io.trellis.ingress.auth.warden;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.ingress.auth.AuthConfig;
import io.trellis.ingress.cli.ServiceSettings;
import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.ConfigException;
import io.trellis.ingress.config.ConfigLoader;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WardenConfigTest {

  @Test
  void defaults() {
    WardenConfig w =
        WardenConfig.from(ServiceSettings.config(Map.of("auth.warden.url", "http://warden:9000")));

    assertThat(w)
        .isEqualTo(
            new WardenConfig(
                URI.create("http://warden:9000"),
                Duration.ofSeconds(2),
                Duration.ofMinutes(5),
                Duration.ofSeconds(30),
                Duration.ofHours(1),
                Duration.ofSeconds(5),
                100_000));
    assertThat(w.verifyUri()).isEqualTo(URI.create("http://warden:9000/v1/api-keys/verify"));
  }

  @Test
  void explicitValues() {
    WardenConfig w =
        WardenConfig.from(
            ServiceSettings.config(
                Map.of(
                    "auth.warden.url", "https://auth.internal/base/",
                    "auth.warden.timeout", "750ms",
                    "auth.warden.cache-valid-ttl", "10m",
                    "auth.warden.cache-invalid-ttl", "5s",
                    "auth.warden.stale-limit", "2h",
                    "auth.warden.retry-interval", "1s",
                    "auth.warden.cache-max-keys", "10")));

    assertThat(w.verifyUri())
        .isEqualTo(URI.create("https://auth.internal/base/v1/api-keys/verify"));
    assertThat(w.timeout()).isEqualTo(Duration.ofMillis(750));
    assertThat(w.validTtl()).isEqualTo(Duration.ofMinutes(10));
    assertThat(w.invalidTtl()).isEqualTo(Duration.ofSeconds(5));
    assertThat(w.staleLimit()).isEqualTo(Duration.ofHours(2));
    assertThat(w.retryInterval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(w.cacheMaxKeys()).isEqualTo(10);
  }

  @Test
  void modeAndUrlComeFromTheirDocumentedEnvironmentVariables() {
    Config c =
        ConfigLoader.load(
            ServiceSettings.all(),
            null,
            Map.of("TRELLIS_AUTH_MODE", "warden", "TRELLIS_WARDEN_URL", "http://10.0.0.7:8080"),
            Map.of());

    assertThat(AuthConfig.from(c).mode()).isEqualTo("warden");
    assertThat(WardenConfig.from(c).url()).isEqualTo(URI.create("http://10.0.0.7:8080"));
  }

  @Test
  void wardenModeWithoutUrlFailsWithTheKeyNamed() {
    assertThatThrownBy(() -> WardenConfig.from(ServiceSettings.defaults()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("auth.warden.url")
        .hasMessageContaining("TRELLIS_WARDEN_URL");
  }

  @Test
  void urlsThatCannotWorkAreRefused() {
    for (String bad : new String[] {"warden:8080", "ftp://warden", "http://user:pw@warden"}) {
      assertThatThrownBy(
              () -> WardenConfig.from(ServiceSettings.config(Map.of("auth.warden.url", bad))))
          .isInstanceOf(ConfigException.class)
          .hasMessageStartingWith("auth.warden.url")
          .hasMessageNotContaining("pw");
    }
  }

  @Test
  void zeroTimeoutIsRefused() {
    assertThatThrownBy(
            () ->
                WardenConfig.from(
                    ServiceSettings.config(
                        Map.of("auth.warden.url", "http://w", "auth.warden.timeout", "0s"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("auth.warden.timeout");
  }
}
