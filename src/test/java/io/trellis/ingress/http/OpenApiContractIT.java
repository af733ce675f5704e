package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.trellis.ingress.testing.RunningService;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.validation.ResponseValidator;
import io.vertx.openapi.validation.ValidatableResponse;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real responses of the running service, checked against the OpenAPI document it serves. JSON
 * bodies are validated against their schemas; for binary media types (the GIF, the YAML document)
 * the validator library knows no schema check, so the test checks that the answered status and
 * content type are the ones the document declares for the operation.
 */
class OpenApiContractIT {
  @TempDir static Path dir;
  static RunningService service;
  static String key;
  static Vertx vertx;
  static ResponseValidator validator;
  static final Set<String> covered = new HashSet<>();
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  static final ObjectMapper JSON = new ObjectMapper();
  static final Set<String> BINARY = Set.of("image/gif", "application/yaml", "text/javascript");
  static JsonNode document;

  /** A copy of the document where binary media types read application/octet-stream. */
  static JsonNode binaryAsOctets(JsonNode doc) {
    JsonNode copy = doc.deepCopy();
    for (JsonNode node : copy.findParents("content")) {
      JsonNode content = node.get("content");
      if (content instanceof ObjectNode obj) {
        for (String type : BINARY) {
          JsonNode schema = obj.remove(type);
          if (schema != null) {
            obj.set("application/octet-stream", schema);
          }
        }
      }
    }
    return copy;
  }

  /** The content types the document declares for an operation's response status. */
  static Set<String> declaredTypes(String operationId, int status) {
    for (JsonNode op : document.findParents("operationId")) {
      if (op.path("operationId").asText().equals(operationId)) {
        JsonNode response = op.path("responses").path(Integer.toString(status));
        String ref = response.path("$ref").asText("");
        if (!ref.isEmpty()) {
          response = document.at(ref.substring(1));
        }
        Set<String> types = new HashSet<>();
        response.path("content").fieldNames().forEachRemaining(types::add);
        return types;
      }
    }
    throw new AssertionError("no operation " + operationId);
  }

  @BeforeAll
  static void start() throws Exception {
    service =
        RunningService.start(
            dir, Map.of("limits.body-max", "1KiB", "redirect.allowed-hosts", "shop.example"));
    key = service.createKey("acme");
    HttpResponse<String> doc = service.get("/openapi.yaml");
    assertThat(doc.statusCode()).isEqualTo(200);
    document = YAML.readTree(doc.body());
    vertx = Vertx.vertx();
    OpenAPIContract contract =
        OpenAPIContract.from(
                vertx, new JsonObject(JSON.writeValueAsString(binaryAsOctets(document))))
            .toCompletionStage()
            .toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
    validator = ResponseValidator.create(vertx, contract);
  }

  @AfterAll
  static void stop() {
    service.close();
    vertx.close();
  }

  private static void check(String operationId, HttpRequest.Builder request) throws Exception {
    HttpResponse<byte[]> res = service.sendForBytes(request);
    Map<String, String> headers = new LinkedHashMap<>();
    res.headers().map().forEach((k, v) -> headers.put(k, v.get(0)));
    String contentType = res.headers().firstValue("content-type").orElse(null);
    Set<String> declared = declaredTypes(operationId, res.statusCode());
    if (contentType == null) {
      assertThat(declared)
          .as("%s answered %d without a body", operationId, res.statusCode())
          .isEmpty();
    } else {
      assertThat(declared)
          .as("%s answered %d %s", operationId, res.statusCode(), contentType)
          .contains(contentType);
    }
    if (contentType != null && BINARY.contains(contentType)) {
      contentType = "application/octet-stream";
      headers.put("content-type", contentType);
    }
    ValidatableResponse vr =
        contentType == null
            ? ValidatableResponse.create(res.statusCode(), headers)
            : ValidatableResponse.create(
                res.statusCode(), headers, Buffer.buffer(res.body()), contentType);
    validator
        .validate(vr, operationId)
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    covered.add(operationId);
  }

  private static HttpRequest.Builder post(String path, String body) {
    return HttpRequest.newBuilder(service.uri(path))
        .header("Authorization", "Bearer " + key)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
  }

