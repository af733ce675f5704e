package io.trellis.ingress.bench;

import io.trellis.ingress.capture.CaptureConfig;
import io.trellis.ingress.capture.Endpoint;
import io.trellis.ingress.capture.EventCapture;
import io.trellis.ingress.capture.JsonFields;
import io.trellis.ingress.event.TrafficEvent;
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
}
