package io.trellis.ingress.cli;

import io.trellis.ingress.config.Sizes;
import io.trellis.ingress.spool.SpoolStatus;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** Inspects the durable spool: {@code spool status}. */
@Command(
    name = "spool",
    mixinStandardHelpOptions = true,
    versionProvider = Version.Provider.class,
    description = "Inspect the durable spool under the data directory.",
    subcommands = {SpoolCommand.Status.class})
final class SpoolCommand extends Usage.Group {

  @Command(
      name = "status",
      mixinStandardHelpOptions = true,
      versionProvider = Version.Provider.class,
      description =
          "Segments, bytes, and per sink the cursor, lag (events and seconds) and dead letters."
              + " Read-only: works whether the service runs or not.")
  static final class Status implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Override
    public Integer call() throws Exception {
      SpoolStatus s = SpoolStatus.read(DataDirectory.existing(common.load(), System.out));
      System.out.println("Spool " + s.directory());
      System.out.printf(
          "  segments %d, %s, spare files %s, offsets %d..%d, quarantined ranges %d%n",
          s.segments(),
          Sizes.format(s.bytes()),
          Sizes.format(s.spareBytes()),
          s.oldestOffset(),
          s.nextOffset(),
          s.quarantined());
      System.out.printf(
          "%-16s %-10s %12s %12s %12s %12s%n",
          "SINK", "CONFIGURED", "CURSOR", "LAG_EVENTS", "LAG_SECONDS", "DEAD_LETTERS");
      for (SpoolStatus.SinkStatus k : s.sinks()) {
        System.out.printf(
            "%-16s %-10s %12d %12d %12.1f %12d%n",
            k.name(),
            k.configured() ? "yes" : "no",
            k.cursor(),
            k.lagEvents(),
            k.lagSeconds(),
            k.deadLetters());
      }
      return 0;
    }
  }
}
