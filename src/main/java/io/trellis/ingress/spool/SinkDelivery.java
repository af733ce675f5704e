package io.trellis.ingress.spool;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.trellis.ingress.event.EnrichmentCache;
import io.trellis.ingress.event.RecordArena;
import io.trellis.ingress.event.SpooledEvent;
import io.trellis.ingress.sink.BatchLimits;
import io.trellis.ingress.sink.Sink;
import io.trellis.ingress.sink.SinkBatch;
import io.trellis.ingress.sink.SinkContext;
import io.trellis.ingress.sink.SinkException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds one sink from the spool, on its own thread, from its own cursor: reads a batch (closing on
 * rows, bytes or age), writes it, and moves the cursor as far as the sink says its events are
 * durable ({@link Sink#preCommit}: at once for most sinks, at its next fsync for the files sink).
 * After a crash the sink gets every event again from that cursor. Batching, retries, backoff and
 * dead letters live here, once for every sink:
 *
 * <ul>
 *   <li>{@code TRANSIENT} (and any unexpected exception): retry the same batch with exponential
 *       backoff and jitter, without limit; the events wait on disk.
 *   <li>{@code PERMANENT}: split the batch in halves and retry each, down to single events; an
 *       event refused on its own goes to the dead letters with the reason.
 *   <li>{@code ROWS}: dead-letter exactly the named rows and write the rest again (unless the sink
 *       says it stored the rest already).
 * </ul>
 *
 * Nothing is dropped: each event ends up in the sink or in its dead letters before the cursor
 * passes it. A slow or failing sink only delays its own cursor.
 *
 * <p>Thread-safety: the loop runs on the delivery's own thread; {@link #committed()}, the gauges
 * and the drain/stop controls are safe from any thread.
 */
final class SinkDelivery implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(SinkDelivery.class);
  private static final long IDLE_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  /*
   * While a batch is open the reader sleeps this long between reads instead of waking on every
   * group commit: under load the writer publishes thousands of groups a second, and a wake-up per
   * group cost both threads a context switch to read a dozen records. An idle reader still wakes
   * on the first publish, so a lone event waits no longer than before.
   */
  private static final long GATHER_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  /** How often an idle delivery asks a sink holding written, not yet durable events again. */
  private static final long PRE_COMMIT_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  private final Sink sink;
  private final SegmentLog segmentLog;
  private final CursorStore cursors;
  private final DeadLetters deadLetters;
  private final SpoolConfig config;
  private final BatchLimits limits;
  private final Backoff backoff;
  private final SinkOutage outage;
  private final LongConsumer onCommit;
  private final Thread thread;

  /** The enrichments this spool's sinks share, or null when there is no other sink. */
  private final EnrichmentCache enrichments;

  private volatile long committed;

  /** Below this offset every event was written to the sink or dead-lettered (not all durable). */
  private long written;

  /** The sink's note, stored with every cursor ({@link SinkContext}). */
  private volatile String metadata;

  /** The note a sink set for the next cursor, stored with it; null when there is none. */
  private String nextMetadata;

  private volatile long pendingSinceMillis;
  private volatile boolean draining;
  private volatile boolean stopNow;
  private volatile boolean finished;

  private final Counter batches;
  private final Counter rows;
  private final Counter bytes;
  private final Counter retries;
  private final Counter deadLettered;
  private final Map<SinkException.Kind, Counter> failures = new TreeMap<>();
  private final Counter unexpected;

  /** This thread's registration for the spool's wake-ups, while it runs. */
  private SegmentLog.Waiter waiter;

  /* Where a record read from the spool waits to be checked and copied into the arena. */
  private byte[] scratch = new byte[4096];

  /** The pending record that did not fit the previous batch (on the heap). */
  private SpooledEvent carried;

  private int carriedBytes;

  /** Where the records of the batch being filled and written are held, off the heap. */
  private final RecordArena arena = new RecordArena();

  SinkDelivery(
      Sink sink,
      long cursor,
      SegmentLog segmentLog,
      CursorStore cursors,
      DeadLetters deadLetters,
      SpoolConfig config,
      MeterRegistry metrics,
      EnrichmentCache enrichments,
      LongConsumer onCommit) {
    this.sink = requireNonNull(sink, "sink is null");
    this.committed = cursor;
    this.written = cursor;
    this.segmentLog = requireNonNull(segmentLog, "segmentLog is null");
    this.cursors = requireNonNull(cursors, "cursors is null");
    this.deadLetters = requireNonNull(deadLetters, "deadLetters is null");
    this.config = requireNonNull(config, "config is null");
    this.limits = sink.batchLimits(config.batchLimits());
    this.backoff = new Backoff(config.retryInitialBackoff(), config.retryMaxBackoff());
    this.onCommit = requireNonNull(onCommit, "onCommit is null");
    this.enrichments = enrichments;
    this.metadata = cursors.metadata(sink.name());
    this.outage = new SinkOutage(sink.name());
    Tags tags = Tags.of("sink", sink.name());
    this.batches = metrics.counter("trellis.sink.batches", tags);
    this.rows = metrics.counter("trellis.sink.rows", tags);
    this.bytes = metrics.counter("trellis.sink.bytes", tags);
    this.retries = metrics.counter("trellis.sink.retries", tags);
    this.deadLettered = metrics.counter("trellis.sink.dead_letters", tags);
    for (SinkException.Kind k : SinkException.Kind.values()) {
      failures.put(
          k, metrics.counter("trellis.sink.failures", tags.and("kind", k.name().toLowerCase())));
    }
    this.unexpected = metrics.counter("trellis.sink.failures", tags.and("kind", "unexpected"));
    Gauge.builder("trellis.sink.lag.events", this, SinkDelivery::lagEvents)
        .tags(tags)
        .register(metrics);
    Gauge.builder("trellis.sink.lag.seconds", this, SinkDelivery::lagSeconds)
        .tags(tags)
        .register(metrics);
    this.thread = new Thread(this, "deliver-" + sink.name());
    thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  String sinkName() {
    return sink.name();
  }

  /** Offset of the next event this sink still needs; all below are stored or dead-lettered. */
  long committed() {
    return committed;
  }

  double lagEvents() {
    return Math.max(0, segmentLog.nextOffset() - committed);
  }

  /** Age of the oldest event this sink has read but not yet stored; 0 when caught up. */
  double lagSeconds() {
    long since = pendingSinceMillis;
    return since == 0 ? 0 : Math.max(0, System.currentTimeMillis() - since) / 1000.0;
  }

  /** Deliver what is in the spool now without waiting for batches to fill, then stop. */
  void drain() {
    draining = true;
    segmentLog.signalReaders();
    LockSupport.unpark(thread);
  }

  /** Waits for the drain to finish; false when the deadline came first. */
  boolean awaitFinished(long deadlineNanos) throws InterruptedException {
    long left = deadlineNanos - System.nanoTime();
    if (left > 0) {
      thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
    }
    return finished || !thread.isAlive();
  }

  /** Stops at once; the batch in flight, if any, is not committed and will be sent again. */
  void stopNow() {
    stopNow = true;
    thread.interrupt();
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void run() {
    waiter = segmentLog.register();
    try {
      open();
      while (!stopNow) {
        try (LogReader reader = new LogReader(segmentLog, committed)) {
          written = committed;
          carried = null;
          if (!deliverFrom(reader)) {
            break;
          }
        } catch (NotDurableException e) {
          // What the sink wrote since the cursor may not be in the store: the sink is handed the
          // cursor and its note again, to put its store back there, and gets it all again.
          failures.get(SinkException.Kind.TRANSIENT).increment();
          long delay = backoff.delayMillis(0);
          log.warn(
              "Sink {} could not make events from offset {} durable, writing them again in {}"
                  + " ms: {}",
              sink.name(),
              committed,
              delay,
              e.getCause().getMessage());
          Thread.sleep(delay);
          nextMetadata = null;
          open();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException | RuntimeException e) {
      log.atError()
          .addKeyValue("sink", sink.name())
          .setCause(e)
          .log("Delivery to sink {} stopped: {}", sink.name(), e.toString());
    } finally {
      segmentLog.unregister(waiter);
      pendingSinceMillis = 0;
      finished = true;
    }
  }

  /** Hands the sink its context, retrying while it fails. */
  private void open() throws InterruptedException {
    SinkContext context =
        new SinkContext() {
          @Override
          public long committedOffset() {
            return committed;
          }

          @Override
          public String metadata() {
            return metadata;
          }

          @Override
          public void saveMetadata(String note) throws IOException {
            cursors.store(sink.name(), committed, note);
            metadata = note;
          }

          @Override
          public void metadataWithNextCursor(String note) {
            if (note.indexOf('\n') >= 0 || note.indexOf('\r') >= 0) {
              throw new IllegalArgumentException("a sink's note is one line");
            }
            nextMetadata = note;
          }
        };
    for (int attempt = 0; !stopNow; attempt++) {
      try {
        sink.open(context);
        return;
      } catch (SinkException | RuntimeException e) {
        long delay = backoff.delayMillis(attempt);
        log.warn("Sink {} cannot open, retrying in {} ms: {}", sink.name(), delay, e.toString());
        Thread.sleep(delay);
      }
    }
  }

  /** Delivers batches until drained or stopped (false when stopped). */
  private boolean deliverFrom(LogReader reader)
      throws IOException, InterruptedException, NotDurableException {
    while (!stopNow) {
      List<SpooledEvent> items = new ArrayList<>();
      long batchBytes = fill(reader, items);
      if (items.isEmpty()) {
        if (draining) {
          advance(written, true);
          return false;
        }
        continue;
      }
      if (!deliver(new SinkBatch(items))) {
        return false;
      }
      batches.increment();
      bytes.increment(batchBytes);
      advance(items.get(items.size() - 1).offset() + 1, false);
    }
    return false;
  }

  /**
   * Notes that every event below {@code to} is written or dead-lettered, and moves the cursor as
   * far as the sink says is durable.
   */
  private void advance(long to, boolean flush) throws NotDurableException {
    written = Math.max(written, to);
    long durable;
    try {
      durable = Math.min(written, sink.preCommit(written, flush));
    } catch (SinkException | RuntimeException e) {
      throw new NotDurableException(e);
    }
    if (durable > committed) {
      commit(durable);
    }
  }

  /** Reads one batch into {@code items}; returns its encoded size. */
  private long fill(LogReader reader, List<SpooledEvent> items)
      throws IOException, InterruptedException, NotDurableException {
    // The previous batch is written or given up: its records' memory is free for this one.
    arena.clear();
    long batchBytes = 0;
    long firstSeen = 0;
    long ageNanos = limits.maxAge().toNanos();
    List<DeadLetters.Entry> undecodable = new ArrayList<>();
    long lastSkipped = -1;
    while (items.size() < limits.maxRows() && !stopNow) {
      SpooledEvent next;
      int size;
      if (carried != null) {
        next = arena.hold(carried);
        size = carriedBytes;
        carried = null;
      } else {
        long version = segmentLog.publishVersion();
        long published = segmentLog.nextOffset();
        if (!reader.next()) {
          if (items.isEmpty() && undecodable.isEmpty() && published > written) {
            // The reader is past everything published below this offset, and nothing of it is
            // left for the sink: the offsets in between belong to records in quarantine, or to
            // none at all (a skipped range). Move the cursor past them, or the sink's lag would
            // count events that do not exist and the segments would never be freed.
            advance(published, false);
          }
          if (draining) {
            break;
          }
          if (items.isEmpty()) {
            if (written > committed) {
              // Written but not durable yet: ask again soon (the files sink syncs on a timer).
              advance(written, false);
              segmentLog.awaitPublish(
                  waiter, version, written > committed ? PRE_COMMIT_POLL_NANOS : IDLE_WAIT_NANOS);
            } else {
              segmentLog.awaitPublish(waiter, version, IDLE_WAIT_NANOS);
            }
            continue;
          }
          long wait = ageNanos - (System.nanoTime() - firstSeen);
          if (wait <= 0) {
            break;
          }
          LockSupport.parkNanos(this, Math.min(wait, GATHER_NANOS));
          continue;
        }
        size = reader.frameBytes();
        try {
          // Held encoded until the sink reads it (see SpooledEvent): a batch of decoded events
          // is many small objects that outlive the young collections while the batch fills.
          if (!items.isEmpty() && batchBytes + size > limits.maxBytes()) {
            // The next batch's first event, held after this batch's arena is cleared: on the heap.
            byte[] raw = reader.payloadCopy();
            carried =
                enrichments == null
                    ? SpooledEvent.encoded(reader.offset(), raw)
                    : SpooledEvent.encoded(reader.offset(), raw, enrichments);
            carriedBytes = size;
            break;
          }
          // Copied into the arena through this thread's array, with no array of its own.
          int n = reader.payloadLength();
          if (scratch.length < n) {
            scratch = new byte[Math.max(n, 2 * scratch.length)];
          }
          reader.copyPayload(scratch);
          next = arena.hold(reader.offset(), scratch, n, enrichments);
        } catch (IllegalArgumentException e) {
          undecodable.add(
              new DeadLetters.Entry(
                  reader.offset(),
                  "undecodable record: " + e.getMessage(),
                  null,
                  reader.payloadCopy()));
          lastSkipped = reader.offset();
          continue;
        }
      }
      if (items.isEmpty()) {
        firstSeen = System.nanoTime();
        pendingSinceMillis = next.timestamp();
      }
      items.add(next);
      batchBytes += size;
    }
    if (!undecodable.isEmpty()) {
      if (!deadLetter(undecodable)) {
        throw new InterruptedException("stopped");
      }
      if (items.isEmpty()) {
        advance(lastSkipped + 1, false);
      }
    }
    return batchBytes;
  }

  /** Writes the batch, retrying and splitting as its failures demand; false when stopped. */
  private boolean deliver(SinkBatch batch) throws InterruptedException {
    int attempt = 0;
    while (!stopNow) {
      SinkException failure;
      boolean bug = false;
      try {
        sink.write(batch);
        outage.stored((long) lagEvents(), lagSeconds());
        rows.increment(batch.size());
        return true;
      } catch (SinkException e) {
        failure = e;
      } catch (RuntimeException e) {
        // A bug in the sink, not bad data: retrying keeps the events; dead-lettering would not.
        unexpected.increment();
        bug = true;
        failure = SinkException.transientFailure("unexpected " + e, e);
      }
      switch (failure.kind()) {
        case TRANSIENT -> {
          if (!bug) {
            failures.get(SinkException.Kind.TRANSIENT).increment();
          }
          long delay = backoff.delayMillis(attempt);
          outage.failed(failure.getMessage(), (long) lagEvents());
          // The outage is logged once, above; each retry only at DEBUG.
          log.debug(
              "Sink {} failed to store {} events (attempt {}), retrying in {} ms: {}",
              sink.name(),
              batch.size(),
              attempt + 1,
              delay,
              failure.getMessage());
          attempt++;
          retries.increment();
          Thread.sleep(delay);
        }
        case ROWS -> {
          failures.get(SinkException.Kind.ROWS).increment();
          List<DeadLetters.Entry> bad = new ArrayList<>();
          List<SpooledEvent> rest = new ArrayList<>();
          for (int i = 0; i < batch.size(); i++) {
            String reason = failure.rowErrors().get(i);
            if (reason == null) {
              rest.add(batch.items().get(i));
            } else {
              bad.add(
                  new DeadLetters.Entry(
                      batch.items().get(i).offset(), reason, batch.items().get(i), null));
            }
          }
          if (bad.isEmpty()) {
            // The sink named no row of this batch: treat it as a bad batch to split.
            return split(batch, failure);
          }
          if (!deadLetter(bad)) {
            return false;
          }
          if (failure.othersStored()) {
            rows.increment(rest.size());
            return true;
          }
          if (rest.isEmpty()) {
            return true;
          }
          batch = new SinkBatch(rest);
          attempt = 0;
        }
        case PERMANENT -> {
          failures.get(SinkException.Kind.PERMANENT).increment();
          return split(batch, failure);
        }
      }
    }
    return false;
  }

  private boolean split(SinkBatch batch, SinkException failure) throws InterruptedException {
    if (batch.size() == 1) {
      SpooledEvent e = batch.items().get(0);
      log.atWarn()
          .addKeyValue("event", "dead_letter")
          .addKeyValue("sink", sink.name())
          .addKeyValue("offset", e.offset())
          .addKeyValue("reason", failure.getMessage())
          .log(
              "Sink {} refused event at offset {} ({}): moved to dead letters",
              sink.name(),
              e.offset(),
              failure.getMessage());
      return deadLetter(List.of(new DeadLetters.Entry(e.offset(), failure.getMessage(), e, null)));
    }
    int mid = batch.size() / 2;
    return deliver(batch.slice(0, mid)) && deliver(batch.slice(mid, batch.size()));
  }

  /** Writes dead letters, retrying until it works (they are the only copy); false when stopped. */
  private boolean deadLetter(List<DeadLetters.Entry> entries) throws InterruptedException {
    int attempt = 0;
    while (!stopNow) {
      try {
        deadLetters.write(entries);
        deadLettered.increment(entries.size());
        return true;
      } catch (IOException | RuntimeException e) {
        long delay = backoff.delayMillis(attempt++);
        log.error(
            "Cannot write dead letters of sink {}, retrying in {} ms: {}",
            sink.name(),
            delay,
            e.toString());
        Thread.sleep(delay);
      }
    }
    return false;
  }

  private void commit(long cursor) {
    boolean interrupted = Thread.interrupted();
    try {
      String note = nextMetadata != null ? nextMetadata : metadata;
      cursors.store(sink.name(), cursor, note);
      metadata = note;
      nextMetadata = null;
      committed = cursor;
      pendingSinceMillis = 0;
      onCommit.accept(cursor);
    } catch (IOException | RuntimeException e) {
      // The sink has the events; only the note of it is missing. Until a cursor write works, a
      // restart sends them again (duplicates, never losses) and the segments stay on disk.
      log.atError()
          .addKeyValue("sink", sink.name())
          .addKeyValue("cursor", cursor)
          .log("Cannot save the spool cursor of sink {}: {}", sink.name(), e.toString());
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The sink could not make what it wrote durable; the cause says why. */
  private static final class NotDurableException extends Exception {
    NotDurableException(Throwable cause) {
      super(cause);
    }
  }
}
