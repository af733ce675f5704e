package io.trellis.ingress.http;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The memory held by request bodies, in total and per client address. A body takes its share as its
 * buffer grows and gives all of it back once its request is answered; a body that would pass either
 * budget is refused instead of buffered, so many slow or unauthenticated uploads together cannot
 * exhaust the heap. Thread-safe: shared by every event loop.
 */
final class BodyBudget {
  /** Why a body could not grow. */
  enum Refusal {
    TOTAL,
    CLIENT
  }

  private final long totalMax;
  private final long perClientMax;
  private final AtomicLong total = new AtomicLong();
  /* Only addresses holding memory are present: an entry goes when its count returns to 0. */
  private final ConcurrentHashMap<String, Long> perClient = new ConcurrentHashMap<>();

  BodyBudget(long totalMax, long perClientMax) {
    this.totalMax = totalMax;
    this.perClientMax = perClientMax;
  }

  long totalMax() {
    return totalMax;
  }

  long perClientMax() {
    return perClientMax;
  }

  /** Bytes held now by all bodies. */
  long held() {
    return total.get();
  }

  /** A share for one body from this client address; starts empty. */
  Lease lease(String client) {
    return new Lease(client);
  }

  /** One body's share. Used on one event loop; {@link #release} may be called more than once. */
  final class Lease {
    private final String client;
    private long held;
    private boolean released;

    private Lease(String client) {
      this.client = client;
    }

    /** Takes {@code bytes} more; null when granted, else which budget would be passed. */
    Refusal grow(long bytes) {
      if (released) {
        return Refusal.TOTAL;
      }
      if (total.addAndGet(bytes) > totalMax) {
        total.addAndGet(-bytes);
        return Refusal.TOTAL;
      }
      boolean[] granted = {false};
      perClient.compute(
          client,
          (k, v) -> {
            long now = v == null ? 0 : v;
            if (now + bytes > perClientMax) {
              return v;
            }
            granted[0] = true;
            return now + bytes;
          });
      if (!granted[0]) {
        total.addAndGet(-bytes);
        return Refusal.CLIENT;
      }
      held += bytes;
      return null;
    }

    /** Gives the whole share back. */
    void release() {
      if (released) {
        return;
      }
      released = true;
      if (held == 0) {
        return;
      }
      long h = held;
      total.addAndGet(-h);
      perClient.computeIfPresent(client, (k, v) -> v - h <= 0 ? null : v - h);
      held = 0;
    }
  }
}
