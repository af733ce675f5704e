package io.trellis.ingress.auth;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.FileAppender;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.trellis.ingress.testing.FakeWarden;
import io.trellis.ingress.testing.RunningService;
import java.io.IOException;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Sends API keys every way a client can, valid and not, through both key resolvers, the error paths
 * included, and then searches everything the service wrote or said for them: the log (at DEBUG),
 * every file under the data directories (events, key store, spool, dead letters), the metrics, and
 * every answer.
 */
class KeySecrecyIT {
  @TempDir Path tmp;
  private final LoggerContext logging = (LoggerContext) LoggerFactory.getILoggerFactory();
  private final Map<String, Level> levels = new LinkedHashMap<>();
  private FileAppender<ILoggingEvent> appender;
  private Path logFile;
  private final List<String> answers = new ArrayList<>();
  private final List<String> metrics = new ArrayList<>();

  @BeforeEach
  void captureLogs() {
    logFile = tmp.resolve("service.log");
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(logging);
    encoder.setPattern("%d %level [%thread] %logger - %msg%n%ex");
    encoder.start();
    appender = new FileAppender<>();
    appender.setContext(logging);
    appender.setFile(logFile.toString());
    appender.setEncoder(encoder);
    appender.start();
    logging.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(appender);
    for (String name : List.of(Logger.ROOT_LOGGER_NAME, "io.trellis", "io.vertx")) {
      Logger l = logging.getLogger(name);
      levels.put(name, l.getLevel());
      l.setLevel(Level.DEBUG);
    }
  }

  @AfterEach
  void restoreLogs() {
    logging.getLogger(Logger.ROOT_LOGGER_NAME).detachAppender(appender);
    appender.stop();
    levels.forEach((name, level) -> logging.getLogger(name).setLevel(level));
  }

  @Test
  void keysAppearNowhereTheServiceWrites() throws Exception {
    List<String> secrets = new ArrayList<>();
    Path localDir = tmp.resolve("local");
    Path wardenDir = tmp.resolve("warden");

    try (RunningService local =
        RunningService.start(
            localDir,
            Map.of(
                "capture.trusted-proxies", "127.0.0.1",
                "limits.auth-failures.burst", "5",
                "limits.org.overrides", "capped=1:3"))) {
      String key = local.createKey("acme");
      String revoked = local.createKey("acme");
      String capped = local.createKey("capped");
      secrets.addAll(List.of(key, revoked, capped));
      local.keyStore().revoke(ApiKeys.keyIdOf(revoked));
      local.keyStore().reloadIfChanged();
      exerciseEveryPlace(local, key);
      answer(local.postJson("/events", revoked, "{\"event\":\"after revoke\"}"));
      answer(local.postJson("/batch", capped, "[{},{},{},{}]")); // over its rate: 429
      for (int i = 0; i < 8; i++) { // guesses, then 429 for the guessing address
        String guess = "trk_guessguess0" + i + "_abcdefghijklmnopqrstuvwxyz012345";
        secrets.add(guess);
        answer(
            local.send(
                HttpRequest.newBuilder(local.uri("/events"))
                    .header("Authorization", "Bearer " + guess)
                    .header("X-Forwarded-For", "198.51.100.7")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"k\":\"" + guess + "\"}"))));
      }
      local.awaitStored(es -> es.size() >= 8);
      metrics.add(((PrometheusMeterRegistry) local.meters()).scrape());

