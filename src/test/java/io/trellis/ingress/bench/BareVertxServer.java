package io.trellis.ingress.bench;

import io.trellis.ingress.http.TransparentGif;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The ceiling of the HTTP stack on this machine: the same Vert.x version, server options and
 * threading as the capture port, reading the whole request body the same way, and answering 200
 * without doing anything with it (the GIF for {@code /pixel}, a small JSON body otherwise). The
 * bench compares every capture figure against this server measured in the same run.
 *
 * <pre>java -cp ... io.trellis.ingress.bench.BareVertxServer PORT [EVENT_LOOPS]</pre>
 */
public final class BareVertxServer {
  private static final Buffer OK = Buffer.buffer("{\"status\":\"ok\"}");
  private static final Buffer GIF = Buffer.buffer(TransparentGif.bytes());

  private BareVertxServer() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: BareVertxServer PORT [EVENT_LOOPS]");
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
    Handler<HttpServerRequest> handler = BareVertxServer::handle;
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
    System.out.println("bare Vert.x server listening on 127.0.0.1:" + port);
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown, "shutdown"));
    stop.await();
    vertx.close();
  }

  private static void handle(HttpServerRequest req) {
    Buffer body = Buffer.buffer();
    req.handler(body::appendBuffer);
    req.endHandler(
        v -> {
          boolean pixel = "/pixel".equals(req.path());
          req.response()
              .putHeader("Content-Type", pixel ? "image/gif" : "application/json")
              .putHeader("Cache-Control", "no-store")
              .setStatusCode(200)
              .end(pixel ? GIF : OK);
        });
  }
}
