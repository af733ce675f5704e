package io.trellis.ingress.http;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Closes connections that do not deliver a complete request in time: a connection must start a
 * request within the request timeout of opening or of its previous answer. The socket idle timeout
 * alone cannot do this, since a client sending one header byte a second is never idle. A request
 * whose headers arrived is bounded by its body's deadline ({@link #bodyStarted}), checked by the
 * same periodic sweep: a timer per request cost a scheduled task and a timer-map entry, created and
 * cancelled for every event. Deadlines fire up to one sweep period late.
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

  private static final class State {
    int inFlight;
    long idleSince;
    /* The connection is to close after its current answer: no further request is handled. */
    boolean closing;

    State(long now) {
      this.idleSince = now;
    }
  }

  private final Map<HttpConnection, State> connections = new WeakHashMap<>();
  private final List<Body> bodies = new ArrayList<>();
  private final List<Body> expired = new ArrayList<>();
  private final long timeoutNanos;

  ConnectionDeadlines(long timeoutMillis) {
    this.timeoutNanos = timeoutMillis * 1_000_000L;
  }

  /** Checks every connection periodically on the calling context's event loop. */
  void start(Vertx vertx) {
    long period = Math.max(50, Math.min(1000, timeoutNanos / 4_000_000L));
    vertx.setPeriodic(period, id -> sweep());
  }

  void opened(HttpConnection conn) {
    connections.put(conn, new State(System.nanoTime()));
    conn.closeHandler(v -> connections.remove(conn));
  }

  /**
   * A request's headers arrived; the connection is busy until the returned action runs, which the
   * caller runs once the answer is sent or the connection closed (more than once is harmless).
   */
  Runnable requestStarted(HttpServerRequest req) {
    State state = state(req.connection());
    state.inFlight++;
    boolean[] done = {false};
    return () -> {
      if (!done[0]) {
        done[0] = true;
        state.inFlight--;
        state.idleSince = System.nanoTime();
      }
    };
  }

  private State state(HttpConnection conn) {
    State s = connections.get(conn);
    if (s == null) {
      s = new State(System.nanoTime());
      connections.put(conn, s);
    }
    return s;
  }

  /** The connection closes after its current answer; requests read after it are not handled. */
  void markClosing(HttpConnection conn) {
    state(conn).closing = true;
  }

  /** True when a request on this connection was answered with its closing. */
  boolean isClosing(HttpConnection conn) {
    State s = connections.get(conn);
    return s != null && s.closing;
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

  /** Closes idle connections and answers late bodies; runs periodically. */
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
    Iterator<Map.Entry<HttpConnection, State>> it = connections.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<HttpConnection, State> e = it.next();
      State s = e.getValue();
      if (s.inFlight == 0 && now - s.idleSince > timeoutNanos) {
        it.remove();
        e.getKey().close();
      }
    }
  }
}
