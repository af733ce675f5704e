package io.trellis.ingress.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Addresses relayed in a request's payload, anonymized where they are stored. */
class RelayedAddressesTest {
  private static JsonFields json(String body) {
    return JsonFields.parse(body.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void theIpParameterOfAUrlAndOnlyIt() {
    assertThat(RelayedAddresses.url("/i?e=pv&ip=198.51.100.23&vip=198.51.100.23#ip=1.2.3.4"))
        .isEqualTo("/i?e=pv&ip=198.51.100.0&vip=198.51.100.23#ip=1.2.3.4");
    assertThat(RelayedAddresses.url("/i?ip=2001%3Adb8%3A85a3%3A8d3%3A1319%3A8a2e%3A370%3A7348"))
        .isEqualTo("/i?ip=2001%3Adb8%3A85a3%3A%3A");
    assertThat(RelayedAddresses.url("/i?ip=not-an-address&ip=%zz"))
        .isEqualTo("/i?ip=not-an-address&ip=%zz");
    String none = "/i?e=pv";
    assertThat(RelayedAddresses.url(none)).isSameAs(none);
  }

  @Test
  void theIpQueryParameter() {
    List<Map.Entry<String, String>> q =
        List.of(Map.entry("e", "pv"), Map.entry("ip", " 198.51.100.23 "), Map.entry("uid", "u"));

    assertThat(RelayedAddresses.query(q))
        .containsExactly(
            Map.entry("e", "pv"), Map.entry("ip", "198.51.100.0"), Map.entry("uid", "u"));
    List<Map.Entry<String, String>> without = List.of(Map.entry("e", "pv"));
    assertThat(RelayedAddresses.query(without)).isSameAs(without);
  }

  @Test
  void theAddressesSdksRelayInAJsonBody() {
    String segment =
        "{\"context\":{\"ip\":\"198.51.100.23\"},\"properties\":{\"seen\":\"198.51.100.23\"}}";
    assertThat(RelayedAddresses.body(segment, json(segment)))
        .isEqualTo(segment.replace("198.51.100.23", "198.51.100.0"));

    String posthog = "{\"event\":\"x\",\"properties\":{\"$ip\":\"2001:db8::7\",\"n\":1}}";
    assertThat(RelayedAddresses.body(posthog, json(posthog)))
        .isEqualTo("{\"event\":\"x\",\"properties\":{\"$ip\":\"2001:db8::\",\"n\":1}}");

    String snowplow = "{\"e\":\"pv\",\"ip\":\"203.0.113.77\"}";
    assertThat(RelayedAddresses.body(snowplow, json(snowplow)))
        .isEqualTo("{\"e\":\"pv\",\"ip\":\"203.0.113.0\"}");

    String other = "{\"e\":\"pv\",\"ip\":\"unknown\",\"server\":\"203.0.113.77\"}";
    assertThat(RelayedAddresses.body(other, json(other))).isEqualTo(other);
  }

  @Test
  void aFormBodyAndExactBytes() {
    assertThat(RelayedAddresses.text("a=1&ip=203.0.113.77")).isEqualTo("a=1&ip=203.0.113.0");
    assertThat(RelayedAddresses.text("[{\"ip\":\"203.0.113.77\"}]"))
        .isEqualTo("[{\"ip\":\"203.0.113.77\"}]");

    byte[] invalid =
        "{\"ip\":\"203.0.113.77\",\"x\":\"\u00ff\"}".getBytes(StandardCharsets.ISO_8859_1);
    String decoded = new String(invalid, StandardCharsets.UTF_8);
    byte[] out = RelayedAddresses.bytes(invalid, json(decoded));
    assertThat(new String(out, StandardCharsets.ISO_8859_1))
        .isEqualTo("{\"ip\":\"203.0.113.0\",\"x\":\"\u00ff\"}");
  }
}
