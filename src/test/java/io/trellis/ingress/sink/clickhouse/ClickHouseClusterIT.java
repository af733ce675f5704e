package io.trellis.ingress.sink.clickhouse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.ingress.auth.LocalKeyStore;
import io.trellis.ingress.cli.ServiceSettings;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.SinkBatch;
import io.trellis.ingress.sink.SinkException;
import io.trellis.ingress.testing.ClickHouseCluster;
import io.trellis.ingress.testing.ClickHouseServer;
import io.trellis.ingress.testing.ClickHouseServerExtension;
import io.trellis.ingress.testing.RunningService;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sink with {@code clickhouse.cluster} against real clusters of local {@code clickhouse-server}
 * processes and a real ZooKeeper: {@code TABLE_local} (ReplicatedMergeTree) created {@code ON
 * CLUSTER}, events written through the {@code Distributed} table, nodes killed with SIGKILL under
 * load. Every check counts event ids on the nodes' own tables.
 */
class ClickHouseClusterIT {
  private static final String DATABASE = "trellis";

  /** The installed server binary; skips (or fails, when CI requires ClickHouse) without one. */
  static Path binary() {
    boolean required = ClickHouseServerExtension.required();
    Path binary = ClickHouseServer.findBinary();
    if (binary == null || (System.getProperty("trellis.skipClickHouse") != null && !required)) {
      if (required) {
        throw new IllegalStateException(
            "TEST_REQUIRE_CLICKHOUSE is set but no clickhouse-server binary is installed");
      }
      Assumptions.abort("no clickhouse-server binary (apt-get install clickhouse-server)");
    }
    return binary;
  }

  /** What the tests of one layout share: the cluster, and helpers over its nodes. */
  abstract static class Layout {
    ClickHouseCluster cluster;

    @TempDir Path dir;

    abstract int shards();

    abstract int replicas();

    @BeforeAll
    void startCluster() throws Exception {
      cluster = ClickHouseCluster.start(binary(), shards(), replicas());
    }

    @AfterAll
    void stopCluster() {
      if (cluster != null) {
        cluster.close();
      }
    }

