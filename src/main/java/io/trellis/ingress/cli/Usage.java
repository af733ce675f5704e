package io.trellis.ingress.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** Shared behaviour of commands that only group subcommands. */
final class Usage {
  /** Exit code of a command line that names no command: a usage error, as picocli's own. */
  static final int USAGE_ERROR = 2;

  private Usage() {}

  /**
   * A command such as {@code keys} given without a subcommand: its usage goes to stderr and the
   * exit code says the command line was incomplete.
   */
  abstract static class Group implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
      spec.commandLine().usage(spec.commandLine().getErr());
      return USAGE_ERROR;
    }
  }
}
