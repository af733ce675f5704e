package io.trellis.ingress.ops;

/** Whether the service can accept events now; a value, never an exception. */
public record Readiness(boolean ready, String reason) {}
