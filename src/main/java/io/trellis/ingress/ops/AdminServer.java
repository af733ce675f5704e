package io.trellis.ingress.ops;

import static java.util.Objects.requireNonNull;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.trellis.ingress.base.JsonText;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin port, separate from the capture port so that it can stay private: {@code /metrics}
 * (Prometheus text format), {@code /healthz} (the process is alive) and {@code /readyz} (ready to
 * accept events; 503 with the reason otherwise), and the live event view when it is on.
 */
public final class AdminServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

  private final OpsConfig config;
  private final PrometheusMeterRegistry registry;
  private final Supplier<Readiness> readiness;
  private final Handler<HttpServerRequest> live;
  private Vertx vertx;
  private int port;

  public AdminServer(
      OpsConfig config, PrometheusMeterRegistry registry, Supplier<Readiness> readiness) {
    this(config, registry, readiness, null);
  }

  /** With {@code live} answering {@code /live} and {@code /live/...} (null: not served). */
  public AdminServer(
      OpsConfig config,
      PrometheusMeterRegistry registry,
      Supplier<Readiness> readiness,
      Handler<HttpServerRequest> live) {
    this.config = requireNonNull(config, "config is null");
    this.registry = requireNonNull(registry, "registry is null");
    this.readiness = requireNonNull(readiness, "readiness is null");
    this.live = live;
  }

  public int start() throws Exception {
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
    HttpServer server =
        vertx
            .createHttpServer(
                new HttpServerOptions().setHost(config.adminHost()).setPort(config.adminPort()))
            .requestHandler(this::handle);
    port =
        server
            .listen()
            .toCompletionStage()
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS)
            .actualPort();
    log.atInfo()
        .addKeyValue("host", config.adminHost())
        .addKeyValue("port", port)
        .log("Admin port listening on {}:{}", config.adminHost(), port);
    return port;
  }

  public int port() {
    return port;
  }

  private void handle(HttpServerRequest req) {
    String path = req.path();
    if (live != null && (path.equals("/live") || path.startsWith("/live/"))) {
      live.handle(req);
      return;
    }
    switch (path) {
      case "/metrics" ->
          vertx
              .executeBlocking(registry::scrape)
              .onSuccess(
                  text ->
                      req.response()
                          .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                          .end(text))
              .onFailure(e -> req.response().setStatusCode(500).end(e.toString()));
      case "/healthz" -> json(req, 200, "{\"status\":\"ok\"}");
      case "/readyz" -> {
        Readiness r = readiness.get();
        StringBuilder sb = new StringBuilder("{\"status\":");
        JsonText.quote(sb, r.ready() ? "ready" : "not_ready").append(",\"reason\":");
        JsonText.quote(sb, r.reason()).append('}');
        json(req, r.ready() ? 200 : 503, sb.toString());
      }
      default -> json(req, 404, "{\"status\":\"error\",\"error\":\"not_found\"}");
    }
  }

  private static void json(HttpServerRequest req, int status, String body) {
    req.response()
        .setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .putHeader("Cache-Control", "no-store")
        .end(body);
  }

  @Override
  public void close() {
    if (vertx != null) {
      try {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.warn("Admin server did not close cleanly: {}", e.toString());
      }
      vertx = null;
    }
  }
}
