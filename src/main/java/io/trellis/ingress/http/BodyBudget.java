package io.trellis.ingress.http;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The memory held by request bodies, in total and per client address. A body takes its share as its
 * buffer grows and gives all of it back once its request is answered; a body that would pass either
 * budget is refused instead of buffered, so many slow or unauthenticated uploads together cannot
 * exhaust the heap. An HTTP/2 stream takes a share for itself and its headers from the moment they
 * arrive: one connection holds up to a hundred requests at once. Thread-safe: shared by every event
 * loop.
 *
 * <p>Every request takes and gives back a share, from both event loops at once when one address (a
 * proxy, a NAT) sends most of the traffic: the per-address counts are compare-and-set counters
 * looked up without a lock, not entries updated under the map's bin lock.
 */
final class BodyBudget {
  /** Why a body could not grow. */
  enum Refusal {
    TOTAL,
    CLIENT
  }

  /* A counter that fell to 0 and is being removed: whoever finds it helps remove it and retries. */
  private static final long GONE = Long.MIN_VALUE;

  private final long totalMax;
  private final long perClientMax;
  private final AtomicLong total = new AtomicLong();
  /* Only addresses holding memory are present: a counter goes when it returns to 0. */
  private final ConcurrentHashMap<String, AtomicLong> perClient = new ConcurrentHashMap<>();

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

  /** Addresses holding memory now. */
  int clients() {
    return perClient.size();
  }

  /** A share for one body from this client address; starts empty. */
  Lease lease(String client) {
    return new Lease(client);
  }

  /**
   * A share counted towards the total only: for what a trusted proxy holds on behalf of its many
   * clients, which no one address's budget describes.
   */
  Lease leaseOfTotal() {
    return new Lease(null);
  }

  /**
   * Adds {@code bytes} to the address's count unless that passes the per-address budget; the
   * counter added to, or null when refused. A counter is never taken once it reached {@link #GONE},
   * so a count that went back to 0 and left the map is never added to again.
   */
  private AtomicLong take(String client, long bytes) {
    while (true) {
      AtomicLong c = perClient.get(client);
      if (c == null) {
        if (bytes > perClientMax) {
          return null;
        }
        AtomicLong fresh = new AtomicLong(bytes);
        if (perClient.putIfAbsent(client, fresh) == null) {
          return fresh;
        }
        continue;
      }
      long now = c.get();
      if (now == GONE) {
        perClient.remove(client, c);
        continue;
      }
      if (now + bytes > perClientMax) {
        return null;
      }
      if (c.compareAndSet(now, now + bytes)) {
        return c;
      }
    }
  }

  /** Gives {@code bytes} back to a counter; the last bytes out remove it. */
  private void give(String client, AtomicLong c, long bytes) {
    if (c.addAndGet(-bytes) == 0 && c.compareAndSet(0, GONE)) {
      perClient.remove(client, c);
    }
  }

  /** One body's share. Used on one event loop; {@link #release} may be called more than once. */
  final class Lease {
    private final String client;
    /* The address's counter while this lease holds bytes: it cannot fall to 0 meanwhile. */
    private AtomicLong counter;
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
      if (bytes <= 0) {
        return null;
      }
      if (total.addAndGet(bytes) > totalMax) {
        total.addAndGet(-bytes);
        return Refusal.TOTAL;
      }
      if (client != null) {
        AtomicLong c = take(client, bytes);
        if (c == null) {
          total.addAndGet(-bytes);
          return Refusal.CLIENT;
        }
        counter = c;
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
      if (client != null) {
        give(client, counter, h);
      }
      counter = null;
      held = 0;
    }
  }
}
