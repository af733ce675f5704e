package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.auth.LocalKeyStore;
import io.trellis.ingress.testing.Await;
import io.trellis.ingress.testing.ClickHouseServer;
import io.trellis.ingress.testing.ClickHouseServerExtension;
import io.trellis.ingress.testing.RunningService;
import io.trellis.ingress.testing.bigquery.FakeBigQuery;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bodies that are not valid UTF-8 (Latin-1 form posts, truncated multi-byte sequences) are accepted
 * and stored losslessly: the text with U+FFFD in {@code body}, the exact bytes in {@code
 * body_base64}, in the files, in a real ClickHouse whose table predates the column, and in
 * BigQuery's {@code request_data}.
 */
@ExtendWith(ClickHouseServerExtension.class)
class InvalidUtf8BodyIT {
  private static final String PROJECT = "exact-bytes";

  @TempDir Path dir;

  private static byte[] bytes(Object... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Object p : parts) {
      if (p instanceof String s) {
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
      } else {
        out.write((Integer) p);
      }
    }
    return out.toByteArray();
  }

  private static HttpResponse<String> post(
      RunningService s, String path, String key, String type, byte[] body) {
    return s.send(
        HttpRequest.newBuilder(s.uri(path))
            .header("Authorization", "Bearer " + key)
            .header("Content-Type", type)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
  }

  private static String ack(HttpResponse<String> res) {
    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    return RunningService.json(res.body()).path("event_id").asText();
  }

  private static byte[] unbase64(String s) {
    return Base64.getDecoder().decode(s);
  }

  @Test
  void latin1FormsAndTruncatedSequencesReachEverySinkWithTheirExactBytes(ClickHouseServer ch) {
    String database = ch.newDatabase("exact");
    // A table created by an earlier version of the service, without body_base64.
    ch.query(
        "CREATE TABLE "
            + database
            + ".events (organization_id String, event_id UUID, timestamp DateTime,"
            + " method String, url String, headers String, query_params String, body String,"
            + " ip String, user_agent String, referer String, event_type String,"
            + " click_id String, session_id String, ingested_at DateTime DEFAULT now())"
            + " ENGINE = MergeTree() PARTITION BY toYYYYMM(timestamp)"
            + " ORDER BY (organization_id, timestamp, event_id)");
    String key;
    LocalKeyStore store = LocalKeyStore.open(dir);
    try {
      key = store.create("acme", "test").key();
    } finally {
      store.close();
    }
    byte[] latin1Form = bytes("event=signup&name=Jos", 0xE9, "&city=M", 0xFC, "nchen");
    byte[] truncated = bytes("{\"event\":\"trunc\",\"name\":\"caf", 0xC3, "\"}");
    byte[] withKey = bytes("{\"event\":\"keyed\",\"note\":\"" + key + " ", 0xFF, "\"}");
    byte[] goodItem = bytes("{\"event\":\"fine\",\"v\":\"\u00e9\"}");
    byte[] badItem = bytes("{\"event\":\"latin\",\"v\":\"", 0xE9, "t", 0xE9, "\"}");
    byte[] batch = bytes("[", new String(goodItem, StandardCharsets.UTF_8), ",");
    batch = concat(batch, badItem, bytes("]"));

    Map<String, byte[]> sent = new HashMap<>();
    try (FakeBigQuery bq = FakeBigQuery.start()) {
      Map<String, String> settings = new HashMap<>(bq.settings(PROJECT));
      settings.put("clickhouse.url", ch.url().toString());
      settings.put("clickhouse.user", ch.user());
      settings.put("clickhouse.password", ch.password());
      settings.put("clickhouse.database", database);
      settings.put("clickhouse.create-table", "true");
      try (RunningService s = RunningService.start(dir, settings)) {
        String formId =
            ack(post(s, "/events", key, "application/x-www-form-urlencoded", latin1Form));
        String truncId = ack(post(s, "/events", key, "application/json", truncated));
        String keyedId = ack(post(s, "/events", key, "text/plain", withKey));
        HttpResponse<String> b = post(s, "/batch", key, "application/json", batch);
        assertThat(b.statusCode()).as(b.body()).isEqualTo(200);
        JsonNode ids = RunningService.json(b.body()).path("event_ids");
        sent.put(formId, latin1Form);
        sent.put(truncId, truncated);
        sent.put(ids.get(1).asText(), badItem);
        String goodId = ids.get(0).asText();

        // Files.
        JsonNode form = s.awaitEvent(formId);
        assertThat(form.path("body").asText())
            .isEqualTo("event=signup&name=Jos\uFFFD&city=M\uFFFDnchen");
        assertThat(form.path("event_type").asText()).isEqualTo("signup");
        JsonNode trunc = s.awaitEvent(truncId);
        assertThat(trunc.path("body").asText())
            .isEqualTo("{\"event\":\"trunc\",\"name\":\"caf\uFFFD\"}");
        assertThat(trunc.path("event_type").asText()).isEqualTo("trunc");
        for (Map.Entry<String, byte[]> e : sent.entrySet()) {
          assertThat(unbase64(s.awaitEvent(e.getKey()).path("body_base64").asText()))
              .as("exact bytes of %s", e.getKey())
              .isEqualTo(e.getValue());
        }
        JsonNode good = s.awaitEvent(goodId);
        assertThat(good.path("body").asText()).isEqualTo("{\"event\":\"fine\",\"v\":\"\u00e9\"}");
        assertThat(good.has("body_base64")).isFalse();
        // The key is redacted in the exact bytes as in the text.
        JsonNode keyed = s.awaitEvent(keyedId);
        byte[] keyedExact = unbase64(keyed.path("body_base64").asText());
        assertThat(keyedExact)
            .isEqualTo(bytes("{\"event\":\"keyed\",\"note\":\"[redacted] ", 0xFF, "\"}"));
        assertThat(keyed.path("body").asText()).doesNotContain(key);

        // ClickHouse: the column was added to the existing table, and holds the bytes.
        Await.until(() -> ch.number("SELECT count() FROM " + database + ".events") == 5);
        List<JsonNode> rows =
            ch.rows(
                "SELECT toString(event_id) AS id, body, body_base64 FROM " + database + ".events");
        for (JsonNode row : rows) {
          String id = row.path("id").asText();
          if (sent.containsKey(id)) {
            assertThat(unbase64(row.path("body_base64").asText())).as(id).isEqualTo(sent.get(id));
            assertThat(row.path("body").asText()).contains("\uFFFD");
          } else if (id.equals(goodId)) {
            assertThat(row.path("body_base64").asText()).isEmpty();
          }
        }
        assertThat(rows).extracting(r -> r.path("id").asText()).containsAll(sent.keySet());

        // BigQuery: beside the body in request_data.
        bq.await("five rows in BigQuery", () -> bq.rows(PROJECT, "trellis", "events").size() == 5);
        for (Map<String, Object> row : bq.rows(PROJECT, "trellis", "events")) {
          String id = (String) row.get("event_id");
          JsonNode data = (JsonNode) row.get("request_data");
          if (sent.containsKey(id)) {
            assertThat(unbase64(data.path("body_base64").asText())).as(id).isEqualTo(sent.get(id));
          } else if (id.equals(goodId)) {
            assertThat(data.has("body_base64")).isFalse();
          }
        }
      }
    }
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
