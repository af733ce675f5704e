package io.trellis.ingress.cli;

import io.trellis.ingress.config.Config;
import io.trellis.ingress.enrich.EnrichConfig;
import io.trellis.ingress.enrich.Enricher;
import io.trellis.ingress.event.Enrichments;
import io.trellis.ingress.replay.Replay;
import io.trellis.ingress.sink.bigquery.BigQueryConfig;
import io.trellis.ingress.sink.clickhouse.ClickHouseConfig;
import java.nio.file.Path;
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
            + " sink, each once. Resumes where an interrupted run stopped."
            + " Works whether the service runs or not.")
final class ReplayCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Option(
      names = "--sink",
      required = true,
      paramLabel = "SINK",
      description = "The sink to fill: clickhouse or bigquery (configured as for serve).")
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
      names = "--attempts",
      paramLabel = "N",
      defaultValue = "8",
      description =
          "Tries of a chunk while the sink fails transiently, 0.5 s apart doubling up to 10 s,"
              + " before the replay stops (default ${DEFAULT-VALUE}).")
  int attempts;

  @Option(
      names = "--restart",
      description =
          "Forget the checkpoint of an earlier run and read every file from its start"
              + " (bigquery: every event is appended again).")
  boolean restart;

  @Override
  public Integer call() throws Exception {
    Config config = common.load();
    String name = sink.toLowerCase(Locale.ROOT);
    if (!name.equals("clickhouse") && !name.equals("bigquery")) {
      throw new IllegalArgumentException(
          "--sink " + sink + ": replay can fill clickhouse or bigquery (not the files sink)");
    }
    Path dataDir = CommonOptions.dataDir(config);
    Replay.Request request =
        new Replay.Request(dataDir, from, to, org, deadLetters, batchSize, attempts, restart);
    if (name.equals("bigquery")) {
      if (!BigQueryConfig.enabled(config)) {
        throw new IllegalArgumentException(
            "--sink bigquery: bigquery.project is not set (TRELLIS_BIGQUERY_PROJECT or --set"
                + " bigquery.project=...)");
      }
      BigQueryConfig bigquery = BigQueryConfig.from(config, dataDir.resolve("replay"));
      enrich(config);
      return Replay.intoBigQuery(request, bigquery, System.out, System.err);
    }
    ClickHouseConfig clickhouse = ClickHouseConfig.from(config);
    if (clickhouse == null) {
      throw new IllegalArgumentException(
          "--sink clickhouse: clickhouse.url is not set (TRELLIS_CLICKHOUSE_URL or --set"
              + " clickhouse.url=...)");
    }
    enrich(config);
    return Replay.intoClickHouse(request, clickhouse, System.out, System.err);
  }

  /** Replayed lines get the derived columns the service would give them, from their raw data. */
  private static void enrich(Config config) throws Exception {
    Enrichments.install(Enricher.open(EnrichConfig.from(config)));
  }
}
