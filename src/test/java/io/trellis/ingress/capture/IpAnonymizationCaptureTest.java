package io.trellis.ingress.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.event.TrafficEvent;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The client address is anonymized on the capture path, before the event exists. */
class IpAnonymizationCaptureTest {
  private static final RequestData PROXIED =
      new RequestData(
          "POST",
          "http://in.example/events",
          List.of(
              Map.entry("Host", "in.example"),
              Map.entry("X-Forwarded-For", "203.0.113.77, 10.0.0.5"),
              Map.entry("Forwarded", "for=203.0.113.77;proto=https"),
              Map.entry("X-Real-IP", "203.0.113.77"),
              Map.entry("User-Agent", "Mozilla/5.0")),
          List.of(),
          "10.0.0.9",
          1_733_000_000_000L);

  private static CaptureConfig config(boolean all, Set<String> orgs) {
    return new CaptureConfig(List.of("10.0.0.0/8"), Set.of(), Set.of(), all, orgs);
  }

  private static TrafficEvent capture(
      CaptureConfig config, String org, boolean relay, String body) {
    EventCapture capture = new EventCapture(config);
    EventCapture.SharedRequest s = capture.request(PROXIED, null, relay, org);
    return capture.event(
        s,
        org,
        Endpoint.SEGMENT_TRACK,
        body,
        JsonFields.parse(body.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
  }

  @Test
  void withoutTheSettingTheAddressIsStoredWhole() {
    TrafficEvent e = capture(config(false, Set.of()), "acme", false, "{\"event\":\"x\"}");

    assertThat(e.ip()).isEqualTo("203.0.113.77");
    assertThat(e.headers()).contains("203.0.113.77");
  }

  @Test
  void ipAnonymizeDropsTheLastOctetInTheIpColumnAndInEveryAddressHeader() {
    TrafficEvent e = capture(config(true, Set.of()), "acme", false, "{\"event\":\"x\"}");

    assertThat(e.ip()).isEqualTo("203.0.113.0");
    assertThat(e.headers())
        .doesNotContain("203.0.113.77")
        .doesNotContain("10.0.0.5")
        .contains("\"x-forwarded-for\":\"203.0.113.0, 10.0.0.0\"")
        .contains("\"forwarded\":\"for=203.0.113.0;proto=https\"")
        .contains("\"x-real-ip\":\"203.0.113.0\"")
        .contains("\"user-agent\":\"Mozilla/5.0\"");
  }

  @Test
  void anOrganizationListedIsAnonymizedAndAnotherIsNot() {
    CaptureConfig c = config(false, Set.of("acme"));

    assertThat(capture(c, "acme", false, "{}").ip()).isEqualTo("203.0.113.0");
    assertThat(capture(c, "globex", false, "{}").ip()).isEqualTo("203.0.113.77");
  }

  @Test
  void aRelayedBrowserAddressIsAnonymizedInTheColumnTheBodyAndTheSocketHeader() {
    String body = "{\"type\":\"track\",\"event\":\"x\",\"context\":{\"ip\":\"198.51.100.23\"}}";
    TrafficEvent e = capture(config(true, Set.of()), "acme", true, body);

    assertThat(e.ip()).isEqualTo("198.51.100.0");
    assertThat(e.body()).isEqualTo(body.replace("198.51.100.23", "198.51.100.0"));
    assertThat(e.headers())
        .contains("\"" + EventCapture.SOCKET_IP_HEADER + "\":\"203.0.113.0\"")
        .doesNotContain("203.0.113.77");
  }
}
