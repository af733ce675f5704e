package io.trellis.ingress.cli;

import io.trellis.ingress.config.Config;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Runs the service until SIGTERM or SIGINT. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    versionProvider = Version.Provider.class,
    description = "Start the capture service.")
final class ServeCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Option(names = "--port", description = "Capture port (default 8080). Env: TRELLIS_PORT.")
  Integer port;

  @Option(names = "--host", description = "Bind address (default 127.0.0.1). Env: TRELLIS_HOST.")
  String host;

  @Override
  public Integer call() throws Exception {
    Map<String, String> flags = new LinkedHashMap<>();
    if (port != null) {
      flags.put("port", port.toString());
    }
    if (host != null) {
      flags.put("host", host);
    }
    Config config = common.load(flags);
    IngressService service = IngressService.start(config, System.out);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  service.close();
                  stopped.countDown();
                },
                "shutdown"));
    stopped.await();
    return 0;
  }
}
