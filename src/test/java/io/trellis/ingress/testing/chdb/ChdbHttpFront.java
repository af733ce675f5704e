package io.trellis.ingress.testing.chdb;

import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;

/**
 * A test front that serves ClickHouse's HTTP interface in front of the ClickHouse engine of {@code
 * libchdb.so}: as much of it as {@code client-v2} and the tests use. Started by {@link
 * io.trellis.ingress.testing.ClickHouseServer} as its own process, never inside a test JVM.
 *
 * <p>What is ClickHouse's here: the engine, every statement, the tables, the formats, the settings
 * and the error codes and messages. What is this front's: the HTTP handling, written after
 * ClickHouse's {@code HTTPHandler}:
 *
 * <ul>
 *   <li>{@code GET /ping} and {@code GET /} without a query answer {@code Ok.}.
 *   <li>The statement is the {@code query} URL parameter, then a newline and the request body (for
 *       an INSERT, the body holds the rows: they are passed to the engine after the statement, as
 *       ClickHouse's parser reads inline data).
 *   <li>{@code decompress=1}: the body is ClickHouse block-compressed ({@link NativeCompression});
 *       {@code Content-Encoding: gzip/deflate} bodies are inflated.
 *   <li>Every other URL parameter is a setting, applied with {@code SET} for this request only
 *       (reset with {@code SET name = DEFAULT} afterwards); the engine validates names and values.
 *   <li>{@code database} / {@code X-ClickHouse-Database} select the current database; {@code
 *       default_format} / {@code X-ClickHouse-Format} the output format when the statement has no
 *       {@code FORMAT} clause.
 *   <li>Users and passwords ({@code X-ClickHouse-User}/{@code -Key}, Basic auth, {@code
 *       user}/{@code password} parameters) are checked against the list given at start; a wrong one
 *       is ClickHouse's error 516 AUTHENTICATION_FAILED.
 *   <li>Answers carry {@code X-ClickHouse-Query-Id}, {@code -Format}, {@code -Timezone}, {@code
 *       -Server-Display-Name} and {@code -Summary} (rows and bytes as the engine reports them).
 *       Errors carry {@code X-ClickHouse-Exception-Code}, the HTTP status ClickHouse's {@code
 *       exceptionCodeToHTTPStatus} gives that code, and the body {@code Code: N. DB::Exception: ...
 *       (NAME) (version V)}.
 * </ul>
 *
 * <p>Not served (answered with error 48 NOT_IMPLEMENTED, so a test relying on them fails loudly):
 * {@code compress=1} (compressed answers), sessions ({@code session_id}), query parameters ({@code
 * param_*}). Statements run one at a time, in arrival order.
 *
 * <p>Usage: {@code ChdbHttpFront LIBRARY DATA_DIR PORT [USER:PASSWORD ...]}; prints {@code
 * listening on PORT} when ready.
 */
public final class ChdbHttpFront {
  /** URL parameters that are not settings (ClickHouse's HTTPHandler reserves them too). */
  private static final Set<String> RESERVED =
      Set.of(
          "query",
          "database",
          "default_format",
          "compress",
          "decompress",
          "user",
          "password",
          "quota_key",
          "query_id",
          "stacktrace",
          "role",
          "buffer_size",
          "wait_end_of_query",
          "session_id",
          "session_timeout",
          "session_check",
          "client_protocol_version",
          "close_session");

  private static final Pattern CODE = Pattern.compile("^Code: (\\d+)\\.");
  private static final Pattern NAME = Pattern.compile("\\(([A-Z][A-Z0-9_]+)\\)\\s*$");
  private static final Pattern TRAILING_FORMAT =
      Pattern.compile("(?is)\\bFORMAT\\s+([A-Za-z0-9_]+)\\s*;?\\s*$");
  private static final Pattern INSERT = Pattern.compile("(?is)^\\s*INSERT\\b");

  private final ChdbEngine engine;
  private final Map<String, String> users;
  private final String version;
  private final String timezone;
  private final Map<Integer, String> errorNames;

