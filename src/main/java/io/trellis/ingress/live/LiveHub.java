package io.trellis.ingress.live;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.trellis.ingress.event.EventLines;
import io.trellis.ingress.event.SpooledEvent;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.spool.SpoolTail;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fans the acknowledged events out to the live viewers. While at least one viewer is connected, one
 * thread follows the spool from its end ({@link SpoolTail}: the segment files, no hook in the
 * request path), encodes each event once as its stored record and offers it to every viewer whose
 * filter matches. With no viewer there is no thread and no reader: the view costs nothing.
 *
 * <p>Thread-safe.
 */
public final class LiveHub implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LiveHub.class);
  private static final long IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
  private static final int READ_AT_ONCE = 1024;

  private final Supplier<SpoolTail> tails;
  private final LiveConfig config;
  private final List<LiveViewer> viewers = new CopyOnWriteArrayList<>();
  /* Used by the tail thread only (one tail thread at a time). */
  private final EventLines lines = new EventLines();
  private final Counter dropped;
  private final Counter refused;
  private final Counter shown;
  private Thread thread;
  private boolean closed;

  public LiveHub(Supplier<SpoolTail> tails, LiveConfig config, MeterRegistry metrics) {
    this.tails = requireNonNull(tails, "tails is null");
    this.config = requireNonNull(config, "config is null");
    requireNonNull(metrics, "metrics is null");
    this.dropped = metrics.counter("trellis.live.dropped");
    this.refused = metrics.counter("trellis.live.refused", "reason", "too_many_viewers");
    this.shown = metrics.counter("trellis.live.events");
    Gauge.builder("trellis.live.viewers", viewers, List::size).register(metrics);
    Gauge.builder("trellis.live.buffered.bytes", viewers, LiveHub::buffered).register(metrics);
  }

  LiveConfig config() {
    return config;
  }

  /** A new viewer, or null when {@code live.max-viewers} are connected already. */
  synchronized LiveViewer join(LiveFilter filter) {
    if (closed || viewers.size() >= config.maxViewers()) {
      refused.increment();
      return null;
    }
    LiveViewer v = new LiveViewer(filter, config.viewerBufferBytes());
    viewers.add(v);
    if (thread == null) {
      thread = new Thread(this::run, "live-tail");
      thread.setDaemon(true);
      thread.start();
    }
    return v;
  }

  /** The viewer left; the last one to leave stops the tail. */
  synchronized void leave(LiveViewer v) {
    viewers.remove(v);
  }

  private static double buffered(List<LiveViewer> viewers) {
    long sum = 0;
    for (LiveViewer v : viewers) {
      sum += v.queuedBytes() + v.writingBytes();
    }
    return sum;
  }

  int viewerCount() {
    return viewers.size();
  }

  private synchronized boolean keepRunning() {
    if (closed || viewers.isEmpty()) {
      thread = null;
      return false;
    }
    return true;
  }

  private void run() {
    SpoolTail tail = null;
    try {
      tail = tails.get();
      long skipped = 0;
      while (keepRunning()) {
        int n = tail.poll(READ_AT_ONCE, this::dispatch);
        if (tail.skipped() != skipped) {
          long missed = tail.skipped() - skipped;
          skipped = tail.skipped();
          viewers.forEach(v -> v.missed(missed));
          dropped.increment((double) missed * viewers.size());
        }
        if (n == 0) {
          LockSupport.parkNanos(this, IDLE_NANOS);
        }
      }
    } catch (Exception e) {
      log.warn("The live view stopped following the spool: {}", e.toString());
      synchronized (this) {
        thread = null;
      }
    } finally {
      if (tail != null) {
        try {
          tail.close();
        } catch (Exception e) {
          log.debug("Closing the live tail: {}", e.toString());
        }
      }
    }
  }

  /** The event's stored record and its frame, made once for all viewers that want it. */
  private static final class Encoded {
    final SpooledEvent spooled;
    final long offset;
    final EventLines lines;
    TrafficEvent event;
    String record;
    String lowerCase;
    byte[] frame;

    Encoded(SpooledEvent e, EventLines lines) {
      this.spooled = e;
      this.offset = e.offset();
      this.lines = lines;
    }

    TrafficEvent event() {
      if (event == null) {
        event = spooled.event();
      }
      return event;
    }

    String record() {
      if (record == null) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
        try {
          lines.writeAll(out, List.of(event()), System.currentTimeMillis());
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
        String line = out.toString(StandardCharsets.UTF_8);
        record = line.endsWith("\n") ? line.substring(0, line.length() - 1) : line;
      }
      return record;
    }

    String lowerCase() {
      if (lowerCase == null) {
        lowerCase = record().toLowerCase(Locale.ROOT);
      }
      return lowerCase;
    }

    byte[] frame() {
      if (frame == null) {
        // The record is one line (EventLines escapes line breaks): one data line per event.
        frame =
            ("id: " + offset + "\nevent: event\ndata: " + record() + "\n\n")
                .getBytes(StandardCharsets.UTF_8);
      }
      return frame;
    }
  }

  private void dispatch(SpooledEvent e) {
    Encoded enc = new Encoded(e, lines);
    for (LiveViewer v : viewers) {
      boolean full = v.full();
      // A full viewer that takes everything drops this event whatever it is: no need to decode
      // or encode it. Decoding and encoding are most of the tail's work, and a viewer that does
      // not read would otherwise cost it for every event.
      if (full && v.filter().all()) {
        v.drop();
        dropped.increment();
        continue;
      }
      if (v.filter().matches(enc.event(), ev -> enc.lowerCase())) {
        if (full) {
          v.drop();
          dropped.increment();
        } else if (v.offer(enc.frame())) {
          shown.increment();
        } else {
          dropped.increment();
        }
      }
    }
  }

  /** Stops the tail; viewers still connected get nothing more. */
  @Override
  public void close() {
    Thread t;
    synchronized (this) {
      closed = true;
      t = thread;
    }
    if (t != null) {
      LockSupport.unpark(t);
      try {
        t.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
