package io.trellis.ingress.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The service in its own JVM, started as an operator would, under a chosen heap and open-file limit
 * ({@code ulimit -n} in a shell that then becomes the JVM), for tests that attack it over real
 * sockets and then inspect the process: its open files in {@code /proc/PID/fd}, its heap through
 * the admin port's metrics.
 */
public final class AttackedProcess implements AutoCloseable {
  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  private final Process process;
  private final int port;
  private final int adminPort;
  private final Path log;

  private AttackedProcess(Process process, int port, int adminPort, Path log) {
    this.process = process;
    this.port = port;
    this.adminPort = adminPort;
    this.log = log;
  }

  /**
   * Starts {@code serve} on free ports with the data directory and extra {@code --set} settings.
   *
   * @param heap the JVM's -Xmx, e.g. {@code 256m}
   * @param openFiles the open-file limit, soft and hard
   */
  public static AttackedProcess start(
      Path data, Path log, String heap, int openFiles, List<String> settings) throws Exception {
    int port = FreePorts.pick();
    int adminPort = FreePorts.pick();
    List<String> args =
        new ArrayList<>(
            List.of(
                "serve",
                "--data-dir",
                data.toString(),
                "--host",
                "0.0.0.0",
                "--port",
                Integer.toString(port),
                "--set",
                "admin.port=" + adminPort,
                "--set",
                "auth.demo-key=false",
                "--set",
                "spool.batch-max-age=50ms"));
    for (String s : settings) {
      args.add("--set");
      args.add(s);
    }
    List<String> jvm =
        List.of("-Xmx" + heap, "-XX:+ExitOnOutOfMemoryError", "-XX:TieredStopAtLevel=1");
    Process p =
        new ProcessBuilder(ServiceJvm.withOpenFileLimit(openFiles, ServiceJvm.command(jvm, args)))
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    ServiceJvm.awaitListening(p, log, Duration.ofSeconds(120), adminPort, port);
    return new AttackedProcess(p, port, adminPort, log);
  }

  public int port() {
    return port;
  }

  public int adminPort() {
    return adminPort;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public String log() throws IOException {
    return Files.readString(log);
  }

  /** Files the process holds open now. */
  public long openFiles() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid() + "/fd"))) {
      return fds.count();
    }
  }

  /** GET on the admin port; the status and body. */
  public HttpResponse<String> admin(String path) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The sum of a Prometheus metric's samples whose line contains {@code labels}. */
  public double metric(String name, String labels) throws Exception {
    double sum = 0;
    Pattern sample = Pattern.compile("^" + name + "(\\{[^}]*\\})? (\\S+)$");
    for (String line : admin("/metrics").body().split("\n")) {
      Matcher m = sample.matcher(line);
      if (m.matches() && (m.group(1) == null || m.group(1).contains(labels))) {
        sum += Double.parseDouble(m.group(2));
      }
    }
    return sum;
  }

  /** Heap in use after a full collection (asked of the JVM with jcmd). */
  public double heapUsedAfterGc() throws Exception {
    Process gc =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(pid()),
                "GC.run")
            .redirectErrorStream(true)
            .start();
    gc.getInputStream().readAllBytes();
    gc.waitFor(30, TimeUnit.SECONDS);
    return metric("jvm_memory_used_bytes", "area=\"heap\"");
  }

  @Override
  public void close() throws Exception {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
