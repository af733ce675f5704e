package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.testing.RunningService;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * capture.ip-anonymize over real HTTP: the full address is nowhere in the data directory (events,
 * spool), the anonymized one is in the event.
 */
class IpAnonymizationIT {
  @TempDir Path dir;

  private static JsonNode sendThroughProxy(RunningService s, String org) {
    String key = s.createKey(org);
    HttpResponse<String> res =
        s.send(
            HttpRequest.newBuilder(s.uri("/events"))
                .header("Authorization", "Bearer " + key)
                .header("X-Forwarded-For", "203.0.113.77")
                .POST(HttpRequest.BodyPublishers.ofString("{\"event\":\"view\"}")));
    assertThat(res.statusCode()).isEqualTo(200);
    return s.awaitEvent(RunningService.json(res.body()).path("event_id").asText());
  }

  @Test
  void anonymizedAddressIsStoredAndTheFullOneIsWrittenNowhere() {
    try (RunningService s =
        RunningService.start(
            dir,
            Map.of("capture.trusted-proxies", "127.0.0.1,::1", "capture.ip-anonymize", "true"))) {
      JsonNode event = sendThroughProxy(s, "acme");

      assertThat(event.path("ip").asText()).isEqualTo("203.0.113.0");
      assertThat(event.path("headers").path("x-forwarded-for").asText()).isEqualTo("203.0.113.0");
      assertThat(s.allFiles()).isNotEmpty();
      assertThat(s.allFiles().stream().map(IpAnonymizationIT::read))
          .noneMatch(text -> text.contains("203.0.113.77"));
    }
  }

  @Test
  void everyAddressHeaderOfProxiesAndCdnsIsStoredAnonymized() {
    Map<String, String> sent = new LinkedHashMap<>();
    for (String name :
        List.of(
            "X-Real-IP",
            "X-Client-IP",
            "X-Cluster-Client-IP",
            "CF-Connecting-IP",
            "True-Client-IP",
            "Fastly-Client-IP",
            "X-Original-Forwarded-For",
            "X-Envoy-External-Address",
            "X-Azure-ClientIP",
            "X-Azure-SocketIP",
            "X-AppEngine-User-IP",
            "X-Vercel-Forwarded-For",
            "X-Nf-Client-Connection-IP",
            "Fly-Client-IP",
            "Forwarded-For")) {
      sent.put(name, "203.0.113.77");
    }
    sent.put("CF-Connecting-IPv6", "2001:db8:85a3:8d3:1319:8a2e:370:7348");
    sent.put("Forwarded", "for=\"203.0.113.77:4711\";proto=https");
    sent.put("X-Forwarded", "for=203.0.113.77");
    try (RunningService s = RunningService.start(dir, Map.of("capture.ip-anonymize", "true"))) {
      String key = s.createKey("acme");
      HttpRequest.Builder req =
          HttpRequest.newBuilder(s.uri("/events"))
              .header("Authorization", "Bearer " + key)
              .POST(HttpRequest.BodyPublishers.ofString("{\"event\":\"view\"}"));
      sent.forEach(req::header);
      HttpResponse<String> res = s.send(req);
      assertThat(res.statusCode()).isEqualTo(200);
      JsonNode headers =
          s.awaitEvent(RunningService.json(res.body()).path("event_id").asText()).path("headers");
      for (String name : sent.keySet()) {
        assertThat(headers.path(name.toLowerCase(java.util.Locale.ROOT)).asText())
            .as(name)
            .isNotEmpty()
            .doesNotContain("203.0.113.77")
            .doesNotContain("1319:8a2e");
      }
      assertThat(headers.path("fly-client-ip").asText()).isEqualTo("203.0.113.0");
      assertThat(headers.path("cf-connecting-ipv6").asText()).isEqualTo("2001:db8:85a3::");
      assertThat(s.allFiles().stream().map(IpAnonymizationIT::read))
          .noneMatch(text -> text.contains("203.0.113.77"));
    }
  }

  @Test
  void perOrganizationOptionAnonymizesOnlyThatOrganization() {
    try (RunningService s =
        RunningService.start(
            dir,
            Map.of(
                "capture.trusted-proxies",
                "127.0.0.1,::1",
                "capture.ip-anonymize-organizations",
                "acme"))) {
      assertThat(sendThroughProxy(s, "acme").path("ip").asText()).isEqualTo("203.0.113.0");
      assertThat(sendThroughProxy(s, "globex").path("ip").asText()).isEqualTo("203.0.113.77");
    }
  }

  private static String read(Path p) {
    try {
      return new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1);
    } catch (NoSuchFileException e) {
      return ""; // renamed meanwhile; its content is in the renamed file
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
