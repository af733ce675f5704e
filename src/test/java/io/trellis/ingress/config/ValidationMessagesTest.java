package io.trellis.ingress.config;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.ingress.auth.AuthConfig;
import io.trellis.ingress.cli.ServiceSettings;
import io.trellis.ingress.http.HttpConfig;
import io.trellis.ingress.ops.OpsConfig;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Each validation a core config class does, with the one line it stops start-up with. */
class ValidationMessagesTest {
  private static final Map<String, Function<Config, ?>> BUILDERS =
      Map.of(
          "http", HttpConfig::from,
          "auth", AuthConfig::from,
          "ops", OpsConfig::from);

  @ParameterizedTest(name = "{1}={2}")
  @CsvSource({
    "http, http.event-loops, -1, 'http.event-loops: must be 0 or more, got -1'",
    "auth, auth.mode, ldap, 'auth.mode: expected local or warden, got ''ldap'''",
    "ops, log.format, xml, 'log.format: expected text or json, got ''xml'''",
    "ops, log.level, loud, 'log.level: expected error, warn, info, debug or trace, got ''loud'''",
    "ops, log.max-errors-per-second, 0, 'log.max-errors-per-second: must be at least 1, got 0'",
    "ops, admin.port, nine, 'admin.port (--set admin.port): expected'",
    "http, port, 80x, 'port (--set port): expected'",
  })
  void badValueStopsWithOneLineNamingTheKey(
      String component, String key, String value, String message) {
    assertThatThrownBy(
            () -> BUILDERS.get(component).apply(ServiceSettings.config(Map.of(key, value))))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(message)
        .hasMessageNotContaining("\n");
  }
}
