package io.trellis.ingress.bench;

import io.trellis.ingress.event.Enrichment;
import io.trellis.ingress.event.Enrichments;
import io.trellis.ingress.event.EventLines;
import io.trellis.ingress.event.EventSchema;
import io.trellis.ingress.event.TrafficEvent;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The files sink's NDJSON lines alone, per event, of {@link DeliveryBenchmark}'s 10,000 events
 * decoded beforehand and with no enrichment installed (the derived columns empty): what writing a
 * line costs beside decoding and enriching (DeliveryBenchmark's {@code decode} and {@code enrich}).
 *
 * <ul>
 *   <li>{@code line}: every column of {@link EventSchema#EVENTS};
 *   <li>{@code body}: the {@code body} column alone, the longest string of the bench's event (405
 *       bytes of JSON, a sixth of them quotes to escape).
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class LinesBenchmark {
  private static final int EVENTS = 10_000;

  private List<TrafficEvent> events;
  private final EventLines lines = new EventLines();
  private final EventLines body = new EventLines(List.of(EventSchema.EVENTS.column("body")), false);

  @Setup
  public void setUp() {
    Enrichments.install(Enrichment::none);
    events = BenchEvents.spreadOverTime(EVENTS);
  }

  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public long line() throws IOException {
    return write(lines);
  }

  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public long body() throws IOException {
    return write(body);
  }

  private long write(EventLines writer) throws IOException {
    CountingStream out = new CountingStream();
    writer.writeAll(out, events, 1_764_201_599_123L);
    return out.count;
  }
}
