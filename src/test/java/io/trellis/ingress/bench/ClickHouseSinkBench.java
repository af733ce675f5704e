package io.trellis.ingress.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.ingress.auth.LocalKeyStore;
import io.trellis.ingress.cli.ServiceSettings;
import io.trellis.ingress.event.EventSchema;
import io.trellis.ingress.event.SpooledEvent;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.SinkBatch;
import io.trellis.ingress.sink.clickhouse.ClickHouseConfig;
import io.trellis.ingress.sink.clickhouse.ClickHouseSink;
import io.trellis.ingress.sink.clickhouse.EventRows;
import io.trellis.ingress.testing.ClickHouseServer;
import io.trellis.ingress.testing.RunningService;
import java.io.BufferedReader;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Not a test: drives events through the real service into ClickHouse and reports the rows/s that
 * landed, next to ClickHouse's own ceiling on this machine measured in the same run: a direct
 * {@code curl ... INSERT ... FORMAT JSONEachRow} of the same rows (read back from the first table)
 * into a table of the same layout. Also reports the sink alone (the same rows as events, written in
 * spool-sized batches without HTTP in front).
 *
 * <p>Run with {@code bench/clickhouse-sink.sh [events] [clients] [batch-rows]}. Uses {@code
 * CLICKHOUSE_URL} when set, else starts the installed server on free ports.
 */
public final class ClickHouseSinkBench {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int ITEMS_PER_REQUEST = 500;
  private static final DateTimeFormatter CH_TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss[.SSS]");

  public static void main(String[] args) throws Exception {
    int events = args.length > 0 ? Integer.parseInt(args[0]) : 300_000;
    int clients = args.length > 1 ? Integer.parseInt(args[1]) : 4;
    int batchRows = args.length > 2 ? Integer.parseInt(args[2]) : 50_000;
    events = Math.max(1, events / ITEMS_PER_REQUEST) * ITEMS_PER_REQUEST;

    String external = System.getenv("CLICKHOUSE_URL");
    try (ClickHouseServer ch =
        external != null && !external.isBlank()
            ? ClickHouseServer.external(
                URI.create(external),
                System.getenv().getOrDefault("CLICKHOUSE_USER", "default"),
                System.getenv().getOrDefault("CLICKHOUSE_PASSWORD", ""))
            : ClickHouseServer.start(ClickHouseServer.findBinary())) {
      String db = ch.newDatabase("bench");
      System.out.printf(
          "ClickHouse %s at %s; %d events, %d HTTP clients, %d events per /batch request,"
              + " spool batches of up to %d rows%n",
          ch.version(), ch.url(), events, clients, ITEMS_PER_REQUEST, batchRows);

      Path work = Files.createTempDirectory("clickhouse-bench");
      double service = throughService(ch, db, work.resolve("service"), events, clients, batchRows);

      Path rows = work.resolve("rows.ndjson");
      ch.queryToFile(
          "SELECT "
              + String.join(", ", EventRows.allButWriteTime(EventSchema.EVENTS).names())
              + " FROM "
              + db
              + ".via_service ORDER BY timestamp DESC LIMIT "
              + events
              + " FORMAT JSONEachRow",
          rows);
      double curlOne = withCurl(ch, db, "via_curl", List.of(rows), events);
      List<Path> chunks = split(rows, batchRows, work);
      double curlChunks = withCurl(ch, db, "via_curl_batches", chunks, events);
      double curl = Math.max(curlOne, curlChunks);
      double sink = sinkAlone(ch, db, rows, batchRows, events);

      System.out.printf("%nresult on ClickHouse %s:%n", ch.version());
      System.out.printf("  through the service (HTTP -> spool -> sink): %,10.0f rows/s%n", service);
      System.out.printf("  service draining a backlog (spool -> sink):  %,10.0f rows/s%n", backlog);
      System.out.printf("  ClickHouse sink alone (same rows, no HTTP):   %,10.0f rows/s%n", sink);
      System.out.printf(
          "  curl INSERT FORMAT JSONEachRow (ceiling):    %,10.0f rows/s (best of one INSERT"
              + " %,.0f and batch-sized INSERTs %,.0f)%n",
          curl, curlOne, curlChunks);
      System.out.printf(
          "  service / ceiling = %.0f%%, backlog drain / ceiling = %.0f%%, sink alone / ceiling ="
              + " %.0f%%, row size %d bytes%n",
          100 * service / curl, 100 * backlog / curl, 100 * sink / curl, Files.size(rows) / events);
    }
  }

  private static Map<String, String> sinkSettings(ClickHouseServer ch, String db, String table) {
    Map<String, String> m = new HashMap<>();
    m.put("clickhouse.url", ch.url().toString());
    m.put("clickhouse.user", ch.user());
    m.put("clickhouse.password", ch.password());
    m.put("clickhouse.database", db);
    m.put("clickhouse.table", table);
    return m;
  }

