package io.trellis.ingress.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.trellis.ingress.cli.ServiceSettings;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.spool.DiskSpool;
import io.trellis.ingress.spool.SpoolConfig;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * The spool writer thread's own cost per append, which the host's load moves far less than a rate:
 * CPU time of the {@code spool-writer} thread (user and kernel, fsync included) and its context
 * switches (wake-ups) from {@code /proc}, divided by the appends it acknowledged, with {@code
 * clients} threads each keeping one append in flight (as HTTP connections do). Not a test.
 *
 * <pre>
 *   java -cp target/test-classes:target/classes:$(cat target/classpath.txt) \
 *     io.trellis.ingress.bench.SpoolWriterCost [events per append] [clients] [seconds] [key=value...]
 * </pre>
 */
public final class SpoolWriterCost {
  private SpoolWriterCost() {}

  public static void main(String[] args) throws Exception {
    int events = args.length > 0 ? Integer.parseInt(args[0]) : 1;
    int clients = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 10;
    Map<String, String> settings = new HashMap<>(Map.of("spool.max-bytes", "8GiB"));
    for (int i = 3; i < args.length; i++) {
      String[] kv = args[i].split("=", 2);
      settings.put(kv[0], kv[1]);
    }
    Path dir = Files.createTempDirectory(Path.of("target"), "writer-cost");
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    List<TrafficEvent> batch = BenchEvents.captured(events);
    ExecutorService loop = Executors.newFixedThreadPool(2);
    try (DiskSpool spool =
        DiskSpool.open(
            dir.resolve("spool"),
            dir.resolve("dead"),
            SpoolConfig.from(ServiceSettings.config(settings)),
            List.of(),
            metrics)) {
      spool.start();
      long tid = writerTid();
      AtomicBoolean run = new AtomicBoolean(true);
      LongAdder acked = new LongAdder();
      Thread[] threads = new Thread[clients];
      for (int c = 0; c < clients; c++) {
        threads[c] =
            new Thread(
                () -> {
                  while (run.get()) {
                    CompletableFuture<Void> f = new CompletableFuture<>();
                    spool.append(
                        batch,
                        loop,
                        failure -> {
                          if (failure == null) {
                            f.complete(null);
                          } else {
                            f.completeExceptionally(failure);
                          }
                        });
                    f.join();
                    acked.increment();
                  }
                });
        threads[c].start();
      }
      Thread.sleep(Math.min(5, seconds) * 1000L); // warm-up
      long[] s0 = stat(tid);
      long a0 = acked.sum();
      long g0 = metrics.summary("trellis.spool.group.events").count();
      long t0 = System.nanoTime();
      Thread.sleep(seconds * 1000L);
      long[] s1 = stat(tid);
      long a1 = acked.sum();
      long g1 = metrics.summary("trellis.spool.group.events").count();
      double wall = (System.nanoTime() - t0) / 1e9;
      run.set(false);
      for (Thread t : threads) {
        t.join();
      }
      long appends = a1 - a0;
      double tick = 1e6 / 100; // µs per clock tick
      System.out.printf(
          "events/append %d clients %d: %.0f appends/s, %.1f appends/group; writer per append:"
              + " %.2f µs user, %.2f µs kernel, %.3f voluntary + %.3f involuntary switches;"
              + " load %s%n",
          events,
          clients,
          appends / wall,
          (double) appends / Math.max(1, g1 - g0),
          (s1[0] - s0[0]) * tick / appends,
          (s1[1] - s0[1]) * tick / appends,
          (double) (s1[2] - s0[2]) / appends,
          (double) (s1[3] - s0[3]) / appends,
          Files.readString(Path.of("/proc/loadavg")).trim());
    } finally {
      loop.shutdown();
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** The writer's thread id; it names itself once running, which may be after start() returns. */
  private static long writerTid() throws Exception {
    long pid = ProcessHandle.current().pid();
    long deadline = System.nanoTime() + 10_000_000_000L;
    do {
      try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
        for (Path t : tasks.toList()) {
          if (Files.readString(t.resolve("comm")).trim().equals("spool-writer")) {
            return Long.parseLong(t.getFileName().toString());
          }
        }
      }
      Thread.sleep(10);
    } while (System.nanoTime() < deadline);
    throw new IllegalStateException(
        "no spool-writer thread " + ManagementFactory.getRuntimeMXBean());
  }

  /** utime, stime (clock ticks), voluntary and involuntary context switches of a thread. */
  private static long[] stat(long tid) throws Exception {
    long pid = ProcessHandle.current().pid();
    Path task = Path.of("/proc/" + pid + "/task/" + tid);
    String stat = Files.readString(task.resolve("stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    long vol = 0;
    long invol = 0;
    for (String line : Files.readAllLines(task.resolve("status"))) {
      if (line.startsWith("voluntary_ctxt_switches:")) {
        vol = Long.parseLong(line.split("\\s+")[1]);
      } else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
        invol = Long.parseLong(line.split("\\s+")[1]);
      }
    }
    return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12]), vol, invol};
  }
}
