package io.trellis.ingress.http;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import java.util.Iterator;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Closes connections that do not deliver a complete request in time: a connection must start a
 * request within the request timeout of opening or of its previous answer. The socket idle timeout
 * alone cannot do this, since a client sending one header byte a second is never idle. (A request
 * whose headers arrived is bounded by {@link BodyReader}'s deadline instead.)
 *
 * <p>One instance per HTTP server, used only on that server's event loop: not thread-safe.
 */
final class ConnectionDeadlines {
  private static final class State {
    int inFlight;
    long idleSince;

    State(long now) {
      this.idleSince = now;
    }
  }

  private final Map<HttpConnection, State> connections = new WeakHashMap<>();
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

  /** A request's headers arrived; the connection is busy until its answer is sent. */
  void requestStarted(HttpServerRequest req) {
    HttpConnection conn = req.connection();
    State s = connections.get(conn);
    if (s == null) {
      s = new State(System.nanoTime());
      connections.put(conn, s);
    }
    State state = s;
    state.inFlight++;
    boolean[] done = {false};
    Runnable finished =
        () -> {
          if (!done[0]) {
            done[0] = true;
            state.inFlight--;
            state.idleSince = System.nanoTime();
          }
        };
    req.response().closeHandler(v -> finished.run()).endHandler(v -> finished.run());
  }

  private void sweep() {
    long now = System.nanoTime();
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
