package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.testing.RunningService;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClickRedirectIT {
  @TempDir static Path dir;
  static RunningService service;
  static String key;

  @BeforeAll
  static void start() {
    service =
        RunningService.start(
            dir, Map.of("redirect.allowed-hosts", "shop.example, *.brand.example"));
    key = service.createKey("acme");
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  static HttpResponse<String> click(String target, String extra) {
    return service.get(
        "/r?u=" + URLEncoder.encode(target, StandardCharsets.UTF_8) + extra + "&api_key=" + key);
  }

  @Test
  void allowedTargetIsRecordedLikeTrackThenRedirected() {
    String target = "https://shop.example/sale?x=1";
    HttpResponse<String> res = click(target, "&gclid=CLICK-7&utm_source=mail&marker=redir1");

    assertThat(res.statusCode()).isEqualTo(302);
    assertThat(res.headers().firstValue("location")).hasValue(target);
    JsonNode e = service.awaitEvent(RunningService.json(res.body()).path("event_id").asText());
    assertThat(e.path("event_type").asText()).isEqualTo("click");
    assertThat(e.path("click_id").asText()).isEqualTo("CLICK-7");
    assertThat(e.path("source").asText()).isEqualTo("mail");
    assertThat(e.path("query_params").path("u").asText()).isEqualTo(target);
    assertThat(e.path("url").asText()).doesNotContain(key);
  }

  @Test
  void subdomainPatternAllowsSubdomains() {
    assertThat(click("http://eu.brand.example/", "").statusCode()).isEqualTo(302);
  }

  @Test
  void targetsOffTheAllowListAre400AndNotRecorded() {
    String[] bad = {
      "https://evil.example/",
      "https://shop.example.evil.example/",
      "https://shop.example@evil.example/",
      "https://brand.example/",
      "javascript:alert(1)",
      "//evil.example/",
      "/relative",
      "https:\\\\evil.example",
      "ftp://shop.example/"
    };
    for (String target : bad) {
      HttpResponse<String> res = click(target, "&marker=refused");

      assertThat(res.statusCode()).as(target).isEqualTo(400);
      assertThat(res.headers().firstValue("location")).as(target).isEmpty();
      assertThat(RunningService.json(res.body()).path("status").asText()).isEqualTo("error");
    }
    assertThat(service.get("/r?api_key=" + key).statusCode()).isEqualTo(400);
    click("https://shop.example/after", "&marker=after_refused");
    service.awaitStored(
        es ->
            es.stream()
                .anyMatch(
                    e -> e.path("query_params").path("marker").asText().equals("after_refused")));
    assertThat(service.storedEvents())
        .noneMatch(e -> e.path("query_params").path("marker").asText().equals("refused"));
  }
}
