package io.trellis.ingress.spool;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.capture.TrafficEvent;
import io.trellis.ingress.sink.Sink;
import io.trellis.ingress.sink.SinkBatch;
import io.trellis.ingress.sink.SinkException;
import io.trellis.ingress.sink.SpooledEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bounded in-memory hand-off: no durability, for tests and tools only. Each sink has its own
 * queue and delivery thread; a full queue refuses appends with {@link SpoolFullException}.
 */
public final class MemorySpool implements Spool {
  private static final Logger log = LoggerFactory.getLogger(MemorySpool.class);

  private final SpoolConfig config;
  private final List<Lane> lanes = new ArrayList<>();
  private final AtomicLong nextOffset = new AtomicLong();
  private volatile boolean closed;

  private final class Lane implements Runnable {
    final Sink sink;
    final BlockingQueue<SpooledEvent> queue;
    final Thread thread;

    Lane(Sink sink) {
      this.sink = sink;
      this.queue = new ArrayBlockingQueue<>(config.memoryCapacity());
      this.thread = new Thread(this, "deliver-" + sink.name());
      thread.setDaemon(true);
    }

    @Override
    public void run() {
      List<SpooledEvent> batch = new ArrayList<>();
      while (!closed || !queue.isEmpty()) {
        try {
          SpooledEvent first = queue.poll(config.batchMaxAge().toMillis(), TimeUnit.MILLISECONDS);
          if (first == null) {
            continue;
          }
          batch.add(first);
          queue.drainTo(batch, config.batchMaxRows() - 1);
          deliver(new SinkBatch(batch));
          batch.clear();
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    private void deliver(SinkBatch batch) throws InterruptedException {
      long backoff = 100;
      while (true) {
        try {
          sink.write(batch);
          return;
        } catch (SinkException e) {
          if (e.kind() != SinkException.Kind.TRANSIENT) {
            log.error("Sink {} refused {} events: {}", sink.name(), batch.size(), e.getMessage());
            return;
          }
          log.warn("Sink {} failed, retrying in {} ms: {}", sink.name(), backoff, e.getMessage());
          Thread.sleep(backoff);
          backoff = Math.min(backoff * 2, 10_000);
        }
      }
    }
  }

  public MemorySpool(SpoolConfig config, List<Sink> sinks) {
    this.config = requireNonNull(config, "config is null");
    for (Sink s : sinks) {
      lanes.add(new Lane(s));
    }
  }

  @Override
  public synchronized CompletableFuture<Void> append(List<TrafficEvent> events) {
    if (closed) {
      return CompletableFuture.failedFuture(new SpoolFullException("shutting down"));
    }
    for (Lane lane : lanes) {
      if (lane.queue.remainingCapacity() < events.size()) {
        return CompletableFuture.failedFuture(
            new SpoolFullException("in-memory hand-off to " + lane.sink.name() + " is full"));
      }
    }
    for (TrafficEvent e : events) {
      SpooledEvent s = new SpooledEvent(nextOffset.getAndIncrement(), e);
      for (Lane lane : lanes) {
        lane.queue.add(s);
      }
    }
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public void start() {
    lanes.forEach(l -> l.thread.start());
  }

  @Override
  public SpoolReadiness readiness() {
    return closed ? SpoolReadiness.notReady("shutting down") : SpoolReadiness.ok();
  }

  @Override
  public void close() {
    closed = true;
    for (Lane lane : lanes) {
      try {
        lane.thread.join(config.drainTimeout().toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
