package io.trellis.ingress.bench;

import io.trellis.ingress.event.EventSchema;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.clickhouse.EventRows;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * ClickHouse's own ceiling for the rows the sink writes: the same JSONEachRow bytes ({@link
 * EventRows}), the same batch size (10,000 rows) and insert setting, posted straight to the HTTP
 * interface one insert after another, as the sink's single delivery thread does. Rows go to a copy
 * of the events table, which is dropped afterwards. Prints rows per second on the last line.
 *
 * <pre>java -cp ... io.trellis.ingress.bench.ClickHouseCeiling URL TABLE ROWS</pre>
 */
public final class ClickHouseCeiling {
  private static final int BATCH = 10_000;

  private ClickHouseCeiling() {}

  public static void main(String[] args) throws Exception {
    URI url = URI.create(args[0]);
    String table = args[1];
    int rows = Integer.parseInt(args[2]);
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    String copy = table + "_bench_ceiling";
    query(http, url, "DROP TABLE IF EXISTS " + copy, null);
    query(http, url, "CREATE TABLE " + copy + " AS " + table, null);
    try {
      List<TrafficEvent> events = BenchEvents.captured(BATCH);
      ByteArrayOutputStream body = new ByteArrayOutputStream(BATCH * 1200);
      EventRows.allButWriteTime(EventSchema.EVENTS).write(body, events, -1);
      byte[] bytes = body.toByteArray();
      String insert =
          "INSERT INTO "
              + copy
              + " ("
              + String.join(",", EventRows.allButWriteTime(EventSchema.EVENTS).names())
              + ") FORMAT JSONEachRow";
      query(http, url, insert, bytes); // warm-up insert, not counted
      int batches = Math.max(1, rows / BATCH);
      long t0 = System.nanoTime();
      for (int i = 0; i < batches; i++) {
        query(http, url, insert, bytes);
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      System.err.printf(
          "%d rows in %d inserts of %d bytes in %.2f s%n",
          (long) batches * BATCH, batches, bytes.length, seconds);
      System.out.printf("%.0f%n", batches * BATCH / seconds);
    } finally {
      query(http, url, "DROP TABLE IF EXISTS " + copy, null);
    }
  }

  private static void query(HttpClient http, URI base, String sql, byte[] data)
      throws IOException, InterruptedException {
    String q =
        "?date_time_input_format=best_effort&query="
            + URLEncoder.encode(sql, StandardCharsets.UTF_8);
    HttpRequest.Builder req =
        HttpRequest.newBuilder(base.resolve("/" + q)).timeout(Duration.ofSeconds(120));
    req.POST(
        data == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofByteArray(data));
    HttpResponse<String> res = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
    if (res.statusCode() != 200) {
      throw new IOException("ClickHouse answered " + res.statusCode() + ": " + res.body());
    }
  }
}
