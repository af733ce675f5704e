package io.trellis.ingress.spool;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.trellis.ingress.base.DurableFiles;
import io.trellis.ingress.config.ConfigException;
import io.trellis.ingress.config.Durations;
import io.trellis.ingress.config.Sizes;
import io.trellis.ingress.event.EnrichmentCache;
import io.trellis.ingress.sink.Sink;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable spool: a segment log on local disk ({@link SegmentLog}) between the HTTP layer and
 * the sinks. An append is acknowledged once its events are durable under the fsync policy ({@link
 * GroupCommitWriter}); each sink then reads the log from its own cursor ({@link SinkDelivery}), and
 * a segment is deleted once every configured sink is past it.
 *
 * <pre>
 *   HTTP event loops ──append()──▶ queue ──▶ spool-writer: write, fsync once per group, ack
 *                                                │
 *                                   segments on disk (DATA_DIR/spool/*.segment)
 *                                 ┌──────────────┼──────────────┐
 *                          deliver-files   deliver-clickhouse   ...   each: own thread, own cursor
 * </pre>
 *
 * <p>Thread-safe. {@link #appendRecords} never blocks: it checks sizes and the budget, and queues.
 */
public final class DiskSpool implements Spool {
  private static final Logger log = LoggerFactory.getLogger(DiskSpool.class);
  static final String LOCK_FILE = SpoolLock.FILE;
  static final String SINKS_FILE = "sinks";

  private final Path dir;
  private final SpoolConfig config;
  private final DiskBudget budget;
  private final SegmentLog segmentLog;
  private final GroupCommitWriter writer;
  private final List<SinkDelivery> deliveries;
  private final SpoolLock lock;
  private final Counter refusedFull;
  private final Counter refusedTooLarge;
  private final Counter refusedClosed;
  private final BudgetLog budgetLog;
  private volatile boolean closed;
  private boolean started;

  private DiskSpool(
      Path dir,
      SpoolConfig config,
      DiskBudget budget,
      SegmentLog segmentLog,
      GroupCommitWriter writer,
      List<SinkDelivery> deliveries,
      SpoolLock lock,
      MeterRegistry metrics) {
    this.dir = dir;
    this.config = config;
    this.budget = budget;
    this.segmentLog = segmentLog;
    this.writer = writer;
    this.deliveries = deliveries;
    this.lock = lock;
    this.refusedFull = metrics.counter("trellis.spool.refused", "reason", "full");
    this.refusedTooLarge = metrics.counter("trellis.spool.refused", "reason", "too_large");
    this.refusedClosed = metrics.counter("trellis.spool.refused", "reason", "unavailable");
    this.budgetLog = new BudgetLog(budget, this::sinkLags);
    Gauge.builder("trellis.spool.bytes", budget, DiskBudget::used).register(metrics);
    Gauge.builder("trellis.spool.max.bytes", budget, DiskBudget::max).register(metrics);
    Gauge.builder("trellis.spool.segments", segmentLog, SegmentLog::segmentCount).register(metrics);
  }

  /**
   * Opens (and recovers) the spool in {@code dir} for the given sinks; appends are accepted at
   * once, delivery begins with {@link #start()}. Dead letters go under {@code deadLetterDir}.
   */
  public static DiskSpool open(
      Path dir, Path deadLetterDir, SpoolConfig config, List<Sink> sinks, MeterRegistry metrics)
      throws IOException {
    return open(SpoolLock.acquire(dir), deadLetterDir, config, sinks, metrics);
  }

  /**
   * Opens the spool guarded by {@code lock}, taken by the caller before it touched anything else
   * under the data directory. The spool owns the lock from here on: it releases it on close, or at
   * once when opening fails.
   */
  public static DiskSpool open(
      SpoolLock lock,
      Path deadLetterDir,
      SpoolConfig config,
      List<Sink> sinks,
      MeterRegistry metrics)
      throws IOException {
    requireNonNull(lock, "lock is null");
    try {
      requireNonNull(config, "config is null");
      requireNonNull(metrics, "metrics is null");
      return open(lock.directory(), deadLetterDir, config, sinks, metrics, lock);
    } catch (IOException | RuntimeException e) {
      try {
        lock.close();
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  private static DiskSpool open(
      Path dir,
      Path deadLetterDir,
      SpoolConfig config,
      List<Sink> sinks,
      MeterRegistry metrics,
      SpoolLock lock)
      throws IOException {
    Set<String> names = new HashSet<>();
    for (Sink s : sinks) {
      CursorStore.checkName(s.name());
      if (!names.add(s.name())) {
        throw new ConfigException("two sinks are named " + s.name());
      }
    }
    long existing = 0;
    for (Path p : SegmentLog.listSegments(dir).values()) {
      existing += Files.size(p);
    }
    long maxBytes = budgetFor(dir, config, existing);
    DiskBudget budget = new DiskBudget(maxBytes);
    CursorStore cursors = new CursorStore(dir);
    Map<String, Long> onDisk = cursors.loadAll();
    for (String name : onDisk.keySet()) {
      if (!names.contains(name)) {
        log.warn(
            "Spool cursor of sink '{}' found, but no such sink is configured: it is ignored and"
                + " does not keep segments from being deleted",
            name);
      }
    }
    long maxCursor = 0;
    for (String name : names) {
      maxCursor = Math.max(maxCursor, onDisk.getOrDefault(name, 0L));
    }
    Quarantine quarantine = new Quarantine(dir, metrics);
    SegmentLog segmentLog = SegmentLog.open(dir, config, quarantine, budget, maxCursor);
    try {
      DurableFiles.writeAtomically(
          dir.resolve(SINKS_FILE),
          (String.join("\n", names) + "\n").getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      // Only `spool status` reads it; a full disk must not keep the spool from draining.
      log.warn(
          "Cannot record the configured sinks in {}: {}", dir.resolve(SINKS_FILE), e.toString());
    }
    GroupCommitWriter writer = new GroupCommitWriter(segmentLog, budget, config, metrics);
    List<SinkDelivery> deliveries = new ArrayList<>();
    DiskSpool[] self = new DiskSpool[1];
    // Every sink writes the derived columns of each event: with several sinks, they share one
    // enrichment per event. One sink has nobody to share with.
    EnrichmentCache enrichments =
        sinks.size() > 1 ? new EnrichmentCache(config.enrichmentCacheEvents()) : null;
    for (Sink s : sinks) {
      long cursor = startCursor(s.name(), cursors.load(s.name()), segmentLog);
      deliveries.add(
          new SinkDelivery(
              s,
              cursor,
              segmentLog,
              cursors,
              new DeadLetters(deadLetterDir, s.name()),
              config,
              metrics,
              enrichments,
              c -> self[0].release()));
    }
    DiskSpool spool =
        new DiskSpool(dir, config, budget, segmentLog, writer, deliveries, lock, metrics);
    self[0] = spool;
    logRecovery(lock.previousStopUnclean(), segmentLog, deliveries);
    writer.start();
    log.atInfo()
        .addKeyValue("dir", dir.toString())
        .addKeyValue("max_bytes", maxBytes)
        .addKeyValue("fsync", config.fsync().name().toLowerCase())
        .addKeyValue("sinks", sinks.size())
        .log(
            "Spool ready in {}: budget {} ({}), fsync={}, {} sink(s)",
            dir,
            Sizes.format(maxBytes),
            config.maxBytes().isPresent() ? "spool.max-bytes" : "half of the free space",
            config.fsync().name().toLowerCase(),
            sinks.size());
    return spool;
  }

  /**
   * One line saying what opening the log found, after an unclean stop (the previous process was
   * killed or crashed) or whenever something was damaged: the segments kept, the records the scan
   * of the last one validated, what was cut or moved to quarantine, and how many events each sink
   * gets from its cursor. The WARN lines of {@link SegmentLog} name each file and byte offset.
   */
  private static void logRecovery(
      boolean unclean, SegmentLog segmentLog, List<SinkDelivery> deliveries) {
    RecoveryReport r = segmentLog.recovery();
    if (!unclean && !r.damaged()) {
      return;
    }
    StringBuilder resend = new StringBuilder();
    long maxResend = 0;
    for (SinkDelivery d : deliveries) {
      long lag = (long) d.lagEvents();
      resend.append(resend.length() == 0 ? "" : ", ").append(d.sinkName()).append(' ').append(lag);
      maxResend = Math.max(maxResend, lag);
    }
    log.atWarn()
        .addKeyValue("event", "spool_recovered")
        .addKeyValue("unclean_stop", unclean)
        .addKeyValue("segments", segmentLog.segmentCount())
        .addKeyValue("oldest_offset", segmentLog.oldestOffset())
        .addKeyValue("next_offset", segmentLog.nextOffset())
        .addKeyValue("records_scanned", r.recordsScanned)
        .addKeyValue("torn_tail_bytes", r.tornTailBytes)
        .addKeyValue("quarantined_bytes", r.quarantinedBytes)
        .addKeyValue("quarantined_records", r.quarantinedRanges)
        .addKeyValue("unreadable_segments", r.unreadableSegments)
        .addKeyValue("headers_rebuilt", r.headersRebuilt)
        .addKeyValue("undelivered_events", maxResend)
        .log(
            "Spool recovered {}: {} segment(s), offsets {}..{}; last segment scanned, {} whole"
                + " records; {} bytes of torn tail cut; {} bytes quarantined ({} corrupt records,"
                + " {} unreadable segments, {} headers rebuilt); events to deliver from each sink's"
                + " cursor: {}",
            unclean ? "after an unclean stop" : "from damage found at start",
            segmentLog.segmentCount(),
            segmentLog.oldestOffset(),
            segmentLog.nextOffset(),
            r.recordsScanned,
            r.tornTailBytes,
            r.quarantinedBytes,
            r.quarantinedRanges,
            r.unreadableSegments,
            r.headersRebuilt,
            deliveries.isEmpty() ? "no sink" : resend);
  }

  private static long budgetFor(Path dir, SpoolConfig config, long existing) throws IOException {
    if (config.maxBytes().isPresent()) {
      return config.maxBytes().getAsLong();
    }
    long usable = Files.getFileStore(dir).getUsableSpace();
    long budget = (long) ((usable + existing) * SpoolConfig.DEFAULT_BUDGET_SHARE);
    if (budget < 2 * config.segmentBytes()) {
      // Start anyway: what the spool holds is delivered, and appends are answered 503 while the
      // disk has no room for them (readiness says so), rather than the service staying down.
      log.warn(
          "The disk of {} has {} free, too little for a spool budget of two segments of {}: the"
              + " service starts, drains the spool, and accepts events while writes find room",
          dir,
          Sizes.format(usable),
          Sizes.format(config.segmentBytes()));
      return 2 * config.segmentBytes();
    }
    return budget;
  }

  /** Where a sink starts: its cursor, kept within the offsets the log holds. */
  private static long startCursor(String sink, OptionalLong saved, SegmentLog segmentLog) {
    long oldest = segmentLog.oldestOffset();
    long next = segmentLog.nextOffset();
    if (saved.isEmpty()) {
      log.info(
          "Sink {} has no spool cursor yet: it starts at the oldest event kept ({})", sink, oldest);
      return oldest;
    }
    long c = saved.getAsLong();
    if (c < oldest) {
      log.warn(
          "Spool cursor of sink {} is at {}, below the oldest event kept ({}): events in between"
              + " were deleted while the sink was not configured; it resumes at {}",
          sink,
          c,
          oldest,
          oldest);
      return oldest;
    }
    return Math.min(c, next);
  }

  @Override
  public void appendRecords(List<byte[]> records, Executor executor, Completion completion) {
    requireNonNull(executor, "executor is null");
    requireNonNull(completion, "completion is null");
    if (closed) {
      refusedClosed.increment();
      completion.completed(new SpoolFullException("the service is shutting down"));
      return;
    }
    String failure = writer.failure();
    if (failure != null) {
      refusedClosed.increment();
      completion.completed(new SpoolFullException("cannot store events durably: " + failure));
      return;
    }
    if (records.isEmpty()) {
      completion.completed(null);
      return;
    }
    for (int i = 0; i < records.size(); i++) {
      byte[] p = records.get(i);
      if (p.length > config.maxRecordBytes()) {
        refusedTooLarge.increment();
        completion.completed(
            new RecordTooLargeException(
                (records.size() == 1 ? "the event" : "event " + i + " of the batch")
                    + " takes "
                    + p.length
                    + " bytes; the largest event stored is "
                    + config.maxRecordBytes()
                    + " bytes"));
        return;
      }
    }
    long bytes = RecordFrame.appendBytes(records, config.maxRecordBytes());
    if (!budget.tryReserve(bytes) && (segmentLog.dropSpares() == 0 || !budget.tryReserve(bytes))) {
      refusedFull.increment();
      budgetLog.refused();
      completion.completed(
          new SpoolFullException(
              "the spool is full ("
                  + Sizes.format(budget.used())
                  + " of "
                  + Sizes.format(budget.max())
                  + ") until the sinks catch up"));
      return;
    }
    if (budgetLog.full()) {
      budgetLog.room();
    }
    writer.enqueue(new GroupCommitWriter.Pending(records, bytes, executor, completion));
  }

  @Override
  public synchronized void start() {
    if (started) {
      return;
    }
    started = true;
    deliveries.forEach(SinkDelivery::start);
  }

  @Override
  public SpoolReadiness readiness() {
    if (closed) {
      return SpoolReadiness.notReady("shutting down");
    }
    String failure = writer.failure();
    if (failure != null) {
      return SpoolReadiness.notReady("spool cannot write: " + failure);
    }
    String trouble = writer.trouble();
    if (trouble != null) {
      return SpoolReadiness.notReady("spool cannot write: " + trouble);
    }
    // Spare files give way to the first append that needs their room: not counted as full here.
    long used = budget.used() - segmentLog.spareBytes();
    if (used + RecordFrame.singleBatchBytes(config.maxRecordBytes()) > budget.max()) {
      StringBuilder sb =
          new StringBuilder("spool is full: ")
              .append(Sizes.format(used))
              .append(" of ")
              .append(Sizes.format(budget.max()))
              .append(" used;");
      for (SinkDelivery d : deliveries) {
        sb.append(' ').append(d.sinkName()).append(" is ").append((long) d.lagEvents());
        sb.append(" events behind;");
      }
      return SpoolReadiness.notReady(sb.substring(0, sb.length() - 1));
    }
    return SpoolReadiness.ok();
  }

  /** Deletes segments every configured sink is past; called after a sink moves its cursor. */
  void release() {
    long min = Long.MAX_VALUE;
    for (SinkDelivery d : deliveries) {
      min = Math.min(min, d.committed());
    }
    if (deliveries.isEmpty()) {
      min = segmentLog.nextOffset();
    }
    try {
      segmentLog.deleteBelow(min);
    } catch (UncheckedIOException e) {
      log.error("Could not delete a spool segment: {}", e.getMessage());
    }
    // Room for the largest event, counted as readiness counts it (spares give way to appends).
    if (budgetLog.full()
        && budget.used()
                - segmentLog.spareBytes()
                + RecordFrame.singleBatchBytes(config.maxRecordBytes())
            <= budget.max()) {
      budgetLog.room();
    }
  }

  private List<BudgetLog.SinkLag> sinkLags() {
    List<BudgetLog.SinkLag> lags = new ArrayList<>(deliveries.size());
    for (SinkDelivery d : deliveries) {
      lags.add(new BudgetLog.SinkLag(d.sinkName(), (long) d.lagEvents(), d.lagSeconds()));
    }
    return lags;
  }

  /**
   * A reader of the events acknowledged from now on, for views that keep no position across
   * restarts (the live view). It costs the append path nothing and holds no segment.
   */
  public SpoolTail tail() {
    return new SpoolTail(segmentLog);
  }

  /** The next offset an appended event will get; for tests and status. */
  long nextOffset() {
    return segmentLog.nextOffset();
  }

  /** Bytes counted against the budget now. */
  long usedBytes() {
    return budget.used();
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    writer.stop();
    long deadline = System.nanoTime() + config.drainTimeout().toNanos();
    deliveries.forEach(SinkDelivery::drain);
    for (SinkDelivery d : deliveries) {
      try {
        if (!started || d.awaitFinished(deadline)) {
          continue;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      log.atWarn()
          .addKeyValue("sink", d.sinkName())
          .addKeyValue("lag_events", (long) d.lagEvents())
          .log(
              "Sink {} did not drain within {}: {} events stay in the spool for the next start",
              d.sinkName(),
              Durations.format(config.drainTimeout()),
              (long) d.lagEvents());
      d.stopNow();
    }
    segmentLog.close();
    try {
      lock.close();
    } catch (IOException e) {
      log.warn("Releasing the spool lock failed: {}", e.toString());
    }
    log.atInfo()
        .addKeyValue("next_offset", segmentLog.nextOffset())
        .log("Spool closed at offset {}", segmentLog.nextOffset());
  }

  @Override
  public String toString() {
    return "DiskSpool{dir="
        + dir
        + ", fsync="
        + config.fsync()
        + ", sinks="
        + deliveries.size()
        + "}";
  }
}
