package io.trellis.ingress.capture;

/** The capture endpoints, with the event type each gives an event that names none. */
public enum Endpoint {
  EVENTS("event"),
  TRACK("track"),
  PIXEL("pixel"),
  BATCH("event"),
  /** {@code GET /r}: a click on a tracked link, answered with a redirect. */
  REDIRECT("click"),
  /** The Segment-compatible API, {@code POST /v1/<type>}: the call's type names its events. */
  SEGMENT_TRACK("track"),
  SEGMENT_PAGE("page"),
  SEGMENT_SCREEN("screen"),
  SEGMENT_IDENTIFY("identify"),
  SEGMENT_GROUP("group"),
  SEGMENT_ALIAS("alias"),
  SEGMENT_BATCH("event");

  private final String defaultEventType;

  Endpoint(String defaultEventType) {
    this.defaultEventType = defaultEventType;
  }

  public String defaultEventType() {
    return defaultEventType;
  }

  /** True for endpoints whose body is a list of events. */
  public boolean isBatch() {
    return this == BATCH || this == SEGMENT_BATCH;
  }

  /** True for the Segment-compatible endpoints. */
  public boolean isSegment() {
    return name().startsWith("SEGMENT_");
  }
}