      // Positive controls: the scan below does read what it searches.
      assertThat(Files.readString(localDir.resolve("keys.json")))
          .contains(ApiKeys.hash(key))
          .contains(ApiKeys.hash(revoked));
      assertThat(local.storedEvents())
          .anySatisfy(e -> assertThat(e.get("body").asText()).contains("[redacted]"));
    }

    try (FakeWarden warden = new FakeWarden();
        RunningService remote =
            RunningService.start(
                wardenDir,
                Map.of(
                    "auth.mode", "warden",
                    "auth.warden.url", warden.url(),
                    "auth.warden.timeout", "300ms",
                    "auth.warden.retry-interval", "200ms"))) {
      String key = "wk_live_Q2hhbmdlTWVQbGVhc2UxMjM0NTY3";
      String readOnly = "wk_live_UmVhZE9ubHlLZXk5ODc2NTQzMjE";
      String unknown = "wk_live_VW5rbm93bktleTExMTExMTExMTE";
      String duringOutage = "wk_live_T3V0YWdlS2V5MjIyMjIyMjIyMjI";
      secrets.addAll(List.of(key, readOnly, unknown, duringOutage));
      warden.grant(key, "acme").grant(readOnly, "acme", "read").grant(duringOutage, "acme");
      exerciseEveryPlace(remote, key);
      answer(remote.postJson("/events", readOnly, "{}"));
      answer(remote.postJson("/events", unknown, "{}"));
      warden.mode(FakeWarden.Mode.FAIL);
      answer(remote.postJson("/events", duringOutage, "{}"));
      warden.mode(FakeWarden.Mode.HANG);
      Thread.sleep(250); // past the retry interval, so the next key makes a call that times out
      answer(remote.postJson("/events", unknown + "x", "{}"));
      secrets.add(unknown + "x");
      warden.mode(FakeWarden.Mode.SERVE);
      remote.awaitStored(es -> es.size() >= 6);
      metrics.add(((PrometheusMeterRegistry) remote.meters()).scrape());
      assertThat(remote.toString()).doesNotContain(key);
    }

    assertThat(answers).anyMatch(a -> a.startsWith("503"));
    assertThat(answers).anyMatch(a -> a.startsWith("429"));
    assertThat(answers).anyMatch(a -> a.startsWith("403"));
    String log = Files.readString(logFile);
    assertThat(log).contains("Capture port listening").contains("Warden is unavailable");

    List<Path> written = new ArrayList<>();
    try (Stream<Path> files = Files.walk(tmp)) {
      files.filter(Files::isRegularFile).forEach(written::add);
    }
    assertThat(written).hasSizeGreaterThan(4);
    for (String secret : secrets) {
      assertThat(log).as("log").doesNotContain(secret);
      for (Path f : written) {
        assertThat(read(f)).as("file %s", f).doesNotContain(secret);
      }
      assertThat(metrics).allSatisfy(m -> assertThat(m).as("metrics").doesNotContain(secret));
      assertThat(answers).allSatisfy(a -> assertThat(a).as("answer").doesNotContain(secret));
    }
  }

  /** Valid requests carrying the key in every place a client might put it. */
  private void exerciseEveryPlace(RunningService s, String key) {
    String basic = Base64.getEncoder().encodeToString((key + ":").getBytes(StandardCharsets.UTF_8));
    String q = URLEncoder.encode(key, StandardCharsets.UTF_8);
    answer(
        s.send(
            HttpRequest.newBuilder(s.uri("/events?note=" + q))
                .header("Authorization", "Bearer " + key)
                .header("User-Agent", "sdk/1.0 (" + key + ")")
                .header("Referer", "https://shop.example/?k=" + key)
                .header("Cookie", "session=abc; trellis_key=" + key)
                .header("X-Debug", key)
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"event\":\"signup\",\"api_key\":\""
                            + key
                            + "\",\"note\":\""
                            + key
                            + "\"}"))));
    answer(
        s.send(
            HttpRequest.newBuilder(s.uri("/events"))
                .header("Authorization", "Basic " + basic)
                .POST(HttpRequest.BodyPublishers.ofString("not json, " + key))));
    answer(
        s.send(
            HttpRequest.newBuilder(s.uri("/batch"))
                .header("X-Api-Key", key)
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "[{\"event\":\"a\",\"key\":\"" + key + "\"},{\"event\":\"b\"}]"))));
    answer(s.get("/track?event=pageview&api_key=" + q + "&ref=" + q));
    answer(s.get("/pixel?api_key=" + q));
  }

  private void answer(HttpResponse<String> r) {
    answers.add(r.statusCode() + " " + r.headers().map() + " " + r.body());
  }

  private static String read(Path f) {
    try {
      return new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
