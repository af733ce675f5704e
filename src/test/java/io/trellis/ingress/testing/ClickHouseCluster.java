package io.trellis.ingress.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A real ClickHouse cluster on this machine: {@code shards × replicas} local {@code
 * clickhouse-server} processes (each a {@link ClickHouseServer} on its own free ports and
 * directory) coordinated by an {@link EmbeddedZooKeeper}. Every node gets the same {@code
 * remote_servers} entry (cluster {@value #NAME}, {@code internal_replication} on), its own {@code
 * shard}/{@code replica} macros, an interserver HTTP port for replica fetches, and the {@code
 * distributed_ddl} queue that {@code ON CLUSTER} statements go through. {@link #nodeConfig} is the
 * XML that docs/clickhouse.md shows.
 */
public final class ClickHouseCluster implements AutoCloseable {
  public static final String NAME = "trellis";

  private final EmbeddedZooKeeper zooKeeper;
  private final List<ClickHouseServer> nodes;
  private final int replicas;

  private ClickHouseCluster(
      EmbeddedZooKeeper zooKeeper, List<ClickHouseServer> nodes, int replicas) {
    this.zooKeeper = zooKeeper;
    this.nodes = nodes;
    this.replicas = replicas;
  }

  /** One node's ports. */
  private record Ports(int http, int tcp, int interserver) {}

  /** Starts ZooKeeper and the nodes; shard-major order ({@code node(shard * replicas + r)}). */
  public static ClickHouseCluster start(Path binary, int shards, int replicas) throws IOException {
    EmbeddedZooKeeper zk = EmbeddedZooKeeper.start();
    IOException last = null;
    try {
      for (int attempt = 0; attempt < 3; attempt++) {
        List<Ports> ports = new ArrayList<>();
        for (int i = 0; i < shards * replicas; i++) {
          ports.add(new Ports(FreePorts.pick(), FreePorts.pick(), FreePorts.pick()));
        }
        List<ClickHouseServer> started = new ArrayList<>();
        try {
          for (int i = 0; i < ports.size(); i++) {
            Path dir = Files.createTempDirectory("clickhouse-cluster");
            Files.createDirectories(dir.resolve("config.d"));
            Files.writeString(
                dir.resolve("config.d").resolve("cluster.xml"),
                nodeConfig(
                    shards,
                    replicas,
                    ports.stream().map(Ports::tcp).toList(),
                    zk.port(),
                    i / replicas,
                    i % replicas,
                    ports.get(i).interserver()));
            started.add(
                ClickHouseServer.start(binary, dir, ports.get(i).http(), ports.get(i).tcp()));
          }
          return new ClickHouseCluster(zk, List.copyOf(started), replicas);
        } catch (IOException e) {
          // Most likely a port taken between choosing and binding it: try other ports.
          last = e;
          started.forEach(ClickHouseServer::close);
        }
      }
    } catch (RuntimeException e) {
      zk.close();
      throw e;
    }
    zk.close();
    throw last;
  }

  /**
   * The {@code config.d} file of node {@code (shard, replica)}: ClickHouse 18.16 syntax (root
   * {@code <yandex>}), which current servers read too.
   */
  static String nodeConfig(
      int shards,
      int replicas,
      List<Integer> tcpPorts,
      int zooKeeperPort,
      int shard,
      int replica,
      int interserverPort) {
    StringBuilder remote = new StringBuilder();
    for (int s = 0; s < shards; s++) {
      remote.append("      <shard>\n");
      remote.append("        <internal_replication>true</internal_replication>\n");
      for (int r = 0; r < replicas; r++) {
        remote
            .append("        <replica><host>127.0.0.1</host><port>")
            .append(tcpPorts.get(s * replicas + r))
            .append("</port></replica>\n");
      }
      remote.append("      </shard>\n");
    }
    return """
        <?xml version="1.0"?>
        <yandex>
          <remote_servers>
            <%1$s>
        %2$s    </%1$s>
          </remote_servers>
          <zookeeper>
            <node><host>127.0.0.1</host><port>%3$d</port></node>
            <session_timeout_ms>6000</session_timeout_ms>
          </zookeeper>
          <macros>
            <shard>%4$02d</shard>
            <replica>r%5$d</replica>
          </macros>
          <interserver_http_host>127.0.0.1</interserver_http_host>
          <interserver_http_port>%6$d</interserver_http_port>
          <distributed_ddl>
            <path>/clickhouse/task_queue/ddl</path>
          </distributed_ddl>
        </yandex>
        """
        .formatted(NAME, remote, zooKeeperPort, shard + 1, replica + 1, interserverPort);
  }

  public List<ClickHouseServer> nodes() {
    return nodes;
  }

  public ClickHouseServer node(int shard, int replica) {
    return nodes.get(shard * replicas + replica);
  }

  /** The nodes' HTTP URLs, comma-separated, as {@code clickhouse.url} takes them. */
  public String urls() {
    return nodes.stream().map(n -> n.url().toString()).collect(Collectors.joining(","));
  }

  @Override
  public void close() {
    nodes.forEach(ClickHouseServer::close);
    zooKeeper.close();
  }

  @Override
  public String toString() {
    return "ClickHouseCluster{" + nodes.size() + " nodes, " + zooKeeper + "}";
  }
}
