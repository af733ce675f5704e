package io.trellis.ingress.bench;

import io.trellis.ingress.event.EventCodec;
import io.trellis.ingress.event.EventLines;
import io.trellis.ingress.event.JacksonLines;
import io.trellis.ingress.event.SpooledEvent;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.SinkBatch;
import io.trellis.ingress.sink.files.FilesSink;
import io.trellis.ingress.sink.files.FilesSinkConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The files sink's delivery path for one batch of 10,000 events, reported per event:
 *
 * <ul>
 *   <li>{@code lines}: the NDJSON encoding alone, into a counting stream;
 *   <li>{@code jacksonLines}: the same lines through one Jackson generator per event, as the sink
 *       wrote them before; a reference for {@code lines} measured in the same run;
 *   <li>{@code sinkWrite}: {@link FilesSink#write} into a temporary directory without fsync (the
 *       files are deleted after each batch so the disk does not fill);
 *   <li>{@code decode}: the spool's decoding of the same events, which the delivery loop does
 *       before handing them to the sink.
 * </ul>
 *
 * Timestamps are spread over half a minute so per-second caches are not flattered by one instant.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class FilesSinkBenchmark {
  private static final int EVENTS = 10_000;

  private List<TrafficEvent> events;
  private SinkBatch batch;
  private List<ByteBuffer> encoded;
  private Path dir;
  private FilesSink sink;
  private final EventLines lines = new EventLines();
  private final long ingestedAt = System.currentTimeMillis();

  @Setup
  public void setUp() throws Exception {
    List<TrafficEvent> spread = BenchEvents.spreadOverTime(EVENTS);
    events = new ArrayList<>(EVENTS);
    List<SpooledEvent> items = new ArrayList<>(EVENTS);
    encoded = new ArrayList<>(EVENTS);
    for (int i = 0; i < EVENTS; i++) {
      TrafficEvent e = spread.get(i);
      events.add(e);
      items.add(new SpooledEvent(i, e));
      encoded.add(ByteBuffer.wrap(EventCodec.encode(e)));
    }
    batch = new SinkBatch(items);
    dir = Files.createTempDirectory("files-sink-bench");
    sink = new FilesSink(new FilesSinkConfig(true, dir, 1L << 30, false));
    sink.start();
  }

  @TearDown
  public void tearDown() throws IOException {
    deleteFiles();
  }

  /** Keeps the temporary directory small; part of no measurement. */
  @TearDown(Level.Invocation)
  public void deleteWritten() throws IOException {
    deleteFiles();
  }

  private void deleteFiles() throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        if (Files.isRegularFile(p)) {
          Files.delete(p);
        }
      }
    }
  }

  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public long lines() throws IOException {
    CountingStream out = new CountingStream();
    lines.writeAll(out, events, ingestedAt);
    return out.count;
  }

  /** The lines as they were written before: one Jackson generator per event; a reference. */
  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public long jacksonLines() throws IOException {
    CountingStream out = new CountingStream();
    for (TrafficEvent e : events) {
      JacksonLines.write(out, e, ingestedAt);
    }
    return out.count;
  }

  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public void sinkWrite() throws Exception {
    sink.write(batch);
  }

  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public void decode(Blackhole bh) {
    for (ByteBuffer b : encoded) {
      bh.consume(EventCodec.decode(b.duplicate()));
    }
  }
}
