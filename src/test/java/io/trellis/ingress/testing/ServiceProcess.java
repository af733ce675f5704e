package io.trellis.ingress.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The service's {@code serve} command in its own JVM, on a free port, its output in a log file. */
public record ServiceProcess(Process process, int port, Path log) {

  /** The java command line of {@code trellis-ingress ARGS} with this test's classpath. */
  public static List<String> command(String... args) {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                "-cp",
                System.getProperty("java.class.path"),
                "io.trellis.ingress.cli.Main"));
    cmd.addAll(List.of(args));
    return cmd;
  }

  /** Starts {@code serve --data-dir DATA --port P ARGS} and waits until the port answers. */
  public static ServiceProcess start(Path data, Path log, String... args) throws Exception {
    int port = freePort();
    List<String> serve =
        new ArrayList<>(
            List.of("serve", "--data-dir", data.toString(), "--port", Integer.toString(port)));
    if (List.of(args).stream().noneMatch(a -> a.startsWith("admin.port="))) {
      // Tests run beside other services on this machine: the default admin port may be taken.
      serve.addAll(List.of("--set", "admin.port=0"));
    }
    serve.addAll(List.of(args));
    Process p =
        new ProcessBuilder(command(serve.toArray(String[]::new)))
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new AssertionError("the service exited at start: " + Files.readString(log));
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        // Connecting in a loop to a port no one listens on yet can connect the socket to
        // itself, when the kernel picks that very port as its local end. That is not the
        // service, and it holds the port the service is about to bind.
        if (s.getLocalPort() != port) {
          return new ServiceProcess(p, port, log);
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(20);
    }
    p.destroyForcibly();
    throw new AssertionError("the service did not open its port: " + Files.readString(log));
  }

  /** SIGTERM, then waits for the process to end (SIGKILL after 30 s). */
  public void stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
