package io.trellis.ingress.testing;

import io.trellis.ingress.event.TrafficEvent;

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
}
