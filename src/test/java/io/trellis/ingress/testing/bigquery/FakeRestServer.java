package io.trellis.ingress.testing.bigquery;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * The table-metadata part of BigQuery's REST API v2, in its JSON format: {@code datasets.get},
 * {@code datasets.insert}, {@code tables.get}, {@code tables.insert}, {@code tables.patch} (a
 * schema change that only adds NULLABLE or REPEATED columns, as BigQuery allows). Errors use
 * BigQuery's error body ({@code {"error":{"code":404,"errors":[{"reason":"notFound"}]...}}}).
 */
final class FakeRestServer implements AutoCloseable {
  private static final Pattern DATASETS = Pattern.compile("/bigquery/v2/projects/([^/]+)/datasets");
  private static final Pattern DATASET =
      Pattern.compile("/bigquery/v2/projects/([^/]+)/datasets/([^/]+)");
  private static final Pattern TABLES =
      Pattern.compile("/bigquery/v2/projects/([^/]+)/datasets/([^/]+)/tables");
  private static final Pattern TABLE =
      Pattern.compile("/bigquery/v2/projects/([^/]+)/datasets/([^/]+)/tables/([^/]+)");

  private final FakeBigQuery bq;
  private final HttpServer server;
  private final ExecutorService executor = Executors.newCachedThreadPool();

