package io.trellis.ingress.cli;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.trellis.ingress.auth.ApiKeys;
import io.trellis.ingress.auth.KeyResolver;
import io.trellis.ingress.auth.LocalKeyStore;
import io.trellis.ingress.auth.warden.WardenKeyResolver;
import io.trellis.ingress.capture.EventCapture;
import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.Sizes;
import io.trellis.ingress.enrich.Enricher;
import io.trellis.ingress.event.Enrichments;
import io.trellis.ingress.http.CapacityConfig;
import io.trellis.ingress.http.HttpConfig;
import io.trellis.ingress.http.IngressServer;
import io.trellis.ingress.limits.RateLimits;
import io.trellis.ingress.live.LiveHub;
import io.trellis.ingress.live.LiveView;
import io.trellis.ingress.ops.AdminServer;
import io.trellis.ingress.ops.LogSetup;
import io.trellis.ingress.ops.Metrics;
import io.trellis.ingress.ops.ProcessLimits;
import io.trellis.ingress.ops.Readiness;
import io.trellis.ingress.sink.Sink;
import io.trellis.ingress.sink.bigquery.BigQuerySink;
import io.trellis.ingress.sink.clickhouse.ClickHouseSink;
import io.trellis.ingress.sink.files.FilesSink;
import io.trellis.ingress.spool.DiskSpool;
import io.trellis.ingress.spool.Spool;
import io.trellis.ingress.spool.SpoolConfig;
import io.trellis.ingress.spool.SpoolLock;
import java.io.IOException;
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
  private final AdminServer admin;
  private final PrometheusMeterRegistry registry;
  private final LiveHub live;

  private IngressService(
      IngressServer server,
      Spool spool,
      KeyResolver keys,
      ScheduledExecutorService background,
      List<Sink> sinks,
      AdminServer admin,
      PrometheusMeterRegistry registry,
      LiveHub live) {
    this.server = server;
    this.spool = spool;
    this.keys = keys;
    this.background = background;
    this.sinks = sinks;
    this.admin = admin;
    this.registry = registry;
    this.live = live;
  }

  /** Starts everything; {@code out} receives what an operator must see (e.g. the demo key). */
  public static IngressService start(Config config, PrintStream out) throws Exception {
    return start(ServiceConfig.from(config), out);
  }

  /** Starts from a configuration that was checked as a whole: nothing here is a config error. */
  static IngressService start(ServiceConfig c, PrintStream out) throws Exception {
    Path dataDir = c.dataDir();
    ProcessLimits process = ProcessLimits.read();
    HttpConfig http = c.http();
    Ports.Listen captureListen = Ports.Listen.capture(http.host(), http.port());
    Ports.Listen adminListen = Ports.Listen.admin(c.ops().adminHost(), c.ops().adminPort());
    Ports.checkFree(captureListen);
    if (c.ops().adminEnabled()) {
      Ports.checkFree(adminListen);
    }
    PrometheusMeterRegistry registry = Metrics.prometheus();
    LogSetup.apply(c.ops(), registry);
    log.info(
        "Open files: soft limit {}, hard limit {} (the JVM raises the soft limit to the hard one),"
            + " {} open at start; maximum heap {}, direct memory {}",
        process.openFilesSoft(),
        process.openFilesHard(),
        process.openFiles(),
        Sizes.format(process.maxHeap()),
        Sizes.format(process.maxDirectMemory()));
    long requestHeadMax = (long) http.maxHeaderBytes() + http.maxUrlBytes();
    CapacityConfig capacity =
        c.capacity()
            .resolve(
                process.effectiveOpenFileLimit(),
                Math.max(0, process.openFiles()),
                process.maxHeap(),
                process.maxDirectMemory(),
                http.batchBodyMaxBytes(),
                requestHeadMax);
    String tooMany = capacity.directMemoryWarning(process.maxDirectMemory(), requestHeadMax);
    if (tooMany != null) {
      log.warn(tooMany);
    }
    EventCapture capture = new EventCapture(c.capture());
    Enricher enricher;
    try {
      enricher = Enricher.open(c.enrich());
    } catch (IOException e) {
      throw new StartupException("enrich: " + e.getMessage(), e);
    }
    // The sinks render the schema's derived columns with it, on their delivery threads.
    Enrichments.install(enricher);
    log.info("Enrichment: {}", enricher);
    // The data directory's lock comes before anything under it is created or changed (key
    // store, sinks' files, spool): a second instance on the same directory stops here without
    // touching what the running one is writing.
    SpoolLock lock = SpoolLock.acquire(dataDir.resolve("spool"));
    ScheduledExecutorService background = null;
    List<Sink> sinks = new ArrayList<>();
    KeyResolver keys = null;
    Keys opened;
    DiskSpool spool;
    try {
      background =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "background");
                t.setDaemon(true);
                return t;
              });
      opened = openKeys(c, registry, background);
      keys = opened.resolver();
      if (c.files().enabled()) {
        sinks.add(new FilesSink(c.files()));
      }
      if (c.clickhouse() != null) {
        sinks.add(new ClickHouseSink(c.clickhouse()));
      }
      if (c.bigquery() != null) {
        sinks.add(new BigQuerySink(c.bigquery(), registry));
      }
      for (Sink s : sinks) {
        s.start();
      }
      SpoolConfig spoolConfig = c.spool();
      spool = DiskSpool.open(lock, dataDir.resolve("dead-letters"), spoolConfig, sinks, registry);
    } catch (Exception e) {
      sinks.forEach(Sink::close);
      if (keys != null) {
        keys.close();
      }
      if (background != null) {
        background.shutdownNow();
      }
      // DiskSpool.open releases the lock itself when it fails; a second release does nothing.
      closeQuietly(lock, e);
      throw e;
    }
    spool.start();
    IngressServer server =
        new IngressServer(
            http,
            c.clients(),
            keys,
            capture,
            spool,
            new RateLimits(c.rateLimits(), registry),
            capacity,
            registry);
    AdminServer admin = null;
    LiveHub live = null;
    try {
      listen(captureListen, server::start);
      if (c.ops().adminEnabled()) {
        LiveView liveView = null;
        if (c.live().enabled()) {
          live = new LiveHub(spool::tail, c.live(), registry);
          liveView = new LiveView(live, c.ops().adminHost());
        }
        admin =
            new AdminServer(
                c.ops(),
                registry,
                () -> {
                  var r = spool.readiness();
                  return new Readiness(r.ready(), r.reason());
                },
                liveView);
        listen(adminListen, admin::start);
      }
    } catch (Exception e) {
      server.close();
      if (live != null) {
        live.close();
      }
      if (admin != null) {
        admin.close();
      }
      spool.close();
      throw e;
    }
    IngressService service =
        new IngressService(server, spool, keys, background, sinks, admin, registry, live);
    Banner.print(
        out,
        c,
        service.port(),
        service.adminPort(),
        opened.demoKey(),
        opened.empty() && opened.demoKey() == null);
    return service;
  }

  /** The key resolver, and the demo key when this start created one (printed last). */
  private record Keys(KeyResolver resolver, ApiKeys.NewKey demoKey, boolean empty) {}

  private static Keys openKeys(
      ServiceConfig c, MeterRegistry registry, ScheduledExecutorService background) {
    if (c.warden() != null) {
      return new Keys(new WardenKeyResolver(c.warden(), registry), null, false);
    }
    LocalKeyStore store = LocalKeyStore.open(c.dataDir());
    ApiKeys.NewKey demo = null;
    boolean empty = store.isEmpty();
    if (empty && c.auth().createDemoKey()) {
      demo = store.create("demo", "created at first start");
    }
    background.scheduleWithFixedDelay(store::reloadIfChanged, 1, 1, TimeUnit.SECONDS);
    return new Keys(store, demo, empty);
  }

  private static void closeQuietly(SpoolLock lock, Exception failure) {
    try {
      lock.close();
    } catch (IOException | RuntimeException e) {
      failure.addSuppressed(e);
    }
  }

  private interface Binding {
    int bind() throws Exception;
  }

  private static void listen(Ports.Listen where, Binding binding) throws Exception {
    try {
      binding.bind();
    } catch (Exception e) {
      StartupException explained = Ports.explain(where, e);
      throw explained != null ? explained : e;
    }
  }

  public int port() {
    return server.port();
  }

  /** The admin port, or -1 when the admin server is off. */
  public int adminPort() {
    return admin == null ? -1 : admin.port();
  }

  /** The service's meters (a Prometheus registry). */
  public MeterRegistry meters() {
    return registry;
  }

  /** How the service resolves API keys (the local key store or Warden). */
  public KeyResolver keyResolver() {
    return keys;
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
    if (live != null) {
      // Before the spool closes: the live view reads its segments.
      live.close();
    }
    spool.close();
    if (admin != null) {
      admin.close();
    }
    sinks.forEach(Sink::close);
    keys.close();
    background.shutdownNow();
    log.info("Stopped");
  }
}
