package io.trellis.ingress.replay;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.trellis.ingress.sink.SinkException;
import io.trellis.ingress.sink.bigquery.BigQueryConfig;
import io.trellis.ingress.sink.bigquery.BigQuerySink;
import io.trellis.ingress.sink.clickhouse.ClickHouseConfig;
import io.trellis.ingress.sink.clickhouse.ClickHouseSink;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.Locale;

/**
 * Runs one replay request end to end and reports it; the entry point of the {@code replay} command.
 */
public final class Replay {
  private Replay() {}

  /** What to replay, from where. */
  public record Request(
      Path dataDir,
      LocalDate from,
      LocalDate to,
      String organization,
      boolean deadLetters,
      int batchSize,
      int attempts,
      boolean restart) {
    public Request {
      requireNonNull(dataDir, "dataDir is null");
    }
  }

  private interface TargetFactory {
    ReplayTarget open() throws SinkException;
  }

  /** Replays into ClickHouse; returns the exit code (0 done, 1 the sink failed). */
  public static int intoClickHouse(
      Request request, ClickHouseConfig config, PrintStream out, PrintStream err)
      throws IOException {
    return run(
        request, "clickhouse", () -> new ClickHouseTarget(new ClickHouseSink(config)), out, err);
  }

  /**
   * Replays into BigQuery; returns the exit code. {@code config}'s state directory is not used: the
   * replay's write stream is kept in its checkpoint.
   */
  public static int intoBigQuery(
      Request request, BigQueryConfig config, PrintStream out, PrintStream err) throws IOException {
    if (request.restart()) {
      err.println(
          "replay: --restart with bigquery appends every event again: BigQuery is not asked which"
              + " events it holds, so rows that earlier runs stored are stored twice");
    }
    return run(
        request,
        "bigquery",
        () -> new BigQueryTarget(new BigQuerySink(config, new SimpleMeterRegistry()), err),
        out,
        err);
  }

  private static int run(
      Request request, String sink, TargetFactory factory, PrintStream out, PrintStream err)
      throws IOException {
    ReplaySource source =
        new ReplaySource(
            request.dataDir(),
            request.from(),
            request.to(),
            request.organization(),
            request.deadLetters(),
            sink);
    ReplayCheckpoint checkpoint =
        ReplayCheckpoint.open(request.dataDir().resolve("replay").resolve(source.checkpointName()));
    if (request.restart()) {
      checkpoint.delete();
      checkpoint = ReplayCheckpoint.open(checkpoint.file());
    }
    try (ReplayTarget target = factory.open()) {
      return run(request, source, checkpoint, target, out, err);
    } catch (SinkException e) {
      err.println("replay: " + sink + " cannot be used: " + e.getMessage());
      return 1;
    }
  }

  private static int run(
      Request request,
      ReplaySource source,
      ReplayCheckpoint checkpoint,
      ReplayTarget target,
      PrintStream out,
      PrintStream err)
      throws IOException {
    int files = source.files().size();
    out.printf(
        "Replaying %s from %d file(s) (%s, %s to %s) into %s; checkpoint %s%n",
        request.deadLetters() ? "dead letters" : "events",
        files,
        request.organization() == null ? "all organizations" : request.organization(),
        request.from(),
        request.to(),
        target.name(),
        checkpoint.file());
    out.flush();
    Replayer.Result r;
    try {
      target.open(checkpoint);
      Replayer replayer =
          new Replayer(
              source,
              target,
              checkpoint,
              request.batchSize(),
              request.attempts(),
              err,
              System.console() != null);
      r = replayer.run();
    } catch (SinkException e) {
      err.println(
          "replay: "
              + target.name()
              + " failed: "
              + e.getMessage()
              + "; run the same command again to continue from the checkpoint");
      return 1;
    }
    out.printf(
        Locale.ROOT,
        "Done: %d events read from %d file(s) in %.1f s: %d inserted, %d already in %s,"
            + " %d duplicate line(s) in the files, %d unreadable line(s), %d refused by %s.%n",
        r.events(),
        r.files(),
        r.seconds(),
        r.inserted(),
        r.alreadyStored(),
        target.name(),
        r.duplicatesInSource(),
        r.unreadable(),
        r.refused(),
        target.name());
    return 0;
  }
}
