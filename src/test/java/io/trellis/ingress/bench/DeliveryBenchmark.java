package io.trellis.ingress.bench;

import io.trellis.ingress.enrich.EnrichConfig;
import io.trellis.ingress.enrich.Enricher;
import io.trellis.ingress.event.Enrichment;
import io.trellis.ingress.event.EnrichmentCache;
import io.trellis.ingress.event.Enrichments;
import io.trellis.ingress.event.EventCodec;
import io.trellis.ingress.event.EventLines;
import io.trellis.ingress.event.EventSchema;
import io.trellis.ingress.event.RecordArena;
import io.trellis.ingress.event.SpooledEvent;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.SinkBatch;
import io.trellis.ingress.sink.clickhouse.EventRows;
import io.trellis.ingress.testing.TrafficEvents;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

/**
 * A sink delivery's work per stored event, with the service's default enrichment installed, on
 * 10,000 records of the bench's /events request as the spool holds them (encoded as capture encodes
 * them, with the body's index), reported per event:
 *
 * <ul>
 *   <li>{@code filesLines}: what the files sink's delivery does with a batch: decode, enrich and
 *       write the NDJSON line;
 *   <li>{@code filesLinesHeld}: the same from the start of the batch, as the delivery reads it:
 *       each record copied out of the reader's array, checked and held in the batch's {@link
 *       RecordArena}, then decoded from there (run it with {@code -prof gc}: what a delivered event
 *       allocates);
 *   <li>{@code enrich}: decode and {@link Enricher#enrich} alone;
 *   <li>{@code decode}: decoding the record into a {@link TrafficEvent} alone;
 *   <li>{@code twoSinks}: the files sink's lines and ClickHouse's rows of the same records, one
 *       after the other, as two sinks' deliveries of one spool do (sharing the enrichments).
 * </ul>
 *
 * {@link LinesBenchmark} writes the same events' lines with nothing to decode or enrich.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class DeliveryBenchmark {
  private static final int EVENTS = 10_000;

  private Enricher enricher;
  private SinkBatch batch;
  private final EventLines lines = new EventLines();
  private final EventRows rows = EventRows.allButWriteTime(EventSchema.EVENTS);
  private final long ingestedAt = System.currentTimeMillis();
  private long nextOffset;
  private List<byte[]> encoded;

  /**
   * Records as capture writes them, with the body's index, or without it (as earlier releases wrote
   * them, and as capture writes a body it did not read as one object).
   */
  @Param({"true", "false"})
  public boolean indexed;

  private final EnrichmentCache shared = new EnrichmentCache(32_768);
  private final RecordArena arena = new RecordArena();
  private byte[] readerArray;

  @Setup
  public void setUp() throws Exception {
    enricher = Enricher.open(EnrichConfig.defaults());
    Enrichments.install(enricher);
    encoded = new ArrayList<>(EVENTS);
    for (TrafficEvent e : BenchEvents.spreadOverTime(EVENTS)) {
      encoded.add(indexed ? TrafficEvents.recordAsCaptured(e) : EventCodec.encode(e));
    }
    batch = stored(null);
    readerArray = new byte[encoded.stream().mapToInt(e -> e.length).max().orElse(0)];
  }

  /**
   * The records at new offsets, as the spool hands each new batch to its sinks; with a {@code
   * cache}, as it hands them to two sinks that share their enrichments.
   */
  private SinkBatch stored(EnrichmentCache cache) {
    List<SpooledEvent> items = new ArrayList<>(EVENTS);
    for (byte[] e : encoded) {
      long offset = nextOffset++;
      items.add(
          cache == null ? SpooledEvent.encoded(offset, e) : SpooledEvent.encoded(offset, e, cache));
    }
    return new SinkBatch(items);
  }

  @TearDown
  public void tearDown() throws IOException {
    Enrichments.install(Enrichment::none);
    enricher.close();
  }

  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public long filesLines() throws IOException {
    CountingStream out = new CountingStream();
    lines.writeAll(out, batch.events(), ingestedAt);
    return out.count;
  }

  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public long filesLinesHeld() throws IOException {
    arena.clear();
    List<SpooledEvent> items = new ArrayList<>(EVENTS);
    for (byte[] e : encoded) {
      // The reader's array, which SinkDelivery.fill copies each record into.
      System.arraycopy(e, 0, readerArray, 0, e.length);
      items.add(arena.hold(nextOffset++, readerArray, e.length, null));
    }
    CountingStream out = new CountingStream();
    lines.writeAll(out, new SinkBatch(items).events(), ingestedAt);
    return out.count;
  }

  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public void enrich(Blackhole bh) {
    for (SpooledEvent e : batch.items()) {
      bh.consume(enricher.enrich(e.event()));
    }
  }

  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public void decode(Blackhole bh) {
    for (SpooledEvent e : batch.items()) {
      bh.consume(e.event());
    }
  }

  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public long twoSinks() throws IOException {
    // The same offsets for both, as two sinks' deliveries of one spool read them.
    SinkBatch forFiles = stored(shared);
    nextOffset -= EVENTS;
    SinkBatch forClickHouse = stored(shared);
    CountingStream out = new CountingStream();
    lines.writeAll(out, forFiles.events(), ingestedAt);
    rows.write(out, forClickHouse.events(), ingestedAt);
    return out.count;
  }
}
