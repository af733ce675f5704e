package io.trellis.ingress.capture;

import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.Setting;
import io.trellis.ingress.config.SettingType;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What the capture step trusts and what it removes before storage. {@code capture.store-cookies =
 * false} leaves the {@code Cookie} header out like a secret header.
 */
public record CaptureConfig(
    List<String> trustedProxies, Set<String> secretHeaders, Set<String> secretParams) {

  private static final String COOKIE = "cookie";

  public static final List<Setting> SETTINGS =
      List.of(
          Setting.of(
              "capture.trusted-proxies",
              SettingType.LIST,
              "",
              "Peers (IPs or CIDR ranges) whose X-Forwarded-For, Forwarded and X-Real-IP are believed."),
          Setting.of(
              "capture.secret-headers",
              SettingType.LIST,
              "",
              "Extra request headers removed before storage (Authorization and"
                  + " Proxy-Authorization always are)."),
          Setting.of(
              "capture.secret-params",
              SettingType.LIST,
              "",
              "Extra query parameters removed before storage (api_key and writeKey always are)."),
          Setting.of(
              "capture.store-cookies",
              SettingType.BOOLEAN,
              "true",
              "Store the Cookie header with the other headers (attribution cookies such as _ga,"
                  + " _fbp, _gcl_aw); false leaves it out of every stored event."));

  public static CaptureConfig from(Config c) {
    Set<String> secretHeaders = new HashSet<>(lower(c.list("capture.secret-headers")));
    if (!c.bool("capture.store-cookies")) {
      secretHeaders.add(COOKIE);
    }
    return new CaptureConfig(
        c.list("capture.trusted-proxies"),
        Set.copyOf(secretHeaders),
        Set.copyOf(c.list("capture.secret-params")));
  }

  public static CaptureConfig defaults() {
    return new CaptureConfig(List.of(), Set.of(), Set.of());
  }

  private static Set<String> lower(List<String> names) {
    return names.stream()
        .map(n -> n.toLowerCase(Locale.ROOT))
        .collect(Collectors.toUnmodifiableSet());
  }
}
