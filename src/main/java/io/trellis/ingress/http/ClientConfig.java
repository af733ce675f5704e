package io.trellis.ingress.http;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.ConfigException;
import io.trellis.ingress.config.Setting;
import io.trellis.ingress.config.SettingType;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the capture port grants browsers and other clients (CORS, the click redirect's allow-list)
 * and the limits that keep hostile input from hurting it.
 *
 * @param allowedOrigins origins allowed to read answers (CORS); empty means every origin is
 *     mirrored
 * @param corsMaxAge how long a browser may cache a preflight answer
 * @param allowPrivateNetwork whether a preflight asking for private-network access (a public page
 *     calling this service on a private address) is granted
 * @param redirectHosts hosts {@code /r} may redirect to; entries starting with {@code *.} also
 *     allow every sub-domain; empty means {@code /r} refuses every target
 * @param headerCountMax most request headers accepted (431 above)
 * @param paramsMax most query parameters plus form fields accepted (400 above)
 * @param jsonDepthMax deepest nesting of JSON arrays and objects accepted in a body (400 above)
 * @param requestTimeout time a connection has to deliver a complete request (408 above)
 */
public record ClientConfig(
    List<String> allowedOrigins,
    Duration corsMaxAge,
    boolean allowPrivateNetwork,
    List<String> redirectHosts,
    int headerCountMax,
    int paramsMax,
    int jsonDepthMax,
    Duration requestTimeout) {

  /** Jackson refuses deeper documents on its own; a larger setting could never take effect. */
  static final int JSON_DEPTH_CEILING = 500;

  public static final List<Setting> SETTINGS =
      List.of(
          Setting.of(
              "cors.allowed-origins",
              SettingType.LIST,
              "",
              "Origins (e.g. https://shop.example) whose pages may read answers; empty mirrors any"
                  + " Origin except null."),
          Setting.of(
              "cors.max-age",
              SettingType.DURATION,
              "24h",
              "How long browsers may cache a CORS preflight answer (Access-Control-Max-Age)."),
          Setting.of(
              "cors.allow-private-network",
              SettingType.BOOLEAN,
              "false",
              "Grant preflights that ask for private-network access"
                  + " (Access-Control-Allow-Private-Network): set it when public pages call this"
                  + " service on a private or loopback address."),
          Setting.of(
              "redirect.allowed-hosts",
              SettingType.LIST,
              "",
              "Hosts GET /r may redirect to (*.example.com allows sub-domains); empty refuses all."),
          Setting.of(
              "limits.header-count-max",
              SettingType.INT,
              "256",
              "Most request headers accepted (431 above)."),
          Setting.of(
              "limits.params-max",
              SettingType.INT,
              "1000",
              "Most query parameters plus form fields accepted in one request (400 above)."),
          Setting.of(
              "limits.json-depth-max",
              SettingType.INT,
              "64",
              "Deepest nesting of JSON objects and arrays accepted in a body, 1 to 500 (400"
                  + " above)."),
          Setting.of(
              "limits.request-timeout",
              SettingType.DURATION,
              "30s",
              "Time a connection has to send a complete request, from its opening or its previous"
                  + " answer (408 and close above)."));

  public ClientConfig {
    allowedOrigins = List.copyOf(requireNonNull(allowedOrigins, "allowedOrigins is null"));
    requireNonNull(corsMaxAge, "corsMaxAge is null");
    redirectHosts =
        requireNonNull(redirectHosts, "redirectHosts is null").stream()
            .map(h -> h.toLowerCase(Locale.ROOT))
            .toList();
    requireNonNull(requestTimeout, "requestTimeout is null");
    if (headerCountMax < 1) {
      throw new ConfigException("limits.header-count-max: must be 1 or more");
    }
    if (paramsMax < 1) {
      throw new ConfigException("limits.params-max: must be 1 or more");
    }
    if (jsonDepthMax < 1 || jsonDepthMax > JSON_DEPTH_CEILING) {
      throw new ConfigException(
          "limits.json-depth-max: must be between 1 and " + JSON_DEPTH_CEILING);
    }
    if (requestTimeout.toMillis() < 100) {
      throw new ConfigException("limits.request-timeout: must be at least 100ms");
    }
  }

  public static ClientConfig from(Config c) {
    return new ClientConfig(
        c.list("cors.allowed-origins"),
        c.duration("cors.max-age"),
        c.bool("cors.allow-private-network"),
        c.list("redirect.allowed-hosts"),
        c.integer("limits.header-count-max"),
        c.integer("limits.params-max"),
        c.integer("limits.json-depth-max"),
        c.duration("limits.request-timeout"));
  }

  public static ClientConfig defaults() {
    return from(Config.of(SETTINGS, Map.of()));
  }
}
