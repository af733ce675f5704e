package io.trellis.ingress.spool;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The spool's disk budget: bytes of segment files plus bytes reserved by appends not yet written.
 * An append reserves its bytes before it is queued, so concurrent appends cannot overshoot.
 *
 * <p>Thread-safe (one atomic counter).
 */
final class DiskBudget {
  private final long maxBytes;
  private final AtomicLong used = new AtomicLong();

  DiskBudget(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** Reserves the bytes unless that would exceed the budget. */
  boolean tryReserve(long bytes) {
    while (true) {
      long now = used.get();
      if (now + bytes > maxBytes) {
        return false;
      }
      if (used.compareAndSet(now, now + bytes)) {
        return true;
      }
    }
  }

  /** Counts bytes that are on disk regardless of the budget (segment headers, recovered files). */
  void add(long bytes) {
    used.addAndGet(bytes);
  }

  void release(long bytes) {
    used.addAndGet(-bytes);
  }

  long used() {
    return used.get();
  }

  long max() {
    return maxBytes;
  }

  boolean full() {
    return used.get() >= maxBytes;
  }
}
