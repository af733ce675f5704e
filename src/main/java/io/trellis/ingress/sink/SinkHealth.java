package io.trellis.ingress.sink;

/** The result of a sink health check. */
public record SinkHealth(boolean healthy, String detail) {
  public static SinkHealth ok() {
    return new SinkHealth(true, "ok");
  }

  public static SinkHealth failed(String detail) {
    return new SinkHealth(false, detail);
  }
}
