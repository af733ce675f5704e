package io.trellis.ingress.cli;

import io.trellis.ingress.config.Config;
import io.trellis.ingress.enrich.EnrichConfig;
import io.trellis.ingress.enrich.Enricher;
import io.trellis.ingress.event.Enrichments;
import io.trellis.ingress.replay.Replay;
import io.trellis.ingress.sink.clickhouse.ClickHouseConfig;
import java.time.LocalDate;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code replay}: sends stored events (files sink or dead letters) to a sink, exactly once. */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    description =
        "Send the events stored as NDJSON under DATA_DIR/events (or the sink's dead letters) to a"
            + " sink, skipping those it already holds. Resumes where an interrupted run stopped."
            + " Works whether the service runs or not.")
final class ReplayCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Option(
      names = "--sink",
      required = true,
      paramLabel = "SINK",
      description = "The sink to fill: clickhouse (configured as for serve).")
  String sink;

  @Option(
      names = "--from",
      required = true,
      paramLabel = "YYYY-MM-DD",
      description = "First UTC day of events.")
  LocalDate from;

  @Option(
      names = "--to",
      required = true,
      paramLabel = "YYYY-MM-DD",
      description = "Last UTC day of events (inclusive).")
  LocalDate to;

  @Option(names = "--org", paramLabel = "ORG", description = "Only this organization's events.")
  String org;

  @Option(
      names = "--dead-letters",
      description = "Read DATA_DIR/dead-letters/SINK/*.ndjson instead of the files sink's events.")
  boolean deadLetters;

  @Option(
      names = "--batch-size",
      paramLabel = "N",
      defaultValue = "5000",
      description = "Events per insert (default ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(
      names = "--restart",
      description = "Forget the checkpoint of an earlier run and read every file from its start.")
  boolean restart;

  @Override
  public Integer call() throws Exception {
    Config config = common.load();
    String name = sink.toLowerCase(Locale.ROOT);
    if (!name.equals("clickhouse")) {
      throw new IllegalArgumentException(
          "--sink " + sink + ": replay can fill clickhouse (bigquery and files are not supported)");
    }
    ClickHouseConfig clickhouse = ClickHouseConfig.from(config);
    if (clickhouse == null) {
      throw new IllegalArgumentException(
          "--sink clickhouse: clickhouse.url is not set (TRELLIS_CLICKHOUSE_URL or --set"
              + " clickhouse.url=...)");
    }
    // Replayed lines get the derived columns the service would give them, from their raw data.
    Enrichments.install(Enricher.open(EnrichConfig.from(config)));
    Replay.Request request =
        new Replay.Request(
            CommonOptions.dataDir(config), from, to, org, deadLetters, batchSize, restart);
    return Replay.intoClickHouse(request, clickhouse, System.out, System.err);
  }
}
