package io.trellis.ingress.http;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.trellis.ingress.auth.KeyResolver;
import io.trellis.ingress.capture.EventCapture;
import io.trellis.ingress.limits.RateLimits;
import io.trellis.ingress.spool.Spool;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.Http2Settings;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The public capture port: one HTTP server per event loop, all on the same port, sharing one {@link
 * CaptureHandler}. Speaks HTTP/1.0, HTTP/1.1 (with pipelining) and HTTP/2 in clear text (prior
 * knowledge or upgrade). Requests the HTTP decoder refuses (too long a request line, too large
 * headers, malformed) get the same JSON errors as every other refusal.
 */
public final class IngressServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(IngressServer.class);

  private final HttpConfig config;
  private final ClientConfig clients;
  private final CaptureHandler handler;
  private final CapacityConfig capacity;
  private final ConnectionLimiter connections;
  private final MeterRegistry registry;

  /** How long in-flight requests may take to finish when the server stops. */
  private static final long SHUTDOWN_SECONDS = 10;

  private final List<HttpServer> servers = new CopyOnWriteArrayList<>();
  private Vertx vertx;
  private int port;

  public IngressServer(
      HttpConfig config,
      ClientConfig clients,
      KeyResolver keys,
      EventCapture capture,
      Spool spool,
      RateLimits limits,
      CapacityConfig capacity,
      MeterRegistry registry) {
    this.config = requireNonNull(config, "config is null");
    this.clients = requireNonNull(clients, "clients is null");
    this.capacity = requireNonNull(capacity, "capacity is null");
    this.registry = requireNonNull(registry, "registry is null");
    this.connections =
        new ConnectionLimiter(
            capacity.connectionsMax(),
            capacity.connectionsPerClient(),
            address -> address != null && capture.trustsPeer(address.getHostAddress()));
    BodyBudget budget = new BodyBudget(capacity.bodyMemoryMax(), capacity.bodyMemoryPerClient());
    registry.gauge("trellis.http.connections.open", connections, ConnectionLimiter::open);
    registry.gauge("trellis.http.body.memory.bytes", budget, BodyBudget::held);
    this.handler =
        new CaptureHandler(
            config,
            clients,
            keys,
            capture,
            spool,
            limits,
            new HttpMetrics(registry),
            capacity,
            budget);
  }

  /** Binds the port and returns it (the chosen one when the configured port is 0). */
  public int start() throws Exception {
    port = config.port() == 0 ? freePort(config.host()) : config.port();
    long timeoutMillis = clients.requestTimeout().toMillis();
    HttpServerOptions options =
        new HttpServerOptions()
            .setHost(config.host())
            .setPort(port)
            .setMaxInitialLineLength(config.maxUrlBytes())
            .setMaxHeaderSize(config.maxHeaderBytes())
            .setHttp2ClearTextEnabled(true)
            .setInitialSettings(
                new Http2Settings()
                    .setMaxHeaderListSize(config.maxHeaderBytes())
                    .setMaxConcurrentStreams(config.streamsPerConnection()))
            .setIdleTimeout((int) Math.max(1, clients.requestTimeout().toSeconds()))
            .setIdleTimeoutUnit(TimeUnit.SECONDS)
            .setTcpNoDelay(true)
            // No WebSocket endpoint exists: without the compression extensions Vert.x leaves
            // their handler, which inspects every request and answer, out of the pipeline.
            .setPerFrameWebSocketCompressionSupported(false)
            .setPerMessageWebSocketCompressionSupported(false);
    Counter refusedTotal =
        registry.counter("trellis.http.connections.refused", "reason", "connections_max");
    Counter refusedClient =
        registry.counter("trellis.http.connections.refused", "reason", "connections_per_client");
    vertx =
        Vertx.builder()
            .with(new VertxOptions().setEventLoopPoolSize(config.eventLoops()))
            .withTransport(
                new LimitedNioTransport(
                    connections,
                    r ->
                        (r == ConnectionLimiter.Refusal.CLIENT ? refusedClient : refusedTotal)
                            .increment(),
                    options))
            .build();
    vertx
        .deployVerticle(
            () ->
                new AbstractVerticle() {
                  @Override
                  public void start(Promise<Void> started) {
                    ConnectionDeadlines deadlines = new ConnectionDeadlines(timeoutMillis);
                    deadlines.start(vertx);
                    HttpServer server =
                        vertx
                            .createHttpServer(options)
                            .requestHandler(req -> handler.handle(req, deadlines))
                            .invalidRequestHandler(req -> invalidRequest(req, deadlines));
                    servers.add(server);
                    server.listen().<Void>mapEmpty().onComplete(started);
                  }
                },
            new DeploymentOptions().setInstances(config.eventLoops()))
        .toCompletionStage()
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
    log.atInfo()
        .addKeyValue("host", config.host())
        .addKeyValue("port", port)
        .log("Capture port listening on {}:{}", config.host(), port);
    log.info(
        "Capture port limits: {} connections ({} per client address), {} of request bodies in"
            + " memory ({} per client address), refused bodies read for up to {} / {}",
        capacity.connectionsMax(),
        capacity.connectionsPerClient(),
        io.trellis.ingress.config.Sizes.format(capacity.bodyMemoryMax()),
        io.trellis.ingress.config.Sizes.format(capacity.bodyMemoryPerClient()),
        io.trellis.ingress.config.Durations.format(capacity.lingerTime()),
        io.trellis.ingress.config.Sizes.format(capacity.lingerMaxBytes()));
    return port;
  }

  /**
   * A request the HTTP decoder could not read: answered in JSON, then the connection closes. Bytes
   * after a request that ends its connection (the rest of a body whose length could not be known)
   * get no answer: a proxy in front expects one answer to its one request.
   */
  private static void invalidRequest(HttpServerRequest req, ConnectionDeadlines deadlines) {
    if (deadlines.isClosing(req.connection())) {
      req.connection().close();
      return;
    }
    Throwable cause = req.decoderResult() == null ? null : req.decoderResult().cause();
    HttpError error;
    if (cause instanceof TooLongHttpLineException) {
      error =
          new HttpError(
              414, "uri_too_long", "the request line exceeds the limit; send less in the URL");
    } else if (cause instanceof TooLongHttpHeaderException) {
      error = new HttpError(431, "headers_too_large", "the request headers exceed the size limit");
    } else if (cause instanceof StrictFraming.UnsupportedVersion) {
      error =
          new HttpError(
              505, "http_version_not_supported", "this server speaks HTTP/1.0, HTTP/1.1 and h2c");
    } else {
      // Netty refuses a Transfer-Encoding it cannot frame by (RFC 9112 §6.1); the answer says why.
      HttpError coding = CaptureHandler.transferCodingError(req);
      error = coding != null ? coding : HttpError.badRequest("malformed HTTP request");
    }
    Responses.errorAndClose(req.response(), error).onComplete(ar -> req.connection().close());
  }

  public int port() {
    return port;
  }

  /** Stops accepting connections and lets in-flight requests finish. */
  @Override
  public void close() {
    if (vertx != null) {
      try {
        Future.all(
                servers.stream().map(s -> s.shutdown(SHUTDOWN_SECONDS, TimeUnit.SECONDS)).toList())
            .toCompletionStage()
            .toCompletableFuture()
            .get(SHUTDOWN_SECONDS + 5, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.warn("In-flight requests did not finish cleanly: {}", e.toString());
      }
      try {
        vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.warn("HTTP server did not close cleanly: {}", e.toString());
      }
      vertx = null;
    }
  }

  private static int freePort(String host) throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(host))) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    }
  }
}
