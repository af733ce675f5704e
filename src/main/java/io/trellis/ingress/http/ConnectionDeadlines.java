package io.trellis.ingress.http;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * Answers request bodies that do not arrive in time: a request whose headers arrived is bounded by
 * its body's deadline ({@link #bodyStarted}), checked by a periodic sweep (a timer per request cost
 * a scheduled task and a timer-map entry, created and cancelled for every event). Deadlines fire up
 * to one sweep period late. A body sent a byte at a time keeps a connection from ever being idle,
 * so the server's idle timeout cannot end it; a connection that is idle, or that trickles the bytes
 * of its headers (the idle timeout sees only whole decoded messages), is closed by that idle
 * timeout, not here. Also remembers the connections that close after their current answer.
 *
 * <p>One instance per HTTP server, used only on that server's event loop: not thread-safe.
 */
final class ConnectionDeadlines {
  /** A request body being read; {@link #finished()} once it is complete or refused. */
  static final class Body {
    private final long dueNanos;
    /* Dropped once finished: a finished body stays listed until the next sweep, its request not. */
    private Runnable onTimeout;
    private boolean done;

    private Body(long dueNanos, Runnable onTimeout) {
      this.dueNanos = dueNanos;
      this.onTimeout = onTimeout;
    }

    /** The body no longer needs its deadline; true if it had not passed or finished before. */
    boolean finished() {
      boolean was = done;
      done = true;
      onTimeout = null;
      return !was;
    }

    boolean isFinished() {
      return done;
    }
  }

  /* Connections whose current answer ends them; weak, so a closed connection leaves by itself. */
  private final Set<HttpConnection> closing = Collections.newSetFromMap(new WeakHashMap<>());
  private final List<Body> bodies = new ArrayList<>();
  private final List<Body> expired = new ArrayList<>();
  private final long timeoutNanos;

  ConnectionDeadlines(long timeoutMillis) {
    this.timeoutNanos = timeoutMillis * 1_000_000L;
  }

  /** Checks the bodies periodically on the calling context's event loop. */
  void start(Vertx vertx) {
    long period = Math.max(50, Math.min(1000, timeoutNanos / 4_000_000L));
    vertx.setPeriodic(period, id -> sweep());
  }

  /** The connection closes after its current answer; requests read after it are not handled. */
  void markClosing(HttpConnection conn) {
    closing.add(conn);
  }

  /** True when a request on this connection was answered with its closing. */
  boolean isClosing(HttpConnection conn) {
    return closing.contains(conn);
  }

  /**
   * Starts the deadline of a request body: unless {@link Body#finished()} is called first, {@code
   * onTimeout} runs on this event loop once {@code timeoutMillis} have passed.
   */
  Body bodyStarted(long timeoutMillis, Runnable onTimeout) {
    Body b = new Body(System.nanoTime() + timeoutMillis * 1_000_000L, onTimeout);
    bodies.add(b);
    return b;
  }

  /** Bodies whose deadline is still being watched. */
  int watchedBodies() {
    return bodies.size();
  }

  /** Answers late bodies; runs periodically. */
  private void sweep() {
    sweep(System.nanoTime());
  }

  /** The sweep as of {@code now} ({@link System#nanoTime()} time); exposed for tests. */
  void sweep(long now) {
    bodies.removeIf(
        b -> {
          boolean late = !b.done && now - b.dueNanos >= 0;
          if (late) {
            expired.add(b);
          }
          return b.done || late;
        });
    // Run after the list is consistent: a timeout answers and closes, which may start callbacks.
    for (Body b : expired) {
      Runnable action = b.onTimeout;
      if (b.finished()) {
        action.run();
      }
    }
    expired.clear();
  }
}
