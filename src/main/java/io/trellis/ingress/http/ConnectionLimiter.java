package io.trellis.ingress.http;

import static java.util.Objects.requireNonNull;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Counts the capture port's open connections, in total and per client address, and says whether one
 * more may open. Every connection holds a file descriptor: without a cap, thousands of idle
 * connections from one stranger take the descriptors the spool needs for its next segment. An IPv6
 * client is counted by its /64, the block one subscriber usually holds. A trusted proxy ({@code
 * capture.trusted-proxies}) carries many clients' connections, so it has no share of its own: its
 * connections count towards the total only. Thread-safe: the acceptor thread admits, any event loop
 * releases.
 */
final class ConnectionLimiter {
  /** Why a connection was refused. */
  enum Refusal {
    TOTAL,
    CLIENT
  }

  private final int totalMax;
  private final int perClientMax;
  private final Predicate<InetAddress> proxy;
  private final AtomicInteger open = new AtomicInteger();
  /* Only addresses with open connections are present. */
  private final ConcurrentHashMap<String, Integer> perClient = new ConcurrentHashMap<>();

  /**
   * @param proxy whether an address is a trusted proxy, whose connections have no per-client cap
   */
  ConnectionLimiter(int totalMax, int perClientMax, Predicate<InetAddress> proxy) {
    this.totalMax = totalMax;
    this.perClientMax = perClientMax;
    this.proxy = requireNonNull(proxy, "proxy is null");
  }

  int open() {
    return open.get();
  }

  int totalMax() {
    return totalMax;
  }

  int perClientMax() {
    return perClientMax;
  }

  /** Takes a place for a connection from this address; null when granted, else the reason. */
  Refusal admit(InetAddress address) {
    if (open.incrementAndGet() > totalMax) {
      open.decrementAndGet();
      return Refusal.TOTAL;
    }
    if (proxy.test(address)) {
      return null;
    }
    boolean[] granted = {false};
    perClient.compute(
        clientKey(address),
        (k, v) -> {
          int now = v == null ? 0 : v;
          if (now >= perClientMax) {
            return v;
          }
          granted[0] = true;
          return now + 1;
        });
    if (!granted[0]) {
      open.decrementAndGet();
      return Refusal.CLIENT;
    }
    return null;
  }

  /** Gives back the place of a connection admitted from this address; call once per admission. */
  void release(InetAddress address) {
    open.decrementAndGet();
    if (proxy.test(address)) {
      return;
    }
    perClient.computeIfPresent(clientKey(address), (k, v) -> v <= 1 ? null : v - 1);
  }

  /** The address, or for IPv6 its /64 prefix. */
  static String clientKey(InetAddress address) {
    if (address == null) {
      return "";
    }
    if (address instanceof Inet6Address) {
      return Arrays.toString(Arrays.copyOf(address.getAddress(), 8)) + "/64";
    }
    return address.getHostAddress();
  }
}
