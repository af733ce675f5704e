package io.trellis.ingress.spool;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with jitter: attempt n waits a random time between half and all of {@code
 * min(max, initial * 2^n)}, so that retries of many nodes against one recovering store spread out.
 * Thread-safe (immutable).
 */
record Backoff(Duration initial, Duration max) {

  long delayMillis(int attempt) {
    long base = initial.toMillis();
    long cap = max.toMillis();
    long d = attempt >= 30 ? cap : Math.min(cap, base << attempt);
    long half = Math.max(1, d / 2);
    return half + ThreadLocalRandom.current().nextLong(half + 1);
  }
}