  @Test
  void everyDocumentedOperationAnswersAsDocumented() throws Exception {
    check("postEvent", post("/events", "{\"event\":\"x\"}"));
    check(
        "postEvent",
        HttpRequest.newBuilder(service.uri("/events"))
            .POST(HttpRequest.BodyPublishers.ofString("{}")));
    check("postEvent", post("/events", "{\"x\":\"" + "a".repeat(2000) + "\"}"));
    check("track", HttpRequest.newBuilder(service.uri("/track?event=v&api_key=" + key)).GET());
    check("track", HttpRequest.newBuilder(service.uri("/track?format=gif&api_key=" + key)).GET());
    check("pixelGet", HttpRequest.newBuilder(service.uri("/pixel?api_key=" + key)).GET());
    check("pixelGet", HttpRequest.newBuilder(service.uri("/pixel?api_key=nope")).GET());
    check("pixelPost", post("/pixel", "{}"));
    check("postBatch", post("/batch", "[{\"a\":1}, 2]"));
    check("postBatch", post("/batch", "[1]"));
    check("postBatch", post("/batch", "not json"));
    check("openapi", HttpRequest.newBuilder(service.uri("/openapi.yaml")).GET());
    check("trackerScript", get("/trellis.js"));
    check("clickRedirect", get("/r?u=https%3A%2F%2Fshop.example%2Fp&api_key=" + key));
    check("clickRedirect", get("/r?u=https%3A%2F%2Fevil.example%2F&api_key=" + key));
    check("track", get("/track?api_key=" + key + "&api_key=trk_other_key_entirely_different_x"));
    for (String path : new String[] {"/events", "/track", "/pixel", "/batch"}) {
      check(
          "preflight" + Character.toUpperCase(path.charAt(1)) + path.substring(2),
          HttpRequest.newBuilder(service.uri(path))
              .header("Origin", "https://site.example")
              .header("Access-Control-Request-Method", "POST")
              .method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
    }
    String basic =
        java.util.Base64.getEncoder()
            .encodeToString((key + ":").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    for (String call : new String[] {"track", "page", "screen", "identify", "group", "alias"}) {
      String op = "segment" + Character.toUpperCase(call.charAt(0)) + call.substring(1);
      String body = "{\"type\":\"" + call + "\",\"event\":\"E\",\"userId\":\"u1\"}";
      check(op, segment("/v1/" + call, basic, body));
      check(op + "Short", segment("/v1/" + call.charAt(0), basic, body));
    }
    check("segmentTrack", segment("/v1/track", "bm9wZTo=", "{}"));
    String batch = "{\"batch\":[{\"type\":\"track\",\"event\":\"E\"}]}";
    check("segmentBatch", segment("/v1/batch", basic, batch));
    check("segmentBatchShort", segment("/v1/b", basic, batch));
    check("segmentImport", segment("/v1/import", basic, batch));

    String single = "{\"api_key\":\"" + key + "\",\"event\":\"$pageview\",\"properties\":{}}";
    String envelope = "{\"api_key\":\"" + key + "\",\"batch\":[{\"event\":\"e\"}]}";
    check("posthogE", unauthenticated("/e/", envelope));
    check("posthogIngest", unauthenticated("/i/v0/e/", single));
    check("posthogBatch", unauthenticated("/batch/", envelope));
    check("posthogCapture", unauthenticated("/capture/", single));
    check("posthogCapture", unauthenticated("/capture/", "{\"event\":\"no key\"}"));
    String payload = "{\"schema\":\"s\",\"data\":[{\"e\":\"pv\"},{\"e\":\"se\"}]}";
    check("snowplowPost", post("/com.snowplowanalytics.snowplow/tp2", payload));
    check("snowplowPixel", get("/i?e=pv&api_key=" + key));
    check(
        "snowplowPostKeyed",
        unauthenticated("/snowplow/" + key + "/com.snowplowanalytics.snowplow/tp2", payload));
    check("snowplowPixelKeyed", get("/snowplow/" + key + "/i?e=pv"));
    check("snowplowPixelKeyed", get("/snowplow/trk_unknown_key/i?e=pv"));
    check("posthogFlags", unauthenticated("/flags/?v=2", "{}"));
    check("posthogDecide", unauthenticated("/decide/?v=3", "{}"));
    check("posthogConfig", get("/array/phc_token/config"));
    check("posthogConfigScript", get("/array/phc_token/config.js"));
    check("posthogConfigScript", get("/array/bad%20token/config.js"));
    check("rudderSourceConfig", get("/sourceConfig/?writeKey=" + key));
    check("segmentSettings", get("/v1/projects/" + key + "/settings"));
    check("segmentSettings", get("/v1/projects/trk_unknown_key/settings"));
    check("segmentSettings", get("/v1/projects/bad%20key/settings"));

    assertThat(covered).containsExactlyInAnyOrderElementsOf(documentedOperations());
  }

  private static HttpRequest.Builder unauthenticated(String path, String body) {
    return HttpRequest.newBuilder(service.uri(path))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
  }

  private static HttpRequest.Builder get(String pathAndQuery) {
    return HttpRequest.newBuilder(service.uri(pathAndQuery)).GET();
  }

  private static HttpRequest.Builder segment(String path, String basic, String body) {
    return HttpRequest.newBuilder(service.uri(path))
        .header("Authorization", "Basic " + basic)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
  }

  private static Set<String> documentedOperations() {
    Set<String> ids = new HashSet<>();
    for (JsonNode op : document.findParents("operationId")) {
      ids.add(op.path("operationId").asText());
    }
    return ids;
  }
}
