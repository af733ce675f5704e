package io.trellis.ingress.limits;

/**
 * A token bucket: holds up to {@code capacity} tokens, refilled at {@code perSecond}. Takes may
 * drive it below zero (debt), so a request larger than the bucket can pass when the bucket is full
 * and is then paid back before anything else passes; and failures recorded after the fact by many
 * concurrent requests all count.
 *
 * <p>Thread-safe (synchronized; one bucket is touched by one organization or client address).
 */
final class TokenBucket {
  private final double perNano;
  private final double capacity;
  private double tokens;
  private long last;

  TokenBucket(double perSecond, double capacity, long now) {
    if (perSecond <= 0 || capacity < 1) {
      throw new IllegalArgumentException("rate must be > 0 and capacity >= 1");
    }
    this.perNano = perSecond / 1e9;
    this.capacity = capacity;
    this.tokens = capacity;
    this.last = now;
  }

  /**
   * Takes {@code n} tokens when at least {@code min(n, capacity)} are there and returns 0;
   * otherwise takes nothing and returns the nanoseconds until that many will be.
   */
  synchronized long tryTake(double n, long now) {
    long wait = nanosUntil(Math.min(n, capacity), now);
    if (wait == 0) {
      tokens -= n;
    }
    return wait;
  }

  /** Nanoseconds until {@code n} (at most capacity) tokens are there; 0 when they are now. */
  synchronized long nanosUntil(double n, long now) {
    refill(now);
    double need = Math.min(n, capacity);
    return tokens >= need ? 0 : (long) Math.ceil((need - tokens) / perNano);
  }

  /** Takes {@code n} tokens unconditionally, going into debt if need be. */
  synchronized void take(double n, long now) {
    refill(now);
    tokens -= n;
  }

  /** Returns {@code n} tokens taken earlier (up to the capacity). */
  synchronized void give(double n, long now) {
    refill(now);
    tokens = Math.min(capacity, tokens + n);
  }

  private void refill(long now) {
    long elapsed = now - last;
    if (elapsed > 0) {
      tokens = Math.min(capacity, tokens + elapsed * perNano);
      last = now;
    }
  }

  @Override
  public synchronized String toString() {
    return "TokenBucket{tokens=" + tokens + ", capacity=" + capacity + "}";
  }
}
