package io.trellis.ingress.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.ingress.testing.CliProcess;
import io.trellis.ingress.testing.CliProcess.Result;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What serve prints: a short banner on stdout ending with the demo key, logs on stderr. */
class StartupOutputIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern KEY = Pattern.compile("trk_[a-z0-9]{12}_[A-Za-z0-9]{32}");
  private static final Pattern CAPTURE = Pattern.compile("(?m)^  capture  (http://\\S+)$");

  @TempDir Path dir;

  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  private int send(HttpRequest.Builder request) throws Exception {
    return http.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  @Test
  void theBannerSaysWhereEverythingIsAndTheDemoKeyIsTheLastLineOnStdout() throws Exception {
    Result r;
    String key;
    try (CliProcess serve =
        CliProcess.start(
            dir,
            Map.of("TRELLIS_LOG_ACCESS", "true"),
            "serve",
            "--data-dir",
            "data",
            "--port",
            "0",
            "--set",
            "admin.port=0")) {
      String out = serve.awaitStdout(s -> KEY.matcher(s).find(), Duration.ofSeconds(60));
      Matcher k = KEY.matcher(out);
      assertThat(k.find()).isTrue();
      key = k.group();
      Matcher capture = CAPTURE.matcher(out);
      assertThat(capture.find()).as(out).isTrue();
      String base = capture.group(1);
      assertThat(
              send(
                  HttpRequest.newBuilder(URI.create(base + "/events"))
                      .header("Authorization", "Bearer " + key)
                      .POST(HttpRequest.BodyPublishers.ofString("{\"event\":\"hello\"}"))))
          .isEqualTo(200);
      assertThat(send(HttpRequest.newBuilder(URI.create(base + "/track/" + key)).GET()))
          .isEqualTo(404);
      Matcher admin = Pattern.compile("(?m)^  admin    (http://\\S+)").matcher(out);
      assertThat(admin.find()).isTrue();
      String metrics =
          http.send(
                  HttpRequest.newBuilder(URI.create(admin.group(1) + "/metrics")).build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      List<String> help = metrics.lines().filter(l -> l.startsWith("# HELP ")).toList();
      assertThat(help).anyMatch(l -> l.startsWith("# HELP trellis_sink_lag_events "));
      assertThat(help)
          .as("every metric says what it counts")
          .allSatisfy(l -> assertThat(l).matches("# HELP \\S+ \\S.*"));
      r = serve.stop();
    }

    List<String> out = r.outLines();
    assertThat(out.get(0))
        .matches("trellis-ingress \\d+\\.\\d+\\.\\d+(-SNAPSHOT)? is accepting events");
    assertThat(r.out())
        .containsPattern(
            "(?m)^  admin    http://127\\.0\\.0\\.1:\\d+  /metrics /healthz /readyz /live$")
        .contains("  data     " + dir.resolve("data").toAbsolutePath())
        .contains("  sinks    files " + dir.resolve("data/events").toAbsolutePath())
        .contains("  auth     local key store " + dir.resolve("data/keys.json").toAbsolutePath());
    assertThat(out).hasSizeLessThanOrEqualTo(12);
    assertThat(out.get(out.size() - 1)).isEqualTo(key);
    assertThat(r.err())
        .doesNotContain(key.substring(17))
        .doesNotContainPattern("PT\\d")
        .doesNotContainPattern("[A-Za-z]+(Config|Sink|Resolver)?[\\[{][a-zA-Z]+=")
        .doesNotContainPattern("\\d(B|KiB|MiB|GiB)\\b")
        .doesNotContain("Sink ready")
        .contains("GET /track/[redacted] HTTP/1.1 404");
  }

  @Test
  void jsonLogsAreOneParsedObjectPerLineWithFormattedMessagesAndFields() throws Exception {
    Result r;
    String captureUrl;
    try (CliProcess serve =
        CliProcess.start(
            dir,
            Map.of(
                "TRELLIS_LOG_FORMAT",
                "json",
                "TRELLIS_LOG_ACCESS",
                "true",
                "TRELLIS_AUTH_DEMO_KEY",
                "false"),
            "serve",
            "--data-dir",
            "data",
            "--port",
            "0",
            "--set",
            "admin.port=0")) {
      String out =
          serve.awaitStdout(s -> s.contains("keys create --org ORG"), Duration.ofSeconds(60));
      Matcher capture = CAPTURE.matcher(out);
      assertThat(capture.find()).as(out).isTrue();
      captureUrl = capture.group(1);
      assertThat(
              send(
                  HttpRequest.newBuilder(URI.create(capture.group(1) + "/events"))
                      .POST(HttpRequest.BodyPublishers.ofString("{}"))))
          .isEqualTo(401);
      r = serve.stop();
    }

    assertThat(r.outLines().get(r.outLines().size() - 1))
        .startsWith("The key store is empty: create a key with  trellis-ingress keys create");
    List<JsonNode> lines = new ArrayList<>();
    for (String line : r.errLines()) {
      JsonNode n = JSON.readTree(line);
      assertThat(n.isObject()).as(line).isTrue();
      Instant.parse(n.path("timestamp").asText());
      assertThat(n.path("level").asText()).as(line).isIn("ERROR", "WARN", "INFO", "DEBUG");
      assertThat(n.path("logger").asText()).as(line).isNotEmpty();
      assertThat(n.path("message").asText()).as(line).isNotEmpty().doesNotContain("{}");
      assertThat(n.has("arguments") || n.has("context")).as(line).isFalse();
      lines.add(n);
    }
    assertThat(lines).hasSizeGreaterThan(4);
    JsonNode access =
        lines.stream()
            .filter(n -> n.path("logger").asText().equals("trellis.access"))
            .findFirst()
            .orElseThrow();
    assertThat(access.path("method").asText()).isEqualTo("POST");
    assertThat(access.path("path").asText()).isEqualTo("/events");
    assertThat(access.path("status").asInt()).isEqualTo(401);
    assertThat(access.path("message").asText()).startsWith("POST /events HTTP/1.1 401");

    // Start-up and shutdown lines carry their figures as fields, not only in the message.
    int port = URI.create(captureUrl).getPort();
    JsonNode listening = line(lines, "Capture port listening on ");
    assertThat(listening.path("host").asText()).isEqualTo("127.0.0.1");
    assertThat(listening.path("port").asInt()).isEqualTo(port);
    assertThat(line(lines, "Admin port listening on ").path("port").asInt()).isPositive();
    JsonNode spool = line(lines, "Spool ready in ");
    assertThat(spool.path("max_bytes").asLong()).isPositive();
    assertThat(spool.path("fsync").asText()).isEqualTo("group");
    assertThat(spool.path("sinks").asInt()).isEqualTo(1);
    assertThat(line(lines, "Spool closed at offset ").path("next_offset").isIntegralNumber())
        .isTrue();
  }

  private static JsonNode line(List<JsonNode> lines, String messageStart) {
    return lines.stream()
        .filter(n -> n.path("message").asText().startsWith(messageStart))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no line starting with " + messageStart));
  }
}
