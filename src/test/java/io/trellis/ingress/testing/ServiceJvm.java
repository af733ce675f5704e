package io.trellis.ingress.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The java command line that every test launcher runs: {@code trellis-ingress ARGS} in its own JVM
 * with the test class path (which holds the same classes as the jar), and the wait for its ports.
 */
public final class ServiceJvm {
  /** Tuned to start fast, not to run long: a small heap, the client compiler, serial GC. */
  public static final List<String> FAST_START =
      List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

  private ServiceJvm() {}

  /** {@code trellis-ingress ARGS} under {@link #FAST_START}. */
  public static List<String> command(String... args) {
    return command(FAST_START, List.of(args));
  }

  /** {@code java JVM_OPTIONS -cp CLASSPATH io.trellis.ingress.cli.Main ARGS}. */
  public static List<String> command(List<String> jvmOptions, List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOptions);
    cmd.addAll(
        List.of("-cp", System.getProperty("java.class.path"), "io.trellis.ingress.cli.Main"));
    cmd.addAll(args);
    return cmd;
  }

  /** The command run under an open-file limit, soft and hard ({@code ulimit -n}, then exec). */
  public static List<String> withOpenFileLimit(int openFiles, List<String> command) {
    List<String> cmd = new ArrayList<>();
    cmd.addAll(List.of("bash", "-c", "ulimit -n " + openFiles + " && exec \"$@\"", "bash"));
    cmd.addAll(command);
    return cmd;
  }

  /**
   * Waits until the process listens on every port; fails, with the log, if it exits first or the
   * ports stay closed for the timeout (the process is then killed).
   */
  public static void awaitListening(Process p, Path log, Duration timeout, int... ports) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new AssertionError("the service exited at start: " + read(log));
      }
      boolean all = true;
      for (int port : ports) {
        all &= listening(port);
      }
      if (all) {
        return;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    p.destroyForcibly();
    throw new AssertionError("the service did not open its ports: " + read(log));
  }

  private static String read(Path log) {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** True when something accepts connections on the loopback port. */
  private static boolean listening(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      // Connecting in a loop to a port no one listens on yet can connect the socket to itself,
      // when the kernel picks that very port as its local end. That is not a server, and it holds
      // the port the server is about to bind.
      return s.getLocalPort() != port;
    } catch (IOException e) {
      return false;
    }
  }
}
