package io.trellis.ingress.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * A real ClickHouse server for tests: either a {@code clickhouse-server} process started here from
 * the installed binary, on free ports with its own temporary config and data directory (no system
 * service, no root), or an existing server given by URL. Queries go over plain HTTP and read back
 * text formats, which every server version speaks.
 */
public final class ClickHouseServer implements AutoCloseable {
  /** A user with a password, created in the managed server's users.xml. */
  public static final String PASSWORD_USER = "trellis";

  public static final String PASSWORD = "s3cret-Pa55";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<String> command;
  private final Map<String, String> environment;
  private final Path dir;
  private final URI url;
  private final String user;
  private final String password;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private Process process;

  private ClickHouseServer(
      List<String> command,
      Map<String, String> environment,
      Path dir,
      URI url,
      String user,
      String password) {
    this.command = command;
    this.environment = environment;
    this.dir = dir;
    this.url = url;
    this.user = user;
    this.password = password;
  }

  /** A server at the given URL, not managed here (it cannot be stopped by tests). */
  public static ClickHouseServer external(URI url, String user, String password) {
    ClickHouseServer s = new ClickHouseServer(null, Map.of(), null, url, user, password);
    s.awaitPing(Duration.ofSeconds(30));
    return s;
  }

  /** Starts the binary ({@code clickhouse-server}, or {@code clickhouse} with "server"). */
  public static ClickHouseServer start(Path binary) throws IOException {
    IOException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      try {
        return start(
            binary,
            Files.createTempDirectory("clickhouse-test"),
            FreePorts.pick(),
            FreePorts.pick());
      } catch (IOException e) {
        // Most likely a port taken between choosing and binding it: try other ports.
        last = e;
      }
    }
    throw last;
  }

  /**
   * Starts the binary in {@code dir} on the given ports, without retrying. Files already in {@code
   * dir/config.d/} are merged into the configuration by the server (remote_servers, zookeeper,
   * macros of a cluster node). On failure the process is stopped and {@code dir} deleted.
   */
  public static ClickHouseServer start(Path binary, Path dir, int httpPort, int tcpPort)
      throws IOException {
    writeConfig(dir, httpPort, tcpPort);
    List<String> cmd = new ArrayList<>();
    cmd.add(binary.toString());
    if (binary.getFileName().toString().equals("clickhouse")) {
      cmd.add("server");
    }
    cmd.add("--config-file=" + dir.resolve("config.xml"));
    ClickHouseServer s =
        new ClickHouseServer(
            List.copyOf(cmd),
            Map.of(),
            dir,
            URI.create("http://127.0.0.1:" + httpPort),
            "default",
            "");
    try {
      s.startProcess();
      return s;
    } catch (IOException e) {
      s.close();
      throw e;
    }
  }

  /**
   * Starts the ClickHouse engine of {@code libchdb.so} behind the HTTP test front ({@link
   * io.trellis.ingress.testing.chdb.ChdbHttpFront}) in a process of its own, on a free port, with
   * its tables in a temporary directory. The front's JVM preloads the JDK's {@code libjsig.so} so
   * that the engine's signal handlers are chained behind the JVM's instead of replacing them.
   */
  public static ClickHouseServer startChdb(Path library) throws IOException {
    IOException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      Path dir = Files.createTempDirectory("chdb-test");
      Files.createDirectories(dir.resolve("data"));
      int httpPort = FreePorts.pick();
      Path javaHome = Path.of(System.getProperty("java.home"));
      List<String> cmd =
          List.of(
              javaHome.resolve("bin").resolve("java").toString(),
              "-Xmx512m",
              "-XX:+UseSerialGC",
              "-cp",
              System.getProperty("java.class.path"),
              "io.trellis.ingress.testing.chdb.ChdbHttpFront",
              library.toAbsolutePath().toString(),
              dir.resolve("data").toString(),
              Integer.toString(httpPort),
              "default:",
              PASSWORD_USER + ":" + PASSWORD);
      Map<String, String> env = new HashMap<>();
      env.put("TZ", "UTC");
      Path jsig = javaHome.resolve("lib").resolve("libjsig.so");
      if (Files.exists(jsig)) {
        env.put("LD_PRELOAD", jsig.toString());
      }
      ClickHouseServer s =
          new ClickHouseServer(
              cmd, env, dir, URI.create("http://127.0.0.1:" + httpPort), "default", "");
      try {
        s.startProcess();
        return s;
      } catch (IOException e) {
        last = e;
        s.close();
      }
    }
    throw last;
  }

  /**
   * The chDB library: {@code CHDB_LIBRARY}, else the one {@code npm ci} installs under {@code
   * clients/} ({@code @chdb/lib-linux-x64-gnu}, pinned in clients/package.json); null when neither
   * exists.
   */
  public static Path findChdbLibrary() {
    String env = System.getenv("CHDB_LIBRARY");
    Path p =
        env != null && !env.isBlank()
            ? Path.of(env)
            : Path.of("clients/node_modules/@chdb/lib-linux-x64-gnu/libchdb.so").toAbsolutePath();
    return Files.isReadable(p) ? p : null;
  }

  /** The installed server binary, or null when there is none. */
  public static Path findBinary() {
    List<Path> candidates = new ArrayList<>();
    String env = System.getenv("CLICKHOUSE_SERVER_BINARY");
    if (env != null && !env.isBlank()) {
      candidates.add(Path.of(env));
    }
    String path = System.getenv().getOrDefault("PATH", "");
    for (String name : List.of("clickhouse-server", "clickhouse")) {
      for (String d : path.split(":")) {
        if (!d.isEmpty()) {
          candidates.add(Path.of(d, name));
        }
      }
      for (String d : List.of("/usr/sbin", "/usr/bin", "/usr/local/bin")) {
        candidates.add(Path.of(d, name));
      }
    }
    return candidates.stream().filter(Files::isExecutable).findFirst().orElse(null);
  }

  private static void writeConfig(Path dir, int httpPort, int tcpPort) throws IOException {
    Path data = dir.resolve("data");
    Files.createDirectories(data);
    Files.writeString(
        dir.resolve("config.xml"),
        """
        <?xml version="1.0"?>
        <yandex>
          <logger>
            <level>warning</level>
            <log>%1$s/server.log</log>
            <errorlog>%1$s/server.err.log</errorlog>
          </logger>
          <http_port>%2$d</http_port>
          <tcp_port>%3$d</tcp_port>
          <listen_host>127.0.0.1</listen_host>
          <path>%4$s/</path>
          <tmp_path>%4$s/tmp/</tmp_path>
          <user_files_path>%4$s/user_files/</user_files_path>
          <format_schema_path>%4$s/format_schemas/</format_schema_path>
          <users_config>%1$s/users.xml</users_config>
          <default_profile>default</default_profile>
          <default_database>default</default_database>
          <timezone>UTC</timezone>
          <mark_cache_size>268435456</mark_cache_size>
          <uncompressed_cache_size>268435456</uncompressed_cache_size>
          <max_server_memory_usage_to_ram_ratio>0.5</max_server_memory_usage_to_ram_ratio>
        </yandex>
        """
            .formatted(dir, httpPort, tcpPort, data));
    Files.writeString(
        dir.resolve("users.xml"),
        """
        <?xml version="1.0"?>
        <yandex>
          <profiles><default></default></profiles>
          <users>
            <default>
              <password></password>
              <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
              <profile>default</profile>
              <quota>default</quota>
            </default>
            <%1$s>
              <password>%2$s</password>
              <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
              <profile>default</profile>
              <quota>default</quota>
            </%1$s>
          </users>
          <quotas><default></default></quotas>
        </yandex>
        """
            .formatted(PASSWORD_USER, PASSWORD));
  }

  private void startProcess() throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
    pb.environment().putAll(environment);
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("stdout.log").toFile()));
    process = pb.start();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException(
            command.get(0) + " exited with " + process.exitValue() + ": " + logTail());
      }
      if (ping()) {
        return;
      }
      sleep(50);
    }
    process.destroyForcibly();
    throw new IOException(command.get(0) + " did not answer /ping within 60 s: " + logTail());
  }

  public URI url() {
    return url;
  }

  public String user() {
    return user;
  }

  public String password() {
    return password;
  }

  /** True when this server was started here and can be stopped, killed and restarted. */
  public boolean managed() {
    return command != null;
  }

  /** Stops the server gracefully (SIGTERM) and waits until it is gone. */
  public void stop() {
    requireManaged();
    process.destroy();
    awaitExit();
  }

  /** Kills the server (SIGKILL), as a crash or power loss would. */
  public void kill() {
    requireManaged();
    process.destroyForcibly();
    awaitExit();
  }

  /** Starts a stopped server again, same ports and data. */
  public void restart() {
    requireManaged();
    if (process != null && process.isAlive()) {
      return;
    }
    try {
      startProcess();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public boolean isRunning() {
    return !managed() || (process != null && process.isAlive());
  }

  private void awaitExit() {
    try {
      if (!process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private void requireManaged() {
    if (!managed()) {
      throw new IllegalStateException("the server at " + url + " is not managed by the tests");
    }
  }

  public boolean ping() {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(url.resolve("/ping")).timeout(Duration.ofSeconds(2)).build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private void awaitPing(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!ping()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("ClickHouse at " + url + " does not answer /ping");
      }
      sleep(100);
    }
  }

  /** Runs a statement and returns the answer's text; fails on any server error. */
  public String query(String sql) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(url.resolve("/"))
                  .header("Authorization", basicAuth())
                  .timeout(Duration.ofSeconds(60))
                  .POST(HttpRequest.BodyPublishers.ofString(sql))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IllegalStateException(
            "ClickHouse answered " + r.statusCode() + " to " + sql + ": " + r.body());
      }
      return r.body();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Writes the answer to a statement into a file (for answers too large for memory). */
  public void queryToFile(String sql, Path file) {
    try {
      HttpResponse<Path> r =
          http.send(
              HttpRequest.newBuilder(url.resolve("/"))
                  .header("Authorization", basicAuth())
                  .POST(HttpRequest.BodyPublishers.ofString(sql))
                  .build(),
              HttpResponse.BodyHandlers.ofFile(file));
      if (r.statusCode() != 200) {
        throw new IllegalStateException(
            "ClickHouse answered " + r.statusCode() + " to " + sql + ": " + Files.readString(file));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The value of an Authorization header for this server's user. */
  public String basicAuth() {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  /** The rows of a SELECT, read back as {@code JSONEachRow}. */
  public List<JsonNode> rows(String select) {
    List<JsonNode> out = new ArrayList<>();
    for (String line : query(select + " FORMAT JSONEachRow").split("\n")) {
      if (!line.isBlank()) {
        try {
          out.add(JSON.readTree(line));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
    return out;
  }

  /** A single number from a SELECT. */
  public long number(String select) {
    return Long.parseLong(query(select).trim());
  }

  public String version() {
    return query("SELECT version()").trim();
  }

  /** Creates a database with a fresh name, so tests sharing this server do not see each other. */
  public String newDatabase(String prefix) {
    String name =
        prefix.toLowerCase(Locale.ROOT)
            + "_"
            + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    query("CREATE DATABASE " + name);
    return name;
  }

  private String logTail() {
    StringBuilder sb = new StringBuilder();
    for (String f : List.of("stdout.log", "server.err.log")) {
      Path p = dir.resolve(f);
      try {
        if (Files.exists(p)) {
          List<String> lines = Files.readAllLines(p);
          sb.append(f)
              .append(": ")
              .append(
                  String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size())))
              .append('\n');
        }
      } catch (IOException e) {
        sb.append(f).append(": unreadable\n");
      }
    }
    return sb.toString();
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    if (process != null && process.isAlive()) {
      process.destroy();
      awaitExit();
    }
    if (dir != null) {
      try (Stream<Path> s = Files.walk(dir)) {
        s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        // Best effort: a temp directory left behind is harmless.
      }
    }
  }

  @Override
  public String toString() {
    return "ClickHouseServer{" + url + (managed() ? ", managed" : ", external") + "}";
  }
}
