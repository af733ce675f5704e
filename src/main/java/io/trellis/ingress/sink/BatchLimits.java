package io.trellis.ingress.sink;

import java.time.Duration;

/**
 * When a sink batch closes: at {@code maxRows} events, {@code maxBytes} encoded bytes, or when its
 * first event has waited {@code maxAge}, whichever comes first.
 */
public record BatchLimits(int maxRows, long maxBytes, Duration maxAge) {
  public BatchLimits {
    if (maxRows < 1 || maxBytes < 1 || maxAge.isNegative()) {
      throw new IllegalArgumentException("batch limits must be positive");
    }
  }
}
