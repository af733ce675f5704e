package io.trellis.ingress.bench;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.trellis.ingress.cli.ServiceSettings;
import io.trellis.ingress.event.SpooledEvent;
import io.trellis.ingress.http.LoopAppends;
import io.trellis.ingress.http.TransparentGif;
import io.trellis.ingress.sink.Sink;
import io.trellis.ingress.sink.SinkBatch;
import io.trellis.ingress.spool.DiskSpool;
import io.trellis.ingress.spool.SpoolConfig;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The ceiling of the HTTP stack on this machine: the same Vert.x version, server options and
 * threading as the capture port, reading the whole request body the same way, and answering 200
 * without doing anything with it (the GIF for {@code /pixel}, a small JSON body otherwise). The
 * bench compares every capture figure against this server measured in the same run.
 *
 * <p>With a spool directory it is the floor of a durable answer instead: each request appends the
 * records the service would write for the bench's request of that path (made once at start by the
 * service's own capture, so the sizes are the same), through the service's spool with its default
 * settings (group commit, {@code fdatasync}), and is answered when its group is durable, on its
 * event loop through the capture port's own {@link LoopAppends}. The spool's one sink reads and
 * discards, so segments are consumed and their files reused as in the service. What the service
 * does beyond this server is capture, enrichment and its sinks.
 *
 * <pre>
 *   java -cp ... io.trellis.ingress.bench.BareVertxServer PORT [EVENT_LOOPS [SPOOL_DIR [spool.KEY=VALUE...]]]
 * </pre>
 */
public final class BareVertxServer {
  private static final Buffer OK = Buffer.buffer("{\"status\":\"ok\"}");
  private static final Buffer GIF = Buffer.buffer(TransparentGif.bytes());

  private BareVertxServer() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println(
          "usage: BareVertxServer PORT [EVENT_LOOPS [SPOOL_DIR [spool.KEY=VALUE...]]]");
      System.exit(2);
    }
    int port = Integer.parseInt(args[0]);
    int loops = args.length > 1 ? Integer.parseInt(args[1]) : 0;
    if (loops <= 0) {
      loops = Runtime.getRuntime().availableProcessors();
    }
    Vertx vertx =
        Vertx.vertx(new VertxOptions().setEventLoopPoolSize(loops).setPreferNativeTransport(false));
    // The capture port's options (IngressServer), so only the work done per request differs.
    HttpServerOptions options =
        new HttpServerOptions()
            .setHost("127.0.0.1")
            .setPort(port)
            .setIdleTimeout(30)
            .setIdleTimeoutUnit(TimeUnit.SECONDS)
            .setTcpNoDelay(true)
            .setPerFrameWebSocketCompressionSupported(false)
            .setPerMessageWebSocketCompressionSupported(false);
    PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Map<String, String> settings = new HashMap<>();
    for (int i = 3; i < args.length; i++) {
      String[] kv = args[i].split("=", 2);
      settings.put(kv[0], kv.length > 1 ? kv[1] : "");
    }
    DiskSpool spool =
        args.length > 2 ? DurableAnswers.openSpool(Path.of(args[2]), settings, metrics) : null;
    Handler<HttpServerRequest> handler =
        spool == null ? BareVertxServer::handle : new DurableAnswers(spool, metrics)::handle;
    vertx
        .deployVerticle(
            () ->
                new AbstractVerticle() {
                  @Override
                  public void start(Promise<Void> started) {
                    vertx
                        .createHttpServer(options)
                        .requestHandler(handler)
                        .listen()
                        .<Void>mapEmpty()
                        .onComplete(started);
                  }
                },
            new DeploymentOptions().setInstances(loops))
        .toCompletionStage()
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
    System.out.println(
        (spool == null ? "bare Vert.x server" : "bare Vert.x server with the spool")
            + " listening on 127.0.0.1:"
            + port);
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown, "shutdown"));
    stop.await();
    vertx.close();
    if (spool != null) {
      spool.close();
    }
  }

  private static void handle(HttpServerRequest req) {
    Buffer body = Buffer.buffer();
    req.handler(body::appendBuffer);
    req.endHandler(v -> answer(req));
  }

  private static void answer(HttpServerRequest req) {
    boolean pixel = "/pixel".equals(req.path());
    req.response()
        .putHeader("Content-Type", pixel ? "image/gif" : "application/json")
        .putHeader("Cache-Control", "no-store")
        .setStatusCode(200)
        .end(pixel ? GIF : OK);
  }

  /** Answers each request once the records of its path are durable in the spool. */
  private static final class DurableAnswers {
    private final DiskSpool spool;
    private final PrometheusMeterRegistry metrics;
    private final List<byte[]> event;
    private final List<byte[]> pixel;
    private final List<byte[]> batch;

    DurableAnswers(DiskSpool spool, PrometheusMeterRegistry metrics) throws Exception {
      this.spool = spool;
      this.metrics = metrics;
      CaptureBenchmark capture = new CaptureBenchmark();
      capture.setUp();
      this.event = List.of(capture.event());
      this.pixel = List.of(capture.pixel());
      this.batch = capture.batch100Records();
    }

    /** The spool in {@code dir} with the service's defaults, or the spool {@code settings}. */
    static DiskSpool openSpool(
        Path dir, Map<String, String> settings, PrometheusMeterRegistry metrics)
        throws IOException {
      DiskSpool spool =
          DiskSpool.open(
              dir.resolve("spool"),
              dir.resolve("dead-letters"),
              SpoolConfig.from(ServiceSettings.config(settings)),
              List.of(new Discard()),
              metrics);
      spool.start();
      return spool;
    }

    /** A request; {@code GET /metrics} gives the spool's metrics (the sink's lag) instead. */
    void handle(HttpServerRequest req) {
      if ("/metrics".equals(req.path())) {
        req.response().end(metrics.scrape());
        return;
      }
      Buffer body = Buffer.buffer();
      req.handler(body::appendBuffer);
      req.endHandler(
          v -> {
            String path = req.path();
            List<byte[]> records =
                "/pixel".equals(path) ? pixel : "/batch".equals(path) ? batch : event;
            LoopAppends.append(
                spool,
                records,
                Vertx.currentContext(),
                () -> answer(req),
                failure -> req.response().setStatusCode(503).end());
          });
    }
  }

  /** The spool's one sink: it reads each batch's events and keeps nothing. */
  private static final class Discard implements Sink {
    @Override
    public String name() {
      return "discard";
    }

    @Override
    public void write(SinkBatch batch) {
      for (SpooledEvent e : batch.items()) {
        e.eventId();
      }
    }
  }
}
