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
import java.util.Base64;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With capture.ip-anonymize, an address the client relays in its payload is stored anonymized like
 * the request's own, in every protocol, over real HTTP: Snowplow's {@code ip} (pixel query and URL,
 * tracker payload), Segment's and RudderStack's {@code context.ip}, PostHog's {@code $ip}, a form
 * field. Each test also searches every file of the data directory (spool included) for the full
 * address. The keys are ordinary ones (not relay keys): the address is in the payload either way.
 */
class RelayedAddressAnonymizationIT {
  @TempDir static Path dir;
  private static RunningService service;
  private static String key;

  @BeforeAll
  static void start() {
    service =
        RunningService.start(
            dir.resolve("all"),
            Map.of("capture.trusted-proxies", "127.0.0.1,::1", "capture.ip-anonymize", "true"));
    key = service.createKey("acme");
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  private static String basic(String k) {
    return "Basic "
        + Base64.getEncoder().encodeToString((k + ":").getBytes(StandardCharsets.UTF_8));
  }

  private static void assertWrittenNowhere(RunningService s, String address) {
    assertThat(s.allFiles()).isNotEmpty();
    assertThat(s.allFiles())
        .allSatisfy(p -> assertThat(read(p)).as(p.toString()).doesNotContain(address));
  }

  @Test
  void snowplowPixelIpParameterInQueryParamsAndUrl() {
    String id = UUID.randomUUID().toString();
    HttpResponse<byte[]> res =
        service.sendForBytes(
            HttpRequest.newBuilder(
                    service.uri(
                        "/snowplow/" + key + "/i?e=pv&eid=" + id + "&ip=198.51.100.23&tv=js-4"))
                .header("X-Forwarded-For", "203.0.113.77")
                .GET());
    assertThat(res.statusCode()).isEqualTo(200);

    JsonNode e = service.awaitEvent(id);
    JsonNode query = e.path("query_params");
    assertThat(query.path("ip").asText()).isEqualTo("198.51.100.0");
    assertThat(query.path("tv").asText()).isEqualTo("js-4");
    assertThat(e.path("url").asText()).contains("&ip=198.51.100.0&tv=js-4");
    assertThat(e.path("ip").asText()).isEqualTo("203.0.113.0");
    assertWrittenNowhere(service, "198.51.100.23");
  }

  @Test
  void snowplowTrackerPayloadIpField() {
    String id = UUID.randomUUID().toString();
    HttpResponse<String> res =
        service.send(
            HttpRequest.newBuilder(
                    service.uri("/snowplow/" + key + "/com.snowplowanalytics.snowplow/tp2"))
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4\","
                            + "\"data\":[{\"e\":\"pv\",\"eid\":\""
                            + id
                            + "\",\"ip\":\"198.51.100.24\",\"url\":\"https://shop.example/\"}]}")));
    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);

    JsonNode e = service.awaitEvent(id);
    assertThat(e.path("body").asText())
        .contains("\"ip\":\"198.51.100.0\"")
        .contains("\"url\":\"https://shop.example/\"");
    assertWrittenNowhere(service, "198.51.100.24");
  }

  @Test
  void segmentContextIp() {
    String id = UUID.randomUUID().toString();
    HttpResponse<String> res =
        service.send(
            HttpRequest.newBuilder(service.uri("/v1/track"))
                .header("Content-Type", "application/json")
                .header("Authorization", basic(key))
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"type\":\"track\",\"event\":\"x\",\"messageId\":\""
                            + id
                            + "\",\"context\":{\"ip\":\"198.51.100.25\",\"locale\":\"en\"}}")));
    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);

    assertThat(service.awaitEvent(id).path("body").asText())
        .contains("\"context\":{\"ip\":\"198.51.100.0\",\"locale\":\"en\"}");
    assertWrittenNowhere(service, "198.51.100.25");
  }

  @Test
  void rudderStackBatchContextIpIn2001Db8() {
    String id = UUID.randomUUID().toString();
    HttpResponse<String> res =
        service.send(
            HttpRequest.newBuilder(service.uri("/v1/batch"))
                .header("Content-Type", "application/json")
                .header("Authorization", basic(key))
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"batch\":[{\"type\":\"track\",\"event\":\"x\",\"messageId\":\""
                            + id
                            + "\",\"channel\":\"server\",\"context\":{\"ip\":"
                            + "\"2001:db8:85a3:8d3:1319:8a2e:370:7348\"}}]}")));
    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);

    assertThat(service.awaitEvent(id).path("body").asText())
        .contains("\"context\":{\"ip\":\"2001:db8:85a3::\"}");
    assertWrittenNowhere(service, "1319:8a2e:370:7348");
  }

  @Test
  void postHogDollarIp() {
    String id = UUID.randomUUID().toString();
    HttpResponse<String> res =
        service.send(
            HttpRequest.newBuilder(service.uri("/i/v0/e/"))
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"api_key\":\""
                            + key
                            + "\",\"event\":\"$pageview\",\"uuid\":\""
                            + id
                            + "\",\"distinct_id\":\"d1\",\"properties\":{\"$ip\":\"198.51.100.26\","
                            + "\"$current_url\":\"https://shop.example/\"}}")));
    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);

    assertThat(service.awaitEvent(id).path("body").asText())
        .contains("\"$ip\":\"198.51.100.0\"")
        .contains("\"$current_url\":\"https://shop.example/\"");
    assertWrittenNowhere(service, "198.51.100.26");
  }

  @Test
  void aFormFieldAndItsRawBody() {
    HttpResponse<String> res =
        service.send(
            HttpRequest.newBuilder(service.uri("/events"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Authorization", "Bearer " + key)
                .POST(
                    HttpRequest.BodyPublishers.ofString("event=signup&ip=198.51.100.27&plan=pro")));
    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);

    JsonNode e = service.awaitEvent(RunningService.json(res.body()).path("event_id").asText());
    assertThat(e.path("query_params").path("ip").asText()).isEqualTo("198.51.100.0");
    assertThat(e.path("body").asText()).isEqualTo("event=signup&ip=198.51.100.0&plan=pro");
    assertWrittenNowhere(service, "198.51.100.27");
  }

  @Test
  void anOrganizationNotListedKeepsWhatItSent() {
    try (RunningService s =
        RunningService.start(
            dir.resolve("per-org"), Map.of("capture.ip-anonymize-organizations", "acme"))) {
      String acme = s.createKey("acme");
      String globex = s.createKey("globex");
      String anonymized = UUID.randomUUID().toString();
      String whole = UUID.randomUUID().toString();
      for (String[] call : new String[][] {{acme, anonymized}, {globex, whole}}) {
        assertThat(
                s.sendForBytes(
                        HttpRequest.newBuilder(
                                s.uri(
                                    "/snowplow/"
                                        + call[0]
                                        + "/i?e=pv&eid="
                                        + call[1]
                                        + "&ip=198.51.100.28"))
                            .GET())
                    .statusCode())
            .isEqualTo(200);
      }

      assertThat(s.awaitEvent(anonymized).path("url").asText()).endsWith("&ip=198.51.100.0");
      assertThat(s.awaitEvent(whole).path("url").asText()).endsWith("&ip=198.51.100.28");
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
