package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.testing.RunningService;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Segment-compatible tracking API, as Segment's and RudderStack's SDKs call it. */
class SegmentApiIT {
  @TempDir static Path dir;
  static RunningService service;
  static String key;
  static String basic;

  @BeforeAll
  static void start() {
    service = RunningService.start(dir);
    key = service.createKey("acme");
    basic = Base64.getEncoder().encodeToString((key + ":").getBytes(StandardCharsets.UTF_8));
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  static HttpResponse<String> call(String path, String json) {
    return service.send(
        HttpRequest.newBuilder(service.uri(path))
            .header("Authorization", "Basic " + basic)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  @Test
  void everyCallTypeIsStoredWithItsTypeAndMessageId() {
    String[][] calls = {
      {"/v1/track", "{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":\"u1\""},
      {"/v1/page", "{\"type\":\"page\",\"name\":\"Home\",\"anonymousId\":\"a1\""},
      {"/v1/identify", "{\"type\":\"identify\",\"userId\":\"u1\",\"traits\":{\"plan\":\"pro\"}"},
      {"/v1/screen", "{\"type\":\"screen\",\"name\":\"Dashboard\",\"userId\":\"u1\""},
      {"/v1/group", "{\"type\":\"group\",\"groupId\":\"g1\",\"userId\":\"u1\""},
      {"/v1/alias", "{\"type\":\"alias\",\"previousId\":\"a1\",\"userId\":\"u1\""}
    };
    String[] expectedType = {"Order Completed", "page", "identify", "screen", "group", "alias"};
    for (int i = 0; i < calls.length; i++) {
      String messageId = UUID.randomUUID().toString();
      String json = calls[i][1] + ",\"messageId\":\"" + messageId + "\"}";
      HttpResponse<String> res = call(calls[i][0], json);

      assertThat(res.statusCode()).as(calls[i][0]).isEqualTo(200);
      JsonNode answer = RunningService.json(res.body());
      assertThat(answer.path("success").asBoolean()).isTrue();
      assertThat(answer.path("event_id").asText()).isEqualTo(messageId);
      JsonNode e = service.awaitEvent(messageId);
      assertThat(e.path("event_type").asText()).isEqualTo(expectedType[i]);
      assertThat(e.path("organization_id").asText()).isEqualTo("acme");
      assertThat(e.path("body").asText()).isEqualTo(json);
    }
  }

  @Test
  void callWithoutATypeTakesItFromThePath() {
    String messageId = UUID.randomUUID().toString();
    call("/v1/identify", "{\"userId\":\"u9\",\"messageId\":\"" + messageId + "\"}");

    assertThat(service.awaitEvent(messageId).path("event_type").asText()).isEqualTo("identify");
  }

  @Test
  void nonUuidMessageIdIsKeptInTheBody() {
    String messageId = "node-next-1700000000000-" + UUID.randomUUID();
    HttpResponse<String> res =
        call(
            "/v1/track",
            "{\"type\":\"track\",\"event\":\"Signed Up\",\"messageId\":\"" + messageId + "\"}");

    String id = RunningService.json(res.body()).path("event_id").asText();
    assertThat(id).isNotEqualTo(messageId);
    assertThat(
            RunningService.json(service.awaitEvent(id).path("body").asText())
                .path("messageId")
                .asText())
        .isEqualTo(messageId);
  }

  /** analytics.js puts the page URL in context.page and the parsed UTM in context.campaign. */
  @Test
  void attributionIsReadFromTheSdkContext() {
    String m1 = UUID.randomUUID().toString();
    String m2 = UUID.randomUUID().toString();
    String context =
        "\"context\":{\"library\":{\"name\":\"analytics.js\"},"
            + "\"page\":{\"path\":\"/p\",\"url\":\"https://shop.example/p?gclid=G-CTX&x=1\"},"
            + "\"campaign\":{\"source\":\"newsletter\",\"medium\":\"email\","
            + "\"name\":\"spring_sale\",\"term\":\"shoes\"}}";
    HttpResponse<String> res =
        call(
            "/v1/batch",
            "{\"batch\":[{\"type\":\"track\",\"event\":\"Order Completed\",\"messageId\":\""
                + m1
                + "\","
                + context
                + "},{\"type\":\"page\",\"messageId\":\""
                + m2
                + "\",\"utm_source\":\"top-level wins\","
                + context
                + "}]}");

    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    JsonNode e1 = service.awaitEvent(m1);
    assertThat(e1.path("click_id").asText()).isEqualTo("G-CTX");
    assertThat(e1.path("source").asText()).isEqualTo("newsletter");
    assertThat(e1.path("medium").asText()).isEqualTo("email");
    assertThat(e1.path("campaign").asText()).isEqualTo("spring_sale");
    JsonNode e2 = service.awaitEvent(m2);
    assertThat(e2.path("source").asText()).isEqualTo("top-level wins");
    assertThat(e2.path("campaign").asText()).isEqualTo("spring_sale");

    String m3 = UUID.randomUUID().toString();
    call(
        "/v1/track",
        "{\"type\":\"track\",\"event\":\"Signed Up\",\"messageId\":\""
            + m3
            + "\",\"context\":{\"page\":{\"url\":\"https://a.example/?utm_source=ads&fbclid=FB1\"}}}");
    JsonNode e3 = service.awaitEvent(m3);
    assertThat(e3.path("click_id").asText()).isEqualTo("FB1");
    assertThat(e3.path("source").asText()).isEqualTo("ads");
  }

  @Test
  void batchEnvelopeIsSplitIntoOneEventPerMessage() {
    String m1 = UUID.randomUUID().toString();
    String m2 = UUID.randomUUID().toString();
    HttpResponse<String> res =
        call(
            "/v1/batch",
            "{\"batch\":[{\"type\":\"track\",\"event\":\"A\",\"messageId\":\""
                + m1
                + "\"},{\"type\":\"page\",\"name\":\"P\",\"messageId\":\""
                + m2
                + "\"}],\"writeKey\":\""
                + key
                + "\",\"sentAt\":\"2024-01-01T00:00:00Z\"}");

    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    assertThat(RunningService.json(res.body()).path("accepted").asInt()).isEqualTo(2);
    assertThat(service.awaitEvent(m1).path("event_type").asText()).isEqualTo("A");
    assertThat(service.awaitEvent(m2).path("event_type").asText()).isEqualTo("page");
  }

  @Test
  void analyticsJsShortPathWithWriteKeyInATextPlainBodyWorks() {
    String messageId = UUID.randomUUID().toString();
    String json =
        "{\"type\":\"track\",\"event\":\"Clicked\",\"writeKey\":\""
            + key
            + "\",\"messageId\":\""
            + messageId
            + "\"}";
    HttpResponse<String> res =
        service.send(
            HttpRequest.newBuilder(service.uri("/v1/t"))
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString(json)));

    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    JsonNode e = service.awaitEvent(messageId);
    assertThat(e.path("event_type").asText()).isEqualTo("Clicked");
    assertThat(e.toString()).doesNotContain(key);
  }

  @Test
  void wrongWriteKeyIs401() {
    String bad = Base64.getEncoder().encodeToString("trk_nope:".getBytes(StandardCharsets.UTF_8));
    HttpResponse<String> res =
        service.send(
            HttpRequest.newBuilder(service.uri("/v1/track"))
                .header("Authorization", "Basic " + bad)
                .POST(HttpRequest.BodyPublishers.ofString("{\"event\":\"x\"}")));

    assertThat(res.statusCode()).isEqualTo(401);
  }
}