    /** The data directory of the service writing {@code table} (kept across its restarts). */
    Path home(String table) {
      try {
        return Files.createDirectories(dir.resolve(table));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** A key for organization acme in the data directory of the service writing {@code table}. */
    String key(String table) {
      LocalKeyStore store = LocalKeyStore.open(home(table));
      try {
        return store.create("acme", "test").key();
      } finally {
        store.close();
      }
    }

    RunningService service(String urls, String table) {
      Map<String, String> m = new HashMap<>();
      m.put("clickhouse.url", urls);
      m.put("clickhouse.database", DATABASE);
      m.put("clickhouse.table", table);
      m.put("clickhouse.cluster", ClickHouseCluster.NAME);
      m.put("clickhouse.batch-max-age", "100ms");
      m.put("clickhouse.connect-timeout", "1s");
      m.put("clickhouse.request-timeout", "10s");
      m.put("spool.retry-initial-backoff", "50ms");
      m.put("spool.retry-max-backoff", "500ms");
      return RunningService.start(home(table), m);
    }

    /** The sink on its own, started (tables created), writing to the given node URLs. */
    ClickHouseSink sink(String urls, String table) throws SinkException {
      return sink(urls, table, "5s");
    }

    ClickHouseSink sink(String urls, String table, String ddlTimeout) throws SinkException {
      Map<String, String> m = new HashMap<>();
      m.put("clickhouse.url", urls);
      m.put("clickhouse.database", DATABASE);
      m.put("clickhouse.table", table);
      m.put("clickhouse.cluster", ClickHouseCluster.NAME);
      m.put("clickhouse.cluster-ddl-timeout", ddlTimeout);
      m.put("clickhouse.connect-timeout", "1s");
      m.put("clickhouse.request-timeout", "30s");
      ClickHouseSink sink = new ClickHouseSink(ClickHouseConfig.from(ServiceSettings.config(m)));
      sink.start();
      assertThat(sink.schema()).as("tables set up").isNotNull();
      return sink;
    }

    /** 50 events of 7 organizations, as one spool batch. */
    static SinkBatch fiftyEvents() {
      List<TrafficEvent> events = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        events.add(ClickHouseSinkIT.event("org-" + (i % 7), "{\"n\":" + i + "}"));
      }
      return ClickHouseSinkIT.batch(events);
    }

    /**
     * Waits until the wall clock is in a later second than {@code millis}: a server-side {@code
     * now()} then differs (18.16 stores whole seconds).
     */
    static void nextSecond(long millis) throws InterruptedException {
      while (System.currentTimeMillis() / 1000 == millis / 1000) {
        Thread.sleep(20);
      }
    }

    /** Every event id in a node's own (local) table, with how often it is there. */
    static Map<String, Integer> idsOn(ClickHouseServer node, String table) {
      Map<String, Integer> ids = new HashMap<>();
      for (String line :
          node.query("SELECT toString(event_id) FROM " + DATABASE + "." + table + "_local")
              .split("\n")) {
        if (!line.isBlank()) {
          ids.merge(line.trim(), 1, Integer::sum);
        }
      }
      return ids;
    }

    static long rowsOn(ClickHouseServer node, String table) {
      return node.number("SELECT count() FROM " + DATABASE + "." + table + "_local");
    }

    /** The engines of the database's tables on a node, by name. */
    static Map<String, String> enginesOn(ClickHouseServer node) {
      Map<String, String> out = new HashMap<>();
      for (var row :
          node.rows("SELECT name, engine FROM system.tables WHERE database = '" + DATABASE + "'")) {
        out.put(row.get("name").asText(), row.get("engine").asText());
      }
      return out;
    }

    /** Entries in the ZooKeeper queue that {@code ON CLUSTER} statements go through. */
    long ddlQueue() {
      return cluster
          .nodes()
          .get(0)
          .number("SELECT count() FROM system.zookeeper WHERE path = '/clickhouse/task_queue/ddl'");
    }
  }

  /** Sends batches of 20 events until stopped, keeping the id of every acknowledged event. */
  static final class Load implements AutoCloseable {
    final Set<String> acked = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean sending = new AtomicBoolean(true);
    private final Thread thread;

    Load(RunningService svc, String key) {
      StringBuilder body = new StringBuilder("[");
      for (int i = 0; i < 20; i++) {
        body.append(i == 0 ? "" : ",").append("{\"event\":\"load\",\"i\":").append(i).append('}');
      }
      String batch = body.append(']').toString();
      thread =
          new Thread(
              () -> {
                while (sending.get()) {
                  HttpResponse<String> r = svc.postJson("/batch", key, batch);
                  if (r.statusCode() == 200) {
                    RunningService.json(r.body())
                        .get("event_ids")
                        .forEach(id -> acked.add(id.asText()));
                  }
                  try {
                    // Paced, so two ClickHouse servers and ZooKeeper keep a share of two cores.
                    Thread.sleep(5);
                  } catch (InterruptedException e) {
                    return;
                  }
                }
              },
              "cluster-load");
      thread.start();
    }

    @Override
    public void close() throws InterruptedException {
      sending.set(false);
      thread.join();
    }
  }

  static void await(String what, Duration timeout, BooleanSupplier condition) {
    await(what, timeout, condition, () -> "");
  }