  FakeRestServer(FakeBigQuery bq) throws IOException {
    this.bq = bq;
    this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::handle);
    server.setExecutor(executor);
    server.start();
  }

  int port() {
    return server.getAddress().getPort();
  }

  private void handle(HttpExchange ex) throws IOException {
    try {
      respond(ex);
    } catch (IOException | RuntimeException e) {
      e.printStackTrace(); // shows up in the test report; the client sees a failed call
      throw e;
    }
  }

  private void respond(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      String method = ex.getRequestMethod();
      String override = ex.getRequestHeaders().getFirst("X-HTTP-Method-Override");
      if (method.equals("POST") && override != null) {
        method = override; // how HTTP clients without PATCH send one
      }
      byte[] body;
      try (InputStream in =
          "gzip".equalsIgnoreCase(ex.getRequestHeaders().getFirst("Content-Encoding"))
              ? new GZIPInputStream(ex.getRequestBody())
              : ex.getRequestBody()) {
        body = in.readAllBytes();
      }
      synchronized (bq) {
        if (bq.restDown) {
          error(ex, 503, "backendError", "The service is currently unavailable.");
          return;
        }
        Matcher m;
        if (method.equals("GET") && (m = TABLE.matcher(path)).matches()) {
          ObjectNode t = bq.tables.get(FakeBigQuery.tablePath(m.group(1), m.group(2), m.group(3)));
          if (t == null) {
            error(
                ex,
                404,
                "notFound",
                "Not found: Table " + m.group(1) + ":" + m.group(2) + "." + m.group(3));
          } else {
            send(ex, 200, t);
          }
        } else if ((method.equals("PATCH") || method.equals("PUT"))
            && (m = TABLE.matcher(path)).matches()) {
          String key = FakeBigQuery.tablePath(m.group(1), m.group(2), m.group(3));
          ObjectNode t = bq.tables.get(key);
          if (t == null) {
            error(ex, 404, "notFound", "Not found: Table " + key);
            return;
          }
          JsonNode patch = FakeBigQuery.JSON.readTree(body);
          if (patch.has("schema")) {
            String problem = schemaChange(t.path("schema"), patch.path("schema"));
            if (problem != null) {
              error(
                  ex,
                  400,
                  "invalid",
                  "Provided Schema does not match Table " + key + ". " + problem);
              return;
            }
            t.set("schema", patch.get("schema").deepCopy());
            bq.tablePatches++;
          }
          t.put("etag", "etag-" + System.nanoTime());
          send(ex, 200, t);
        } else if (method.equals("POST") && (m = TABLES.matcher(path)).matches()) {
          if (!bq.datasets.containsKey(m.group(1) + ":" + m.group(2))) {
            error(ex, 404, "notFound", "Not found: Dataset " + m.group(1) + ":" + m.group(2));
            return;
          }
          ObjectNode t = (ObjectNode) FakeBigQuery.JSON.readTree(body);
          JsonNode ref = t.path("tableReference");
          String key =
              FakeBigQuery.tablePath(
                  ref.path("projectId").asText(),
                  ref.path("datasetId").asText(),
                  ref.path("tableId").asText());
          if (bq.tables.containsKey(key)) {
            error(ex, 409, "duplicate", "Already Exists: Table " + key);
            return;
          }
          ObjectNode stored = completeTable(t);
          bq.tables.put(key, stored);
          send(ex, 200, stored);
        } else if (method.equals("GET") && (m = DATASET.matcher(path)).matches()) {
          ObjectNode d = bq.datasets.get(m.group(1) + ":" + m.group(2));
          if (d == null) {
            error(ex, 404, "notFound", "Not found: Dataset " + m.group(1) + ":" + m.group(2));
          } else {
            send(ex, 200, d);
          }
        } else if (method.equals("POST") && (m = DATASETS.matcher(path)).matches()) {
          JsonNode d = FakeBigQuery.JSON.readTree(body);
          String project = d.path("datasetReference").path("projectId").asText();
          String dataset = d.path("datasetReference").path("datasetId").asText();
          if (bq.datasets.containsKey(project + ":" + dataset)) {
            error(ex, 409, "duplicate", "Already Exists: Dataset " + project + ":" + dataset);
            return;
          }
          ObjectNode stored = FakeBigQuery.datasetResource(project, dataset);
          if (d.hasNonNull("location")) {
            stored.put("location", d.get("location").asText());
          }
          bq.datasets.put(project + ":" + dataset, stored);
          send(ex, 200, stored);
        } else {
          error(ex, 400, "invalid", "unsupported by the fake: " + method + " " + path);
        }
      }
    }
  }

  /** Adds the output-only fields BigQuery fills in to a table resource. */
  /**
   * Why BigQuery would refuse to replace schema {@code have} by {@code want}, or null: every
   * existing field must stay with its type (REQUIRED may become NULLABLE), and an added field must
   * be NULLABLE or REPEATED.
   */
  static String schemaChange(JsonNode have, JsonNode want) {
    java.util.Map<String, JsonNode> wanted = new java.util.HashMap<>();
    for (JsonNode f : want.path("fields")) {
      wanted.put(f.path("name").asText().toLowerCase(java.util.Locale.ROOT), f);
    }
    java.util.Set<String> existing = new java.util.HashSet<>();
    for (JsonNode f : have.path("fields")) {
      String name = f.path("name").asText().toLowerCase(java.util.Locale.ROOT);
      existing.add(name);
      JsonNode w = wanted.get(name);
      if (w == null) {
        return "Field " + f.path("name").asText() + " is missing in new schema";
      }
      if (!w.path("type").asText().equals(f.path("type").asText())) {
        return "Field " + f.path("name").asText() + " has changed type";
      }
    }
    for (java.util.Map.Entry<String, JsonNode> e : wanted.entrySet()) {
      if (!existing.contains(e.getKey())
          && e.getValue().path("mode").asText("NULLABLE").equals("REQUIRED")) {
        return "Field " + e.getValue().path("name").asText() + " is added as REQUIRED";
      }
    }
    return null;
  }

  static ObjectNode completeTable(ObjectNode t) {
    ObjectNode stored = t.deepCopy();
    JsonNode ref = t.path("tableReference");
    stored.put("kind", "bigquery#table");
    stored.put(
        "id",
        ref.path("projectId").asText()
            + ":"
            + ref.path("datasetId").asText()
            + "."
            + ref.path("tableId").asText());
    stored.put("type", "TABLE");
    stored.put("creationTime", Long.toString(System.currentTimeMillis()));
    stored.put("etag", "etag-" + System.nanoTime());
    return stored;
  }

  private static void error(HttpExchange ex, int code, String reason, String message)
      throws IOException {
    ObjectNode root = FakeBigQuery.JSON.createObjectNode();
    ObjectNode e = root.putObject("error");
    e.put("code", code);
    e.put("message", message);
    e.putArray("errors")
        .addObject()
        .put("message", message)
        .put("domain", "global")
        .put("reason", reason);
    send(ex, code, root);
  }

  private static void send(HttpExchange ex, int code, JsonNode body) throws IOException {
    byte[] bytes = FakeBigQuery.JSON.writeValueAsString(body).getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json; charset=UTF-8");
    ex.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
