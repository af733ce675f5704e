package io.trellis.ingress.cli;

import io.trellis.ingress.auth.ApiKeys;
import io.trellis.ingress.auth.AuthConfig;
import io.trellis.ingress.auth.KeyResolver;
import io.trellis.ingress.auth.LocalKeyStore;
import io.trellis.ingress.capture.CaptureConfig;
import io.trellis.ingress.capture.EventCapture;
import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.ConfigException;
import io.trellis.ingress.http.ClientConfig;
import io.trellis.ingress.http.HttpConfig;
import io.trellis.ingress.http.IngressServer;
import io.trellis.ingress.sink.Sink;
import io.trellis.ingress.sink.files.FilesSink;
import io.trellis.ingress.sink.files.FilesSinkConfig;
import io.trellis.ingress.spool.MemorySpool;
import io.trellis.ingress.spool.Spool;
import io.trellis.ingress.spool.SpoolConfig;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Wires the object graph of a running service from its configuration, and tears it down. */
public final class IngressService implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(IngressService.class);

  private final IngressServer server;
  private final Spool spool;
  private final KeyResolver keys;
  private final ScheduledExecutorService background;
  private final List<Sink> sinks;

  private IngressService(
      IngressServer server,
      Spool spool,
      KeyResolver keys,
      ScheduledExecutorService background,
      List<Sink> sinks) {
    this.server = server;
    this.spool = spool;
    this.keys = keys;
    this.background = background;
    this.sinks = sinks;
  }

  /** Starts everything; {@code out} receives what an operator must see (e.g. the demo key). */
  public static IngressService start(Config config, PrintStream out) throws Exception {
    Path dataDir = CommonOptions.dataDir(config);
    HttpConfig http = HttpConfig.from(config);
    AuthConfig auth = AuthConfig.from(config);
    CaptureConfig captureConfig;
    EventCapture capture;
    try {
      captureConfig = CaptureConfig.from(config);
      capture = new EventCapture(captureConfig);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("capture.trusted-proxies: " + e.getMessage());
    }
    ScheduledExecutorService background =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "background");
              t.setDaemon(true);
              return t;
            });

    KeyResolver keys;
    if (auth.mode().equals("local")) {
      LocalKeyStore store = LocalKeyStore.open(dataDir);
      if (store.isEmpty() && auth.createDemoKey()) {
        ApiKeys.NewKey k = store.create("demo", "created at first start");
        out.println(
            "The key store was empty: created key " + k.keyId() + " for organization demo.");
        out.println("Use it with: curl -H 'Authorization: Bearer " + k.key() + "' ...");
        out.println(k.key());
        out.flush();
      }
      background.scheduleWithFixedDelay(store::reloadIfChanged, 1, 1, TimeUnit.SECONDS);
      keys = store;
    } else {
      throw new ConfigException("auth.mode: warden is not available in this build");
    }

    List<Sink> sinks = new ArrayList<>();
    FilesSinkConfig files = FilesSinkConfig.from(config, dataDir);
    if (files.enabled()) {
      sinks.add(new FilesSink(files));
    }
    if (sinks.isEmpty()) {
      throw new ConfigException("no sink is enabled: enable files.enabled or configure a sink");
    }
    for (Sink s : sinks) {
      s.start();
      log.info("Sink ready: {}", s);
    }
    Spool spool = new MemorySpool(SpoolConfig.from(config), sinks);
    spool.start();
    IngressServer server = new IngressServer(http, ClientConfig.from(config), keys, capture, spool);
    server.start();
    return new IngressService(server, spool, keys, background, sinks);
  }

  public int port() {
    return server.port();
  }

  /** Picks up key store changes now instead of at the next periodic check. */
  public void reloadKeys() {
    if (keys instanceof LocalKeyStore store) {
      store.reloadIfChanged();
    }
  }

  @Override
  public void close() {
    log.info("Shutting down: closing the capture port, then draining the spool");
    server.close();
    spool.close();
    sinks.forEach(Sink::close);
    keys.close();
    background.shutdownNow();
    log.info("Stopped");
  }
}
