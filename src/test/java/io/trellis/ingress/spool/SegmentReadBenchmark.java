package io.trellis.ingress.spool;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.trellis.ingress.bench.BenchEvents;
import io.trellis.ingress.cli.ServiceSettings;
import io.trellis.ingress.event.SpooledEvent;
import io.trellis.ingress.event.TrafficEvent;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

/**
 * What a sink's delivery does to take one event out of a segment into its batch ({@code
 * SinkDelivery.fill}): the scanner validates the frame, the payload is copied out and checked as an
 * encoding ({@link SpooledEvent#encoded}). 10,000 of the bench's /events requests appended to a
 * real spool, one append each, read back from its segment file per invocation, reported per event.
 * A scanner (and its 1 MiB read buffer) per invocation, as a reader has one per segment.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class SegmentReadBenchmark {
  private static final int EVENTS = 10_000;

  private Path dir;
  private FileChannel channel;
  private Segment.Header header;
  private long size;

  @Setup
  public void setUp() throws Exception {
    dir = Files.createTempDirectory("segment-read-bench");
    Path spoolDir = dir.resolve("spool");
    SpoolConfig config = SpoolConfig.from(ServiceSettings.config(Map.of()));
    try (DiskSpool spool =
        DiskSpool.open(
            spoolDir,
            dir.resolve("dead"),
            config,
            List.of(new TestSink("files")),
            new SimpleMeterRegistry())) {
      for (TrafficEvent e : BenchEvents.spreadOverTime(EVENTS)) {
        spool.append(List.of(e)).get();
      }
    }
    Path segment;
    try (Stream<Path> files = Files.list(spoolDir)) {
      segment =
          files
              .filter(p -> Segment.parseName(p.getFileName().toString()).isPresent())
              .min(Comparator.naturalOrder())
              .orElseThrow();
    }
    channel = FileChannel.open(segment, StandardOpenOption.READ);
    header =
        Segment.readHeader(
            channel, Segment.parseName(segment.getFileName().toString()).getAsLong());
    size = channel.size();
  }

  @TearDown
  public void tearDown() throws IOException {
    channel.close();
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private SegmentScanner scanner() {
    return new SegmentScanner(
        channel, Integer.MAX_VALUE - 64, header, size, header.baseOffset() - 1);
  }

  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public int read(Blackhole bh) throws IOException {
    SegmentScanner s = scanner();
    int n = 0;
    while (s.next() == SegmentScanner.Status.RECORD) {
      bh.consume(SpooledEvent.encoded(s.recordOffset(), s.payloadCopy()));
      n++;
    }
    return check(n);
  }

  private static int check(int n) {
    if (n != EVENTS) {
      throw new IllegalStateException("read " + n + " events, not " + EVENTS);
    }
    return n;
  }
}