  private static double throughService(
      ClickHouseServer ch, String db, Path dataDir, int events, int clients, int batchRows)
      throws Exception {
    Files.createDirectories(dataDir);
    LocalKeyStore store = LocalKeyStore.open(dataDir);
    String key = store.create("bench-org", "bench").key();
    store.close();
    Map<String, String> settings = sinkSettings(ch, db, "via_service");
    settings.put("files.enabled", "false");
    settings.put("clickhouse.batch-max-rows", Integer.toString(batchRows));
    settings.put("clickhouse.batch-max-age", "1s");
    settings.put("limits.batch-items-max", Integer.toString(ITEMS_PER_REQUEST));
    List<String> bodies = new ArrayList<>();
    for (int b = 0; b < 16; b++) {
      StringBuilder sb = new StringBuilder("[");
      for (int i = 0; i < ITEMS_PER_REQUEST; i++) {
        int n = b * ITEMS_PER_REQUEST + i;
        sb.append(i == 0 ? "" : ",")
            .append("{\"event\":\"")
            .append(n % 7 == 0 ? "click" : "pageview")
            .append("\",\"page_url\":\"https://shop.example.com/products/")
            .append(10_000 + n)
            .append("?utm_source=google&utm_medium=cpc&utm_campaign=spring-sale&gclid=Cj0KCQjw")
            .append(Integer.toHexString(n * 7919))
            .append("\",\"session_id\":\"sess-")
            .append(n % 997)
            .append("\",\"user_id\":\"user-")
            .append(n % 5003)
            .append("\",\"properties\":{\"title\":\"Product ")
            .append(10_000 + n)
            .append("\",\"price\":")
            .append(n % 100)
            .append(".99,\"currency\":\"EUR\",\"referrer\":\"https://www.google.com/\"},")
            .append("\"context\":{\"locale\":\"de-DE\",\"screen\":{\"w\":1920,\"h\":1080}}}");
      }
      bodies.add(sb.append(']').toString());
    }
    try (RunningService svc = RunningService.start(dataDir, settings)) {
      // Warm up the JIT and the connection pool, then measure.
      send(svc, key, bodies, 100, clients);
      awaitCount(ch, db + ".via_service", 100L * ITEMS_PER_REQUEST);
      long before = ch.number("SELECT count() FROM " + db + ".via_service");
      long start = System.nanoTime();
      send(svc, key, bodies, events / ITEMS_PER_REQUEST, clients);
      long accepted = System.nanoTime();
      awaitCount(ch, db + ".via_service", before + events);
      long landed = System.nanoTime();
      System.out.printf(
          "service: %d events accepted over HTTP in %.2f s, all in ClickHouse after %.2f s%n",
          events, (accepted - start) / 1e9, (landed - start) / 1e9);
      double rate = events / ((landed - start) / 1e9);
      if (ch.managed()) {
        backlog = drainBacklog(ch, db, svc, key, bodies, events, clients);
      }
      return rate;
    }
  }

  /** Rows/s of the service's sink draining a backlog, measured after ClickHouse comes back. */
  private static double backlog = Double.NaN;

  private static double drainBacklog(
      ClickHouseServer ch,
      String db,
      RunningService svc,
      String key,
      List<String> bodies,
      int events,
      int clients)
      throws Exception {
    String table = db + ".via_service";
    long before = ch.number("SELECT count() FROM " + table);
    ch.stop();
    send(svc, key, bodies, events / ITEMS_PER_REQUEST, clients);
    ch.restart();
    long first;
    long firstCount;
    while ((firstCount = ch.number("SELECT count() FROM " + table)) == before) {
      sleep(5);
    }
    first = System.nanoTime();
    awaitCount(ch, table, before + events);
    long end = System.nanoTime();
    System.out.printf(
        "backlog: %d events spooled while ClickHouse was down; after the first batch landed the"
            + " other %d rows took %.2f s%n",
        events, before + events - firstCount, (end - first) / 1e9);
    return (before + events - firstCount) / ((end - first) / 1e9);
  }

