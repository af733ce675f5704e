package io.trellis.ingress.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.trellis.ingress.cli.ServiceSettings;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.spool.DiskSpool;
import io.trellis.ingress.spool.SpoolConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * The durable spool's append, acknowledged: encode, frame, write and (with {@code group}) fsync
 * before the future completes. No sink is attached, so only the append path is measured. With 8
 * threads appending at once, group commit shares each fsync between them, as the event loops do.
 *
 * <p>Without a sink nothing frees the spool's disk, so every iteration gets a new, empty spool: 100
 * events per append fill several hundred MB a second, and a spool kept for the whole trial ran into
 * its 4 GiB budget within the documented iterations.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class SpoolAppendBenchmark {
  @Param({"group", "none"})
  public String fsync;

  @Param({"1", "100"})
  public int events;

  private Path dir;
  private DiskSpool spool;
  private List<TrafficEvent> batch;

  @Setup(Level.Iteration)
  public void open() throws IOException {
    dir = Files.createTempDirectory(Path.of("target"), "bench-spool");
    SpoolConfig config =
        SpoolConfig.from(
            ServiceSettings.config(Map.of("spool.fsync", fsync, "spool.max-bytes", "4GiB")));
    spool =
        DiskSpool.open(
            dir.resolve("spool"),
            dir.resolve("dead"),
            config,
            List.of(),
            new SimpleMeterRegistry());
    spool.start();
    batch = BenchEvents.captured(events);
  }

  @TearDown(Level.Iteration)
  public void close() throws IOException {
    spool.close();
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  /** One request's append, waited for as the HTTP layer does before answering. */
  @Benchmark
  @Threads(8)
  public void append() {
    spool.append(batch).join();
  }
}
