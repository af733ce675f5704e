package io.trellis.ingress.replay;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.sink.SinkException;
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
      boolean restart) {
    public Request {
      requireNonNull(dataDir, "dataDir is null");
    }
  }

  /** Replays into ClickHouse; returns the exit code (0 done, 1 the sink failed). */
  public static int intoClickHouse(
      Request request, ClickHouseConfig config, PrintStream out, PrintStream err)
      throws IOException {
    ReplaySource source =
        new ReplaySource(
            request.dataDir(),
            request.from(),
            request.to(),
            request.organization(),
            request.deadLetters(),
            "clickhouse");
    try (ClickHouseTarget target = new ClickHouseTarget(new ClickHouseSink(config))) {
      return run(request, source, target, out, err);
    } catch (SinkException e) {
      err.println("replay: clickhouse cannot be used: " + e.getMessage());
      return 1;
    }
  }

  static int run(
      Request request, ReplaySource source, ReplayTarget target, PrintStream out, PrintStream err)
      throws IOException {
    ReplayCheckpoint checkpoint =
        ReplayCheckpoint.open(request.dataDir().resolve("replay").resolve(source.checkpointName()));
    if (request.restart()) {
      checkpoint.delete();
      checkpoint = ReplayCheckpoint.open(checkpoint.file());
    }
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
    Replayer replayer =
        new Replayer(
            source, target, checkpoint, request.batchSize(), err, System.console() != null);
    Replayer.Result r;
    try {
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
            + " %d duplicate line(s) in the files, %d unreadable line(s).%n",
        r.events(),
        r.files(),
        r.seconds(),
        r.inserted(),
        r.alreadyStored(),
        target.name(),
        r.duplicatesInSource(),
        r.unreadable());
    return 0;
  }
}
