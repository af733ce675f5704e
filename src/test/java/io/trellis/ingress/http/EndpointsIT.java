package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.testing.RawHttp;
import io.trellis.ingress.testing.RunningService;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EndpointsIT {
  @TempDir static Path dir;
  static RunningService service;
  static String key;

  @BeforeAll
  static void start() {
    service = RunningService.start(dir);
    key = service.createKey("acme");
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  @Test
  void postEventsAnswersOkWithTheEventIdAndStoresTheEvent() {
    HttpResponse<String> res = service.postJson("/events", key, "{\"event\":\"signup\"}");

    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.headers().firstValue("content-type")).hasValue("application/json");
    JsonNode body = RunningService.json(res.body());
    assertThat(body.path("status").asText()).isEqualTo("ok");
    String id = body.path("event_id").asText();
    assertThat(UUID.fromString(id).version()).isEqualTo(7);
    JsonNode stored = service.awaitEvent(id);
    assertThat(stored.path("organization_id").asText()).isEqualTo("acme");
    assertThat(stored.path("event_type").asText()).isEqualTo("signup");
    assertThat(stored.path("method").asText()).isEqualTo("POST");
  }

  @Test
  void theStoredUrlIsTheHostTheClientNamedWithoutADefaultPort() {
    Map<String, String> urlByHost = new LinkedHashMap<>();
    urlByHost.put("shop.example", "http://shop.example/events?src=a");
    urlByHost.put("shop.example:80", "http://shop.example/events?src=a");
    urlByHost.put("shop.example:8443", "http://shop.example:8443/events?src=a");
    for (Map.Entry<String, String> e : urlByHost.entrySet()) {
      String body = "{\"event\":\"hosted\"}";
      String response =
          RawHttp.exchange(
              service.port(),
              "POST /events?src=a HTTP/1.1\r\nHost: "
                  + e.getKey()
                  + "\r\nAuthorization: Bearer "
                  + key
                  + "\r\nContent-Type: application/json\r\nContent-Length: "
                  + body.length()
                  + "\r\nConnection: close\r\n\r\n"
                  + body);
      assertThat(RawHttp.status(response)).as(e.getKey()).isEqualTo(200);
      String id = RunningService.json(RawHttp.body(response)).path("event_id").asText();
      assertThat(service.awaitEvent(id).path("url").asText())
          .as(e.getKey())
          .isEqualTo(e.getValue());
    }
  }

  @Test
  void trackAnswersJsonByDefault() {
    HttpResponse<String> res =
        service.get("/track?event=pageview&page=/home&source=google&api_key=" + key);

    assertThat(res.statusCode()).isEqualTo(200);
    String id = RunningService.json(res.body()).path("event_id").asText();
    JsonNode stored = service.awaitEvent(id);
    assertThat(stored.path("event_type").asText()).isEqualTo("pageview");
    assertThat(stored.path("source").asText()).isEqualTo("google");
    assertThat(stored.path("query_params").path("page").asText()).isEqualTo("/home");
  }

  @Test
  void trackAnswersTheGifWhenTheBrowserPrefersAnImage() {
    HttpResponse<byte[]> res =
        service.sendForBytes(
            HttpRequest.newBuilder(service.uri("/track?event=view&api_key=" + key))
                .header(
                    "Accept", "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8")
                .GET());

    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.headers().firstValue("content-type")).hasValue("image/gif");
    assertThat(res.body()).isEqualTo(TransparentGif.bytes());
  }

  @Test
  void trackAnswersTheGifForFormatGif() {
    HttpResponse<byte[]> res =
        service.sendForBytes(
            HttpRequest.newBuilder(service.uri("/track?format=gif&api_key=" + key)).GET());

    assertThat(res.headers().firstValue("content-type")).hasValue("image/gif");
    assertThat(res.body()).hasSize(43);
  }

  @Test
  void pixelAlwaysAnswersTheUncacheableGifForGetAndPost() {
    for (HttpRequest.Builder b :
        List.of(
            HttpRequest.newBuilder(service.uri("/pixel?campaign=x&api_key=" + key)).GET(),
            HttpRequest.newBuilder(service.uri("/pixel?api_key=" + key))
                .POST(HttpRequest.BodyPublishers.ofString("{\"event\":\"open\"}")))) {
      HttpResponse<byte[]> res = service.sendForBytes(b);

      assertThat(res.statusCode()).isEqualTo(200);
      assertThat(res.body()).isEqualTo(TransparentGif.bytes()).hasSize(43);
      assertThat(res.headers().firstValue("content-type")).hasValue("image/gif");
      assertThat(res.headers().firstValue("cache-control"))
          .hasValue("no-cache, no-store, must-revalidate");
    }
    service.awaitStored(
        es ->
            es.stream().filter(e -> e.path("event_type").asText().equals("pixel")).count() >= 1
                && es.stream().anyMatch(e -> e.path("event_type").asText().equals("open")));
  }

  @Test
  void batchAcceptsAnArrayAndRejectsNonObjectsByIndex() {
    HttpResponse<String> res =
        service.postJson(
            "/batch", key, "[{\"event\":\"a\"}, 42, {\"event\":\"b\"}, \"text\", [1]]");

    assertThat(res.statusCode()).isEqualTo(200);
    JsonNode body = RunningService.json(res.body());
    assertThat(body.path("accepted").asInt()).isEqualTo(2);
    assertThat(body.path("rejected").asInt()).isEqualTo(3);
    assertThat(body.path("event_ids")).hasSize(2);
    assertThat(body.path("errors").findValuesAsText("index")).containsExactly("1", "3", "4");
    assertThat(body.path("errors").get(0).path("error").asText()).contains("not a JSON object");
    JsonNode a = service.awaitEvent(body.path("event_ids").get(0).asText());
    JsonNode b = service.awaitEvent(body.path("event_ids").get(1).asText());
    assertThat(a.path("body").asText()).isEqualTo("{\"event\":\"a\"}");
    assertThat(b.path("body").asText()).isEqualTo("{\"event\":\"b\"}");
    assertThat(a.path("url").asText()).isEqualTo(b.path("url").asText()).endsWith("/batch");
  }

  @Test
  void batchAcceptsAnObjectWithABatchArray() {
    HttpResponse<String> res =
        service.postJson(
            "/batch",
            key,
            "{\"sentAt\":\"x\",\"batch\":[{\"type\":\"track\"},{\"type\":\"page\"}]}");

    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(RunningService.json(res.body()).path("accepted").asInt()).isEqualTo(2);
  }

  @Test
  void batchWithNothingAcceptableIs400() {
    HttpResponse<String> empty = service.postJson("/batch", key, "[]");
    HttpResponse<String> none = service.postJson("/batch", key, "[1, 2]");

    assertThat(empty.statusCode()).isEqualTo(400);
    assertThat(none.statusCode()).isEqualTo(400);
    assertThat(RunningService.json(none.body()).path("error").asText())
        .isEqualTo("nothing_accepted");
  }

  @Test
  void batchWithInvalidJsonIs400AndStoresNothing() {
    int before = service.storedEvents().size();
    HttpResponse<String> res =
        service.postJson("/batch", key, "[{\"event\":\"marker-invalid\"}, {\"oops\"");

    assertThat(res.statusCode()).isEqualTo(400);
    assertThat(RunningService.json(res.body()).path("error").asText()).isEqualTo("invalid_json");
    assertThat(service.storedEvents())
        .hasSizeGreaterThanOrEqualTo(before)
        .noneMatch(e -> e.path("body").asText().contains("marker-invalid"));
  }

  @Test
  void unknownPathIs404Json() {
    HttpResponse<String> res = service.get("/nope");

    assertThat(res.statusCode()).isEqualTo(404);
    assertThat(RunningService.json(res.body()).path("error").asText()).isEqualTo("not_found");
  }

  @Test
  void wrongMethodIs405JsonWithAllow() {
    HttpResponse<String> res = service.get("/events?api_key=" + key);

    assertThat(res.statusCode()).isEqualTo(405);
    assertThat(res.headers().firstValue("allow")).hasValue("POST, OPTIONS");
    assertThat(RunningService.json(res.body()).path("error").asText())
        .isEqualTo("method_not_allowed");
  }
}