  static void await(
      String what, Duration timeout, BooleanSupplier condition, Supplier<String> state) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what + " " + state.get());
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  /** Sends {@code batches} × 20 events and returns the acknowledged ids. */
  static List<String> send(RunningService svc, String key, int batches) {
    List<String> ids = new ArrayList<>();
    for (int b = 0; b < batches; b++) {
      StringBuilder body = new StringBuilder("[");
      for (int i = 0; i < 20; i++) {
        body.append(i == 0 ? "" : ",").append("{\"event\":\"e\",\"n\":").append(b * 20 + i);
        body.append('}');
      }
      HttpResponse<String> r = svc.postJson("/batch", key, body.append(']').toString());
      assertThat(r.statusCode()).isEqualTo(200);
      RunningService.json(r.body()).get("event_ids").forEach(id -> ids.add(id.asText()));
    }
    return ids;
  }

  /** One shard, two replicas: the sink is given both nodes' URLs. */
  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class OneShardTwoReplicas extends Layout {
    @Override
    int shards() {
      return 1;
    }

    @Override
    int replicas() {
      return 2;
    }

    ClickHouseServer first() {
      return cluster.node(0, 0);
    }

    ClickHouseServer second() {
      return cluster.node(0, 1);
    }

    @Test
    void theServiceCreatesTheTablesOnEveryReplicaOnceAndARestartRunsNoDdl() {
      String key = key("created");
      long before = ddlQueue();
      try (RunningService svc = service(cluster.urls(), "created")) {
        assertThat(send(svc, key, 1)).hasSize(20);
      }
      long afterFirstStart = ddlQueue();
      // One ON CLUSTER statement per object (database, local table, Distributed table), run
      // from one node for all of them.
      assertThat(afterFirstStart - before).isEqualTo(3);
      for (ClickHouseServer node : cluster.nodes()) {
        await(
            "both tables exist on " + node,
            Duration.ofSeconds(30),
            () -> enginesOn(node).containsKey("created"),
            () -> enginesOn(node).toString());
        assertThat(enginesOn(node))
            .containsEntry("created_local", "ReplicatedMergeTree")
            .containsEntry("created", "Distributed");
      }

      try (RunningService svc = service(cluster.urls(), "created")) {
        assertThat(send(svc, key, 1)).hasSize(20);
        await(
            "40 rows on each replica",
            Duration.ofSeconds(30),
            () -> rowsOn(first(), "created") == 40 && rowsOn(second(), "created") == 40);
      }
      assertThat(ddlQueue()).isEqualTo(afterFirstStart);
    }

    @Test
    void eventsWrittenThroughTheDistributedTableLandOnceOnEachReplica() {
      String key = key("once");
      try (RunningService svc = service(cluster.urls(), "once")) {
        List<String> ids = send(svc, key, 50);
        for (ClickHouseServer node : List.of(first(), second())) {
          await(
              "1000 rows on " + node,
              Duration.ofSeconds(60),
              () -> rowsOn(node, "once") >= 1000,
              () -> "(have " + rowsOn(node, "once") + ")");
          Map<String, Integer> stored = idsOn(node, "once");
          assertThat(stored.keySet()).containsExactlyInAnyOrderElementsOf(ids);
          assertThat(stored.values()).allMatch(n -> n == 1);
        }
        assertThat(first().number("SELECT count() FROM " + DATABASE + ".once")).isEqualTo(1000);
      }
    }

    @Test
    void aReplicaKilledMidLoadAndRestartedLosesNothingAndDuplicatesNothing() throws Exception {
      String key = key("killed");
      try (RunningService svc = service(cluster.urls(), "killed")) {
        Load load = new Load(svc, key);
        try (load) {
          await(
              "load reaches ClickHouse",
              Duration.ofSeconds(60),
              () -> rowsOn(second(), "killed") >= 1000);
          // The node the sink writes to, in the middle of its inserts.
          first().kill();
          long atKill = rowsOn(second(), "killed");
          await(
              "the other replica goes on storing",
              Duration.ofSeconds(60),
              () -> rowsOn(second(), "killed") >= atKill + 1000);
        } finally {
          first().restart();
        }
        int acked = load.acked.size();
        for (ClickHouseServer node : List.of(first(), second())) {
          await(
              "every acknowledged event is on " + node,
              Duration.ofSeconds(120),
              () -> idsOn(node, "killed").keySet().containsAll(load.acked),
              () -> "(" + rowsOn(node, "killed") + " rows of " + acked + ")");
        }
        for (ClickHouseServer node : List.of(first(), second())) {
          Map<String, Integer> stored = idsOn(node, "killed");
          assertThat(stored.keySet()).isEqualTo(load.acked);
          assertThat(stored.values()).allMatch(n -> n == 1);
          assertThat(rowsOn(node, "killed")).isEqualTo(acked);
        }
        System.out.println(
            "Replica killed mid-load and restarted: "
                + acked
                + " events acknowledged, "
                + rowsOn(first(), "killed")
                + " and "
                + rowsOn(second(), "killed")
                + " rows on the replicas, 0 lost, 0 duplicated");
      }
    }

    @Test
    void aBatchRetriedThroughTheOtherReplicaAfterALostAnswerIsStoredOnce() throws Exception {
      ClickHouseSink sink = sink(first().url() + "," + second().url(), "retried");
      try (sink) {
        SinkBatch batch = fiftyEvents();
        sink.write(batch);
        long firstTry = System.currentTimeMillis();
        // The answer to that insert is lost with its node: the spool retries the same batch, the
        // sink moves on to the other replica.
        first().kill();
        try {
          assertThatThrownBy(() -> sink.write(batch)).isInstanceOf(SinkException.class);
          nextSecond(firstTry);
          sink.write(batch);
        } finally {
          first().restart();
        }
        for (ClickHouseServer node : List.of(first(), second())) {
          await(
              "the batch is on " + node,
              Duration.ofSeconds(60),
              () -> rowsOn(node, "retried") >= 50,
              () -> "(have " + rowsOn(node, "retried") + ")");
          Map<String, Integer> stored = idsOn(node, "retried");
          assertThat(stored).hasSize(50);
          assertThat(stored.values()).allMatch(n -> n == 1);
          assertThat(rowsOn(node, "retried")).isEqualTo(50);
        }
      }
    }

    @Test
    void aReplicaDownAtStartDoesNotStopTheService() throws Exception {
      String key = key("down");
      second().kill();
      try {
        // The sink alone: one ON CLUSTER statement waits the whole timeout for the missing
        // replica, the two after it only queue (three waits would take 30 s).
        long sinkStarted = System.nanoTime();
        try (ClickHouseSink sink = sink(first().url().toString(), "downsink", "10s")) {
          long sinkMillis = (System.nanoTime() - sinkStarted) / 1_000_000;
          System.out.println("Sink ready in " + sinkMillis + " ms with a replica down");
          assertThat(sinkMillis).isBetween(9_000L, 25_000L);
          assertThat(enginesOn(first())).containsKeys("downsink_local", "downsink");
        }
        long started = System.nanoTime();
        try (RunningService svc = service(cluster.urls(), "down")) {
          long startMillis = (System.nanoTime() - started) / 1_000_000;
          List<String> ids = send(svc, key, 5);
          await(
              "the live replica stores the events",
              Duration.ofSeconds(60),
              () -> enginesOn(first()).containsKey("down_local") && rowsOn(first(), "down") == 100);
          System.out.println("Service started in " + startMillis + " ms with a replica down");
          // One statement waits clickhouse.cluster-ddl-timeout (5 s) for the missing replica; the
          // two after it do not wait for it again. The rest is the service's own start.
          assertThat(startMillis).isLessThan(30_000);

          second().restart();
          await(
              "the returning replica creates the tables and fetches the rows",
              Duration.ofSeconds(90),
              () ->
                  enginesOn(second()).containsKey("down")
                      && idsOn(second(), "down").keySet().containsAll(ids));
          assertThat(idsOn(second(), "down").values()).allMatch(n -> n == 1);
          assertThat(enginesOn(second())).containsEntry("down_local", "ReplicatedMergeTree");
          assertThat(enginesOn(second())).containsKeys("downsink_local", "downsink");
        }
      } finally {
        second().restart();
      }
    }
  }

