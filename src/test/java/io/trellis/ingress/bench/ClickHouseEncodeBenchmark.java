package io.trellis.ingress.bench;

import io.trellis.ingress.event.EventSchema;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.clickhouse.EventRows;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Encoding one sink batch of 10,000 events as the JSONEachRow body of a ClickHouse insert. The
 * bytes go to a counting stream, not the network.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class ClickHouseEncodeBenchmark {
  private final EventRows rows = EventRows.allButWriteTime(EventSchema.EVENTS);
  private List<TrafficEvent> batch;

  @Setup
  public void setUp() {
    batch = BenchEvents.captured(10_000);
  }

  @Benchmark
  public long encodeBatch() throws IOException {
    CountingStream out = new CountingStream();
    rows.write(out, batch, -1);
    return out.count;
  }
}
