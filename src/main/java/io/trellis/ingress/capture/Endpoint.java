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
  SEGMENT_BATCH("event"),
  /**
   * PostHog's capture API ({@code /e/}, {@code /i/v0/e/}, {@code /batch/}, {@code /capture/}): one
   * event, an array, or {@code {"api_key":…,"batch":[…]}}; the event's {@code event} names it.
   */
  POSTHOG("event"),
  /**
   * Snowplow's tracker protocol, {@code POST …/com.snowplowanalytics.snowplow/tp2}: the {@code
   * data} array of a {@code payload_data} envelope, one event each; {@code e} names them.
   */
  SNOWPLOW("event"),
  /** Snowplow's pixel, {@code GET …/i}: one event in the query parameters. */
  SNOWPLOW_PIXEL("event");

  private final String defaultEventType;

  Endpoint(String defaultEventType) {
    this.defaultEventType = defaultEventType;
  }

  public String defaultEventType() {
    return defaultEventType;
  }

  /** True for endpoints whose body is a list of events. */
  public boolean isBatch() {
    return this == BATCH || this == SEGMENT_BATCH || this == POSTHOG || this == SNOWPLOW;
  }

  /** The field of a JSON object body that holds its events. */
  public String batchField() {
    return this == SNOWPLOW ? "data" : "batch";
  }

  /** True for the Segment-compatible endpoints. */
  public boolean isSegment() {
    return name().startsWith("SEGMENT_");
  }

  /** True for the Snowplow tracker protocol's endpoints. */
  public boolean isSnowplow() {
    return this == SNOWPLOW || this == SNOWPLOW_PIXEL;
  }
}
