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