  /** Two shards of one replica each: the sink writes to the first shard's node only. */
  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class TwoShards extends Layout {
    @Override
    int shards() {
      return 2;
    }

    @Override
    int replicas() {
      return 1;
    }

    ClickHouseServer shard(int i) {
      return cluster.node(i, 0);
    }

    Map<String, Integer> idsOnBothShards(String table) {
      Map<String, Integer> all = new HashMap<>(idsOn(shard(0), table));
      idsOn(shard(1), table).forEach((id, n) -> all.merge(id, n, Integer::sum));
      return all;
    }

    @Test
    void eventsAreSplitBetweenTheShardsAndLandOnce() {
      String key = key("split");
      try (RunningService svc = service(shard(0).url().toString(), "split")) {
        List<String> ids = send(svc, key, 50);
        await(
            "1000 rows on the two shards",
            Duration.ofSeconds(60),
            () -> rowsOn(shard(0), "split") + rowsOn(shard(1), "split") >= 1000);
        Map<String, Integer> stored = idsOnBothShards("split");
        assertThat(stored.keySet()).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(stored.values()).allMatch(n -> n == 1);
        // cityHash64 of the id spreads them: each shard holds a real share.
        assertThat(rowsOn(shard(0), "split")).isBetween(300L, 700L);
        assertThat(shard(1).number("SELECT count() FROM " + DATABASE + ".split")).isEqualTo(1000);
      }
    }

    @Test
    void aBatchWrittenAgainAfterALostAnswerIsStoredOnceOnEachShard() throws Exception {
      try (ClickHouseSink sink = sink(shard(0).url().toString(), "again")) {
        SinkBatch batch = fiftyEvents();
        sink.write(batch);
        long firstTry = System.currentTimeMillis();
        nextSecond(firstTry);
        sink.write(batch);
        Map<String, Integer> stored = idsOnBothShards("again");
        assertThat(stored).hasSize(50);
        assertThat(stored.values()).allMatch(n -> n == 1);
        assertThat(rowsOn(shard(0), "again") + rowsOn(shard(1), "again")).isEqualTo(50);
      }
    }

    @Test
    void aShardKilledMidLoadAndRestartedLosesNothingAndDuplicatesNothing() throws Exception {
      String key = key("shardkill");
      try (RunningService svc = service(shard(0).url().toString(), "shardkill")) {
        Load load = new Load(svc, key);
        try (load) {
          await(
              "load reaches both shards",
              Duration.ofSeconds(60),
              () -> rowsOn(shard(1), "shardkill") >= 500);
          shard(1).kill();
          int atKill = load.acked.size();
          // Inserts now fail after writing the first shard's share: the retries must not store
          // that share again.
          await(
              "more events are acknowledged while a shard is down",
              Duration.ofSeconds(60),
              () -> load.acked.size() >= atKill + 1000);
        } finally {
          shard(1).restart();
        }
        int acked = load.acked.size();
        await(
            "every acknowledged event is on a shard",
            Duration.ofSeconds(120),
            () -> idsOnBothShards("shardkill").keySet().containsAll(load.acked),
            () -> "(" + idsOnBothShards("shardkill").size() + " of " + acked + ")");
        Map<String, Integer> stored = idsOnBothShards("shardkill");
        long rows = rowsOn(shard(0), "shardkill") + rowsOn(shard(1), "shardkill");
        System.out.println(
            "Shard killed mid-load and restarted: "
                + acked
                + " events acknowledged, "
                + rows
                + " rows on the shards, "
                + (rows - stored.size())
                + " duplicated");
        assertThat(stored.keySet()).isEqualTo(load.acked);
        assertThat(stored.values()).allMatch(n -> n == 1);
        assertThat(rows).isEqualTo(acked);
      }
    }
  }
}
