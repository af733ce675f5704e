package io.trellis.ingress.testing.bigquery;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.Status;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * A local stand-in for BigQuery that speaks its real protocols on localhost: the Storage Write API
 * over gRPC ({@link FakeWriteService}) and the table-metadata calls of the REST API over HTTP
 * ({@link FakeRestServer}). It keeps datasets, tables, committed write streams and their rows;
 * decodes appended rows with the writer's own protobuf schema; enforces offsets as BigQuery does;
 * and can be told to fail. Thread-safe: every state change holds this object's lock.
 */
public final class FakeBigQuery implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();

  /** A committed write stream and the rows appended to it, in offset order. */
  static final class Stream {
    final String name;
    final String table;
    final List<Map<String, Object>> rows = new ArrayList<>();
    boolean finalized;

    Stream(String name, String table) {
      this.name = name;
      this.table = table;
    }
  }

  /** One AppendRows request the service received. */
  public record AppendCall(String stream, long offset, int rows, int requestBytes, String result) {}

  final Map<String, ObjectNode> datasets = new LinkedHashMap<>();
  final Map<String, ObjectNode> tables = new LinkedHashMap<>();

  /** How many schema changes {@code tables.patch} has applied. */
  int tablePatches;

  final Map<String, Stream> streams = new LinkedHashMap<>();
  final List<AppendCall> calls = new ArrayList<>();
  int streamCounter;
  int failAppends;
  Status.Code failWith = Status.Code.UNAVAILABLE;
  int loseAcks;

  /** Successful appends still to come before {@link #heldFailures} failures start; -1: none. */
  int okBeforeFailures = -1;

  int heldFailures;

  /** Successful appends still to come before one is stored and never acknowledged; -1: none. */
  int okBeforeHold = -1;

  /** Appends stored and never acknowledged. */
  int held;

  boolean restDown;
  boolean reportExpectedOffset = true;
  Predicate<Map<String, Object>> rejectRow = r -> false;

  private final Server grpc;
  private final FakeRestServer rest;

  private FakeBigQuery() throws IOException {
    this.grpc =
        Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
            .addService(new FakeWriteService(this))
            .maxInboundMessageSize(32 * 1024 * 1024)
            .build()
            .start();
    this.rest = new FakeRestServer(this);
  }

  public static FakeBigQuery start() {
    try {
      return new FakeBigQuery();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The service's settings pointing the sink at this fake. */
  public Map<String, String> settings(String project) {
    return Map.of(
        "bigquery.project",
        project,
        "bigquery.storage-endpoint",
        storageEndpoint(),
        "bigquery.rest-endpoint",
        restEndpoint(),
        "bigquery.append-timeout",
        "5s");
  }

  public String storageEndpoint() {
    return "http://127.0.0.1:" + grpc.getPort();
  }

  public String restEndpoint() {
    return "http://127.0.0.1:" + rest.port();
  }

  // ---- what tests read ----

  /** Every row of the table, stream after stream, each in offset order. */
  public synchronized List<Map<String, Object>> rows(String project, String dataset, String table) {
    String path = tablePath(project, dataset, table);
    List<Map<String, Object>> out = new ArrayList<>();
    for (Stream s : streams.values()) {
      if (s.table.equals(path)) {
        out.addAll(s.rows);
      }
    }
    return out;
  }

  /** How many schema changes {@code tables.patch} has applied. */
  public synchronized int tablePatches() {
    return tablePatches;
  }

  /** The table resource as the REST API returns it, or null. */
  public synchronized JsonNode table(String project, String dataset, String table) {
    ObjectNode t = tables.get(tablePath(project, dataset, table));
    return t == null ? null : t.deepCopy();
  }

  public synchronized boolean hasDataset(String project, String dataset) {
    return datasets.containsKey(project + ":" + dataset);
  }

  public synchronized List<AppendCall> appendCalls() {
    return List.copyOf(calls);
  }

  public synchronized Set<String> streamNames() {
    return Set.copyOf(streams.keySet());
  }

  /** Waits up to 20 s for the condition; fails the test otherwise. */
  public void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  // ---- what tests set up ----

  /** Creates a table directly (as an operator would), with the given REST schema fields. */
  public synchronized void createTable(
      String project, String dataset, String table, List<Map<String, String>> fields) {
    ObjectNode t = JSON.createObjectNode();
    t.putObject("tableReference")
        .put("projectId", project)
        .put("datasetId", dataset)
        .put("tableId", table);
    var arr = t.putObject("schema").putArray("fields");
    for (Map<String, String> f : fields) {
      ObjectNode n = arr.addObject();
      f.forEach(n::put);
    }
    datasets.computeIfAbsent(project + ":" + dataset, k -> datasetResource(project, dataset));
    tables.put(tablePath(project, dataset, table), FakeRestServer.completeTable(t));
  }

  /** The next {@code n} AppendRows calls fail with {@code code}, as a broken stream. */
  public synchronized void failAppends(int n, Status.Code code) {
    this.failAppends = n;
    this.failWith = code;
  }

  /**
   * After {@code ok} more successful appends, the next {@code n} AppendRows calls fail with {@code
   * code}: a service that goes wrong in the middle of a run.
   */
  public synchronized void failAppendsAfter(int ok, int n, Status.Code code) {
    this.okBeforeFailures = ok;
    this.heldFailures = n;
    this.failWith = code;
    if (ok == 0) {
      this.failAppends = n;
    }
  }

  /**
   * After {@code ok} more successful appends, the next one is stored and its acknowledgement is
   * never sent: the writer waits, as it would for a process killed right after BigQuery stored its
   * rows. {@link #heldAppends()} says when that happened.
   */
  public synchronized void holdAcknowledgementAfter(int ok) {
    this.okBeforeHold = ok;
  }

  /**
   * How many appends were stored without an acknowledgement by {@link #holdAcknowledgementAfter}.
   */
  public synchronized int heldAppends() {
    return held;
  }

  /** How many rows the streams of the table hold, each event_id counted once per row. */
  public synchronized Map<String, Integer> eventIdCounts(
      String project, String dataset, String table) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (Map<String, Object> row : rows(project, dataset, table)) {
      counts.merge((String) row.get("event_id"), 1, Integer::sum);
    }
    return counts;
  }

  /** The next {@code n} successful appends are stored, but their acknowledgement is lost. */
  public synchronized void loseAcknowledgements(int n) {
    this.loseAcks = n;
  }

  /** Rows matching the predicate are refused with a row error. */
  public synchronized void rejectRows(Predicate<Map<String, Object>> predicate) {
    this.rejectRow = predicate;
  }

  /** While down, every REST call answers 503 and every append fails UNAVAILABLE. */
  public synchronized void down(boolean down) {
    this.restDown = down;
    this.failAppends = down ? Integer.MAX_VALUE : 0;
    this.failWith = Status.Code.UNAVAILABLE;
  }

  /** Whether offset errors say which offset the stream expected (BigQuery's messages do). */
  public synchronized void reportExpectedOffset(boolean report) {
    this.reportExpectedOffset = report;
  }

  /** Finalizes a stream: it keeps its rows and refuses further appends. */
  public synchronized void finalizeStream(String name) {
    streams.get(name).finalized = true;
  }

  static String tablePath(String project, String dataset, String table) {
    return "projects/" + project + "/datasets/" + dataset + "/tables/" + table;
  }

  static ObjectNode datasetResource(String project, String dataset) {
    ObjectNode d = JSON.createObjectNode();
    d.put("kind", "bigquery#dataset");
    d.put("id", project + ":" + dataset);
    d.putObject("datasetReference").put("projectId", project).put("datasetId", dataset);
    d.put("location", "US");
    return d;
  }

  @Override
  public void close() {
    rest.close();
    grpc.shutdownNow();
    try {
      grpc.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
