package io.trellis.ingress.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;

/**
 * A real Apache ZooKeeper server (standalone, from Maven Central) inside the test JVM, on a free
 * loopback port with its own temporary data directory: the coordination service of the local
 * ClickHouse clusters. The port is bound by the server itself (port 0), so it cannot be taken by
 * another process between choosing and binding it.
 */
public final class EmbeddedZooKeeper implements AutoCloseable {
  private final Path dir;
  private final ZooKeeperServer server;
  private final ServerCnxnFactory connections;

  private EmbeddedZooKeeper(Path dir, ZooKeeperServer server, ServerCnxnFactory connections) {
    this.dir = dir;
    this.server = server;
    this.connections = connections;
  }

  public static EmbeddedZooKeeper start() throws IOException {
    Path dir = Files.createTempDirectory("zookeeper-test");
    try {
      ZooKeeperServer server =
          new ZooKeeperServer(dir.resolve("snap").toFile(), dir.resolve("log").toFile(), 500);
      // Sessions of 2 s to 10 s (4 to 20 ticks): a killed ClickHouse loses its ephemeral nodes
      // (replica "is_active") within seconds, as it would against a production ensemble.
      server.setMinSessionTimeout(2_000);
      server.setMaxSessionTimeout(10_000);
      ServerCnxnFactory connections = ServerCnxnFactory.createFactory();
      connections.configure(new InetSocketAddress("127.0.0.1", 0), 200);
      connections.startup(server);
      return new EmbeddedZooKeeper(dir, server, connections);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      deleteTree(dir);
      throw new IOException("interrupted while starting ZooKeeper", e);
    } catch (IOException | RuntimeException e) {
      deleteTree(dir);
      throw e;
    }
  }

  public int port() {
    return connections.getLocalPort();
  }

  @Override
  public void close() {
    connections.shutdown();
    server.shutdown();
    deleteTree(dir);
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // Best effort: a temp directory left behind is harmless.
    }
  }

  @Override
  public String toString() {
    return "EmbeddedZooKeeper{127.0.0.1:" + port() + "}";
  }
}
