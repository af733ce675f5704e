package io.trellis.ingress.testing;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The service's {@code serve} command in its own JVM, on a free port, its output in a log file. */
public record ServiceProcess(Process process, int port, Path log) {

  /** Starts {@code serve --data-dir DATA --port P ARGS} and waits until the port answers. */
  public static ServiceProcess start(Path data, Path log, String... args) throws Exception {
    int port = FreePorts.pick();
    List<String> serve =
        new ArrayList<>(
            List.of("serve", "--data-dir", data.toString(), "--port", Integer.toString(port)));
    if (List.of(args).stream().noneMatch(a -> a.startsWith("admin.port="))) {
      // Tests run beside other services on this machine: the default admin port may be taken.
      serve.addAll(List.of("--set", "admin.port=0"));
    }
    serve.addAll(List.of(args));
    Process p =
        new ProcessBuilder(ServiceJvm.command(serve.toArray(String[]::new)))
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    ServiceJvm.awaitListening(p, log, Duration.ofSeconds(120), port);
    return new ServiceProcess(p, port, log);
  }

  /** SIGTERM, then waits for the process to end (SIGKILL after 30 s). */
  public void stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
