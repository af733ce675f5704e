package io.trellis.ingress.spool;

/** Whether the spool accepts appends now, and why not. */
public record SpoolReadiness(boolean ready, String reason) {
  public static SpoolReadiness ok() {
    return new SpoolReadiness(true, "ok");
  }

  public static SpoolReadiness notReady(String reason) {
    return new SpoolReadiness(false, reason);
  }
}
