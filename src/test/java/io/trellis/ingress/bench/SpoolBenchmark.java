package io.trellis.ingress.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.trellis.ingress.cli.ServiceSettings;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.Sink;
import io.trellis.ingress.sink.SinkBatch;
import io.trellis.ingress.spool.DiskSpool;
import io.trellis.ingress.spool.SpoolConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * Appends per second and acknowledgement latency of the disk spool, with a sink that reads every
 * event back (so segments are deleted as in production) and discards it. Not a test: run with
 * {@code bench/spool-benchmark.sh}.
 *
 * <ul>
 *   <li>throughput: 64 appends in flight at all times (like 64 concurrent HTTP clients), each of 1
 *       or 100 events; reports events/s and the latency of each append.
 *   <li>rate: single-event appends issued at a fixed 10,000 events/s (open loop); latency is
 *       measured from the moment each append was due, so a stall cannot hide itself.
 * </ul>
 */
public final class SpoolBenchmark {
  private static final int IN_FLIGHT = 64;

  public static void main(String[] args) throws Exception {
    long seconds = args.length > 0 ? Long.parseLong(args[0]) : 5;
    String only = System.getProperty("bench.only", "");
    System.out.println(
        "spool.fsync-max-delay=" + System.getProperty("bench.fsync-max-delay", "0ms"));
    System.out.printf(
        "%-8s %-26s %14s %10s %10s %10s %9s%n",
        "fsync", "scenario", "events/s", "p50 ms", "p99 ms", "max ms", "fsyncs/s");
    for (String fsync : List.of("group", "none")) {
      if (only.isEmpty() || only.equals("batch")) {
        run(fsync, "batches of 100, 64 in flight", s -> throughput(s, 100, seconds));
      }
      if (only.isEmpty() || only.equals("single")) {
        run(fsync, "single events, 64 in flight", s -> throughput(s, 1, seconds));
      }
      if (only.isEmpty() || only.equals("rate")) {
        run(fsync, "single events at 10k/s", s -> rate(s, 10_000, seconds));
      }
    }
  }

  interface Scenario {
    Result run(DiskSpool spool) throws Exception;
  }

  record Result(double eventsPerSecond, long[] latenciesNanos) {}

  private static void run(String fsync, String name, Scenario scenario) throws Exception {
    Path dir = Files.createTempDirectory("spool-bench");
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    try {
      SpoolConfig config =
          SpoolConfig.from(
              ServiceSettings.config(Map.of("spool.fsync", fsync, "spool.max-bytes", "4GiB")));
      DiskSpool spool =
          DiskSpool.open(
              dir.resolve("spool"), dir.resolve("dead"), config, List.of(new Discard()), metrics);
      spool.start();
      scenario.run(spool); // warm-up
      double fsyncsBefore = metrics.timer("trellis.spool.fsync").count();
      long t0 = System.nanoTime();
      Result r = scenario.run(spool);
      double secs = (System.nanoTime() - t0) / 1e9;
      double fsyncs = (metrics.timer("trellis.spool.fsync").count() - fsyncsBefore) / secs;
      spool.close();
      long[] l = r.latenciesNanos();
      Arrays.sort(l);
      System.out.printf(
          "%-8s %-26s %,14.0f %10.2f %10.2f %10.2f %9.0f%n",
          fsync,
          name,
          r.eventsPerSecond(),
          pct(l, 0.50),
          pct(l, 0.99),
          l.length == 0 ? 0 : l[l.length - 1] / 1e6,
          fsyncs);
    } finally {
      try (Stream<Path> s = Files.walk(dir)) {
        s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static double pct(long[] sorted, double p) {
    if (sorted.length == 0) {
      return 0;
    }
    return sorted[(int) Math.min(sorted.length - 1, Math.floor(p * sorted.length))] / 1e6;
  }

  private static Result throughput(DiskSpool spool, int perAppend, long seconds) throws Exception {
    List<TrafficEvent> events = events(perAppend);
    Semaphore slots = new Semaphore(IN_FLIGHT);
    Latencies lat = new Latencies(20_000_000);
    AtomicLong done = new AtomicLong();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    long start = System.nanoTime();
    while (System.nanoTime() < end) {
      slots.acquire();
      long t = System.nanoTime();
      spool
          .append(events)
          .whenComplete(
              (ok, err) -> {
                if (err == null) {
                  lat.add(System.nanoTime() - t);
                  done.addAndGet(perAppend);
                }
                slots.release();
              });
    }
    slots.acquire(IN_FLIGHT);
    double secs = (System.nanoTime() - start) / 1e9;
    return new Result(done.get() / secs, lat.values());
  }

  private static Result rate(DiskSpool spool, int perSecond, long seconds) throws Exception {
    List<TrafficEvent> one = events(1);
    long interval = 1_000_000_000L / perSecond;
    int total = (int) (perSecond * seconds);
    Latencies lat = new Latencies(total);
    AtomicInteger outstanding = new AtomicInteger();
    long start = System.nanoTime();
    for (int i = 0; i < total; i++) {
      long due = start + i * interval;
      long wait;
      while ((wait = due - System.nanoTime()) > 0) {
        LockSupport.parkNanos(Math.min(wait, 50_000));
      }
      outstanding.incrementAndGet();
      CompletableFuture<Void> f = spool.append(one);
      f.whenComplete(
          (ok, err) -> {
            lat.add(System.nanoTime() - due);
            outstanding.decrementAndGet();
          });
    }
    while (outstanding.get() > 0) {
      Thread.sleep(1);
    }
    double secs = (System.nanoTime() - start) / 1e9;
    return new Result(total / secs, lat.values());
  }

  private static List<TrafficEvent> events(int n) {
    List<TrafficEvent> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(
          new TrafficEvent(
              "org-benchmark",
              "0190f3c2-7a1b-7c3d-8e4f-" + String.format("%012d", i),
              System.currentTimeMillis(),
              "POST",
              "https://collect.example.com/events?utm_source=google&utm_medium=cpc",
              "{\"content-type\":\"application/json\",\"user-agent\":\"Mozilla/5.0 (X11; Linux"
                  + " x86_64) AppleWebKit/537.36\",\"accept-language\":\"en-US,en;q=0.9\"}",
              "{\"utm_source\":\"google\",\"utm_medium\":\"cpc\"}",
              "{\"event\":\"pageview\",\"page\":\"/pricing\",\"session_id\":\"s-123\","
                  + "\"properties\":{\"plan\":\"pro\",\"referrer\":\"https://www.google.com/\"}}",
              "203.0.113.7",
              "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
              "https://www.google.com/",
              "pageview",
              "",
              "s-123",
              "google",
              "cpc",
              ""));
    }
    return out;
  }

  /** A sink that reads and discards, so the benchmark measures the spool. */
  private static final class Discard implements Sink {
    @Override
    public String name() {
      return "discard";
    }

    @Override
    public void write(SinkBatch batch) {}
  }

  /** Latencies recorded from many threads into one preallocated array. */
  private static final class Latencies {
    private final long[] values;
    private final AtomicInteger n = new AtomicInteger();
    private final AtomicBoolean full = new AtomicBoolean();

    Latencies(int capacity) {
      values = new long[capacity];
    }

    void add(long nanos) {
      int i = n.getAndIncrement();
      if (i < values.length) {
        values[i] = nanos;
      } else {
        full.set(true);
      }
    }

    long[] values() {
      return Arrays.copyOf(values, Math.min(n.get(), values.length));
    }
  }
}
