package io.trellis.ingress.capture;

/** The capture endpoints, with the event type each gives an event that names none. */
public enum Endpoint {
  EVENTS("event"),
  TRACK("track"),
  PIXEL("pixel"),
  BATCH("event");

  private final String defaultEventType;

  Endpoint(String defaultEventType) {
    this.defaultEventType = defaultEventType;
  }

  public String defaultEventType() {
    return defaultEventType;
  }
}
