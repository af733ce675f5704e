package io.trellis.ingress.testing;

import java.net.URI;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives tests a real ClickHouse server ({@link ClickHouseServer} as a parameter). One server is
 * shared by every test class of the run and stopped at its end: the server at {@code
 * CLICKHOUSE_URL} (with {@code CLICKHOUSE_USER} / {@code CLICKHOUSE_PASSWORD}) when that is set,
 * else the locally installed {@code clickhouse-server} started on free ports.
 *
 * <p>A class annotated {@link ChdbEngine} gets, instead, the ClickHouse engine of {@code
 * libchdb.so} behind the HTTP test front (one per run as well).
 *
 * <p>Without a server binary (or library) the tests are skipped, unless {@code
 * TEST_REQUIRE_CLICKHOUSE=1} (CI sets it): then they fail. {@code -Dtrellis.skipClickHouse} skips
 * them when not required.
 */
public final class ClickHouseServerExtension implements BeforeAllCallback, ParameterResolver {
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(ClickHouseServerExtension.class);

  /** The shared server, closed by JUnit when the whole run ends. */
  private static final class Shared implements AutoCloseable {
    final ClickHouseServer server;
    final String unavailable;

    Shared(ClickHouseServer server, String unavailable) {
      this.server = server;
      this.unavailable = unavailable;
    }

    @Override
    public void close() {
      if (server != null) {
        server.close();
      }
    }
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    shared(context);
  }

  private static ClickHouseServer shared(ExtensionContext context) {
    boolean chdb =
        context.getTestClass().map(c -> c.isAnnotationPresent(ChdbEngine.class)).orElse(false);
    Shared s =
        context
            .getRoot()
            .getStore(NAMESPACE)
            .getOrComputeIfAbsent(
                chdb ? "chdb" : "server", k -> chdb ? openChdb() : open(), Shared.class);
    if (s.server == null) {
      if (required()) {
        throw new IllegalStateException(
            "TEST_REQUIRE_CLICKHOUSE is set but no ClickHouse is available: " + s.unavailable);
      }
      Assumptions.abort("no ClickHouse server: " + s.unavailable);
    }
    if (!s.server.isRunning()) {
      // A test stopped the shared server and failed before starting it again.
      s.server.restart();
    }
    return s.server;
  }

  private static Shared open() {
    String url = System.getenv("CLICKHOUSE_URL");
    if (url != null && !url.isBlank()) {
      return new Shared(
          ClickHouseServer.external(
              URI.create(url.trim()),
              System.getenv().getOrDefault("CLICKHOUSE_USER", "default"),
              System.getenv().getOrDefault("CLICKHOUSE_PASSWORD", "")),
          null);
    }
    if (System.getProperty("trellis.skipClickHouse") != null && !required()) {
      return new Shared(null, "skipped with -Dtrellis.skipClickHouse");
    }
    Path binary = ClickHouseServer.findBinary();
    if (binary == null) {
      return new Shared(
          null,
          "no clickhouse-server or clickhouse binary found (apt-get install clickhouse-server)");
    }
    try {
      return new Shared(ClickHouseServer.start(binary), null);
    } catch (Exception e) {
      return new Shared(null, "could not start " + binary + ": " + e.getMessage());
    }
  }

  private static Shared openChdb() {
    if (System.getProperty("trellis.skipClickHouse") != null && !required()) {
      return new Shared(null, "skipped with -Dtrellis.skipClickHouse");
    }
    Path library = ClickHouseServer.findChdbLibrary();
    if (library == null) {
      return new Shared(
          null,
          "no libchdb.so: run npm ci in clients/ (package @chdb/lib-linux-x64-gnu) or set"
              + " CHDB_LIBRARY");
    }
    try {
      return new Shared(ClickHouseServer.startChdb(library), null);
    } catch (Exception e) {
      return new Shared(null, "could not start the chDB front on " + library + ": " + e);
    }
  }

  /** Whether CI requires the ClickHouse tests to run ({@code TEST_REQUIRE_CLICKHOUSE=1}). */
  public static boolean required() {
    String v = System.getenv("TEST_REQUIRE_CLICKHOUSE");
    return v != null && (v.equals("1") || v.equalsIgnoreCase("true"));
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext extension) {
    return parameter.getParameter().getType() == ClickHouseServer.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext extension) {
    return shared(extension);
  }
}
