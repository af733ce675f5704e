package io.trellis.ingress.sink.bigquery;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.testing.RunningService;
import io.trellis.ingress.testing.bigquery.FakeBigQuery;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real service, HTTP to BigQuery rows: every endpoint's events arrive in the fake BigQuery with
 * the same content the files sink stores, and BigQuery being down holds nothing else back.
 */
class BigQueryServiceIT {
  private static final String PROJECT = "acme-analytics";

  @TempDir Path dataDir;
  private FakeBigQuery bq;
  private RunningService service;
  private String key;

  @BeforeEach
  void start() {
    bq = FakeBigQuery.start();
    service = RunningService.start(dataDir, bq.settings(PROJECT));
    key = service.createKey("org-acme");
    awaitKeyLoaded();
  }

  /**
   * The service reloads its key store every second; until then the new key is unknown. An empty
   * batch stores nothing, whatever the answer.
   */
  private void awaitKeyLoaded() {
    bq.await(
        "the key to be accepted",
        () ->
            service
                    .send(
                        HttpRequest.newBuilder(service.uri("/batch"))
                            .header("Authorization", "Bearer " + key)
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString("[]")))
                    .statusCode()
                != 401);
  }

  @AfterEach
  void stop() {
    service.close();
    bq.close();
  }

  private List<Map<String, Object>> rows() {
    return bq.rows(PROJECT, "trellis", "events");
  }

  private Map<String, Map<String, Object>> rowsById() {
    Map<String, Map<String, Object>> out = new HashMap<>();
    rows().forEach(r -> out.put((String) r.get("event_id"), r));
    return out;
  }

  @Test
  void everyEndpointsEventsArriveAsRowsWithEveryField() {
    assertThat(
            service
                .postJson(
                    "/events",
                    key,
                    "{\"event\":\"signup\",\"utm_source\":\"google\",\"utm_medium\":\"cpc\","
                        + "\"utm_campaign\":\"spring\",\"gclid\":\"G-1\",\"session_id\":\"s-1\","
                        + "\"plan\":{\"tier\":\"pro\"}}")
                .statusCode())
        .isEqualTo(200);
    assertThat(
            service
                .get(
                    "/track?event=pageview&page=%2Fhome&utm_source=newsletter&utm_medium=email"
                        + "&utm_campaign=launch&api_key="
                        + key)
                .statusCode())
        .isEqualTo(200);
    assertThat(service.get("/pixel?api_key=" + key + "&utm_campaign=px&fbclid=F-9").statusCode())
        .isEqualTo(200);
    assertThat(
            service
                .send(
                    HttpRequest.newBuilder(service.uri("/pixel?api_key=" + key))
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .header("Referer", "https://shop.example/cart")
                        .POST(HttpRequest.BodyPublishers.ofString("event=cart&utm_source=ads")))
                .statusCode())
        .isEqualTo(200);
    assertThat(
            service
                .postJson(
                    "/batch",
                    key,
                    "[{\"event\":\"click\",\"utm_source\":\"bing\",\"msclkid\":\"M-5\"},"
                        + "{\"event\":\"view\",\"sessionId\":\"s-2\"}]")
                .statusCode())
        .isEqualTo(200);

    List<JsonNode> stored = service.awaitStored(es -> es.size() == 6);
    bq.await("six rows in BigQuery", () -> rows().size() == 6);

    Map<String, Map<String, Object>> rows = rowsById();
    for (JsonNode e : stored) {
      Map<String, Object> r = rows.get(e.path("event_id").asText());
      assertThat(r).as("row for %s", e).isNotNull();
      assertSameEvent(e, r);
    }

    Map<String, Object> signup = byType("signup");
    assertThat(signup.get("source")).isEqualTo("google");
    assertThat(signup.get("medium")).isEqualTo("cpc");
    assertThat(signup.get("campaign")).isEqualTo("spring");
    assertThat(signup.get("click_id")).isEqualTo("G-1");
    assertThat(signup.get("session_id")).isEqualTo("s-1");
    JsonNode data = (JsonNode) signup.get("request_data");
    assertThat(data.path("body").path("plan").path("tier").asText()).isEqualTo("pro");
    assertThat(data.path("headers").has("authorization")).isFalse();
    assertThat(data.toString()).doesNotContain(key);

    Map<String, Object> pageview = byType("pageview");
    assertThat(pageview.get("source")).isEqualTo("newsletter");
    assertThat(pageview.get("medium")).isEqualTo("email");
    assertThat(pageview.get("campaign")).isEqualTo("launch");
    JsonNode track = (JsonNode) pageview.get("request_data");
    assertThat(track.path("method").asText()).isEqualTo("GET");
    assertThat(track.path("query_params").path("page").asText()).isEqualTo("/home");
    assertThat(track.path("query_params").has("api_key")).isFalse();
    assertThat(track.path("url").asText()).doesNotContain(key);

    JsonNode form =
        rows().stream()
            .map(r -> (JsonNode) r.get("request_data"))
            .filter(
                d ->
                    d.path("method").asText().equals("POST")
                        && d.path("url").asText().contains("/pixel"))
            .findFirst()
            .orElseThrow();
    assertThat(form.path("body").isTextual()).isTrue();
    assertThat(form.path("body").asText()).isEqualTo("event=cart&utm_source=ads");
    assertThat(form.path("referer").asText()).isEqualTo("https://shop.example/cart");

    assertThat(byType("click").get("click_id")).isEqualTo("M-5");
    assertThat(byType("click").get("source")).isEqualTo("bing");
    assertThat(byType("view").get("session_id")).isEqualTo("s-2");
    assertThat(byType("view").get("campaign")).isNull();
    assertThat(rows().stream().map(r -> r.get("organization_id")).collect(Collectors.toSet()))
        .containsExactly("org-acme");
  }

  private Map<String, Object> byType(String type) {
    return rows().stream()
        .filter(r -> type.equals(r.get("event_type")))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no row of type " + type + " in " + rows()));
  }

  /** The BigQuery row holds what the files sink stored for the same event, field by field. */
  private static void assertSameEvent(JsonNode e, Map<String, Object> r) {
    assertThat(r.get("organization_id")).isEqualTo(e.path("organization_id").asText());
    assertThat(r.get("timestamp")).isEqualTo(Instant.parse(e.path("timestamp").asText()));
    for (String column :
        List.of("event_type", "click_id", "session_id", "source", "medium", "campaign")) {
      String text = e.path(column).asText();
      assertThat(r.get(column)).as(column).isEqualTo(text.isEmpty() ? null : text);
    }
    JsonNode data = (JsonNode) r.get("request_data");
    for (String field : List.of("method", "url", "ip", "user_agent", "referer")) {
      assertThat(data.path(field).asText()).as(field).isEqualTo(e.path(field).asText());
    }
    assertThat(data.path("headers")).isEqualTo(e.path("headers"));
    assertThat(data.path("query_params")).isEqualTo(e.path("query_params"));
    String body = e.path("body").asText();
    if (data.path("body").isTextual()) {
      assertThat(data.path("body").asText()).isEqualTo(body);
    } else {
      assertThat(data.path("body")).isEqualTo(RunningService.json(body));
    }
  }

  @Test
  void bigQueryDownDoesNotHoldBackTheFilesSink() {
    bq.down(true);
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < 20; i++) {
      var response = service.postJson("/events", key, "{\"event\":\"e" + i + "\"}");
      assertThat(response.statusCode()).isEqualTo(200);
      JsonNode answer = RunningService.json(response.body());
      ids.add(answer.path("event_id").asText());
    }

    service.awaitStored(
        es ->
            es.stream()
                .map(e -> e.path("event_id").asText())
                .collect(Collectors.toSet())
                .containsAll(ids));
    assertThat(rows()).as("BigQuery is still down").isEmpty();

    bq.down(false);
    bq.await("every event in BigQuery", () -> rowsById().keySet().containsAll(ids));
    assertThat(rows()).hasSize(20);
  }

  @Test
  void aRowBigQueryRejectsGoesToTheDeadLettersWhileItsNeighboursLand() throws IOException {
    bq.rejectRows(r -> "poison".equals(r.get("event_type")));

    String batch = "[{\"event\":\"a\"},{\"event\":\"poison\"},{\"event\":\"c\"}]";
    assertThat(service.postJson("/batch", key, batch).statusCode()).isEqualTo(200);

    bq.await("the neighbours in BigQuery", () -> rows().size() == 2);
    assertThat(rows()).extracting(r -> r.get("event_type")).containsExactly("a", "c");
    Path deadLetters = dataDir.resolve("dead-letters").resolve("bigquery");
    bq.await("a dead letter", () -> deadLettersContain(deadLetters, "poison"));
    assertThat(service.storedEvents()).hasSize(3);
  }

  private static boolean deadLettersContain(Path dir, String text) {
    if (!Files.isDirectory(dir)) {
      return false;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        if (Files.readString(f).contains(text)) {
          return true;
        }
      }
      return false;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