  private static void send(
      RunningService svc, String key, List<String> bodies, int requests, int clients)
      throws InterruptedException {
    AtomicInteger next = new AtomicInteger();
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      Thread t =
          new Thread(
              () -> {
                int i;
                while ((i = next.getAndIncrement()) < requests) {
                  String body = bodies.get(i % bodies.size());
                  while (true) {
                    HttpResponse<String> r =
                        svc.send(
                            HttpRequest.newBuilder(svc.uri("/batch"))
                                .header("Authorization", "Bearer " + key)
                                .header("Content-Type", "application/json")
                                .header("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) bench/1.0")
                                .header("Referer", "https://www.google.com/")
                                .POST(HttpRequest.BodyPublishers.ofString(body)));
                    if (r.statusCode() == 200) {
                      break;
                    }
                    if (r.statusCode() != 503) {
                      throw new IllegalStateException(r.statusCode() + " " + r.body());
                    }
                    sleep(5);
                  }
                }
              },
              "bench-client-" + c);
      t.start();
      threads.add(t);
    }
    for (Thread t : threads) {
      t.join();
    }
  }

  private static List<Path> split(Path rows, int linesPerChunk, Path dir) throws Exception {
    List<Path> out = new ArrayList<>();
    try (BufferedReader in = Files.newBufferedReader(rows)) {
      String line;
      java.io.BufferedWriter w = null;
      int n = 0;
      while ((line = in.readLine()) != null) {
        if (n % linesPerChunk == 0) {
          if (w != null) {
            w.close();
          }
          Path p = dir.resolve("chunk-" + out.size() + ".ndjson");
          out.add(p);
          w = Files.newBufferedWriter(p);
        }
        w.write(line);
        w.write('\n');
        n++;
      }
      if (w != null) {
        w.close();
      }
    }
    return out;
  }

  /** Inserts the files with curl, one INSERT per file, one after the other. */
  private static double withCurl(
      ClickHouseServer ch, String db, String table, List<Path> files, int events) throws Exception {
    ch.query("CREATE TABLE " + db + "." + table + " AS " + db + ".via_service");
    String query =
        URLEncoder.encode(
            "INSERT INTO "
                + db
                + "."
                + table
                + " ("
                + String.join(", ", EventRows.allButWriteTime(EventSchema.EVENTS).names())
                + ") FORMAT JSONEachRow",
            StandardCharsets.UTF_8);
    long start = System.nanoTime();
    long bytes = 0;
    for (Path rows : files) {
      bytes += Files.size(rows);
      Process p =
          new ProcessBuilder(
                  "curl",
                  "-sS",
                  "--fail-with-body",
                  "-u",
                  ch.user() + ":" + ch.password(),
                  "--data-binary",
                  "@" + rows,
                  ch.url() + "/?date_time_input_format=best_effort&query=" + query)
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.waitFor() != 0) {
        throw new IllegalStateException("curl failed: " + out);
      }
    }
    long end = System.nanoTime();
    long count = ch.number("SELECT count() FROM " + db + "." + table);
    if (count != events) {
      throw new IllegalStateException("curl stored " + count + " rows, expected " + events);
    }
    System.out.printf(
        "curl: %d rows (%,d bytes) in %d INSERT(s) in %.2f s%n",
        events, bytes, files.size(), (end - start) / 1e9);
    return events / ((end - start) / 1e9);
  }

  private static double sinkAlone(
      ClickHouseServer ch, String db, Path rows, int batchRows, int events) throws Exception {
    List<TrafficEvent> all = new ArrayList<>(events);
    try (BufferedReader in = Files.newBufferedReader(rows)) {
      String line;
      while ((line = in.readLine()) != null) {
        JsonNode r = JSON.readTree(line);
        long ts =
            LocalDateTime.parse(r.get("timestamp").asText(), CH_TIME)
                .toInstant(ZoneOffset.UTC)
                .toEpochMilli();
        all.add(
            new TrafficEvent(
                r.get("organization_id").asText(),
                r.get("event_id").asText(),
                ts,
                r.get("method").asText(),
                r.get("url").asText(),
                r.get("headers").asText(),
                r.get("query_params").asText(),
                r.get("body").asText(),
                r.get("ip").asText(),
                r.get("user_agent").asText(),
                r.get("referer").asText(),
                r.get("event_type").asText(),
                r.get("click_id").asText(),
                r.get("session_id").asText(),
                "",
                "",
                ""));
      }
    }
    List<SinkBatch> batches = new ArrayList<>();
    for (int from = 0; from < all.size(); from += batchRows) {
      List<SpooledEvent> items = new ArrayList<>();
      for (int i = from; i < Math.min(all.size(), from + batchRows); i++) {
        items.add(new SpooledEvent(i, all.get(i)));
      }
      batches.add(new SinkBatch(items));
    }
    try (ClickHouseSink sink =
        new ClickHouseSink(
            ClickHouseConfig.from(ServiceSettings.config(sinkSettings(ch, db, "via_sink"))))) {
      sink.start();
      long start = System.nanoTime();
      for (SinkBatch b : batches) {
        sink.write(b);
      }
      long end = System.nanoTime();
      long stored = ch.number("SELECT count() FROM " + db + ".via_sink");
      if (stored != all.size()) {
        throw new IllegalStateException("sink stored " + stored + " rows, expected " + all.size());
      }
      System.out.printf(
          "sink alone: %d rows in %d batches in %.2f s%n",
          all.size(), batches.size(), (end - start) / 1e9);
      return all.size() / ((end - start) / 1e9);
    }
  }

  private static void awaitCount(ClickHouseServer ch, String table, long atLeast) {
    long deadline = System.nanoTime() + 600_000_000_000L;
    while (ch.number("SELECT count() FROM " + table) < atLeast) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(table + " never reached " + atLeast + " rows");
      }
      sleep(20);
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
