package io.trellis.ingress.replay;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.SinkException;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Sends stored events to a sink again: reads the source files from their checkpoint, and per chunk
 * asks the sink which event ids it holds, writes only the others, then moves the checkpoint past
 * the chunk. Each event_id therefore reaches the sink once, across kills and reruns, as long as one
 * replay of a sink runs at a time and the sink's table is not also being filled with the same
 * events by a service whose cursor is behind.
 *
 * <p>Only complete lines (ending in a newline) are read: a file the running service is still
 * appending to is replayed up to its last complete line, and the rest is taken by the next run. Not
 * thread-safe.
 */
public final class Replayer {
  /** What one run did. */
  public record Result(
      int files,
      long events,
      long inserted,
      long alreadyStored,
      long duplicatesInSource,
      long unreadable,
      long bytes,
      double seconds) {}

  private static final int MAX_ATTEMPTS = 8;
  private static final int REPORTED_UNREADABLE = 10;

  private final ReplaySource source;
  private final ReplayTarget target;
  private final ReplayCheckpoint checkpoint;
  private final int chunkSize;
  private final PrintStream err;
  private final ReplayProgress progress;

  private long events;
  private long inserted;
  private long alreadyStored;
  private long duplicates;
  private long unreadable;
  private long bytesDone;

  Replayer(
      ReplaySource source,
      ReplayTarget target,
      ReplayCheckpoint checkpoint,
      int chunkSize,
      PrintStream err,
      boolean terminal) {
    this.source = requireNonNull(source, "source is null");
    this.target = requireNonNull(target, "target is null");
    this.checkpoint = requireNonNull(checkpoint, "checkpoint is null");
    if (chunkSize < 1) {
      throw new IllegalArgumentException("--batch-size must be 1 or more");
    }
    this.chunkSize = chunkSize;
    this.err = requireNonNull(err, "err is null");
    List<Path> files = source.files();
    long total = 0;
    for (Path f : files) {
      total += size(f);
    }
    this.progress = new ReplayProgress(err, terminal, total);
  }

  /** Replays everything from the checkpoint on; throws when the sink keeps failing. */
  public Result run() throws IOException, SinkException {
    long start = System.nanoTime();
    List<Path> files = source.files();
    for (Path f : files) {
      String key = source.dataDir().relativize(f).toString();
      long from = checkpoint.offset(key);
      bytesDone += Math.min(from, size(f));
      replayFile(f, key, from);
    }
    flush();
    progress.update(events, bytesDone, true);
    return new Result(
        files.size(),
        events,
        inserted,
        alreadyStored,
        duplicates,
        unreadable,
        bytesDone,
        (System.nanoTime() - start) / 1e9);
  }

  // The chunk being filled: events by id (the first line of an id wins), and per source file the
  // offset its lines in the chunk end at. A chunk spans files, so small files make few inserts.
  private final Map<String, TrafficEvent> chunk = new LinkedHashMap<>();
  private final Map<String, Long> chunkEnds = new LinkedHashMap<>();
  private long chunkNumber;

  private void replayFile(Path file, String key, long from) throws IOException, SinkException {
    if (from >= size(file)) {
      return;
    }
    long offset = from;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ch.position(from);
      InputStream in = new BufferedInputStream(Channels.newInputStream(ch), 1 << 16);
      ByteArrayOutputStream line = new ByteArrayOutputStream(4096);
      int b;
      while ((b = in.read()) >= 0) {
        if (b != '\n') {
          line.write(b);
          continue;
        }
        long lineStart = offset;
        offset += line.size() + 1;
        String text = line.toString(StandardCharsets.UTF_8);
        line.reset();
        if (!text.isBlank()) {
          take(text, file, lineStart);
        }
        chunkEnds.put(key, offset);
        if (chunk.size() >= chunkSize) {
          flush();
        }
      }
    }
  }

  private void take(String text, Path file, long at) {
    TrafficEvent e;
    try {
      e = StoredLines.parse(text, source.deadLetters());
    } catch (StoredLines.UnreadableLineException ex) {
      if (unreadable++ < REPORTED_UNREADABLE) {
        err.println("replay: skipped " + file + " at byte " + at + ": " + ex.getMessage());
      }
      return;
    }
    LocalDate day = Instant.ofEpochMilli(e.timestamp()).atZone(ZoneOffset.UTC).toLocalDate();
    if (!source.wants(e.organizationId(), day)) {
      return;
    }
    events++;
    if (chunk.putIfAbsent(e.eventId(), e) != null) {
      duplicates++;
    }
  }

  /** Writes what the sink lacks of the chunk, then moves the checkpoint past the chunk's lines. */
  private void flush() throws IOException, SinkException {
    if (!chunk.isEmpty()) {
      List<TrafficEvent> all = new ArrayList<>(chunk.values());
      Set<String> stored = new HashSet<>(attempt(() -> target.storedIds(all)));
      List<TrafficEvent> missing = new ArrayList<>(all.size());
      for (TrafficEvent e : all) {
        if (!stored.contains(e.eventId())) {
          missing.add(e);
        }
      }
      // Offsets only number the rows of one insert for the sink's insert token.
      long first = chunkNumber++ * chunkSize;
      if (!missing.isEmpty()) {
        attempt(
            () -> {
              target.write(missing, first);
              return null;
            });
      }
      inserted += missing.size();
      alreadyStored += all.size() - missing.size();
      chunk.clear();
    }
    if (!chunkEnds.isEmpty()) {
      for (Map.Entry<String, Long> e : chunkEnds.entrySet()) {
        bytesDone += Math.max(0, e.getValue() - checkpoint.offset(e.getKey()));
      }
      checkpoint.advance(chunkEnds);
      chunkEnds.clear();
    }
    progress.update(events, bytesDone, false);
  }

  private interface Call<T> {
    T call() throws SinkException;
  }

  /** Retries transient failures with backoff; a rerun continues from the checkpoint anyway. */
  private <T> T attempt(Call<T> call) throws SinkException {
    long delay = 500;
    for (int i = 1; ; i++) {
      try {
        return call.call();
      } catch (SinkException e) {
        if (e.kind() != SinkException.Kind.TRANSIENT || i >= MAX_ATTEMPTS) {
          throw e;
        }
        err.println(
            "replay: "
                + target.name()
                + " failed ("
                + e.getMessage()
                + "); retrying in "
                + delay
                + " ms");
        try {
          Thread.sleep(delay);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw e;
        }
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  private static long size(Path f) {
    try {
      return Files.size(f);
    } catch (IOException e) {
      return 0;
    }
  }
}
