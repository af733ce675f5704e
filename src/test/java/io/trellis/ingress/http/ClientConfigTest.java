package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.ingress.cli.ServiceSettings;
import io.trellis.ingress.config.ConfigException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClientConfigTest {
  @Test
  void defaults() {
    ClientConfig c = ClientConfig.defaults();

    assertThat(c.allowedOrigins()).isEmpty();
    assertThat(c.corsMaxAge()).isEqualTo(Duration.ofHours(24));
    assertThat(c.redirectHosts()).isEmpty();
    assertThat(c.headerCountMax()).isEqualTo(256);
    assertThat(c.paramsMax()).isEqualTo(1000);
    assertThat(c.jsonDepthMax()).isEqualTo(64);
    assertThat(c.requestTimeout()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void explicitMapping() {
    ClientConfig c =
        ClientConfig.from(
            ServiceSettings.config(
                Map.of(
                    "cors.allowed-origins", "https://a.example, https://b.example",
                    "cors.max-age", "2h",
                    "redirect.allowed-hosts", "Shop.Example,*.brand.example",
                    "limits.header-count-max", "50",
                    "limits.params-max", "10",
                    "limits.json-depth-max", "8",
                    "limits.request-timeout", "5s")));

    assertThat(c.allowedOrigins()).containsExactly("https://a.example", "https://b.example");
    assertThat(c.corsMaxAge()).isEqualTo(Duration.ofHours(2));
    assertThat(c.redirectHosts()).containsExactly("shop.example", "*.brand.example");
    assertThat(c.headerCountMax()).isEqualTo(50);
    assertThat(c.paramsMax()).isEqualTo(10);
    assertThat(c.jsonDepthMax()).isEqualTo(8);
    assertThat(c.requestTimeout()).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void depthBeyondWhatTheParserAllowsIsRefusedAtStart() {
    assertThatThrownBy(
            () -> ClientConfig.from(ServiceSettings.config(Map.of("limits.json-depth-max", "501"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("limits.json-depth-max");
  }

  @Test
  void redirectAllowListMatchesHostsAndSubdomainPatternsOnly() {
    ClickRedirect r =
        new ClickRedirect(
            new ClientConfig(
                List.of(),
                Duration.ofHours(1),
                false,
                List.of("shop.example", "*.brand.example"),
                10,
                10,
                10,
                Duration.ofSeconds(1)));

    assertThat(r.allowed("SHOP.example.")).isTrue();
    assertThat(r.allowed("eu.brand.example")).isTrue();
    assertThat(r.allowed("brand.example")).isFalse();
    assertThat(r.allowed("shop.example.evil")).isFalse();
    assertThat(r.check("https://shop.example/a b")).isInstanceOf(ClickRedirect.Refuse.class);
    assertThat(r.check("https://shop.example/p?q=1#f"))
        .isEqualTo(new ClickRedirect.Follow("https://shop.example/p?q=1#f"));
  }
}
