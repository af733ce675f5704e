package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.testing.RunningService;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Cookie header is captured data by default, and can be left out of capture. */
class CookieCaptureIT {
  @TempDir Path dir;

  private static JsonNode sendWithCookies(RunningService s) {
    String key = s.createKey("acme");
    HttpResponse<String> res =
        s.send(
            HttpRequest.newBuilder(s.uri("/events"))
                .header("Authorization", "Bearer " + key)
                .header("Cookie", "_ga=GA1.2.111.222; session=s3cr3t")
                .header("X-Other", "kept")
                .POST(HttpRequest.BodyPublishers.ofString("{\"event\":\"view\"}")));
    assertThat(res.statusCode()).isEqualTo(200);
    String id = RunningService.json(res.body()).path("event_id").asText();
    return s.awaitEvent(id).path("headers");
  }

  @Test
  void cookiesAreStoredWithTheOtherHeadersByDefault() {
    try (RunningService s = RunningService.start(dir)) {
      JsonNode headers = sendWithCookies(s);

      assertThat(headers.path("cookie").asText()).isEqualTo("_ga=GA1.2.111.222; session=s3cr3t");
      assertThat(headers.path("x-other").asText()).isEqualTo("kept");
    }
  }

  @Test
  void storeCookiesFalseLeavesTheCookieHeaderOutOfTheStoredEvent() {
    try (RunningService s = RunningService.start(dir, Map.of("capture.store-cookies", "false"))) {
      JsonNode headers = sendWithCookies(s);

      assertThat(headers.has("cookie")).isFalse();
      assertThat(headers.path("x-other").asText()).isEqualTo("kept");
      assertThat(s.allFiles().stream().map(CookieCaptureIT::read))
          .noneMatch(text -> text.contains("s3cr3t"));
    }
  }

  private static String read(Path p) {
    try {
      return new String(
          java.nio.file.Files.readAllBytes(p), java.nio.charset.StandardCharsets.ISO_8859_1);
    } catch (java.nio.file.NoSuchFileException e) {
      return ""; // a temporary file renamed meanwhile; its content is in the renamed one
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
