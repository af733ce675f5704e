package io.trellis.ingress.bench;

import io.trellis.ingress.base.Utf8;
import io.trellis.ingress.capture.BatchItems;
import io.trellis.ingress.capture.CaptureConfig;
import io.trellis.ingress.capture.Endpoint;
import io.trellis.ingress.capture.EventCapture;
import io.trellis.ingress.capture.JsonFields;
import io.trellis.ingress.capture.RequestData;
import io.trellis.ingress.event.EventCodec;
import io.trellis.ingress.event.TrafficEvent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Capture on the request path, from the request as the HTTP layer hands it over to the bytes the
 * spool stores: UTF-8 check, body parse, credential removal, field extraction, encoding from the
 * body's bytes. Reading the request from Vert.x is not in it.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class CaptureBenchmark {
  private EventCapture capture;
  private RequestData eventRequest;
  private byte[] eventBody;
  private RequestData pixelRequest;
  private RequestData batchRequest;
  private byte[] batchBody;
  private static final byte[] EMPTY = new byte[0];

  @Setup
  public void setUp() {
    capture = new EventCapture(CaptureConfig.defaults());
    eventBody = BenchRequests.eventBody();
    eventRequest = BenchRequests.post("/events", eventBody);
    pixelRequest = BenchRequests.pixel();
    batchBody = BenchRequests.batchBody(100);
    batchRequest = BenchRequests.post("/batch", batchBody);
  }

  /**
   * POST /events: one ~400-byte JSON event to its spool record, as the capture port does it: the
   * body checked as UTF-8 on its bytes, its top-level fields parsed from them, the record written
   * from them.
   */
  @Benchmark
  public byte[] event() {
    EventCapture.SharedRequest shared = capture.request(eventRequest, BenchRequests.KEY);
    if (!Utf8.isValid(eventBody)) {
      throw new IllegalStateException("the bench event is valid UTF-8");
    }
    return capture
        .encode(
            shared,
            "bench",
            Endpoint.EVENTS,
            eventBody,
            0,
            eventBody.length,
            JsonFields.parse(eventBody),
            null)
        .record();
  }

  /** GET /pixel: browser headers and query parameters, no body. */
  @Benchmark
  public byte[] pixel() {
    EventCapture.SharedRequest shared = capture.request(pixelRequest, BenchRequests.KEY);
    return capture.encode(shared, "bench", Endpoint.PIXEL, EMPTY, 0, 0, null, null).record();
  }

  /** POST /batch: 100 events checked, split, captured and encoded (time for the whole request). */
  @Benchmark
  public void batch100(Blackhole bh) throws Exception {
    encodeBatch(bh::consume);
  }

  /** The records of {@link #batch100}, in order: what the service appends to its spool. */
  public List<byte[]> batch100Records() throws Exception {
    List<byte[]> records = new ArrayList<>();
    encodeBatch(records::add);
    return records;
  }

  private void encodeBatch(Consumer<byte[]> out) throws Exception {
    EventCapture.SharedRequest shared = capture.request(batchRequest, BenchRequests.KEY);
    if (!Utf8.isValid(batchBody)) {
      throw new IllegalStateException("the bench batch is valid UTF-8");
    }
    byte[] sharedFields = EventCapture.sharedFields(shared);
    for (BatchItems.Item item : BatchItems.parse(batchBody, 10_000, 64)) {
      out.accept(
          capture
              .encode(
                  shared,
                  sharedFields,
                  "bench",
                  Endpoint.BATCH,
                  batchBody,
                  item.start(),
                  item.end() - item.start(),
                  item.json(),
                  null)
              .record());
    }
  }

  /*
   * The same requests through TrafficEvent's strings, the path tests and tools take: the body
   * decoded into a String (and encoded back to check it, as a round trip checks UTF-8), the event
   * built as 17 strings, then encoded. The difference to the methods above is what the capture
   * port does not do.
   */

  @Benchmark
  public byte[] eventViaStrings() {
    EventCapture.SharedRequest shared = capture.request(eventRequest, BenchRequests.KEY);
    String text = new String(eventBody, StandardCharsets.UTF_8);
    if (!Arrays.equals(text.getBytes(StandardCharsets.UTF_8), eventBody)) {
      throw new IllegalStateException("the bench event is valid UTF-8");
    }
    TrafficEvent e =
        capture.event(shared, "bench", Endpoint.EVENTS, text, JsonFields.parse(eventBody));
    return EventCodec.encode(e);
  }

  @Benchmark
  public byte[] pixelViaStrings() {
    EventCapture.SharedRequest shared = capture.request(pixelRequest, BenchRequests.KEY);
    return EventCodec.encode(capture.event(shared, "bench", Endpoint.PIXEL, "", null));
  }

  @Benchmark
  public void batch100ViaStrings(Blackhole bh) throws Exception {
    EventCapture.SharedRequest shared = capture.request(batchRequest, BenchRequests.KEY);
    String text = new String(batchBody, StandardCharsets.UTF_8);
    if (!Arrays.equals(text.getBytes(StandardCharsets.UTF_8), batchBody)) {
      throw new IllegalStateException("the bench batch is valid UTF-8");
    }
    for (BatchItems.Item item : BatchItems.parse(batchBody, 10_000, 64)) {
      bh.consume(
          EventCodec.encode(
              capture.event(shared, "bench", Endpoint.BATCH, item.raw(), item.json())));
    }
  }
}
