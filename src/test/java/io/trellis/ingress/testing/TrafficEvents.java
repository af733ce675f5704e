package io.trellis.ingress.testing;

import io.trellis.ingress.capture.JsonFields;
import io.trellis.ingress.event.EventCodec;
import io.trellis.ingress.event.TrafficEvent;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Copies of a test's event with one field changed; every other field kept as it is. */
public final class TrafficEvents {
  private TrafficEvents() {}

  /** The event received at another time. */
  public static TrafficEvent withTimestamp(TrafficEvent e, long timestamp) {
    return copy(e, e.eventId(), timestamp);
  }

  /** The event under another id. */
  public static TrafficEvent withEventId(TrafficEvent e, String eventId) {
    return copy(e, eventId, e.timestamp());
  }

  private static TrafficEvent copy(TrafficEvent e, String eventId, long timestamp) {
    return new TrafficEvent(
        e.organizationId(),
        eventId,
        timestamp,
        e.method(),
        e.url(),
        e.headers(),
        e.queryParams(),
        e.body(),
        e.ip(),
        e.userAgent(),
        e.referer(),
        e.eventType(),
        e.clickId(),
        e.sessionId(),
        e.source(),
        e.medium(),
        e.campaign(),
        e.bodyBase64());
  }

  /**
   * The event's spool record as capture writes it from a body it reads as one JSON object: with the
   * index of where the enrichments' fields start in the body ({@link EventCodec.Field#BODY_INDEX}).
   */
  public static byte[] recordAsCaptured(TrafficEvent e) {
    byte[] plain = EventCodec.encode(e);
    byte[] body = e.body().getBytes(StandardCharsets.UTF_8);
    JsonFields json = JsonFields.parse(body);
    EventCodec.Writer w = EventCodec.Writer.forThread(e.timestamp());
    w.fields(Arrays.copyOfRange(plain, HEAD_BYTES, plain.length));
    if (json != null) {
      json.writeIndex(w, body, 0, body.length);
    }
    return w.toByteArray();
  }

  /* A record's version byte and timestamp, before its fields. */
  private static final int HEAD_BYTES = 9;
}
