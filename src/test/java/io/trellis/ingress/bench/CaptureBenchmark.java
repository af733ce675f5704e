package io.trellis.ingress.bench;

import io.trellis.ingress.capture.BatchItems;
import io.trellis.ingress.capture.CaptureConfig;
import io.trellis.ingress.capture.Endpoint;
import io.trellis.ingress.capture.EventCapture;
import io.trellis.ingress.capture.JsonFields;
import io.trellis.ingress.capture.RequestData;
import io.trellis.ingress.event.EventCodec;
import io.trellis.ingress.event.TrafficEvent;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
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
 * spool stores: body parse, credential removal, field extraction, encoding.
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

  @Setup
  public void setUp() {
    capture = new EventCapture(CaptureConfig.defaults());
    eventBody = BenchRequests.eventBody();
    eventRequest = BenchRequests.post("/events", eventBody);
    pixelRequest = BenchRequests.pixel();
    batchBody = BenchRequests.batchBody(100);
    batchRequest = BenchRequests.post("/batch", batchBody);
  }

  /** POST /events: one ~400-byte JSON event to its spool encoding. */
  @Benchmark
  public byte[] event() {
    EventCapture.SharedRequest shared = capture.request(eventRequest, BenchRequests.KEY);
    TrafficEvent e =
        capture.event(
            shared,
            "bench",
            Endpoint.EVENTS,
            new String(eventBody, StandardCharsets.UTF_8),
            JsonFields.parse(eventBody));
    return EventCodec.encode(e);
  }

  /** GET /pixel: browser headers and query parameters, no body. */
  @Benchmark
  public byte[] pixel() {
    EventCapture.SharedRequest shared = capture.request(pixelRequest, BenchRequests.KEY);
    return EventCodec.encode(capture.event(shared, "bench", Endpoint.PIXEL, "", null));
  }

  /** POST /batch: 100 events split, captured and encoded (time for the whole request). */
  @Benchmark
  public void batch100(Blackhole bh) throws Exception {
    EventCapture.SharedRequest shared = capture.request(batchRequest, BenchRequests.KEY);
    for (BatchItems.Item item : BatchItems.parse(batchBody, 10_000, 64)) {
      bh.consume(
          EventCodec.encode(
              capture.event(shared, "bench", Endpoint.BATCH, item.raw(), item.json())));
    }
  }
}
