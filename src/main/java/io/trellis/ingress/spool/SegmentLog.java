package io.trellis.ingress.spool;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.base.DurableFiles;
import io.trellis.ingress.config.Sizes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The spool's append log: segment files in one directory, one frame per append, offsets counting
 * events. The layout of a segment is drawn in {@link Segment}, the layout of a record in {@link
 * RecordFrame}:
 *
 * <pre>
 *   spool/
 *     00000000000000000000.segment   sealed: records with offsets 0 .. 41999
 *     00000000000000042000.segment   sealed: 42000 .. 80123
 *     00000000000000080124.segment   active: appended to by the writer thread
 *     00000000000000000000.spare     a consumed segment kept for reuse (at most two)
 *     cursors/&lt;sink&gt;.cursor          next offset each sink needs (see CursorStore)
 *     quarantine/                    bytes of corrupt records (see Quarantine)
 * </pre>
 *
 * <p><b>Recovery.</b> {@link #open} checks the header of every segment, then scans the last one
 * record by record. A bad frame followed by a good one is a corrupt record in the middle: its bytes
 * are quarantined and the scan goes on. A bad frame with nothing good after it is a torn or corrupt
 * tail: the file is truncated there, with a WARN naming file and byte offset. Neither stops the
 * start. Older segments are validated lazily, by the readers, the same way.
 *
 * <p><b>Reuse.</b> A segment every sink is past is renamed to a spare file rather than deleted (at
 * most {@value #MAX_SPARES}, while the disk budget is less than half used), and the next new
 * segment overwrites a spare instead of growing a new file, as PostgreSQL recycles WAL files.
 * Overwriting blocks a file already has needs no block allocation, and its {@code fdatasync} no
 * journal commit for them. The new header, with a new random salt, is written and made durable
 * before the spare takes its segment name; records framed under another salt fail the checksum, so
 * recovery reads the old bytes past the last new record as the end of the log, and a sealed segment
 * is cut to its last record. Spare files count in the disk budget and are deleted first when an
 * append needs the room.
 *
 * <p><b>Visibility.</b> Readers only see what the writer {@linkplain #publish() published}: records
 * that are durable under the fsync policy. A record a sink may have stored therefore can never be
 * lost by a crash and its offset handed to another event.
 *
 * <p><b>Thread-safety.</b> {@link #append}, {@link #flush}, {@link #sync}, {@link #publish} and
 * {@link #close} belong to the single writer thread. Lookups for readers, {@link #awaitPublish},
 * {@link #deleteBelow} and the statistics are thread-safe.
 */
final class SegmentLog implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SegmentLog.class);
  static final int MAX_SPARES = 2;
  static final String SPARE_SUFFIX = ".spare";

  /** A consumed segment file kept for reuse, and the bytes it counts in the budget. */
  private record Spare(Path path, long size) {}

  private final Path dir;
  private final long segmentBytes;
  private final int maxRecordBytes;
  private final boolean sync;
  private final Quarantine quarantine;
  private final DiskBudget budget;
  private final RecoveryReport recovery = new RecoveryReport();
  private final ConcurrentSkipListMap<Long, Segment> segments = new ConcurrentSkipListMap<>();
  /*
   * Readers waiting for a publish park and the writer unparks them: no lock and no allocation per
   * group (a Condition's await allocated a node per wait, and the writer took its lock for every
   * group even when no reader waited).
   */
  private final CopyOnWriteArrayList<Waiter> waiters = new CopyOnWriteArrayList<>();
  private final AtomicLong publishVersion = new AtomicLong();
  private volatile long durableNextOffset;

  // Writer-thread state.
  private final ByteBuffer buffer;
  private final CRC32C crc = new CRC32C();
  private final SecureRandom random = new SecureRandom();
  private final ConcurrentLinkedDeque<Spare> spares = new ConcurrentLinkedDeque<>();
  private Segment active;
  private FileChannel channel;
  private long writtenPosition;
  private long nextOffset;

  private SegmentLog(
      Path dir, SpoolConfig config, Quarantine quarantine, DiskBudget budget, int bufferBytes) {
    this.dir = dir;
    this.segmentBytes = config.segmentBytes();
    this.maxRecordBytes = config.maxRecordBytes();
    this.sync = config.fsync() == SpoolConfig.FsyncPolicy.GROUP;
    this.quarantine = quarantine;
    this.budget = budget;
    this.buffer = ByteBuffer.allocateDirect(bufferBytes);
  }

  /**
   * Opens the log in {@code dir}, recovering the last segment. New records get offsets of at least
   * {@code minNextOffset} (the highest sink cursor), so an offset a sink has already passed is
   * never reused, even when the tail it came from was lost.
   */
  static SegmentLog open(
      Path dir, SpoolConfig config, Quarantine quarantine, DiskBudget budget, long minNextOffset)
      throws IOException {
    Files.createDirectories(dir);
    int bufferBytes = (int) Math.max(64 << 10, Math.min(config.fsyncMaxBytes(), 8 << 20));
    SegmentLog l =
        new SegmentLog(
            requireNonNull(dir, "dir is null"),
            requireNonNull(config, "config is null"),
            requireNonNull(quarantine, "quarantine is null"),
            requireNonNull(budget, "budget is null"),
            bufferBytes);
    l.recover(minNextOffset);
    return l;
  }

  /** What recovery found when the log was opened. */
  RecoveryReport recovery() {
    return recovery;
  }

  /** Spare files (consumed segments kept for reuse) in {@code dir}, by name. */
  static List<Path> listSpares(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith(SPARE_SUFFIX)).sorted().toList();
    }
  }

  /** Segment files in {@code dir} by base offset. */
  static TreeMap<Long, Path> listSegments(Path dir) throws IOException {
    TreeMap<Long, Path> found = new TreeMap<>();
    if (!Files.isDirectory(dir)) {
      return found;
    }
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.toList()) {
        OptionalLong base = Segment.parseName(p.getFileName().toString());
        if (base.isPresent() && Files.isRegularFile(p)) {
          found.put(base.getAsLong(), p);
        }
      }
    }
    return found;
  }

  private void recover(long minNextOffset) throws IOException {
    TreeMap<Long, Path> found = listSegments(dir);
    long next = 0;
    List<Map.Entry<Long, Path>> entries = new ArrayList<>(found.entrySet());
    for (int i = 0; i < entries.size(); i++) {
      long base = entries.get(i).getKey();
      Path path = entries.get(i).getValue();
      boolean last = i == entries.size() - 1;
      Segment.Header header;
      String bad = null;
      try {
        header = readOrRepairHeader(path, base);
      } catch (Segment.BadHeaderException e) {
        header = null;
        bad = e.getMessage();
      }
      if (header == null) {
        long size = Files.size(path);
        // Any event the file may hold has an offset below this bound (an event takes 5+ bytes).
        long bound = base + size / RecordFrame.MIN_EVENT_BYTES + 1;
        if (size > Segment.HEADER_BYTES || !last) {
          log.atWarn()
              .addKeyValue("file", path.toString())
              .addKeyValue("bytes", size)
              .log("Spool segment {} is unreadable ({}): moved to quarantine", path, bad);
          recovery.unreadableSegments++;
          recovery.quarantinedBytes += size;
          quarantine.file(path, bad);
          next = Math.max(next, bound);
          continue;
        }
        // A header torn while the segment was being created: no record was ever acknowledged
        // from it, because the header is made durable before the first record is written.
        log.warn("Spool segment {} has a torn header ({}): removing it", path, bad);
        recovery.tornHeadersRemoved++;
        Files.delete(path);
        next = Math.max(next, base);
        continue;
      }
      if (!last) {
        long size = Files.size(path);
        segments.put(base, new Segment(header, path, size, true));
        budget.add(size);
        next = Math.max(next, base);
        continue;
      }
      next = Math.max(next, recoverLast(header, path));
    }
    nextOffset = Math.max(next, minNextOffset);
    adoptSpares();
    if (segments.isEmpty() || segments.lastEntry().getValue().sealed()) {
      try {
        startSegment(nextOffset);
      } catch (IOException e) {
        // A full disk has no room for a new segment: start anyway, so that what the log holds
        // is delivered; the first append that finds room creates it.
        log.warn(
            "Cannot create a new spool segment in {} ({}): appends fail until there is room",
            dir,
            e.toString());
      }
    } else {
      active = segments.lastEntry().getValue();
      channel = FileChannel.open(active.path, StandardOpenOption.WRITE);
      writtenPosition = active.durableSize();
      channel.position(writtenPosition);
    }
    durableNextOffset = nextOffset;
    if (nextOffset > next) {
      log.warn(
          "Spool log ends at offset {} but a sink cursor is at {}: new events start at {}",
          next,
          minNextOffset,
          nextOffset);
    }
    log.info(
        "Spool log open: {} segment(s), {}, offsets {}..{}",
        segments.size(),
        Sizes.format(budget.used()),
        oldestOffset(),
        nextOffset);
  }

  /**
   * Reads a segment's header and checks it against the first record. A damaged header (magic,
   * version or base offset wrong, or a salt under which not even the first record validates) is
   * rebuilt from the records ({@link HeaderRecovery}): the damaged bytes are copied to quarantine
   * and the rebuilt header written over them, so that a flipped byte in a header costs no record.
   *
   * @throws Segment.BadHeaderException when the header is damaged and cannot be rebuilt
   */
  private Segment.Header readOrRepairHeader(Path path, long base) throws IOException {
    try (FileChannel ch =
        FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long size = ch.size();
      Segment.Header header;
      String damage;
      try {
        header = Segment.readHeader(ch, base);
        if (size <= header.bytes()
            || HeaderRecovery.firstRecordValid(ch, header, maxRecordBytes, size)) {
          return header;
        }
        damage = "no record validates under its salt";
      } catch (Segment.BadHeaderException e) {
        if (size <= Segment.HEADER_BYTES) {
          throw e;
        }
        header = null;
        damage = e.getMessage();
      }
      var rebuilt = HeaderRecovery.rebuild(ch, base, maxRecordBytes);
      if (rebuilt.isEmpty()) {
        if (header != null) {
          // The first record is what is damaged (or torn): the scan deals with it.
          return header;
        }
        throw new Segment.BadHeaderException(damage + "; no record to rebuild it from");
      }
      Segment.Header h = rebuilt.get();
      quarantine.range(path, 0, h.bytes(), "damaged segment header: " + damage);
      recovery.headersRebuilt++;
      recovery.quarantinedBytes += h.bytes();
      ByteBuffer b = h.encoded();
      while (b.hasRemaining()) {
        ch.write(b, b.position());
      }
      ch.force(true);
      log.warn(
          "Spool segment {}: damaged header ({}); rebuilt it from its records (base offset {} from"
              + " the file name, salt from the records' checksums) and kept the damaged bytes in"
              + " quarantine",
          path,
          damage,
          base);
      return h;
    }
  }

  /** Validates every record of the last segment; returns the offset after its last good record. */
  private long recoverLast(Segment.Header header, Path path) throws IOException {
    long base = header.baseOffset();
    long next = base;
    try (FileChannel ch =
        FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long size = ch.size();
      SegmentScanner scanner = new SegmentScanner(ch, maxRecordBytes, header, size, base - 1);
      long goodEnd = header.bytes();
      while (true) {
        SegmentScanner.Status st = scanner.next();
        if (st == SegmentScanner.Status.END) {
          break;
        }
        if (st == SegmentScanner.Status.RECORD) {
          recovery.recordsScanned++;
          next = scanner.recordOffset() + 1;
          goodEnd = scanner.position();
          continue;
        }
        long bad = scanner.position();
        String why = scanner.problem();
        long resume = scanner.resync(bad + 1);
        if (resume >= 0) {
          String offsets = Quarantine.lostOffsets(scanner.lastOffset(), scanner.resyncOffset());
          if (quarantine.range(path, bad, resume, why, offsets)) {
            recovery.quarantinedRanges++;
            recovery.quarantinedBytes += resume - bad;
            log.atWarn()
                .addKeyValue("file", path.toString())
                .addKeyValue("byte_offset", bad)
                .addKeyValue("bytes", resume - bad)
                .addKeyValue("offsets", offsets)
                .log(
                    "Spool segment {}: corrupt frame at byte {} ({}); moved bytes {}..{} to"
                        + " quarantine and continued; events at offsets {}",
                    path,
                    bad,
                    why,
                    bad,
                    resume,
                    offsets);
          } else {
            log.info(
                "Spool segment {}: skipping corrupt bytes {}..{}, already in quarantine",
                path,
                bad,
                resume);
          }
          scanner.seek(resume);
          continue;
        }
        log.atWarn()
            .addKeyValue("file", path.toString())
            .addKeyValue("byte_offset", bad)
            .addKeyValue("bytes", size - bad)
            .log(
                "Spool segment {}: torn or corrupt tail at byte {} ({}); truncating {} bytes (after a"
                    + " crash in a reused segment file, these are its old records)",
                path,
                bad,
                why,
                size - bad);
        ch.truncate(bad);
        ch.force(true);
        recovery.tornTailBytes += size - bad;
        goodEnd = bad;
        break;
      }
      segments.put(base, new Segment(header, path, goodEnd, false));
      budget.add(goodEnd);
    }
    return next;
  }

  private void startSegment(long base) throws IOException {
    Path path = dir.resolve(Segment.fileName(base));
    Segment.Header header = Segment.Header.current(base, random.nextLong());
    FileChannel ch = reuseSpare(path, header);
    try {
      if (ch == null) {
        ch = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        writeHeader(ch, header, true);
      }
      if (sync) {
        DurableFiles.syncDirectory(dir);
      }
    } catch (IOException e) {
      // Typically a full disk: leave no half-made file behind, so the next attempt can create it.
      if (ch != null) {
        ch.close();
        Files.deleteIfExists(path);
      }
      throw e;
    }
    Segment s = new Segment(header, path, Segment.HEADER_BYTES, false);
    budget.add(Segment.HEADER_BYTES);
    segments.put(base, s);
    Segment previous = active;
    FileChannel previousChannel = channel;
    active = s;
    channel = ch;
    writtenPosition = Segment.HEADER_BYTES;
    channel.position(writtenPosition);
    if (previous != null) {
      previous.seal();
      previousChannel.close();
      signalReaders();
    }
  }

  // ---- writer thread ----

  /**
   * Frames and buffers the events of one append as one batch frame (several when they exceed {@code
   * spool.max-record-size} together), starting a new segment first when a frame would not fit.
   * Returns the offset of the first event.
   */
  long append(List<byte[]> payloads) throws IOException {
    if (active == null) {
      startSegment(nextOffset);
    }
    long first = nextOffset;
    int maxLength = RecordFrame.maxBatchLength(maxRecordBytes);
    int from = 0;
    while (from < payloads.size()) {
      int length = 4 + RecordFrame.ENTRY_HEADER_BYTES + payloads.get(from).length;
      int to = from + 1;
      while (to < payloads.size()) {
        int entry = RecordFrame.ENTRY_HEADER_BYTES + payloads.get(to).length;
        if (length + entry > maxLength) {
          break;
        }
        length += entry;
        to++;
      }
      appendFrame(payloads, from, to, RecordFrame.HEADER_BYTES + length);
      from = to;
    }
    return first;
  }

  private void appendFrame(List<byte[]> payloads, int from, int to, int frame) throws IOException {
    if (writtenPosition + buffer.position() + frame > segmentBytes) {
      roll();
    }
    long offset = nextOffset;
    nextOffset += to - from;
    if (frame > buffer.remaining()) {
      flush();
    }
    if (frame > buffer.capacity()) {
      ByteBuffer big = ByteBuffer.allocate(frame);
      RecordFrame.putBatch(big, offset, payloads, from, to, active.header.salt(), crc);
      writeFully(big.flip());
    } else {
      RecordFrame.putBatch(buffer, offset, payloads, from, to, active.header.salt(), crc);
    }
  }

  /** Writes buffered records to the file (the page cache). */
  void flush() throws IOException {
    buffer.flip();
    writeFully(buffer);
    buffer.clear();
  }

  /** Forces written records to the device. */
  void sync() throws IOException {
    if (channel != null) {
      channel.force(false);
    }
  }

  /**
   * Writes {@code bytes} zeros after the last record and cuts them off again: throws when the disk
   * has no room for them now. Creates the active segment first if there was no room for it. Writer
   * thread, with nothing buffered.
   */
  void probe(int bytes) throws IOException {
    if (active == null) {
      startSegment(nextOffset);
    }
    ByteBuffer zeros = ByteBuffer.allocate(bytes);
    long at = writtenPosition;
    try {
      while (zeros.hasRemaining()) {
        at += channel.write(zeros, at);
      }
    } finally {
      channel.truncate(writtenPosition);
    }
  }

  /** Lets readers see everything written so far. Call after {@link #flush} (and {@link #sync}). */
  void publish() {
    active.durableSize(writtenPosition);
    durableNextOffset = nextOffset;
    signalReaders();
  }

  /**
   * Forgets buffered records that could not be written and cuts the file back to what was
   * published, after a failed write. Returns false when even that failed.
   */
  boolean discardUnpublished() {
    buffer.clear();
    if (active == null) {
      // The segment could not even be created: nothing was written.
      nextOffset = durableNextOffset;
      return true;
    }
    try {
      long keep = active.durableSize();
      channel.truncate(keep);
      channel.position(keep);
      writtenPosition = keep;
      // Records of a segment sealed during the failed group stay readable; never reuse their
      // offsets, nor go below the base of the active segment.
      nextOffset = Math.max(durableNextOffset, active.baseOffset);
      return true;
    } catch (IOException e) {
      log.error("Could not cut spool segment {} back after a failed write", active.path, e);
      return false;
    }
  }

  private void roll() throws IOException {
    flush();
    boolean cut = cutOldBytes();
    if (sync) {
      channel.force(cut);
    }
    active.durableSize(writtenPosition);
    startSegment(nextOffset);
  }

  /**
   * Cuts a reused file to the records written into it, so that a sealed segment ends at its last
   * record. Made durable (with the records) before the next segment exists.
   */
  private boolean cutOldBytes() throws IOException {
    if (channel.size() <= writtenPosition) {
      return false;
    }
    channel.truncate(writtenPosition);
    return true;
  }

  /**
   * Turns a spare file into the segment {@code path}: writes the new header, makes it durable, then
   * renames the file. Null when there is no spare or it cannot be used (it is deleted then).
   */
  private FileChannel reuseSpare(Path path, Segment.Header header) {
    Spare spare = spares.poll();
    if (spare == null) {
      return null;
    }
    budget.release(spare.size());
    FileChannel ch = null;
    try {
      ch = FileChannel.open(spare.path(), StandardOpenOption.WRITE);
      writeHeader(ch, header, false);
      Files.move(spare.path(), path, StandardCopyOption.ATOMIC_MOVE);
      log.info("Reused spool file {} as {}", spare.path().getFileName(), path.getFileName());
      return ch;
    } catch (IOException e) {
      log.warn("Could not reuse spool file {}; starting a new one: {}", spare.path(), e.toString());
      try {
        if (ch != null) {
          ch.close();
        }
        Files.deleteIfExists(spare.path());
      } catch (IOException ignored) {
        // A leftover spare file is deleted or adopted at the next start.
      }
      return null;
    }
  }

  /**
   * Writes the header at the start of the file and, under the fsync policy, makes it durable before
   * anything else refers to the file ({@code metadata}: with the file's size, for a new file).
   */
  private void writeHeader(FileChannel ch, Segment.Header header, boolean metadata)
      throws IOException {
    ByteBuffer h = header.encoded();
    while (h.hasRemaining()) {
      ch.write(h, h.position());
    }
    if (sync) {
      ch.force(metadata);
    }
  }

  private void writeFully(ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      writtenPosition += channel.write(b);
    }
  }

  /** Wakes readers waiting in {@link #awaitPublish} (new data, or shutdown). */
  void signalReaders() {
    publishVersion.incrementAndGet();
    // After the version: a waiter sets its flag before it reads the version, so either it sees
    // the new version or this sees its flag (both are volatile).
    for (Waiter w : waiters) {
      if (w.parked) {
        LockSupport.unpark(w.thread);
      }
    }
  }

  /** A reader thread's place among those {@link #awaitPublish} wakes; one per reading thread. */
  static final class Waiter {
    private final Thread thread;
    private volatile boolean parked;

    private Waiter(Thread thread) {
      this.thread = thread;
    }
  }

  /** Registers the calling thread for wake-ups; {@link #unregister} it when it stops reading. */
  Waiter register() {
    Waiter w = new Waiter(Thread.currentThread());
    waiters.add(w);
    return w;
  }

  void unregister(Waiter w) {
    waiters.remove(w);
  }

  @Override
  public void close() {
    try {
      if (channel != null) {
        // A clean stop leaves no old bytes of a reused file after the last record.
        if (cutOldBytes() && sync) {
          channel.force(true);
        }
        channel.close();
      }
    } catch (IOException e) {
      log.warn("Closing spool segment {} failed: {}", active.path, e.toString());
    }
  }

  // ---- readers and maintenance (thread-safe) ----

  /** The segment holding {@code offset}, or the oldest one when the offset is below all. */
  Segment segmentFor(long offset) {
    Map.Entry<Long, Segment> e = segments.floorEntry(offset);
    if (e == null) {
      e = segments.firstEntry();
    }
    return e == null ? null : e.getValue();
  }

  /** The segment after {@code s}, or null. */
  Segment segmentAfter(Segment s) {
    Map.Entry<Long, Segment> e = segments.higherEntry(s.baseOffset);
    return e == null ? null : e.getValue();
  }

  long publishVersion() {
    return publishVersion.get();
  }

  /**
   * Waits until something is published after {@code seenVersion}, or the time is up; {@code waiter}
   * is the calling thread's registration.
   */
  void awaitPublish(Waiter waiter, long seenVersion, long nanos) throws InterruptedException {
    if (waiter.thread != Thread.currentThread()) {
      throw new IllegalArgumentException("another thread's waiter");
    }
    long deadline = System.nanoTime() + nanos;
    waiter.parked = true;
    try {
      while (publishVersion.get() == seenVersion) {
        if (Thread.interrupted()) {
          throw new InterruptedException();
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return;
        }
        LockSupport.parkNanos(this, left);
      }
    } finally {
      waiter.parked = false;
    }
  }

  /**
   * Deletes sealed segments all of whose records are below {@code minCursor} (every sink is past
   * them). The active segment is never deleted, so offsets keep counting up. Returns bytes freed.
   */
  synchronized long deleteBelow(long minCursor) {
    long freed = 0;
    while (true) {
      Map.Entry<Long, Segment> first = segments.firstEntry();
      if (first == null || !first.getValue().sealed()) {
        return freed;
      }
      Map.Entry<Long, Segment> next = segments.higherEntry(first.getKey());
      if (next == null || next.getKey() > minCursor) {
        return freed;
      }
      Segment s = first.getValue();
      segments.remove(s.baseOffset);
      try {
        long size = Files.size(s.path);
        if (keepAsSpare(s.path, s.baseOffset, size)) {
          log.debug(
              "Kept spool segment {} ({} bytes) for reuse: every sink is past it", s.path, size);
          continue;
        }
        Files.delete(s.path);
        budget.release(size);
        freed += size;
        log.debug("Deleted spool segment {} ({} bytes): every sink is past it", s.path, size);
      } catch (NoSuchFileException e) {
        // Already gone.
      } catch (IOException e) {
        throw new UncheckedIOException("cannot delete spool segment " + s.path, e);
      }
    }
  }

  /** Renames a consumed segment to a spare file when one more is wanted; its bytes stay counted. */
  private boolean keepAsSpare(Path path, long base, long size) throws IOException {
    if (spares.size() >= MAX_SPARES || budget.used() > budget.max() / 2) {
      return false;
    }
    Path spare = dir.resolve(Segment.fileName(base, SPARE_SUFFIX));
    Files.move(path, spare, StandardCopyOption.ATOMIC_MOVE);
    spares.add(new Spare(spare, size));
    return true;
  }

  /** Deletes every spare file, giving their bytes back to the budget; returns bytes freed. */
  long dropSpares() {
    long freed = 0;
    for (Spare spare; (spare = spares.poll()) != null; ) {
      try {
        Files.deleteIfExists(spare.path());
      } catch (IOException e) {
        log.warn("Could not delete spare spool file {}: {}", spare.path(), e.toString());
      }
      budget.release(spare.size());
      freed += spare.size();
    }
    return freed;
  }

  /** Bytes of the spare files, which an append may have by deleting them. */
  long spareBytes() {
    long bytes = 0;
    for (Spare spare : spares) {
      bytes += spare.size();
    }
    return bytes;
  }

  /** Spare files left by the previous run: kept for reuse as when they were made, else deleted. */
  private void adoptSpares() throws IOException {
    for (Path p : listSpares(dir)) {
      long size = Files.size(p);
      if (spares.size() < MAX_SPARES && budget.used() + size <= budget.max() / 2) {
        spares.add(new Spare(p, size));
        budget.add(size);
      } else {
        Files.delete(p);
      }
    }
  }

  Quarantine quarantine() {
    return quarantine;
  }

  int maxRecordBytes() {
    return maxRecordBytes;
  }

  /** Offset of the oldest record still kept (the base of the oldest segment). */
  long oldestOffset() {
    Map.Entry<Long, Segment> e = segments.firstEntry();
    return e == null ? durableNextOffset : e.getKey();
  }

  /** Offset the next published record will have. */
  long nextOffset() {
    return durableNextOffset;
  }

  int segmentCount() {
    return segments.size();
  }

  Path directory() {
    return dir;
  }
}
