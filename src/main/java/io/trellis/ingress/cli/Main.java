package io.trellis.ingress.cli;

import io.trellis.ingress.config.ConfigException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The single entry point: {@code trellis-ingress serve | keys ...}. */
@Command(
    name = "trellis-ingress",
    mixinStandardHelpOptions = true,
    version = "trellis-ingress 0.1.0",
    description = "Captures marketing traffic data over HTTP and stores it losslessly.",
    subcommands = {ServeCommand.class, KeysCommand.class, SpoolCommand.class, ConfigCommand.class})
public final class Main implements Runnable {

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs a command and returns its exit code; any start-up error is one line on stderr. */
  public static int run(String... args) {
    CommandLine cli = new CommandLine(new Main());
    cli.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          PrintWriter err = cmd.getErr();
          if (e instanceof ConfigException || e instanceof IllegalArgumentException) {
            err.println("trellis-ingress: " + e.getMessage());
          } else {
            err.println("trellis-ingress: " + e);
          }
          err.flush();
          return 1;
        });
    return cli.execute(args);
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
