package io.trellis.ingress.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The command line as an operator runs it: {@code trellis-ingress ARGS} in its own JVM (the test
 * class path, which holds the same classes as the jar), with its own environment and working
 * directory, its stdout and stderr kept apart. The JVM is tuned to start fast, not to run long.
 */
public final class CliProcess implements AutoCloseable {
  /** What a finished command left: exit code, stdout and stderr. */
  public record Result(int code, String out, String err) {
    /** The stdout lines, without the trailing empty one. */
    public List<String> outLines() {
      return out.isEmpty() ? List.of() : List.of(out.split("\n", -1)).subList(0, lines(out));
    }

    /** The stderr lines, without the trailing empty one. */
    public List<String> errLines() {
      return err.isEmpty() ? List.of() : List.of(err.split("\n", -1)).subList(0, lines(err));
    }

    private static int lines(String s) {
      String[] parts = s.split("\n", -1);
      return parts[parts.length - 1].isEmpty() ? parts.length - 1 : parts.length;
    }

    @Override
    public String toString() {
      return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  private final Process process;
  private final Path stdout;
  private final Path stderr;

  private CliProcess(Process process, Path stdout, Path stderr) {
    this.process = process;
    this.stdout = stdout;
    this.stderr = stderr;
  }

  /** Runs a command to its end (at most a minute). */
  public static Result run(Path workDir, Map<String, String> env, String... args) {
    try (CliProcess p = start(workDir, env, args)) {
      if (!p.process.waitFor(60, TimeUnit.SECONDS)) {
        throw new AssertionError("trellis-ingress " + String.join(" ", args) + " did not end");
      }
      return p.result();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /**
   * Starts a command in the background, for {@code serve}. The environment holds no {@code
   * TRELLIS_*} variable from the test's own environment, only those given.
   */
  public static CliProcess start(Path workDir, Map<String, String> env, String... args) {
    List<String> cmd = ServiceJvm.command(args);
    try {
      Files.createDirectories(workDir);
      Path out = Files.createTempFile(workDir, "stdout", ".txt");
      Path err = Files.createTempFile(workDir, "stderr", ".txt");
      ProcessBuilder pb =
          new ProcessBuilder(cmd)
              .directory(workDir.toFile())
              .redirectOutput(out.toFile())
              .redirectError(err.toFile())
              .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
      pb.environment().keySet().removeIf(k -> k.startsWith("TRELLIS_"));
      pb.environment().putAll(env);
      return new CliProcess(pb.start(), out, err);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Waits until stdout satisfies the condition, failing early if the process ends first. */
  public String awaitStdout(Predicate<String> condition, Duration timeout) {
    return await(stdout, condition, timeout);
  }

  /** Waits until stderr (the log) satisfies the condition, failing early if the process ends. */
  public String awaitStderr(Predicate<String> condition, Duration timeout) {
    return await(stderr, condition, timeout);
  }

  private String await(Path file, Predicate<String> condition, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      String out = read(file);
      if (condition.test(out)) {
        return out;
      }
      if (!process.isAlive()) {
        throw new AssertionError("the process ended first: " + result());
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            file.getFileName() + " never satisfied the condition: " + result());
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  /** Waits for the process to end by itself. */
  public Result awaitExit(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError("the process did not end in " + timeout + ": " + result());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    return result();
  }

  /** Sends SIGTERM, as an init system does, and waits for the process to end. */
  public Result stop() {
    process.destroy();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
        throw new AssertionError("the process did not stop on SIGTERM: " + result());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    return result();
  }

  public long pid() {
    return process.pid();
  }

  /** SIGKILL, as a crash or the OOM killer would, and waits for the process to end. */
  public Result kill() {
    process.destroyForcibly();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new AssertionError("the process did not end on SIGKILL");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    return result();
  }

  private Result result() {
    return new Result(process.isAlive() ? -1 : process.exitValue(), read(stdout), read(stderr));
  }

  private static String read(Path p) {
    try {
      return Files.readString(p, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
    }
  }
}
