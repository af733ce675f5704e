package io.trellis.ingress.cli;

import io.trellis.ingress.config.ConfigException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;

/** The single entry point: {@code trellis-ingress serve | keys ...}. */
@Command(
    name = "trellis-ingress",
    mixinStandardHelpOptions = true,
    versionProvider = Version.Provider.class,
    description = "Captures marketing traffic data over HTTP and stores it losslessly.",
    footer = {
      "",
      "Run 'trellis-ingress help COMMAND' or 'trellis-ingress COMMAND --help' for a command's"
          + " options."
    },
    subcommands = {
      ServeCommand.class,
      KeysCommand.class,
      SpoolCommand.class,
      ConfigCommand.class,
      ReplayCommand.class,
      TailCommand.class,
      HelpCommand.class
    })
public final class Main extends Usage.Group {

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs a command and returns its exit code; any start-up error is one line on stderr. */
  public static int run(String... args) {
    CommandLine cli = new CommandLine(new Main());
    cli.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          PrintWriter err = cmd.getErr();
          if (e instanceof ConfigException
              || e instanceof StartupException
              || e instanceof IllegalArgumentException) {
            err.println("trellis-ingress: " + e.getMessage());
          } else {
            err.println("trellis-ingress: " + e);
          }
          err.flush();
          return 1;
        });
    return cli.execute(args);
  }
}
