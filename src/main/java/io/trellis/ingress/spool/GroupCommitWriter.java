package io.trellis.ingress.spool;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that writes to the log. It takes queued appends, writes their records, makes the
 * whole group durable with one fsync, publishes it to the sink readers and only then completes the
 * appends (which answers the HTTP requests), with one task per event loop. The group closes when
 * nothing is queued and {@link GroupWait} (the {@code spool.group-commit} policy) says waiting no
 * longer pays, or when {@code spool.fsync-max-bytes} are written, so one fsync serves many
 * concurrent requests while no request waits longer than {@code spool.fsync-max-delay} plus one
 * fsync. With {@code spool.fsync=none} there is no fsync and no waiting: whatever is queued is
 * written and acknowledged at once.
 *
 * <p>A failed write fails the whole group (each request's events are all-or-nothing) and cuts the
 * file back; a failed fsync stops the spool for good, because after it the kernel may have dropped
 * the dirty pages and nothing written since the last good fsync can be trusted.
 *
 * <p>While a group waits the writer sleeps and then takes whatever has arrived, rather than being
 * woken by every append: an append only wakes the writer when it is waiting for work. Under load
 * that saves a thread wake-up per request.
 *
 * <p>Thread-safety: {@link #enqueue} is thread-safe and never blocks; the rest runs on the writer
 * thread.
 */
final class GroupCommitWriter implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(GroupCommitWriter.class);

  /** One append: the encoded events of one request, acknowledged together. */
  static final class Pending {
    final List<byte[]> payloads;
    final long bytes;
    final long enqueuedNanos = System.nanoTime();
    final Executor executor;
    final Spool.Completion completion;

    Pending(List<byte[]> payloads, long bytes, Executor executor, Spool.Completion completion) {
      this.payloads = payloads;
      this.bytes = bytes;
      this.executor = executor;
      this.completion = completion;
    }
  }

  private final SegmentLog segmentLog;
  private final DiskBudget budget;
  private final boolean fsync;
  private final GroupWait wait;
  private final long maxGroupBytes;
  private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  /*
   * While writes fail, the writer checks every second whether this much can be written (and cuts
   * it off again), so readiness comes back when the disk has room even if no request arrives: a
   * load balancer sends none to a service that says it is not ready.
   */
  private static final int PROBE_BYTES = 1 << 20;

  private static final long PROBE_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();
  private final Thread thread;
  /* True while the writer waits for a first append; only then does an append wake it. */
  private volatile boolean idle;
  private volatile boolean stopping;
  private volatile boolean exited;
  private volatile String failure;
  /* Why the last write failed (a full disk, typically), until a write or a probe succeeds. */
  private volatile String trouble;
  private long lastProbeNanos;
  private final int probeBytes;
  private boolean writeFailed;

  private final Counter appendedEvents;
  private final Counter appendedBytes;
  private final Timer fsyncTimer;
  private final Timer ackTimer;
  private final DistributionSummary groupEvents;

  GroupCommitWriter(
      SegmentLog segmentLog, DiskBudget budget, SpoolConfig config, MeterRegistry metrics) {
    this.segmentLog = segmentLog;
    this.budget = budget;
    this.fsync = config.fsync() == SpoolConfig.FsyncPolicy.GROUP;
    this.wait =
        new GroupWait(
            config.groupCommit() == SpoolConfig.GroupCommit.ADAPTIVE,
            config.fsyncMaxDelay().toNanos());
    this.maxGroupBytes = Math.max(1, config.fsyncMaxBytes());
    this.probeBytes = Math.min(PROBE_BYTES, RecordFrame.singleBatchBytes(config.maxRecordBytes()));
    this.appendedEvents = metrics.counter("trellis.spool.appended.events");
    this.appendedBytes = metrics.counter("trellis.spool.appended.bytes");
    // Histograms: the spool's share of a request's latency tail, which a mean and a max hide.
    this.fsyncTimer = histogram("trellis.spool.fsync", metrics);
    this.ackTimer = histogram("trellis.spool.ack.latency", metrics);
    this.groupEvents = metrics.summary("trellis.spool.group.events");
    this.thread = new Thread(this, "spool-writer");
    thread.setDaemon(true);
  }

  private static Timer histogram(String name, MeterRegistry metrics) {
    return Timer.builder(name)
        .publishPercentileHistogram()
        // Local disks sync in a fraction of a millisecond: buckets from 50 µs.
        .minimumExpectedValue(Duration.ofNanos(50_000))
        .maximumExpectedValue(Duration.ofSeconds(30))
        .register(metrics);
  }

  void start() {
    thread.start();
  }

  /** Queues the append; its future completes once the events are durable, or fails. */
  void enqueue(Pending p) {
    queue.add(p);
    if (idle) {
      LockSupport.unpark(thread);
    }
    if (exited && queue.remove(p)) {
      fail(p, new SpoolFullException("the spool is closed"));
    }
  }

  /** Why the writer stopped accepting appends, or null while it works. */
  String failure() {
    return failure;
  }

  /**
   * Why the last write failed, while appends keep failing (a full disk); null once a write or the
   * writer's own probe succeeds.
   */
  String trouble() {
    return trouble;
  }

  /** Writes and acknowledges everything queued so far, then stops the thread. */
  void stop() {
    stopping = true;
    LockSupport.unpark(thread);
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void run() {
    List<Pending> group = new ArrayList<>();
    try {
      // Whether appends can be written at all, before the first request finds out.
      probe();
      // Each turn is a method of its own: the JIT compiles a method after a few hundred calls,
      // while a loop entered once runs interpreted until it is compiled on its own, which took
      // over a minute of full load.
      boolean more = true;
      while (more && !Thread.currentThread().isInterrupted()) {
        more = step(group);
      }
    } finally {
      exited = true;
      for (Pending p; (p = queue.poll()) != null; ) {
        fail(p, new SpoolFullException("the spool is closed"));
      }
    }
  }

  /**
   * One turn of the writer: commits the group that starts with the next queued append, or waits for
   * one. False when the writer is stopping and nothing is queued.
   */
  private boolean step(List<Pending> group) {
    Pending first = queue.poll();
    if (first == null) {
      if (stopping) {
        return false;
      }
      if (trouble != null && System.nanoTime() - lastProbeNanos >= PROBE_INTERVAL_NANOS) {
        probe();
      }
      // Announce the wait before the last look at the queue: an append either sees the flag and
      // wakes this thread, or is seen here.
      idle = true;
      if (queue.isEmpty() && !stopping) {
        LockSupport.parkNanos(this, IDLE_PARK_NANOS);
      }
      idle = false;
      return true;
    }
    group.clear();
    collect(first, group);
    commit(group);
    return true;
  }

  /** Gathers a group starting with {@code first}, writing each append as it is taken. */
  private void collect(Pending first, List<Pending> group) {
    long opened = System.nanoTime();
    long bytes = 0;
    Pending p = first;
    while (p != null) {
      group.add(p);
      wait.arrived(p.enqueuedNanos);
      bytes += p.bytes;
      if (failure == null && !write(p)) {
        return;
      }
      if (bytes >= maxGroupBytes) {
        return;
      }
      p = queue.poll();
      if (p == null && fsync && !stopping) {
        // Wait for company only while it pays (GroupWait): appends arriving many times per
        // fsync join this one instead of paying for the next.
        long nanos = wait.waitNanos(System.nanoTime(), opened, first.enqueuedNanos);
        if (nanos > 0) {
          LockSupport.parkNanos(this, nanos);
          p = queue.poll();
        }
      }
    }
  }

  private boolean write(Pending p) {
    try {
      segmentLog.append(p.payloads);
      return true;
    } catch (IOException | RuntimeException e) {
      writeFailed(e);
      return false;
    }
  }

  private void writeFailed(Exception e) {
    if (trouble == null) {
      log.error("Spool write failed; failing the requests of this group", e);
    }
    trouble = e.getMessage() == null ? e.toString() : e.getMessage();
    lastProbeNanos = System.nanoTime();
    if (!segmentLog.discardUnpublished()) {
      failure = "a write failed and the segment could not be cut back: " + e;
    }
    // Spare files hold disk space that the next write may need more.
    segmentLog.dropSpares();
    writeFailed = true;
  }

  /** Checks that the disk has room for a write now; sets or clears {@link #trouble}. */
  private void probe() {
    lastProbeNanos = System.nanoTime();
    try {
      segmentLog.probe(probeBytes);
      if (trouble != null) {
        log.info("Spool writes work again (the disk has room): accepting events");
      }
      trouble = null;
    } catch (IOException | RuntimeException e) {
      if (trouble == null) {
        log.error("Spool cannot write ({}): refusing events until it can", e.toString());
      }
      trouble = e.getMessage() == null ? e.toString() : e.getMessage();
      segmentLog.dropSpares();
    }
  }

  private void commit(List<Pending> group) {
    if (failure == null && !writeFailed) {
      try {
        segmentLog.flush();
      } catch (IOException e) {
        writeFailed(e);
      }
    }
    if (failure == null && !writeFailed && fsync) {
      long t0 = System.nanoTime();
      try {
        segmentLog.sync();
        long took = System.nanoTime() - t0;
        fsyncTimer.record(took, TimeUnit.NANOSECONDS);
        wait.synced(took);
      } catch (IOException e) {
        failure = "fsync failed: " + e;
        log.error("Spool fsync failed: no further appends are accepted until a restart", e);
      }
    }
    if (failure != null || writeFailed) {
      writeFailed = false;
      String why = failure != null ? failure : "a spool write failed";
      for (Pending p : group) {
        fail(p, new SpoolFullException("cannot store events durably: " + why));
      }
      return;
    }
    segmentLog.publish();
    if (trouble != null) {
      log.info("Spool writes work again (the disk has room): accepting events");
      trouble = null;
    }
    long now = System.nanoTime();
    long events = 0;
    long bytes = 0;
    for (Pending p : group) {
      events += p.payloads.size();
      bytes += p.bytes;
      ackTimer.record(now - p.enqueuedNanos, TimeUnit.NANOSECONDS);
    }
    completeByExecutor(group);
    appendedEvents.increment(events);
    appendedBytes.increment(bytes);
    groupEvents.record(events);
  }

  /**
   * Completes the group with one task per executor (an HTTP event loop): a group of 60 requests
   * from two event loops costs two hand-offs, not 60.
   */
  private void completeByExecutor(List<Pending> group) {
    List<Executor> executors = new ArrayList<>(2);
    List<List<Pending>> batches = new ArrayList<>(2);
    for (Pending p : group) {
      int i = indexOf(executors, p.executor);
      if (i < 0) {
        executors.add(p.executor);
        batches.add(new ArrayList<>());
        i = executors.size() - 1;
      }
      batches.get(i).add(p);
    }
    for (int i = 0; i < executors.size(); i++) {
      List<Pending> batch = batches.get(i);
      run(
          executors.get(i),
          () -> {
            for (Pending p : batch) {
              complete(p, null);
            }
          });
    }
  }

  private static int indexOf(List<Executor> executors, Executor e) {
    for (int i = 0; i < executors.size(); i++) {
      if (executors.get(i) == e) {
        return i;
      }
    }
    return -1;
  }

  private void fail(Pending p, RuntimeException e) {
    budget.release(p.bytes);
    run(p.executor, () -> complete(p, e));
  }

  private static void run(Executor executor, Runnable task) {
    try {
      executor.execute(task);
    } catch (RuntimeException e) {
      // An event loop that is shut down: its connections are gone, nobody waits for the answer.
      log.warn("Could not hand spool completions to their executor: {}", e.toString());
    }
  }

  private static void complete(Pending p, Throwable failure) {
    try {
      p.completion.completed(failure);
    } catch (RuntimeException e) {
      log.error("A spool completion failed", e);
    }
  }
}
