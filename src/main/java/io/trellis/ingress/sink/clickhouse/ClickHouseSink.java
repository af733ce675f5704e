package io.trellis.ingress.sink.clickhouse;

import static java.util.Objects.requireNonNull;

import com.clickhouse.client.api.Client;
import com.clickhouse.client.api.ServerException;
import com.clickhouse.client.api.command.CommandResponse;
import com.clickhouse.client.api.command.CommandSettings;
import com.clickhouse.client.api.insert.InsertResponse;
import com.clickhouse.client.api.insert.InsertSettings;
import com.clickhouse.client.api.query.QueryResponse;
import com.clickhouse.client.api.query.QuerySettings;
import com.clickhouse.data.ClickHouseFormat;
import io.trellis.ingress.config.Durations;
import io.trellis.ingress.config.Sizes;
import io.trellis.ingress.config.UrlSecrets;
import io.trellis.ingress.event.EventSchema;
import io.trellis.ingress.event.SpooledEvent;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.BatchLimits;
import io.trellis.ingress.sink.Sink;
import io.trellis.ingress.sink.SinkBatch;
import io.trellis.ingress.sink.SinkException;
import io.trellis.ingress.sink.SinkHealth;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stores events in ClickHouse with one {@code INSERT ... FORMAT JSONEachRow} per spool batch,
 * through the official {@code client-v2} over HTTP(S).
 *
 * <p>At start-up (or, when ClickHouse is unreachable then, before the first insert) the sink reads
 * {@code SELECT version()}, lets {@link ClickHouseSchema} choose the table layout and insert
 * settings for that server, and creates the table when missing. A server that is down at start-up
 * does not stop the service: events wait in the spool.
 *
 * <p>The sink never retries by itself (the client's own retries are off): every failure is
 * classified by {@link ClickHouseErrors} and handed to the spool's delivery loop, which retries the
 * identical batch. On servers that support it each insert carries an {@code
 * insert_deduplication_token} derived from the batch's spool offsets and event ids, so a retry
 * after a lost answer is not stored twice.
 *
 * <p>On a cluster ({@code clickhouse.cluster}) the tables are created {@code ON CLUSTER} only when
 * the connected node lacks them, without waiting longer than {@code clickhouse.cluster-ddl-timeout}
 * for nodes that are down; inserts go through the Distributed table and carry an {@code
 * ingested_at} that stays the same for every try of a batch, so the replicated tables drop a
 * retried block they already hold.
 *
 * <p>Called from one delivery thread; {@link #check()} may be called from any thread.
 */
public final class ClickHouseSink implements Sink {
  private static final Logger log = LoggerFactory.getLogger(ClickHouseSink.class);

  /** Server errors after which the table is looked up (and created) again before the next try. */
  private static final int UNKNOWN_TABLE = 60;

  private static final int UNKNOWN_DATABASE = 81;

  /** An {@code ON CLUSTER} statement that not every node ran within the wait. */
  private static final int TIMEOUT_EXCEEDED = 159;

  private final ClickHouseConfig config;
  private final EventSchema events;
  private final List<Client> clients;
  private volatile int current;
  private volatile ClickHouseSchema schema;
  private volatile ZoneId zone = ZoneOffset.UTC;
  private volatile int maxPartitions;
  private final LongAdder inserts = new LongAdder();
  // The plan of the batch being written, kept until it is stored so a retry repeats it exactly.
  private String plannedToken;
  private List<InsertPlan.Insert> planned;

  /** The columns each insert writes (those the insert table has); decided with {@link #schema}. */
  private volatile EventRows rows;

  /** The token of the last batch written or tried, and the ingestion time its tries send. */
  private String lastToken = "";

  private long lastIngestedAt;

  public ClickHouseSink(ClickHouseConfig config) {
    this(config, EventSchema.EVENTS);
  }

  /** A sink that stores the columns of {@code events} (tests: the table of another version). */
  ClickHouseSink(ClickHouseConfig config, EventSchema events) {
    this.config = requireNonNull(config, "config is null");
    this.events = requireNonNull(events, "events is null");
    if (!config.caCertificate().isEmpty() && !Files.isReadable(Path.of(config.caCertificate()))) {
      throw new IllegalArgumentException(
          "clickhouse.ca-certificate: cannot read " + config.caCertificate());
    }
    List<Client> built = new ArrayList<>();
    for (URI url : config.urls()) {
      built.add(client(url));
    }
    this.clients = List.copyOf(built);
  }

  private Client client(URI url) {
    Client.Builder b =
        new Client.Builder()
            .addEndpoint(url.toString())
            .setUsername(config.user())
            .setPassword(config.password())
            .compressClientRequest(config.compress())
            // Answers are tiny; and 18.x servers cannot compress them the way the client expects.
            .compressServerResponse(false)
            // Retries live in the spool's delivery loop, once for all sinks.
            .setMaxRetries(0)
            .setConnectTimeout(config.connectTimeout().toMillis(), ChronoUnit.MILLIS)
            .setSocketTimeout(config.requestTimeout().toMillis(), ChronoUnit.MILLIS)
            .setClientName("trellis-ingress");
    if (!config.caCertificate().isEmpty()) {
      b.setRootCertificate(config.caCertificate());
    }
    return b.build();
  }

  @Override
  public BatchLimits batchLimits(BatchLimits defaults) {
    return config.batchLimits();
  }

  @Override
  public String name() {
    return "clickhouse";
  }

  @Override
  public void start() throws SinkException {
    try {
      prepare();
    } catch (SinkException e) {
      if (e.kind() != SinkException.Kind.TRANSIENT) {
        throw e;
      }
      log.warn(
          "ClickHouse is not ready at start-up ({}); events wait in the spool and the table is"
              + " set up before the first insert",
          e.getMessage());
    }
  }

  /** The layout chosen for the server, or null before the sink reached it. */
  public ClickHouseSchema schema() {
    return schema;
  }

  private void prepare() throws SinkException {
    Client c = clients.get(current);
    ClickHouseSchema s;
    String versionText = text(c, "SELECT version()");
    try {
      s = new ClickHouseSchema(config, ServerVersion.parse(versionText), events);
    } catch (IllegalArgumentException e) {
      throw SinkException.transientFailure("unexpected answer to SELECT version(): " + e, e);
    }
    // The partition of a row is the month of its timestamp in the server's time zone.
    String tz = text(c, "SELECT timezone()");
    ZoneId z;
    try {
      z = ZoneId.of(tz);
    } catch (java.time.DateTimeException e) {
      log.warn("ClickHouse time zone '{}' is unknown here; partitions are counted in UTC", tz);
      z = ZoneOffset.UTC;
    }
    // Servers before 19.x have no such limit: the setting is absent and the answer empty.
    String limit =
        text(c, "SELECT value FROM system.settings WHERE name = 'max_partitions_per_insert_block'");
    int max = limit.isEmpty() ? 0 : (int) Math.min(Integer.MAX_VALUE, Long.parseLong(limit));
    BatchLimits b = config.batchLimits();
    log.info(
        "{} ({}; time zone {}, max_partitions_per_insert_block {}; inserts of at most {} rows, {}"
            + " or {} of waiting)",
        s.describe(),
        UrlSecrets.mask(config.urls().get(current).toString()),
        z,
        max == 0 ? "unlimited" : max,
        b.maxRows(),
        Sizes.format(b.maxBytes()),
        Durations.format(b.maxAge()));
    if (config.createTable()) {
      if (s.clustered() && tablesExist(c, s)) {
        // Each ON CLUSTER statement is a task in the cluster's DDL queue that every node runs:
        // tables that exist already need none (a restart, or another ingress node got there).
        log.info(
            "ClickHouse tables {} and {} exist on {}",
            s.storageTable(),
            s.insertTable(),
            config.urls().get(current));
      } else {
        createTables(c, s);
      }
    }
    rows = s.insertRows(ensureColumns(c, s));
    zone = z;
    maxPartitions = max;
    schema = s;
  }

  private void createTables(Client c, ClickHouseSchema s) throws SinkException {
    boolean nodeLate = false;
    for (String ddl : s.createStatements()) {
      CommandSettings settings = new CommandSettings();
      // Once a node has not answered in time, the next statements do not wait for it again:
      // they are queued behind the first one, which it has not run either.
      s.ddlSettings(!nodeLate).forEach(settings::serverSetting);
      try (CommandResponse ignored = await(c.execute(ddl, settings))) {
        log.debug("Executed {}", ddl);
      } catch (SinkException e) {
        throw e;
      } catch (Exception e) {
        if (s.clustered() && ClickHouseErrors.serverCode(e) == TIMEOUT_EXCEEDED) {
          // Queued for every node; a node that is down runs it when it returns. Whether this
          // node has the tables is checked below.
          log.warn(
              "Not every node of ClickHouse cluster {} has run '{}' yet; they run the queued"
                  + " statements when they return: {}",
              config.cluster(),
              ddl.lines().findFirst().orElse(ddl),
              ClickHouseErrors.summary(e.getMessage()));
          nodeLate = true;
          continue;
        }
        throw failed(e);
      }
    }
    if (s.clustered() && !awaitTables(c, s)) {
      throw SinkException.transientFailure(
          "ClickHouse at "
              + config.urls().get(current)
              + " has not created "
              + s.storageTable()
              + " and "
              + s.insertTable()
              + " yet (ON CLUSTER statements are queued)",
          null);
    }
    log.atInfo()
        .addKeyValue("table", s.storageTable())
        .addKeyValue("partition_by", config.partitioning().toString())
        .log(
            "ClickHouse table {} is ready (partition by {})",
            s.storageTable(),
            config.partitioning());
  }

  /**
   * Waits up to {@code clickhouse.cluster-ddl-timeout} until the connected node has run the queued
   * statements that were not waited for.
   */
  private boolean awaitTables(Client c, ClickHouseSchema s) throws SinkException {
    long deadline = System.nanoTime() + config.clusterDdlTimeout().toNanos();
    while (!tablesExist(c, s)) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw SinkException.transientFailure("interrupted while waiting for the tables", e);
      }
    }
    return true;
  }

  /** True when the connected node has both the storage table and the table inserts go to. */
  private boolean tablesExist(Client c, ClickHouseSchema s) throws SinkException {
    return text(c, "EXISTS TABLE " + s.storageTable()).equals("1")
        && text(c, "EXISTS TABLE " + s.insertTable()).equals("1");
  }

  /** The trimmed text answer of a query. */
  private String text(Client c, String sql) throws SinkException {
    try (QueryResponse r =
        await(c.query(sql, new QuerySettings().setFormat(ClickHouseFormat.TabSeparated)))) {
      return new String(r.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    } catch (SinkException e) {
      throw e;
    } catch (Exception e) {
      throw failed(e);
    }
  }

  /**
   * The columns the insert table has, after adding to tables created by an earlier version the
   * schema's columns they lack (when the sink manages the table), each after the column before it
   * in the schema. Without {@code clickhouse.create-table} a missing column is left out of the
   * inserts, and a warning says which and how to add it.
   */
  private Set<String> ensureColumns(Client c, ClickHouseSchema s) throws SinkException {
    List<String> tables = new ArrayList<>();
    tables.add(s.storageTable());
    if (!s.insertTable().equals(s.storageTable())) {
      tables.add(s.insertTable());
    }
    Set<String> present = null;
    for (String table : tables) {
      Set<String> have = columnsOf(c, table);
      if (have.isEmpty()) {
        // No such table (clickhouse.create-table is off): the inserts say so.
        have.addAll(s.events().names());
      }
      for (Map.Entry<io.trellis.ingress.event.Column, String> m : s.missingColumns(have)) {
        String name = m.getKey().name();
        String ddl = s.addColumn(table, m.getKey(), m.getValue());
        if (!config.createTable()) {
          log.warn(
              "ClickHouse table {} has no column {} and clickhouse.create-table is off: it is not"
                  + " stored there (add it with: {})",
              table,
              name,
              ddl);
          continue;
        }
        CommandSettings settings = new CommandSettings();
        s.ddlSettings(true).forEach(settings::serverSetting);
        try (CommandResponse ignored = await(c.execute(ddl, settings))) {
          log.info("Added column {} to {}", name, table);
        } catch (SinkException e) {
          throw e;
        } catch (Exception e) {
          // Another node may have added it meanwhile.
          if (!columnsOf(c, table).contains(name)) {
            throw failed(e);
          }
        }
        have.add(name);
      }
      if (present == null) {
        present = have;
      } else {
        present.retainAll(have);
      }
    }
    return present;
  }

  /** The column names of a table, empty when it does not exist. */
  private Set<String> columnsOf(Client c, String qualifiedTable) throws SinkException {
    int dot = qualifiedTable.indexOf('.');
    String database = dot < 0 ? config.database() : qualifiedTable.substring(0, dot);
    String table = dot < 0 ? qualifiedTable : qualifiedTable.substring(dot + 1);
    String names =
        text(
            c,
            "SELECT name FROM system.columns WHERE database = '"
                + sqlString(database)
                + "' AND table = '"
                + sqlString(table)
                + "'");
    Set<String> out = new HashSet<>();
    for (String n : names.split("\n")) {
      if (!n.isBlank()) {
        out.add(n.trim());
      }
    }
    return out;
  }

  private static String sqlString(String s) {
    return s.replace("\\", "\\\\").replace("'", "\\'");
  }

  /**
   * Writes the batch in as few inserts as the server's partition limit allows ({@link InsertPlan}):
   * one, unless its rows fall in more partitions than {@code max_partitions_per_insert_block}.
   *
   * <p>Every row is stored once. A batch cut in several inserts is planned once and the plan kept
   * until the batch is stored, so a retry after a transient failure repeats the same inserts with
   * the same deduplication tokens and the server drops those it has. When one of those inserts is
   * refused as bad data, the others are stored already: the sink finds the bad rows itself by
   * halving that insert (each half with a token of its own, the same on every retry) and reports
   * them with {@link SinkException#rowsOthersStored}, so the spool dead-letters exactly those and
   * writes nothing again. A batch written in one insert that is refused is reported as before
   * ({@code PERMANENT}): nothing of it was stored, and the spool splits it.
   */
  @Override
  public void write(SinkBatch batch) throws SinkException {
    if (schema == null) {
      prepare();
    }
    String token = deduplicationToken(batch);
    if (!token.equals(lastToken)) {
      lastToken = token;
      lastIngestedAt = System.currentTimeMillis();
    }
    List<InsertPlan.Insert> plan;
    if (token.equals(plannedToken)) {
      plan = planned;
    } else {
      plan =
          new ArrayList<>(
              InsertPlan.of(batch.items(), config.partitioning(), zone, maxPartitions, token)
                  .inserts());
      plannedToken = token;
      planned = plan;
    }
    Map<Integer, String> refused = new TreeMap<>();
    for (int i = 0; i < plan.size(); i++) {
      InsertPlan.Insert insert = plan.get(i);
      try {
        insert(rows(batch, insert.rows()), insert.token());
      } catch (SinkException e) {
        if (ClickHouseErrors.tooManyPartitions(e) && insert.partitions() > 1) {
          // The server's limit is lower than the one read at start-up (a changed profile): this
          // insert stored nothing; cut it in two, and plan the next batches with the lower limit.
          maxPartitions = Math.max(1, insert.partitions() / 2);
          log.warn(
              "{}; writing it in two and planning inserts of at most {} partitions",
              e.getMessage(),
              maxPartitions);
          plan.remove(i);
          plan.addAll(i, InsertPlan.halve(insert, batch.items(), config.partitioning(), zone));
          i--;
        } else if (e.kind() == SinkException.Kind.PERMANENT && plan.size() > 1) {
          isolate(batch, insert.rows(), insert.token(), e, refused);
        } else {
          throw e;
        }
      }
    }
    plannedToken = null;
    planned = null;
    if (!refused.isEmpty()) {
      throw SinkException.rowsOthersStored(
          refused.size() + " of " + batch.size() + " rows refused as bad data, the rest stored",
          refused);
    }
  }

  /** Finds the bad rows of a refused insert by halving it; every good row gets stored. */
  private void isolate(
      SinkBatch batch,
      List<Integer> rows,
      String token,
      SinkException failure,
      Map<Integer, String> refused)
      throws SinkException {
    if (rows.size() == 1) {
      refused.put(rows.get(0), failure.getMessage());
      return;
    }
    int mid = rows.size() / 2;
    List<List<Integer>> halves = List.of(rows.subList(0, mid), rows.subList(mid, rows.size()));
    for (int h = 0; h < 2; h++) {
      String halfToken = token + (h == 0 ? "l" : "r");
      try {
        insert(rows(batch, halves.get(h)), halfToken);
      } catch (SinkException e) {
        if (e.kind() != SinkException.Kind.PERMANENT) {
          throw e;
        }
        isolate(batch, halves.get(h), halfToken, e, refused);
      }
    }
  }

  private static List<TrafficEvent> rows(SinkBatch batch, List<Integer> indexes) {
    List<TrafficEvent> all = batch.events();
    if (indexes.size() == all.size()) {
      return all;
    }
    // A view: each event is decoded as its row is written, which finds the enrichment the
    // spool's other sinks made of it (Enrichments).
    return new AbstractList<>() {
      @Override
      public TrafficEvent get(int index) {
        return all.get(indexes.get(index));
      }

      @Override
      public int size() {
        return indexes.size();
      }
    };
  }

  private void insert(List<TrafficEvent> events, String token) throws SinkException {
    ClickHouseSchema s = schema;
    EventRows r = rows;
    long ingestedAt = s.sendsIngestedAt() ? lastIngestedAt : -1;
    InsertSettings settings = new InsertSettings();
    s.insertSettings(token).forEach(settings::serverSetting);
    Client c = clients.get(current);
    inserts.increment();
    try (InsertResponse ignored =
        await(
            c.insert(
                s.insertTable(),
                r.names(),
                out -> r.write(out, events, ingestedAt),
                ClickHouseFormat.JSONEachRow,
                settings))) {
      // Stored: the insert returned without an error.
    } catch (SinkException e) {
      throw e;
    } catch (Exception e) {
      throw failed(e);
    }
  }

  /** How many inserts the sink has sent (for the benchmark and tests). */
  public long inserts() {
    return inserts.sum();
  }

  /**
   * The event ids among these events that the table already holds: what a replay must not insert
   * again. Looks only at the events' organizations and time span, so ClickHouse reads the parts of
   * the primary key that can hold them. Works on every server version (18.x has no insert tokens,
   * so this is the check that makes a replay exactly once there).
   */
  public Set<String> storedEventIds(List<TrafficEvent> events) throws SinkException {
    if (events.isEmpty()) {
      return Set.of();
    }
    if (schema == null) {
      prepare();
    }
    Set<String> orgs = new TreeSet<>();
    long min = Long.MAX_VALUE;
    long max = Long.MIN_VALUE;
    StringBuilder ids = new StringBuilder(events.size() * 40);
    for (TrafficEvent e : events) {
      orgs.add(e.organizationId());
      min = Math.min(min, e.timestamp());
      max = Math.max(max, e.timestamp());
      quote(ids.length() == 0 ? ids : ids.append(','), e.eventId());
    }
    StringBuilder orgList = new StringBuilder();
    for (String o : orgs) {
      quote(orgList.length() == 0 ? orgList : orgList.append(','), o);
    }
    // Whole seconds around the span: servers before 20.1 store the time in seconds.
    String sql =
        "SELECT toString(event_id) FROM "
            + schema.insertTable()
            + " WHERE organization_id IN ("
            + orgList
            + ") AND timestamp >= toDateTime("
            + Math.floorDiv(min, 1000)
            + ") AND timestamp < toDateTime("
            + (Math.floorDiv(max, 1000) + 1)
            + ") AND toString(event_id) IN ("
            + ids
            + ")";
    Client c = clients.get(current);
    try (QueryResponse r =
        await(c.query(sql, new QuerySettings().setFormat(ClickHouseFormat.TabSeparated)))) {
      String text = new String(r.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      Set<String> found = new HashSet<>();
      for (String line : text.split("\n")) {
        if (!line.isBlank()) {
          found.add(line.trim());
        }
      }
      return found;
    } catch (SinkException e) {
      throw e;
    } catch (Exception e) {
      throw failed(e);
    }
  }

  /** A ClickHouse string literal. */
  private static StringBuilder quote(StringBuilder sb, String s) {
    sb.append('\'');
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      if (ch == '\\' || ch == '\'') {
        sb.append('\\');
      }
      sb.append(ch);
    }
    return sb.append('\'');
  }

  /**
   * Waits for the client's future: the socket timeout bounds each read, and this bounds the whole
   * call, so a stuck request becomes a transient failure instead of a hung delivery thread.
   */
  private <T> T await(Future<T> future) throws Exception {
    long limit = config.connectTimeout().toMillis() + 2 * config.requestTimeout().toMillis();
    try {
      return future.get(limit, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      future.cancel(true);
      throw SinkException.transientFailure("ClickHouse did not answer within " + limit + " ms", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw SinkException.transientFailure("interrupted while waiting for ClickHouse", e);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception ex ? ex : e;
    }
  }

  private SinkException failed(Exception e) {
    SinkException out = ClickHouseErrors.classify(e);
    if (ClickHouseErrors.isConnectionFailure(e)) {
      // The server may come back upgraded, or another URL may be the one that answers:
      // look the version up again before the next insert.
      schema = null;
      if (clients.size() > 1) {
        current = (current + 1) % clients.size();
      }
    } else if (out.getCause() instanceof ServerException se
        && (ClickHouseErrors.code(se) == UNKNOWN_TABLE
            || ClickHouseErrors.code(se) == UNKNOWN_DATABASE)) {
      schema = null;
    }
    return out;
  }

  /**
   * The token that makes a retried batch idempotent on servers with {@code
   * insert_deduplication_token}. The offsets identify the batch within its spool; the hash of the
   * event ids keeps a batch of a new spool (whose offsets start again at 0) from matching an older
   * one and being dropped as a duplicate.
   */
  static String deduplicationToken(SinkBatch batch) {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    for (SpooledEvent e : batch.items()) {
      sha.update(e.eventId().getBytes(StandardCharsets.US_ASCII));
      sha.update((byte) '\n');
    }
    String hash = HexFormat.of().formatHex(sha.digest(), 0, 8);
    return "trellis-" + batch.firstOffset() + "-" + batch.lastOffset() + "-" + hash;
  }

  @Override
  public SinkHealth check() {
    Client c = clients.get(current);
    try {
      if (!c.ping(config.connectTimeout().toMillis())) {
        return SinkHealth.failed(
            "ClickHouse at " + config.urls().get(current) + " does not answer");
      }
    } catch (RuntimeException e) {
      return SinkHealth.failed(
          "ClickHouse at "
              + config.urls().get(current)
              + ": "
              + ClickHouseErrors.summary(e.getMessage()));
    }
    return schema == null ? SinkHealth.failed("ClickHouse table not set up yet") : SinkHealth.ok();
  }

  @Override
  public void close() {
    for (Client c : clients) {
      c.close();
    }
  }

  @Override
  public String toString() {
    return "ClickHouseSink{" + config + "}";
  }
}
