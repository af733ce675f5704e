package io.trellis.ingress.sink.files;

import static java.util.Objects.requireNonNull;

import com.sun.nio.file.ExtendedOpenOption;
import io.trellis.ingress.event.EventLines;
import io.trellis.ingress.event.SpooledEvent;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.Sink;
import io.trellis.ingress.sink.SinkBatch;
import io.trellis.ingress.sink.SinkContext;
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
import java.util.concurrent.TimeUnit;
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
 * spool how far the lines are on disk, and the spool keeps the events until then. With each such
 * cursor the spool stores the sink's note ({@link FilesNote}): the size of every open file at that
 * fsync. A crash before the next fsync leaves lines beyond those sizes, whose events the spool
 * delivers again; {@link #open} cuts them off first, so each event is in the files once. New files'
 * directories are forced with them. When an fsync fails (or a file written since the last one is
 * gone: moved or deleted by someone else), the spool opens the sink again, which cuts the files
 * back the same way before the events are written again.
 *
 * <p>Not thread-safe: one delivery thread writes.
 */
public final class FilesSink implements Sink {
  private static final Logger log = LoggerFactory.getLogger(FilesSink.class);
  private static final DateTimeFormatter DATE =
      DateTimeFormatter.ofPattern("yyyy-MM-dd").withZone(ZoneOffset.UTC);

  private final FilesSinkConfig config;
  /*
   * A file that gets no line for this long is closed: the note stored with every cursor lists the
   * open files, and would otherwise grow with every organization and day ever written.
   */
  private static final long IDLE_CLOSE_NANOS = TimeUnit.MINUTES.toNanos(10);

  private final String runId = Long.toString(System.currentTimeMillis());
  private final Map<Path, OpenFile> currentFile = new HashMap<>();
  private final EventLines lines = new EventLines();

  /** The direct-I/O buffer: a whole number of blocks of any file system with blocks up to it. */
  static final int DIRECT_BUFFER_BYTES = 256 * 1024;

  /** Null until the first append with direct I/O, and when there is none. */
  private BlockAppender blocks;

  private boolean directUnavailable;

  /** A block size to align direct I/O to instead of the file system's (tests); 0: none. */
  private final int blockSizeOverride;

  /** Opens a file for direct I/O (a test's may refuse). */
  interface DirectOpener {
    FileChannel open(Path file) throws IOException;
  }

  /** The file opened for writing with direct I/O. */
  static FileChannel directChannel(Path file) throws IOException {
    return FileChannel.open(file, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT);
  }

  private final DirectOpener directOpener;

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

  /** Where the note with the files' durable sizes goes; null until {@link #open}. */
  private SinkContext context;

  /** A file lines are appended to, its size after the last append, and when that was. */
  private static final class OpenFile {
    final Path path;
    long size;
    long lastWriteNanos;

    OpenFile(Path path) {
      this.path = path;
    }
  }

  public FilesSink(FilesSinkConfig config) {
    this(config, 0, FilesSink::directChannel);
  }

  FilesSink(FilesSinkConfig config, int blockSizeOverride, DirectOpener directOpener) {
    this.config = requireNonNull(config, "config is null");
    this.blockSizeOverride = blockSizeOverride;
    this.directOpener = requireNonNull(directOpener, "directOpener is null");
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
   * Puts the files back to where the saved cursor says they were durable, before anything is
   * delivered again: lines written after the last saved cursor were never confirmed to the spool,
   * which delivers their events again, so they are cut off (and files started after that cursor
   * removed), and a {@code kill -9} leaves each event once in the files. Then a note of this run,
   * with no file open yet, is stored with the cursor before the first line is written.
   */
  @Override
  public void open(SinkContext context) throws SinkException {
    FilesNote saved = FilesNote.parse(context.metadata());
    // Opened again after lines could not be forced to disk: what was written since the cursor is
    // cut off with the rest, and the next lines go to new files.
    currentFile.clear();
    unsynced.clear();
    newEntries.clear();
    unsyncedEvents = 0;
    durable = context.committedOffset();
    try {
      if (saved != null) {
        restore(saved);
      } else if (!context.metadata().isEmpty()) {
        log.warn(
            "The files sink's note with its cursor is not readable; lines written after that"
                + " cursor stay and may be in the files twice: {}",
            context.metadata());
      }
      context.saveMetadata(note().text());
    } catch (IOException | UncheckedIOException e) {
      throw SinkException.transientFailure(
          "cannot restore the files under " + config.directory() + " to the saved cursor", e);
    }
    this.context = context;
  }

  /**
   * Cuts every file the note lists back to its noted size and deletes the files of the note's run
   * numbered from its {@code next} on. A file shorter than noted (changed by hand) or missing is
   * logged and left as it is: nothing is ever cut below a noted size.
   */
  private void restore(FilesNote saved) throws IOException {
    long cutBytes = 0;
    int cutFiles = 0;
    for (Map.Entry<String, Long> e : saved.sizes().entrySet()) {
      Path f = config.directory().resolve(e.getKey());
      if (!Files.isRegularFile(f)) {
        log.warn("{} is listed with the files sink's cursor but is gone; nothing to cut", f);
        continue;
      }
      long size = Files.size(f);
      if (size < e.getValue()) {
        log.warn(
            "{} has {} bytes, fewer than the {} noted with the files sink's cursor: changed by"
                + " hand? Left as it is",
            f,
            size,
            e.getValue());
      } else if (size > e.getValue()) {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
          ch.truncate(e.getValue());
          ch.force(true);
        }
        cutBytes += size - e.getValue();
        cutFiles++;
      }
    }
    List<Path> later = new ArrayList<>();
    String prefix = "part-" + saved.run() + "-";
    try (Stream<Path> files = Files.walk(config.directory())) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        String name = f.getFileName().toString();
        if (name.startsWith(prefix) && name.endsWith(".ndjson")) {
          String n = name.substring(prefix.length(), name.length() - ".ndjson".length());
          if (n.chars().allMatch(Character::isDigit)
              && !n.isEmpty()
              && n.length() < 10
              && Integer.parseInt(n) >= saved.next()) {
            later.add(f);
          }
        }
      }
    }
    for (Path f : later) {
      cutBytes += Files.size(f);
      Files.delete(f);
      forceDirectory(f.getParent());
    }
    if (cutFiles > 0 || !later.isEmpty()) {
      log.info(
          "Files sink: cut {} bytes written after its last saved cursor ({} file(s) cut back, {}"
              + " removed); the spool delivers those events again",
          cutBytes,
          cutFiles,
          later.size());
    }
  }

  /** This run's open files with their sizes now, and the sequence number of its next file. */
  private FilesNote note() {
    Map<String, Long> sizes = new LinkedHashMap<>();
    for (OpenFile f : currentFile.values()) {
      sizes.put(relative(f.path), f.size);
    }
    return new FilesNote(runId, sequence, sizes);
  }

  private String relative(Path file) {
    StringBuilder sb = new StringBuilder();
    for (Path part : config.directory().relativize(file)) {
      if (sb.length() > 0) {
        sb.append('/');
      }
      sb.append(part);
    }
    return sb.toString();
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
    // usual case) share one directory lookup. Grouped still encoded: each is decoded as its line
    // is written, so its enrichment reads the body through the record's index (Enrichments).
    Map<Path, List<SpooledEvent>> byDir = new LinkedHashMap<>();
    List<SpooledEvent> current = null;
    String currentOrg = null;
    long currentDay = Long.MIN_VALUE;
    for (SpooledEvent e : batch.items()) {
      long timestamp = e.timestamp();
      long day = Math.floorDiv(timestamp, 86_400_000L);
      String org = e.organizationId();
      if (current == null || day != currentDay || !org.equals(currentOrg)) {
        Path dir =
            config
                .directory()
                .resolve("org=" + safeName(org))
                .resolve("date=" + DATE.format(Instant.ofEpochMilli(timestamp)));
        current = byDir.computeIfAbsent(dir, d -> new ArrayList<>());
        currentOrg = org;
        currentDay = day;
      }
      current.add(e);
    }
    long now = System.currentTimeMillis();
    // Each file appended to by this batch, and its size before: a failed append cuts its own file
    // back, and these are cut back too, so the batch's retry writes each of its lines once.
    Map<OpenFile, Long> appended = new LinkedHashMap<>();
    try {
      for (Map.Entry<Path, List<SpooledEvent>> entry : byDir.entrySet()) {
        long start = append(entry.getKey(), SinkBatch.events(entry.getValue()), now);
        appended.putIfAbsent(currentFile.get(entry.getKey()), start);
      }
    } catch (IOException | UncheckedIOException e) {
      for (Map.Entry<OpenFile, Long> done : appended.entrySet()) {
        try (FileChannel ch = FileChannel.open(done.getKey().path, StandardOpenOption.WRITE)) {
          cutBack(ch, done.getValue(), e);
          done.getKey().size = done.getValue();
        } catch (IOException | RuntimeException cut) {
          e.addSuppressed(cut);
        }
      }
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
      if (!unsynced.isEmpty() || written > durable) {
        noteSizes();
      }
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
      noteSizes();
    }
    return durable;
  }

  /**
   * Hands the spool the files' sizes now, every line below {@code written} being in them, to store
   * with the cursor it is about to save; closes files that went idle first.
   */
  private void noteSizes() {
    if (context == null) {
      return;
    }
    long now = System.nanoTime();
    currentFile.values().removeIf(f -> now - f.lastWriteNanos > IDLE_CLOSE_NANOS);
    context.metadataWithNextCursor(note().text());
  }

  private static void forceDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  /** Whether the appends so far went through direct I/O (tests). */
  boolean writesDirect() {
    return blocks != null;
  }

  /** How many times the written files were forced to disk. */
  long syncs() {
    return syncs;
  }

  /**
   * Streams the lines through the writer's fixed buffer into the file: a batch (up to
   * spool.batch-max-bytes) is never held as one array, which on a small heap made every batch a
   * humongous allocation. With direct I/O, through {@link BlockAppender}. Answers the file's size
   * before the append.
   */
  private long append(Path dir, List<TrafficEvent> events, long ingestedAt) throws IOException {
    OpenFile open = currentFile.get(dir);
    if (open == null || !Files.exists(open.path) || open.size >= config.maxFileBytes()) {
      for (Path d = dir; d != null && !Files.isDirectory(d); d = d.getParent()) {
        newEntries.add(d.getParent());
      }
      Files.createDirectories(dir);
      open = new OpenFile(dir.resolve("part-" + runId + "-" + (sequence++) + ".ndjson"));
      currentFile.put(dir, open);
      newEntries.add(dir);
    }
    Path file = open.path;
    BlockAppender blocks = blocks();
    // Not in append mode: direct I/O writes at positions, and so does the page-cache way below.
    try (FileChannel ch =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      FileChannel direct = blocks != null ? openDirect(file) : null;
      long start = ch.size();
      try (direct) {
        if (direct != null) {
          blocks.start(direct, ch, start);
          lines.writeAll(blocks, events, ingestedAt);
          open.size = blocks.finish();
        } else {
          ch.position(start);
          lines.writeAll(Channels.newOutputStream(ch), events, ingestedAt);
          open.size = ch.size();
        }
        unsynced.add(file);
        open.lastWriteNanos = System.nanoTime();
        return start;
      } catch (IOException | RuntimeException e) {
        cutBack(ch, start, e);
        if (direct != null && refusedDirectIo(e)) {
          noDirectIo("a write was refused (" + e + ")");
        }
        throw e;
      }
    }
  }

  /**
   * Whether a failed append failed because the file system opened the file for direct I/O but
   * refuses its writes (EINVAL, or an alignment the JDK checks that differs from the block size):
   * the retry of the batch then goes through the page cache, not into the same refusal forever.
   */
  private static boolean refusedDirectIo(Exception e) {
    String m = String.valueOf(e.getMessage());
    return e instanceof IOException
        && (m.contains("Invalid argument") || m.contains("multiple of the block size"));
  }

  /**
   * The direct-I/O appender, made on the first append when {@code files.direct-io} is on and the
   * file system's block size suits it; null for writes through the page cache only.
   */
  private BlockAppender blocks() {
    if (!config.directIo() || directUnavailable) {
      return null;
    }
    if (blocks == null) {
      long blockSize;
      try {
        blockSize = Files.getFileStore(config.directory()).getBlockSize();
      } catch (IOException | UnsupportedOperationException e) {
        return noDirectIo("its block size is unknown (" + e + ")");
      }
      if (blockSize <= 0 || blockSize > DIRECT_BUFFER_BYTES || Long.bitCount(blockSize) != 1) {
        return noDirectIo("its block size is " + blockSize + " bytes");
      }
      blocks =
          new BlockAppender(
              blockSizeOverride > 0 ? blockSizeOverride : (int) blockSize, DIRECT_BUFFER_BYTES);
    }
    return blocks;
  }

  /** The file opened for direct I/O, or null (and no more tries) when the file system refuses. */
  private FileChannel openDirect(Path file) {
    try {
      return directOpener.open(file);
    } catch (IOException | UnsupportedOperationException e) {
      noDirectIo("it refused to open " + file.getFileName() + " for it (" + e + ")");
      return null;
    }
  }

  private BlockAppender noDirectIo(String why) {
    directUnavailable = true;
    blocks = null;
    log.info(
        "Files sink: no direct I/O under {}: {}; every write goes through the page cache",
        config.directory(),
        why);
    return null;
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
