package io.trellis.ingress.sink.files;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.event.EventLines;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.Sink;
import io.trellis.ingress.sink.SinkBatch;
import io.trellis.ingress.sink.SinkException;
import io.trellis.ingress.sink.SinkHealth;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded default sink: one NDJSON line per event under {@code
 * events/org=<organization>/date=<YYYY-MM-DD>/part-<start>-<n>.ndjson}, the date being the event's
 * UTC receipt date. A file is closed at {@code files.max-file-size} and a new one started.
 *
 * <p>Each batch is appended in {@link #write}; the files are forced to disk later, once for every
 * line written meanwhile: when the oldest unforced line is {@code files.fsync-interval} old, after
 * {@code files.fsync-max-events} lines, or when the spool drains. {@link #preCommit} tells the
 * spool how far the lines are on disk, and the spool keeps the events until then: a crash before
 * the fsync costs nothing but a second copy of the lines written since (the spool delivers them
 * again; a line cut short is removed at start-up). New files' directories are forced with them.
 *
 * <p>Not thread-safe: one delivery thread writes.
 */
public final class FilesSink implements Sink {
  private static final Logger log = LoggerFactory.getLogger(FilesSink.class);
  private static final DateTimeFormatter DATE =
      DateTimeFormatter.ofPattern("yyyy-MM-dd").withZone(ZoneOffset.UTC);

  private final FilesSinkConfig config;
  private final String runId = Long.toString(System.currentTimeMillis());
  private final Map<Path, Path> currentFile = new HashMap<>();
  private final EventLines lines = new EventLines();
  private int sequence;

  /** Files written since the last fsync, and directories that got a new file since. */
  private final Set<Path> unsynced = new LinkedHashSet<>();

  private final Set<Path> newEntries = new LinkedHashSet<>();
  private long unsyncedEvents;
  private long firstUnsyncedNanos;

  /** Below this offset every event handed over is on disk. */
  private long durable;

  /** How many fsync rounds ran (tests and the benchmark). */
  private long syncs;

  public FilesSink(FilesSinkConfig config) {
    this.config = requireNonNull(config, "config is null");
  }

  @Override
  public String name() {
    return "files";
  }

  @Override
  public void start() throws SinkException {
    try {
      Files.createDirectories(config.directory());
      try (Stream<Path> files = Files.walk(config.directory())) {
        for (Path f : files.filter(p -> p.toString().endsWith(".ndjson")).toList()) {
          dropTornLine(f);
        }
      }
    } catch (IOException e) {
      throw SinkException.permanent("cannot prepare " + config.directory() + ": " + e, e);
    }
  }

  /**
   * A process killed in the middle of a write can leave a last line without its newline. Those
   * events were never confirmed to the spool, which delivers them again, so the partial line is cut
   * off: every line of every file stays one whole JSON object.
   */
  static void dropTornLine(Path file) throws IOException {
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long size = ch.size();
      if (size == 0 || lastByte(ch, size) == '\n') {
        return;
      }
      long keep = size;
      ByteBuffer buf = ByteBuffer.allocate(8192);
      while (keep > 0) {
        long from = Math.max(0, keep - buf.capacity());
        buf.clear().limit((int) (keep - from));
        ch.read(buf, from);
        int newline = -1;
        for (int i = buf.position() - 1; i >= 0; i--) {
          if (buf.get(i) == '\n') {
            newline = i;
            break;
          }
        }
        if (newline >= 0) {
          keep = from + newline + 1;
          break;
        }
        keep = from;
      }
      log.warn(
          "Cut a partial last line from {} at byte {} ({} bytes); its events are delivered again",
          file,
          keep,
          size - keep);
      ch.truncate(keep);
      ch.force(true);
    }
  }

  private static byte lastByte(FileChannel ch, long size) throws IOException {
    ByteBuffer one = ByteBuffer.allocate(1);
    ch.read(one, size - 1);
    return one.get(0);
  }

  @Override
  public void write(SinkBatch batch) throws SinkException {
    // Events grouped by directory, in order; consecutive events of one organization and day (the
    // usual case) share one directory lookup.
    Map<Path, List<TrafficEvent>> byDir = new LinkedHashMap<>();
    List<TrafficEvent> current = null;
    String currentOrg = null;
    long currentDay = Long.MIN_VALUE;
    for (TrafficEvent e : batch.events()) {
      long day = Math.floorDiv(e.timestamp(), 86_400_000L);
      if (current == null || day != currentDay || !e.organizationId().equals(currentOrg)) {
        Path dir =
            config
                .directory()
                .resolve("org=" + safeName(e.organizationId()))
                .resolve("date=" + DATE.format(Instant.ofEpochMilli(e.timestamp())));
        current = byDir.computeIfAbsent(dir, d -> new ArrayList<>());
        currentOrg = e.organizationId();
        currentDay = day;
      }
      current.add(e);
    }
    long now = System.currentTimeMillis();
    try {
      for (Map.Entry<Path, List<TrafficEvent>> entry : byDir.entrySet()) {
        append(entry.getKey(), entry.getValue(), now);
      }
    } catch (IOException | UncheckedIOException e) {
      throw SinkException.transientFailure("cannot write events under " + config.directory(), e);
    }
    if (unsyncedEvents == 0) {
      firstUnsyncedNanos = System.nanoTime();
    }
    unsyncedEvents += batch.size();
  }

  /**
   * Forces the written files to disk when the interval or the event count says so (or {@code
   * flush}), and answers how far the events handed over are on disk. Without {@code files.fsync}
   * every written event counts as stored.
   */
  @Override
  public long preCommit(long written, boolean flush) throws SinkException {
    if (!config.fsync() || unsynced.isEmpty()) {
      unsynced.clear();
      unsyncedEvents = 0;
      durable = written;
      return written;
    }
    if (flush
        || unsyncedEvents >= config.fsyncMaxEvents()
        || System.nanoTime() - firstUnsyncedNanos >= config.fsyncInterval().toNanos()) {
      try {
        for (Path f : unsynced) {
          try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.force(false);
          }
        }
        for (Path d : newEntries) {
          forceDirectory(d);
        }
      } catch (IOException | UncheckedIOException e) {
        throw SinkException.transientFailure(
            "cannot force the files under " + config.directory() + " to disk", e);
      }
      syncs++;
      unsynced.clear();
      newEntries.clear();
      unsyncedEvents = 0;
      durable = written;
    }
    return durable;
  }

  private static void forceDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  /** How many times the written files were forced to disk. */
  long syncs() {
    return syncs;
  }

  /**
   * Streams the lines through the writer's fixed buffer into the file: a batch (up to
   * spool.batch-max-bytes) is never held as one array, which on a small heap made every batch a
   * humongous allocation.
   */
  private void append(Path dir, List<TrafficEvent> events, long ingestedAt) throws IOException {
    Path file = currentFile.get(dir);
    if (file == null || !Files.exists(file) || Files.size(file) >= config.maxFileBytes()) {
      for (Path d = dir; d != null && !Files.isDirectory(d); d = d.getParent()) {
        newEntries.add(d.getParent());
      }
      Files.createDirectories(dir);
      file = dir.resolve("part-" + runId + "-" + (sequence++) + ".ndjson");
      currentFile.put(dir, file);
      newEntries.add(dir);
    }
    try (FileChannel ch =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      long start = ch.size();
      try {
        lines.writeAll(Channels.newOutputStream(ch), events, ingestedAt);
        unsynced.add(file);
      } catch (IOException | RuntimeException e) {
        cutBack(ch, start, e);
        throw e;
      }
    }
  }

  /**
   * A failed append may have left part of the batch, possibly half a line, in the file. It is cut
   * off so the retry of the batch appends after whole lines only.
   */
  private static void cutBack(FileChannel ch, long size, Exception failure) {
    try {
      ch.truncate(size);
    } catch (IOException | RuntimeException e) {
      failure.addSuppressed(e);
    }
  }

  /**
   * A directory-safe form of an organization id: letters, digits, '.', '_' and '-' are kept, any
   * other byte is percent-encoded, so ids from a remote auth service cannot escape the directory.
   */
  static String safeName(String org) {
    StringBuilder sb = new StringBuilder(org.length());
    for (byte b : org.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      if ((c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || c == '_'
          || c == '-'
          || (c == '.' && sb.length() > 0)) {
        sb.append(c);
      } else {
        sb.append('%').append(String.format("%02X", b & 0xff));
      }
    }
    return sb.length() == 0 ? "%00" : sb.toString();
  }

  @Override
  public SinkHealth check() {
    return Files.isWritable(config.directory())
        ? SinkHealth.ok()
        : SinkHealth.failed(config.directory() + " is not writable");
  }

  @Override
  public String toString() {
    return "FilesSink{directory=" + config.directory() + "}";
  }
}
