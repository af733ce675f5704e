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
 *
 * @param ipAnonymize anonymize the client address of every organization's events
 * @param ipAnonymizeOrganizations the organizations whose events have their client address
 *     anonymized when {@code ipAnonymize} is off
 */
public record CaptureConfig(
    List<String> trustedProxies,
    Set<String> secretHeaders,
    Set<String> secretParams,
    boolean ipAnonymize,
    Set<String> ipAnonymizeOrganizations) {

  public CaptureConfig {
    trustedProxies = List.copyOf(trustedProxies);
    secretHeaders = Set.copyOf(secretHeaders);
    secretParams = Set.copyOf(secretParams);
    ipAnonymizeOrganizations = Set.copyOf(ipAnonymizeOrganizations);
  }

  /** Client addresses stored as they are. */
  public CaptureConfig(
      List<String> trustedProxies, Set<String> secretHeaders, Set<String> secretParams) {
    this(trustedProxies, secretHeaders, secretParams, false, Set.of());
  }

  /** Whether the events of this organization have their client address anonymized. */
  public boolean anonymizesIp(String organizationId) {
    return ipAnonymize
        || (organizationId != null && ipAnonymizeOrganizations.contains(organizationId));
  }

  /** True when the address of any organization's clients is anonymized. */
  public boolean anonymizesAnyIp() {
    return ipAnonymize || !ipAnonymizeOrganizations.isEmpty();
  }

  private static final String COOKIE = "cookie";

  public static final List<Setting> SETTINGS =
      List.of(
          Setting.of(
              "capture.trusted-proxies",
              SettingType.LIST,
              "",
              "Peers (IPs or CIDR ranges) whose X-Forwarded-For, Forwarded and X-Real-IP are"
                  + " believed for the client's address, X-Forwarded-Proto, X-Forwarded-Host,"
                  + " X-Forwarded-Port and Forwarded for the scheme, host and port of the stored"
                  + " url, and X-Forwarded-Prefix for the path before its own."),
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
                  + " _fbp, _gcl_aw); false leaves it out of every stored event."),
          Setting.of(
              "capture.ip-anonymize",
              SettingType.BOOLEAN,
              "false",
              "Drop the last octet of IPv4 and the last 80 bits of IPv6 client addresses before"
                  + " storage: in the ip column, in X-Forwarded-For, Forwarded, X-Real-IP and the"
                  + " other address headers, and where the payload relays one (the ip parameter,"
                  + " context.ip, $ip)."),
          Setting.of(
              "capture.ip-anonymize-organizations",
              SettingType.LIST,
              "",
              "Organizations whose client addresses are anonymized as by capture.ip-anonymize"
                  + " when that is false, e.g. acme,globex."));

  public static CaptureConfig from(Config c) {
    Set<String> secretHeaders = new HashSet<>(lower(c.list("capture.secret-headers")));
    if (!c.bool("capture.store-cookies")) {
      secretHeaders.add(COOKIE);
    }
    return new CaptureConfig(
        c.list("capture.trusted-proxies"),
        Set.copyOf(secretHeaders),
        Set.copyOf(c.list("capture.secret-params")),
        c.bool("capture.ip-anonymize"),
        Set.copyOf(c.list("capture.ip-anonymize-organizations")));
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
