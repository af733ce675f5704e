package io.trellis.ingress.live;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.base.JsonText;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.HostAndPort;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The live view's HTTP side, on the admin port: {@code GET /live} is the page, {@code GET
 * /live/events} the stream of acknowledged events as Server-Sent Events ({@code event} frames with
 * the stored record as data, {@code dropped} frames with the count of events this viewer missed).
 * Each stream is pumped from its viewer's queue by a timer on the admin event loop, writing only
 * while the connection accepts: a viewer that does not read fills its own bounded queue, never the
 * service's memory, and is disconnected after {@code live.stalled-viewer-timeout}.
 */
public final class LiveView implements Handler<HttpServerRequest> {
  private static final long PUMP_MILLIS = 100;
  private static final long KEEP_ALIVE_NANOS = TimeUnit.SECONDS.toNanos(15);
  /* What one pump writes at most, and what Vert.x may hold for the connection beyond it. */
  private static final int WRITE_BYTES = 128 * 1024;

  private final LiveHub hub;
  private final Set<String> hosts;
  private final String adminHost;
  private final byte[] page;

  public LiveView(LiveHub hub, String adminHost) {
    this.hub = requireNonNull(hub, "hub is null");
    this.hosts =
        Set.copyOf(
            hub.config().allowedHosts().stream()
                .map(h -> h.toLowerCase(Locale.ROOT))
                .collect(java.util.stream.Collectors.toSet()));
    this.adminHost = requireNonNull(adminHost, "adminHost is null").toLowerCase(Locale.ROOT);
    this.page = resource("/live/live.html");
  }

  /** True for the paths this view answers. */
  public static boolean handles(String path) {
    return path.equals("/live") || path.startsWith("/live/");
  }

  @Override
  public void handle(HttpServerRequest req) {
    if (!hostAllowed(req)) {
      error(
          req,
          403,
          "host_not_allowed",
          "the live view answers to IP addresses, localhost, admin.host and live.allowed-hosts");
      return;
    }
    if (req.method() != HttpMethod.GET && req.method() != HttpMethod.HEAD) {
      req.response().putHeader("Allow", "GET, HEAD");
      error(req, 405, "method_not_allowed", "use GET");
      return;
    }
    switch (req.path()) {
      case "/live", "/live/" ->
          req.response()
              .putHeader("Content-Type", "text/html; charset=utf-8")
              .putHeader("Cache-Control", "no-store")
              .putHeader(
                  "Content-Security-Policy",
                  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline';"
                      + " connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")
              .putHeader("X-Content-Type-Options", "nosniff")
              .putHeader("Referrer-Policy", "no-referrer")
              .end(Buffer.buffer(page));
      case "/live/events" -> stream(req);
      default -> error(req, 404, "not_found", "no such path; the live view is /live");
    }
  }

  private void stream(HttpServerRequest req) {
    LiveFilter filter = LiveFilter.from(req::getParam);
    LiveViewer viewer = hub.join(filter);
    if (viewer == null) {
      req.response().putHeader("Retry-After", "10");
      error(
          req,
          503,
          "too_many_viewers",
          "the live view has "
              + hub.config().maxViewers()
              + " viewers already (live.max-viewers); close one or try again later");
      return;
    }
    HttpServerResponse res = req.response();
    res.setChunked(true)
        .setWriteQueueMaxSize(WRITE_BYTES)
        .putHeader("Content-Type", "text/event-stream; charset=utf-8")
        .putHeader("Cache-Control", "no-store")
        .putHeader("X-Accel-Buffering", "no");
    StringBuilder hello = new StringBuilder("retry: 2000\nevent: hello\ndata: {\"max_viewers\":");
    hello.append(hub.config().maxViewers()).append(",\"filter\":{\"org\":");
    JsonText.quote(hello, filter.organization()).append(",\"type\":");
    JsonText.quote(hello, filter.eventType()).append(",\"endpoint\":");
    JsonText.quote(hello, filter.endpoint()).append(",\"q\":");
    JsonText.quote(hello, filter.text()).append("}}\n\n");
    res.write(hello.toString());
    Vertx vertx = Vertx.currentContext().owner();
    Pump pump = new Pump(viewer, res, hub.config().stalledViewerTimeout().toNanos());
    long timer = vertx.setPeriodic(PUMP_MILLIS, id -> pump.run());
    Handler<Void> gone =
        v -> {
          vertx.cancelTimer(timer);
          hub.leave(viewer);
        };
    res.closeHandler(gone);
    res.exceptionHandler(e -> gone.handle(null));
  }

  /** Moves a viewer's queued frames to its connection, on the event loop. */
  private static final class Pump {
    private final LiveViewer viewer;
    private final HttpServerResponse res;
    private final long stalledNanos;
    private long lastAccepted = System.nanoTime();
    private long lastWrite = System.nanoTime();

    Pump(LiveViewer viewer, HttpServerResponse res, long stalledNanos) {
      this.viewer = viewer;
      this.res = res;
      this.stalledNanos = stalledNanos;
    }

    void run() {
      if (res.closed() || res.ended()) {
        return;
      }
      long now = System.nanoTime();
      // Counted by the write futures, which complete once the bytes are in the socket: this
      // bounds what one connection holds whatever the framework's own write queue does.
      if (viewer.writingBytes() >= WRITE_BYTES || res.writeQueueFull()) {
        if (now - lastAccepted > stalledNanos) {
          // The connection took nothing for the whole timeout: free the slot for someone else.
          res.reset();
        }
        return;
      }
      lastAccepted = now;
      Buffer out = Buffer.buffer();
      viewer.drainTo(out, WRITE_BYTES);
      if (out.length() == 0 && now - lastWrite > KEEP_ALIVE_NANOS) {
        out.appendString(": keep-alive\n\n");
      }
      if (out.length() > 0) {
        lastWrite = now;
        int n = out.length();
        viewer.writing(n);
        res.write(out).onComplete(r -> viewer.writing(-n));
      }
    }
  }

  private boolean hostAllowed(HttpServerRequest req) {
    HostAndPort authority;
    try {
      authority = req.authority();
    } catch (RuntimeException e) {
      // Vert.x 5.0 throws for some hosts the URI syntax allows (a%41): not one of ours.
      return false;
    }
    if (authority == null) {
      return true; // HTTP/1.0 without Host: not a browser, so not a rebinding page
    }
    String host = authority.host().toLowerCase(Locale.ROOT);
    if (host.startsWith("[") || host.indexOf(':') >= 0) {
      return true; // IPv6 literal
    }
    if (host.matches("[0-9.]+")) {
      return true;
    }
    return host.equals("localhost") || host.equals(adminHost) || hosts.contains(host);
  }

  private static void error(HttpServerRequest req, int status, String code, String message) {
    StringBuilder sb = new StringBuilder("{\"status\":\"error\",\"error\":");
    JsonText.quote(sb, code).append(",\"message\":");
    JsonText.quote(sb, message).append('}');
    req.response()
        .setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .putHeader("Cache-Control", "no-store")
        .end(sb.toString());
  }

  private static byte[] resource(String name) {
    try (InputStream in = LiveView.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("resource " + name + " is missing from the build");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