  ChdbHttpFront(ChdbEngine engine, Map<String, String> users) {
    this.engine = requireNonNull(engine, "engine is null");
    this.users = Map.copyOf(users);
    this.version = single("SELECT version()");
    this.timezone = single("SELECT timezone()");
    this.errorNames = new HashMap<>();
    String names =
        new String(
            ok(
                engine.query(
                    "SELECT code, name FROM system.errors"
                        + " SETTINGS system_events_show_zero_values = 1",
                    "TabSeparated")),
            StandardCharsets.UTF_8);
    for (String line : names.split("\n")) {
      String[] f = line.split("\t");
      if (f.length == 2) {
        errorNames.put(Integer.parseInt(f[0]), f[1]);
      }
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      System.err.println("usage: ChdbHttpFront LIBRARY DATA_DIR PORT [USER:PASSWORD ...]");
      System.exit(2);
    }
    Map<String, String> users = new LinkedHashMap<>();
    for (int i = 3; i < args.length; i++) {
      int colon = args[i].indexOf(':');
      users.put(args[i].substring(0, colon), args[i].substring(colon + 1));
    }
    if (users.isEmpty()) {
      users.put("default", "");
    }
    ChdbEngine engine = ChdbEngine.open(Path.of(args[0]), Path.of(args[1]));
    ChdbHttpFront front = new ChdbHttpFront(engine, users);
    HttpServer http =
        HttpServer.create(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(args[2])), 64);
    http.createContext("/", front::handle);
    http.setExecutor(Executors.newFixedThreadPool(4));
    http.start();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  http.stop(0);
                  synchronized (front) {
                    engine.close();
                  }
                }));
    System.out.println(
        "ClickHouse " + front.version + " (chDB) listening on " + http.getAddress().getPort());
  }

  private String single(String sql) {
    return new String(ok(engine.query(sql, "TabSeparated")), StandardCharsets.UTF_8).trim();
  }

  private static byte[] ok(ChdbEngine.Result r) {
    if (r.failed()) {
      throw new IllegalStateException(r.error());
    }
    return r.output();
  }

  /** A ClickHouse error: its code, its name and the message as the engine (or this front) says. */
  private record Failure(int code, String message) {}

  void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String queryId = UUID.randomUUID().toString();
      try {
        serve(exchange, queryId);
      } catch (FailureException e) {
        sendError(exchange, queryId, e.failure);
      } catch (IOException | RuntimeException e) {
        sendError(
            exchange,
            queryId,
            new Failure(1001, "Code: 1001. DB::Exception: " + e + ". (STD_EXCEPTION)"));
      }
    }
  }

  private static final class FailureException extends Exception {
    final Failure failure;

    FailureException(Failure failure) {
      super(failure.message(), null, false, false);
      this.failure = failure;
    }
  }

  private FailureException failure(int code, String message) {
    String name = errorNames.getOrDefault(code, "UNKNOWN");
    return new FailureException(
        new Failure(code, "Code: " + code + ". DB::Exception: " + message + ". (" + name + ")"));
  }

  private void serve(HttpExchange exchange, String queryId) throws IOException, FailureException {
    String path = exchange.getRequestURI().getPath();
    Map<String, String> params = params(exchange.getRequestURI().getRawQuery());
    if (path.equals("/ping")) {
      send(exchange, 200, "Ok.\n".getBytes(StandardCharsets.UTF_8), Map.of());
      return;
    }
    if (!path.equals("/")) {
      send(
          exchange,
          404,
          ("There is no handle " + path + "\n").getBytes(StandardCharsets.UTF_8),
          Map.of());
      return;
    }
    byte[] body = body(exchange, params);
    String queryParam = params.getOrDefault("query", "");
    if (exchange.getRequestMethod().equals("GET") && queryParam.isEmpty() && body.length == 0) {
      send(exchange, 200, "Ok.\n".getBytes(StandardCharsets.UTF_8), Map.of());
      return;
    }
    authenticate(exchange, params);
    for (String unsupported : List.of("session_id", "compress")) {
      String v = params.get(unsupported);
      if (v != null && !(unsupported.equals("compress") && v.equals("0"))) {
        throw failure(48, "'" + unsupported + "' is not served by this test front");
      }
    }
    if (params.keySet().stream().anyMatch(k -> k.startsWith("param_"))) {
      throw failure(48, "query parameters (param_*) are not served by this test front");
    }
    byte[] sql = statement(queryParam, body);
    if (sql.length == 0) {
      throw failure(62, "Empty query");
    }
    if (params.containsKey("query_id")) {
      queryId = params.get("query_id");
    }
    String format =
        firstNonEmpty(
            params.get("default_format"),
            exchange.getRequestHeaders().getFirst("X-ClickHouse-Format"),
            "TabSeparated");
    String database =
        firstNonEmpty(
            params.get("database"),
            exchange.getRequestHeaders().getFirst("X-ClickHouse-Database"),
            "default");
    Map<String, String> settings = new LinkedHashMap<>();
    params.forEach(
        (k, v) -> {
          if (!RESERVED.contains(k)) {
            settings.put(k, v);
          }
        });

    ChdbEngine.Result result;
    synchronized (this) {
      result = run(sql, format, database, settings);
    }
    if (result.failed()) {
      sendError(exchange, queryId, parse(result.error()));
      return;
    }
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("X-ClickHouse-Query-Id", queryId);
    String head = new String(sql, 0, Math.min(sql.length, 64), StandardCharsets.UTF_8);
    if (!INSERT.matcher(head).find()) {
      headers.put("X-ClickHouse-Format", outputFormat(sql, format));
    }
    headers.put(
        "X-ClickHouse-Summary",
        "{\"read_rows\":\""
            + result.rowsRead()
            + "\",\"read_bytes\":\""
            + result.bytesRead()
            + "\",\"written_rows\":\""
            + result.rowsWritten()
            + "\",\"written_bytes\":\""
            + result.bytesWritten()
            + "\",\"total_rows_to_read\":\"0\",\"elapsed_ns\":\""
            + (long) (result.elapsedSeconds() * 1e9)
            + "\"}");
    send(exchange, 200, result.output(), headers);
  }

  /** Applies the request's settings and database, runs the statement, and undoes the settings. */
  private ChdbEngine.Result run(
      byte[] sql, String format, String database, Map<String, String> settings) {
    List<String> applied = new ArrayList<>();
    try {
      ChdbEngine.Result use = engine.query("USE " + identifier(database), "TabSeparated");
      if (use.failed()) {
        return use;
      }
      for (Map.Entry<String, String> s : settings.entrySet()) {
        ChdbEngine.Result set =
            engine.query(
                "SET " + identifier(s.getKey()) + " = " + literal(s.getValue()), "TabSeparated");
        if (set.failed()) {
          return set;
        }
        applied.add(s.getKey());
      }
      return engine.query(sql, format);
    } finally {
      for (String name : applied) {
        ChdbEngine.Result reset = engine.query("SET " + identifier(name) + " = DEFAULT", "TSV");
        if (reset.failed()) {
          // A setting that cannot be reset would leak into the next request: stop serving.
          System.err.println("cannot reset setting " + name + ": " + reset.error());
          Runtime.getRuntime().halt(3);
        }
      }
    }
  }

  /** The {@code query} parameter, then a newline and the body, as ClickHouse concatenates them. */
  private static byte[] statement(String queryParam, byte[] body) {
    byte[] q = queryParam.getBytes(StandardCharsets.UTF_8);
    if (q.length == 0) {
      return body;
    }
    if (body.length == 0) {
      return q;
    }
    byte[] out = new byte[q.length + 1 + body.length];
    System.arraycopy(q, 0, out, 0, q.length);
    out[q.length] = '\n';
    System.arraycopy(body, 0, out, q.length + 1, body.length);
    return out;
  }

  private byte[] body(HttpExchange exchange, Map<String, String> params)
      throws IOException, FailureException {
    byte[] raw;
    String encoding = exchange.getRequestHeaders().getFirst("Content-Encoding");
    try (InputStream in = exchange.getRequestBody()) {
      InputStream decoded =
          encoding == null || encoding.isBlank() || encoding.equalsIgnoreCase("identity")
              ? in
              : switch (encoding.toLowerCase(Locale.ROOT)) {
                case "gzip" -> new GZIPInputStream(in);
                case "deflate" -> new InflaterInputStream(in);
                default ->
                    throw failure(
                        89, "Content-Encoding " + encoding + " is not served by this test front");
              };
      raw = decoded.readAllBytes();
    }
    if ("1".equals(params.get("decompress"))) {
      try {
        return NativeCompression.decompress(raw);
      } catch (NativeCompression.BadBlock e) {
        throw failure(e.code, e.getMessage());
      }
    }
    return raw;
  }

  private void authenticate(HttpExchange exchange, Map<String, String> params)
      throws FailureException {
    String user = exchange.getRequestHeaders().getFirst("X-ClickHouse-User");
    String password = exchange.getRequestHeaders().getFirst("X-ClickHouse-Key");
    String auth = exchange.getRequestHeaders().getFirst("Authorization");
    if (user == null && auth != null && auth.regionMatches(true, 0, "Basic ", 0, 6)) {
      String decoded =
          new String(Base64.getDecoder().decode(auth.substring(6).trim()), StandardCharsets.UTF_8);
      int colon = decoded.indexOf(':');
      user = colon < 0 ? decoded : decoded.substring(0, colon);
      password = colon < 0 ? "" : decoded.substring(colon + 1);
    }
    if (user == null) {
      user = params.getOrDefault("user", "default");
      password = params.getOrDefault("password", "");
    }
    String expected = users.get(user);
    if (expected == null || !expected.equals(password == null ? "" : password)) {
      throw failure(
          516,
          user
              + ": Authentication failed: password is incorrect, or there is no user with such"
              + " name");
    }
  }

  private static String outputFormat(byte[] sql, String defaultFormat) {
    int from = Math.max(0, sql.length - 256);
    Matcher m =
        TRAILING_FORMAT.matcher(new String(sql, from, sql.length - from, StandardCharsets.UTF_8));
    return m.find() ? m.group(1) : defaultFormat;
  }

  private Failure parse(String error) {
    String message = error.strip();
    Matcher code = CODE.matcher(message);
    if (code.find()) {
      return new Failure(Integer.parseInt(code.group(1)), message);
    }
    return new Failure(1001, "Code: 1001. DB::Exception: " + message + ". (STD_EXCEPTION)");
  }

  private void sendError(HttpExchange exchange, String queryId, Failure f) throws IOException {
    Matcher name = NAME.matcher(f.message());
    String errorName = name.find() ? name.group(1) : errorNames.getOrDefault(f.code(), "");
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("X-ClickHouse-Query-Id", queryId);
    headers.put("X-ClickHouse-Exception-Code", Integer.toString(f.code()));
    byte[] text = (f.message() + " (version " + version + ")\n").getBytes(StandardCharsets.UTF_8);
    send(exchange, HttpStatus.of(errorName), text, headers);
  }

  private void send(HttpExchange exchange, int status, byte[] body, Map<String, String> headers)
      throws IOException {
    exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=UTF-8");
    exchange.getResponseHeaders().set("X-ClickHouse-Server-Display-Name", "chdb-test-front");
    exchange.getResponseHeaders().set("X-ClickHouse-Timezone", timezone);
    headers.forEach((k, v) -> exchange.getResponseHeaders().set(k, v));
    exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  private static Map<String, String> params(String rawQuery) {
    Map<String, String> out = new LinkedHashMap<>();
    if (rawQuery == null || rawQuery.isEmpty()) {
      return out;
    }
    for (String pair : rawQuery.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String k = eq < 0 ? pair : pair.substring(0, eq);
      String v = eq < 0 ? "" : pair.substring(eq + 1);
      out.put(
          URLDecoder.decode(k, StandardCharsets.UTF_8),
          URLDecoder.decode(v, StandardCharsets.UTF_8));
    }
    return out;
  }

  private static String firstNonEmpty(String... values) {
    for (String v : values) {
      if (v != null && !v.isEmpty()) {
        return v;
      }
    }
    return "";
  }

  /** A back-quoted identifier. */
  static String identifier(String name) {
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`";
  }

  /** A single-quoted string literal; the engine converts it to the setting's type. */
  static String literal(String value) {
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }
}
