package io.trellis.ingress.bench;

import io.trellis.ingress.capture.CaptureConfig;
import io.trellis.ingress.capture.Endpoint;
import io.trellis.ingress.capture.EventCapture;
import io.trellis.ingress.capture.JsonFields;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.testing.TrafficEvents;
import java.util.ArrayList;
import java.util.List;

/** Captured events of the bench's /events request, as the spool and the sinks receive them. */
public final class BenchEvents {
  private BenchEvents() {}

  public static List<TrafficEvent> captured(int count) {
    EventCapture capture = new EventCapture(CaptureConfig.defaults());
    byte[] body = BenchRequests.eventBody();
    EventCapture.SharedRequest shared =
        capture.request(BenchRequests.post("/events", body), BenchRequests.KEY);
    List<TrafficEvent> events = new ArrayList<>(count);
    JsonFields json = JsonFields.parse(body);
    for (int i = 0; i < count; i++) {
      events.add(capture.event(shared, "bench", Endpoint.EVENTS, BenchRequests.EVENT, json));
    }
    return events;
  }

  /** {@link #captured} events received 3 ms apart, as a sink sees a stream spread over time. */
  public static List<TrafficEvent> spreadOverTime(int count) {
    List<TrafficEvent> captured = captured(count);
    List<TrafficEvent> events = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      TrafficEvent c = captured.get(i);
      events.add(TrafficEvents.withTimestamp(c, c.timestamp() + 3L * i));
    }
    return events;
  }
}
