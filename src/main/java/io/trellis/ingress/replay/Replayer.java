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
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Sends stored events to a sink again: reads the source files from their checkpoint in chunks,
 * records each chunk in the checkpoint before the sink gets it, has the sink store what it lacks
 * ({@link ReplayTarget}), then moves the checkpoint past the chunk. A run that finds a chunk
 * recorded and not passed reads exactly that chunk again first, so it gets the same rows at the
 * same row numbers.
 *
 * <p>A line whose event_id was read before in the same directory is a duplicate and skipped: the
 * files sink writes an event's copies into its organization's directory of its day, so that catches
 * every copy, and on entering a directory the ids of its lines already replayed are read again, so
 * this holds across kills and reruns. Memory: the ids of one organization's day.
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
      long refused,
      long bytes,
      double seconds) {}

  private static final int REPORTED_LINES = 10;

  private final ReplaySource source;
  private final ReplayTarget target;
  private final ReplayCheckpoint checkpoint;
  private final int chunkSize;
  private final int attempts;
  private final PrintStream err;
  private final ReplayProgress progress;

  private long events;
  private long inserted;
  private long alreadyStored;
  private long duplicates;
  private long unreadable;
  private long refused;
  private long bytesDone;

  // The chunk being filled: events by id, and per source file the offset its lines in the chunk
  // end at. A chunk spans files, so small files make few writes.
  private final Map<String, TrafficEvent> chunk = new LinkedHashMap<>();
  private final Map<String, Long> chunkEnds = new LinkedHashMap<>();

  // The event ids read in the directory being read.
  private final Set<String> seen = new HashSet<>();
  private Path seenDir;

  Replayer(
      ReplaySource source,
      ReplayTarget target,
      ReplayCheckpoint checkpoint,
      int chunkSize,
      int attempts,
      PrintStream err,
      boolean terminal) {
    this.source = requireNonNull(source, "source is null");
    this.target = requireNonNull(target, "target is null");
    this.checkpoint = requireNonNull(checkpoint, "checkpoint is null");
    if (chunkSize < 1) {
      throw new IllegalArgumentException("--batch-size must be 1 or more");
    }
    if (attempts < 1) {
      throw new IllegalArgumentException("--attempts must be 1 or more");
    }
    this.chunkSize = chunkSize;
    this.attempts = attempts;
    this.err = requireNonNull(err, "err is null");
    long total = 0;
    for (Path f : source.files()) {
      total += size(f);
    }
    this.progress = new ReplayProgress(err, terminal, total);
  }

  /** Replays everything from the checkpoint on; throws when the sink keeps failing. */
  public Result run() throws IOException, SinkException {
    long start = System.nanoTime();
    List<Path> files = source.files();
    for (Path f : files) {
      bytesDone += Math.min(checkpoint.offset(key(f)), size(f));
    }
    Optional<ReplayCheckpoint.Pending> pending = checkpoint.pending();
    if (pending.isPresent()) {
      resume(pending.get());
    }
    for (Path f : files) {
      String key = key(f);
      readFile(f, key, checkpoint.offset(key), Long.MAX_VALUE);
    }
    flush(List.of());
    progress.update(events, bytesDone, true);
    return new Result(
        files.size(),
        events,
        inserted,
        alreadyStored,
        duplicates,
        unreadable,
        refused,
        bytesDone,
        (System.nanoTime() - start) / 1e9);
  }

  /** Writes the chunk an interrupted run recorded, from the same lines, before anything else. */
  private void resume(ReplayCheckpoint.Pending p) throws IOException, SinkException {
    for (Map.Entry<String, Long> e : p.ends().entrySet()) {
      readFile(
          source.dataDir().resolve(e.getKey()),
          e.getKey(),
          checkpoint.offset(e.getKey()),
          e.getValue());
    }
    List<TrafficEvent> again = without(chunk.values(), new HashSet<>(p.refused()));
    if (again.size() != p.rows() || !digest(again).equals(p.ids())) {
      // The same byte ranges hold other events: the files were changed under the replay. Row
      // numbers of the old position cannot be trusted for these, so the sink starts afresh.
      err.println(
          "replay: the files of the chunk the interrupted run was writing have changed ("
              + again.size()
              + " events where it had "
              + p.rows()
              + "); continuing without that run's position in "
              + target.name());
      checkpoint.saveNote("");
      target.open(checkpoint);
    }
    flush(p.refused());
  }

  /** Reads the complete lines of {@code file} in {@code [from, until)} into chunks. */
  private void readFile(Path file, String key, long from, long until)
      throws IOException, SinkException {
    if (from >= Math.min(until, size(file))) {
      return;
    }
    enter(file.getParent());
    boolean resuming = until != Long.MAX_VALUE;
    lines(
        file,
        from,
        until,
        (text, at, end) -> {
          if (!text.isBlank()) {
            take(text, file, at);
          }
          chunkEnds.put(key, end);
          if (!resuming && chunk.size() >= chunkSize) {
            flush(List.of());
          }
        });
  }

  private interface LineConsumer {
    void accept(String text, long start, long end) throws IOException, SinkException;
  }

  /** Each complete line of {@code file} that starts in {@code [from, until)}, in order. */
  private static void lines(Path file, long from, long until, LineConsumer consumer)
      throws IOException, SinkException {
    long offset = from;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ch.position(from);
      InputStream in = new BufferedInputStream(Channels.newInputStream(ch), 1 << 16);
      ByteArrayOutputStream line = new ByteArrayOutputStream(4096);
      int b;
      while (offset < until && (b = in.read()) >= 0) {
        if (b != '\n') {
          line.write(b);
          continue;
        }
        long start = offset;
        offset += line.size() + 1;
        String text = line.toString(StandardCharsets.UTF_8);
        line.reset();
        consumer.accept(text, start, offset);
      }
    }
  }

  private void take(String text, Path file, long at) {
    TrafficEvent e;
    try {
      e = StoredLines.parse(text, source.deadLetters());
    } catch (StoredLines.UnreadableLineException ex) {
      if (unreadable++ < REPORTED_LINES) {
        err.println("replay: skipped " + file + " at byte " + at + ": " + ex.getMessage());
      }
      return;
    }
    if (!wanted(e)) {
      return;
    }
    events++;
    if (!seen.add(e.eventId()) || chunk.putIfAbsent(e.eventId(), e) != null) {
      duplicates++;
    }
  }

  /**
   * Starts reading a directory: the ids of its lines before the checkpoint are the ones it has
   * replayed, whichever run did it.
   */
  private void enter(Path dir) throws IOException, SinkException {
    if (dir.equals(seenDir)) {
      return;
    }
    seenDir = dir;
    seen.clear();
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(p -> p.getFileName().toString().endsWith(".ndjson")).sorted().toList();
    }
    for (Path f : files) {
      long upTo = checkpoint.offset(key(f));
      if (upTo == 0) {
        continue;
      }
      lines(
          f,
          0,
          upTo,
          (text, at, end) -> {
            TrafficEvent e = parse(text);
            if (e != null && wanted(e)) {
              seen.add(e.eventId());
            }
          });
    }
  }

  private TrafficEvent parse(String text) {
    try {
      return StoredLines.parse(text, source.deadLetters());
    } catch (StoredLines.UnreadableLineException ex) {
      return null;
    }
  }

  private boolean wanted(TrafficEvent e) {
    LocalDate day = Instant.ofEpochMilli(e.timestamp()).atZone(ZoneOffset.UTC).toLocalDate();
    return source.wants(e.organizationId(), day);
  }

  /**
   * Records the chunk in the checkpoint, has the sink store it (without the events it refuses,
   * which are named on stderr and left out when the chunk is written again), then moves the
   * checkpoint past it.
   */
  private void flush(List<String> refusedBefore) throws IOException, SinkException {
    if (chunk.isEmpty()) {
      if (!chunkEnds.isEmpty()) {
        advance(checkpoint.rows());
      }
      return;
    }
    Set<String> refusedIds = new LinkedHashSet<>(refusedBefore);
    refused += refusedIds.size();
    List<TrafficEvent> rows = without(chunk.values(), refusedIds);
    long first = checkpoint.rows();
    while (true) {
      checkpoint.begin(
          new ReplayCheckpoint.Pending(
              chunkEnds, first, rows.size(), digest(rows), List.copyOf(refusedIds)));
      if (rows.isEmpty()) {
        break;
      }
      List<TrafficEvent> batch = rows;
      try {
        long already = attempt(() -> target.write(batch, first));
        inserted += batch.size() - already;
        alreadyStored += already;
        break;
      } catch (SinkException e) {
        if (e.kind() != SinkException.Kind.ROWS || e.rowErrors().isEmpty()) {
          throw e;
        }
        Set<String> now = new HashSet<>();
        e.rowErrors()
            .forEach(
                (i, reason) -> {
                  String id = batch.get(i).eventId();
                  now.add(id);
                  if (refused++ < REPORTED_LINES) {
                    err.println(
                        "replay: " + target.name() + " refused event " + id + ": " + reason);
                  }
                });
        refusedIds.addAll(now);
        rows = without(batch, now);
        if (e.othersStored()) {
          inserted += rows.size();
          break;
        }
      }
    }
    chunk.clear();
    advance(first + rows.size());
  }

  private void advance(long nextRow) throws IOException {
    for (Map.Entry<String, Long> e : chunkEnds.entrySet()) {
      bytesDone += Math.max(0, e.getValue() - checkpoint.offset(e.getKey()));
    }
    checkpoint.advance(chunkEnds, nextRow);
    chunkEnds.clear();
    progress.update(events, bytesDone, false);
  }

  private static List<TrafficEvent> without(Iterable<TrafficEvent> events, Set<String> ids) {
    List<TrafficEvent> out = new ArrayList<>();
    for (TrafficEvent e : events) {
      if (!ids.contains(e.eventId())) {
        out.add(e);
      }
    }
    return out;
  }

  /** Names a chunk's rows in order: a chunk read again must be the same rows. */
  private static String digest(List<TrafficEvent> rows) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      for (TrafficEvent e : rows) {
        d.update(e.eventId().getBytes(StandardCharsets.US_ASCII));
        d.update((byte) '\n');
      }
      return HexFormat.of().formatHex(d.digest(), 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
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
        if (e.kind() != SinkException.Kind.TRANSIENT || i >= attempts) {
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

  private String key(Path f) {
    return source.dataDir().relativize(f).toString();
  }

  private static long size(Path f) {
    try {
      return Files.size(f);
    } catch (IOException e) {
      return 0;
    }
  }
}
