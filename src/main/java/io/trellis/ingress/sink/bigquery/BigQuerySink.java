package io.trellis.ingress.sink.bigquery;

import static java.util.Objects.requireNonNull;

import com.google.api.gax.rpc.ApiException;
import com.google.api.gax.rpc.StatusCode;
import com.google.cloud.bigquery.BigQuery;
import com.google.cloud.bigquery.BigQueryException;
import com.google.cloud.bigquery.DatasetId;
import com.google.cloud.bigquery.DatasetInfo;
import com.google.cloud.bigquery.Schema;
import com.google.cloud.bigquery.StandardTableDefinition;
import com.google.cloud.bigquery.Table;
import com.google.cloud.bigquery.TableId;
import com.google.cloud.bigquery.TableInfo;
import com.google.cloud.bigquery.storage.v1.BigQueryWriteClient;
import com.google.cloud.bigquery.storage.v1.CreateWriteStreamRequest;
import com.google.cloud.bigquery.storage.v1.GetWriteStreamRequest;
import com.google.cloud.bigquery.storage.v1.ProtoRows;
import com.google.cloud.bigquery.storage.v1.StreamWriter;
import com.google.cloud.bigquery.storage.v1.WriteStream;
import com.google.protobuf.ByteString;
import io.micrometer.core.instrument.MeterRegistry;
import io.trellis.ingress.event.EventSchema;
import io.trellis.ingress.sink.Sink;
import io.trellis.ingress.sink.SinkBatch;
import io.trellis.ingress.sink.SinkContext;
import io.trellis.ingress.sink.SinkException;
import io.trellis.ingress.sink.SinkHealth;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stores events in BigQuery through the Storage Write API, exactly once: rows go to a COMMITTED
 * write stream at offsets derived from their spool offsets ({@link StreamState}), so an append that
 * is repeated after a lost acknowledgement, a retry or a restart is answered {@code ALREADY_EXISTS}
 * instead of being stored twice. Which stream, and which spool offset is its row 0, is kept with
 * the sink's spool cursor ({@link SinkContext#saveMetadata}), saved before the first append to a
 * new stream; after a restart the spool delivers from its cursor into the same stream.
 *
 * <p>For each run of consecutive spool offsets in a batch, rows below the state's {@code next} are
 * skipped (already stored); the rest are sent in requests under the 10 MB limit, each at offset
 * {@code spoolOffset - base}. The answers:
 *
 * <ul>
 *   <li>{@code OK}: stored; {@code next} moves past them and is saved.
 *   <li>{@code ALREADY_EXISTS}: an earlier attempt stored a prefix (or all) of the request. The
 *       stream's end comes from the error or, failing that, from single-row probes (each probe that
 *       succeeds stores the right row at the right place); the remainder is then sent.
 *   <li>{@code OUT_OF_RANGE}: rows before this one never reached the stream; the spool skipped them
 *       (dead letters). Offsets must be contiguous, so writing continues in a new stream whose base
 *       is this row.
 *   <li>Row errors: {@link SinkException#rows} with the batch indexes; nothing of that request was
 *       stored, and the delivery loop writes the rest again.
 *   <li>Unavailable, overloaded, timed out: {@link SinkException.Kind#TRANSIENT}, retried by the
 *       delivery loop with backoff. The sink itself never retries beyond one client call.
 * </ul>
 *
 * <p>Not thread-safe: one delivery thread writes.
 */
public final class BigQuerySink implements Sink {
  private static final Logger log = LoggerFactory.getLogger(BigQuerySink.class);

  /** Bytes of encoded rows per append: under the API's 10,000,000-byte request limit. */
  static final long MAX_REQUEST_BYTES = 9_000_000;

  private final BigQueryConfig config;

  /** Where an earlier version kept the stream state; read once and removed. */
  private final Path legacyStateFile;

  private SinkContext context;
  private final BigQueryMetrics metrics;

  private BigQuery metadata;
  private final EventSchema events;
  private final EventRows rows;
  private BigQueryWriteClient writeClient;
  private StreamWriter writer;
  private StreamState state;

  /** The table was checked since the last problem. */
  private boolean ready;

  /** The recorded stream (if any) was looked up since {@link #open}. */
  private boolean resumed;

  /** New streams opened during the current write, to stop a server that refuses every offset. */
  private int rotations;

  private volatile String lastFailure;

  /** Rows this sink appended (not those BigQuery answered it already had). */
  private long rowsStored;

  public BigQuerySink(BigQueryConfig config, MeterRegistry registry) {
    this(config, registry, EventSchema.EVENTS);
  }

  /** A sink of another schema's columns (tests: the table an earlier version wrote). */
  public BigQuerySink(BigQueryConfig config, MeterRegistry registry, EventSchema events) {
    this.events = requireNonNull(events, "events is null");
    this.rows = new EventRows(events);
    this.config = requireNonNull(config, "config is null");
    this.legacyStateFile = config.stateDirectory().resolve("stream.json");
    this.metrics = new BigQueryMetrics(requireNonNull(registry, "registry is null"));
  }

  @Override
  public String name() {
    return "bigquery";
  }

  /**
   * Opens the clients and checks (or creates) the table. A table that cannot take our rows, or a
   * configuration that can never work, fails start-up with a clear message; BigQuery being
   * unreachable does not: the check is repeated before the first write and events wait in the spool
   * meanwhile.
   */
  @Override
  public void start() throws SinkException {
    try {
      metadata = BigQueryClients.metadata(config);
      writeClient = BigQueryClients.writer(config);
    } catch (IOException e) {
      throw SinkException.permanent("BigQuery sink cannot start: " + e.getMessage(), e);
    }
    try {
      checkTable();
      ready = true;
    } catch (TableProblem e) {
      throw SinkException.permanent(e.getMessage(), null);
    } catch (SinkException e) {
      lastFailure = e.getMessage();
      log.warn(
          "BigQuery is not reachable at start ({}); events wait in the spool until it is",
          e.getMessage());
    }
  }

  /**
   * Takes the stream recorded with the spool cursor (of this table), or the one an earlier version
   * recorded in {@code stream.json}, which moves to the cursor and is deleted. Rows below the
   * cursor are stored (or dead-lettered): the stream continues from there.
   */
  @Override
  public void open(SinkContext context) throws SinkException {
    this.context = requireNonNull(context, "context is null");
    try {
      Optional<StreamState> recorded = StreamState.parse(context.metadata());
      if (recorded.isEmpty() && Files.exists(legacyStateFile)) {
        recorded = StreamState.load(legacyStateFile);
        if (recorded.isPresent()) {
          context.saveMetadata(recorded.get().toJson());
        }
        Files.delete(legacyStateFile);
        log.info("Moved the BigQuery stream state from {} to the spool cursor", legacyStateFile);
      }
      state =
          recorded
              .filter(s -> s.table().equals(config.tablePath()))
              .map(s -> s.withNext(Math.max(s.base(), context.committedOffset())))
              .orElse(null);
    } catch (IOException e) {
      throw SinkException.transientFailure("cannot read the BigQuery stream state: " + e, e);
    }
    resumed = false;
  }

  @Override
  public void write(SinkBatch batch) throws SinkException {
    rotations = 0;
    try {
      ensureReady(batch.firstOffset());
      long ingestedAt = System.currentTimeMillis();
      List<ByteString> rows = new ArrayList<>(batch.size());
      Map<Integer, String> oversized = new LinkedHashMap<>();
      for (int i = 0; i < batch.size(); i++) {
        ByteString row = this.rows.encode(batch.items().get(i).event(), ingestedAt);
        rows.add(row);
        if (row.size() > MAX_REQUEST_BYTES) {
          oversized.put(
              i, "row of " + row.size() + " bytes exceeds the BigQuery append request limit");
        }
      }
      if (!oversized.isEmpty()) {
        throw SinkException.rows("rows too large for BigQuery", oversized);
      }
      int start = 0;
      for (int i = 1; i <= batch.size(); i++) {
        if (i == batch.size()
            || batch.items().get(i).offset() != batch.items().get(i - 1).offset() + 1) {
          writeRun(batch, rows, start, i);
          start = i;
        }
      }
      lastFailure = null;
    } catch (TableProblem e) {
      ready = false;
      throw fail(SinkException.transientFailure(e.getMessage(), null));
    } catch (SinkException e) {
      throw fail(e);
    }
  }

  private SinkException fail(SinkException e) {
    lastFailure = e.getMessage();
    return e;
  }

  /** Writes batch items {@code [from, to)}, whose spool offsets are consecutive. */
  private void writeRun(SinkBatch batch, List<ByteString> rows, int from, int to)
      throws SinkException, TableProblem {
    int i = from;
    while (i < to && batch.items().get(i).offset() < state.next()) {
      i++; // stored by an earlier attempt
    }
    while (i < to) {
      int end = i;
      long bytes = 0;
      while (end < to && (end == i || bytes + rows.get(end).size() <= MAX_REQUEST_BYTES)) {
        bytes += rows.get(end).size();
        end++;
      }
      i = appendChunk(batch, rows, i, end);
    }
  }

  /**
   * Appends items {@code [from, to)} at their stream offsets; returns the index up to which they
   * are now stored (which may be short of {@code to} when the stream already held a prefix).
   */
  private int appendChunk(SinkBatch batch, List<ByteString> rows, int from, int to)
      throws SinkException, TableProblem {
    long first = batch.items().get(from).offset();
    long at = state.streamOffset(first);
    AppendResult r = append(rows.subList(from, to), at);
    switch (r.outcome()) {
      case OK -> {
        stored(to - from);
        advance(batch.items().get(to - 1).offset() + 1);
        return to;
      }
      case ALREADY_EXISTS -> {
        metrics.alreadyStored();
        long end = streamEnd(rows, from, to, at, r.streamEnd());
        int stored = from + (int) Math.min(to - from, end - at);
        advance(batch.items().get(stored - 1).offset() + 1);
        return stored;
      }
      case OUT_OF_RANGE, STREAM_GONE -> {
        if (++rotations > batch.size() + 1) {
          throw SinkException.transientFailure(
              "BigQuery keeps refusing the offsets of new write streams: " + r.detail(), null);
        }
        if (r.outcome() == AppendResult.Outcome.STREAM_GONE) {
          log.warn(
              "BigQuery write stream {} is gone ({}); opening a new one",
              state.stream(),
              r.detail());
        } else if (first > state.next()) {
          log.info(
              "Spool offsets {}..{} were not written to BigQuery (dead-lettered); continuing in a"
                  + " new write stream",
              state.next(),
              first - 1);
        } else {
          log.warn(
              "BigQuery write stream {} is shorter than recorded ({}); continuing in a new one",
              state.stream(),
              r.detail());
        }
        newStream(first);
        return from;
      }
      case ROW_ERRORS -> {
        metrics.rejected(r.rowErrors().size());
        Map<Integer, String> errors = new LinkedHashMap<>();
        r.rowErrors().forEach((index, reason) -> errors.put(from + index, reason));
        throw SinkException.rows("BigQuery refused " + errors.size() + " rows", errors);
      }
      case INVALID ->
          throw SinkException.permanent("BigQuery refused the request: " + r.detail(), null);
      case SCHEMA_MISMATCH ->
          throw new TableProblem(
              "table " + tableName() + " no longer matches the events schema: " + r.detail());
      default ->
          throw SinkException.transientFailure("BigQuery append failed: " + r.detail(), null);
    }
  }

  /**
   * The end of the stream after an {@code ALREADY_EXISTS} for rows {@code [from, to)} sent at
   * {@code at}: from the error when it says, else found with single-row probes. A probe answered OK
   * has stored exactly the row that belongs there.
   */
  private long streamEnd(List<ByteString> rows, int from, int to, long at, long reported)
      throws SinkException, TableProblem {
    long last = at + (to - from) - 1;
    if (reported > at) {
      return Math.min(reported, last + 1);
    }
    long lo = at + 1; // the stream holds offset 'at'
    long hi = last + 1; // ... and ends at most past our last row
    while (lo < hi) {
      long m = lo + (hi - lo) / 2;
      AppendResult p = append(rows.subList(from + (int) (m - at), from + (int) (m - at) + 1), m);
      metrics.probe();
      switch (p.outcome()) {
        case OK -> {
          stored(1);
          return m + 1;
        }
        case ALREADY_EXISTS -> lo = m + 1;
        case OUT_OF_RANGE -> hi = m;
        default ->
            throw SinkException.transientFailure(
                "BigQuery append failed while resuming: " + p.detail(), null);
      }
    }
    return lo;
  }

  private AppendResult append(List<ByteString> rows, long offset) {
    ProtoRows request = ProtoRows.newBuilder().addAllSerializedRows(rows).build();
    try {
      StreamWriter w = writer();
      w.append(request, offset).get(config.appendTimeout().toMillis(), TimeUnit.MILLISECONDS);
      metrics.append("ok");
      return AppendResult.ok();
    } catch (ExecutionException e) {
      return classify(e.getCause());
    } catch (TimeoutException e) {
      return classify(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return classify(e);
    } catch (IOException | RuntimeException e) {
      return classify(e);
    }
  }

  private AppendResult classify(Throwable t) {
    AppendResult r = AppendResult.failed(t);
    metrics.append(r.outcome().name().toLowerCase(java.util.Locale.ROOT));
    if (r.outcome() == AppendResult.Outcome.TRANSIENT
        || r.outcome() == AppendResult.Outcome.STREAM_GONE
        || (writer != null && writer.isClosed())) {
      dropWriter();
    }
    return r;
  }

  private StreamWriter writer() throws IOException {
    if (writer == null) {
      StreamWriter.Builder b =
          StreamWriter.newBuilder(state.stream(), writeClient)
              .setWriterSchema(rows.schema())
              .setTraceId("trellis-ingress:bigquery-sink")
              // A failed connection fails the append after at most one quick reconnect, and the
              // spool retries with backoff; by default the client would reconnect for minutes.
              // (Zero would mean "without limit".)
              .setMaxRetryDuration(Duration.ofMillis(1));
      config.location().ifPresent(b::setLocation);
      writer = b.build();
    }
    return writer;
  }

  /** Closes a writer that may be broken, off the delivery thread (closing waits for its calls). */
  private Thread dropWriter() {
    StreamWriter w = writer;
    writer = null;
    if (w == null) {
      return null;
    }
    Thread t = new Thread(w::close, "bigquery-writer-close");
    t.setDaemon(true);
    t.start();
    return t;
  }

  private void stored(int count) {
    rowsStored += count;
    metrics.stored(count);
  }

  /**
   * How many rows this sink has appended since it was made, not counting rows an append found
   * stored already ({@code ALREADY_EXISTS}): what a replay reports as inserted.
   */
  public long rowsStored() {
    return rowsStored;
  }

  private void advance(long next) {
    if (next > state.next()) {
      state = state.withNext(next);
    }
  }

  private void ensureReady(long firstOffset) throws SinkException, TableProblem {
    if (context == null) {
      throw new IllegalStateException("write before open");
    }
    if (!ready) {
      checkTable();
      ready = true;
    }
    if (!resumed) {
      resumeStream();
      resumed = true;
    }
    if (state == null) {
      newStream(firstOffset);
    }
  }

  /** Continues the stream recorded with the spool cursor when BigQuery still has it. */
  private void resumeStream() throws SinkException {
    if (state == null) {
      return; // the first write opens a stream based at its first offset
    }
    try {
      WriteStream s =
          writeClient.getWriteStream(
              GetWriteStreamRequest.newBuilder().setName(state.stream()).build());
      if (s.getType() != WriteStream.Type.COMMITTED) {
        throw new IllegalStateException("not a committed stream: " + s.getType());
      }
      log.info(
          "Resuming BigQuery write stream {} at spool offset {}", state.stream(), state.next());
    } catch (ApiException e) {
      if (e.getStatusCode().getCode() != StatusCode.Code.NOT_FOUND) {
        throw SinkException.transientFailure(
            "cannot look up the BigQuery write stream: " + e.getMessage(), e);
      }
      log.warn("BigQuery write stream {} no longer exists; opening a new one", state.stream());
      newStream(state.next());
    }
  }

  /** Opens a new committed stream whose offset 0 is spool offset {@code base}. */
  private void newStream(long base) throws SinkException {
    dropWriter();
    WriteStream s;
    try {
      s =
          writeClient.createWriteStream(
              CreateWriteStreamRequest.newBuilder()
                  .setParent(config.tablePath())
                  .setWriteStream(WriteStream.newBuilder().setType(WriteStream.Type.COMMITTED))
                  .build());
    } catch (ApiException e) {
      if (e.getStatusCode().getCode() == StatusCode.Code.NOT_FOUND) {
        ready = false; // the table may have been dropped: check it again
      }
      throw SinkException.transientFailure(
          "cannot create a BigQuery write stream: " + e.getMessage(), e);
    }
    metrics.streamCreated();
    StreamState next = new StreamState(config.tablePath(), s.getName(), base, base);
    try {
      // Recorded before the first append: a restart must find the rows this stream gets.
      context.saveMetadata(next.toJson());
    } catch (IOException e) {
      throw SinkException.transientFailure("cannot record the BigQuery write stream: " + e, e);
    }
    state = next;
    log.info("Writing to BigQuery stream {} from spool offset {}", s.getName(), base);
  }

  /** Checks the table, creating it (and its dataset) when missing and allowed. */
  private void checkTable() throws SinkException, TableProblem {
    TableId id = TableId.of(config.project(), config.dataset(), config.table());
    try {
      Table table = metadata.getTable(id);
      if (table == null) {
        if (!config.createTable()) {
          throw new TableProblem(
              "BigQuery table " + tableName() + " does not exist and bigquery.create-table is off");
        }
        createTable(id);
      } else {
        table = addMissingColumns(table);
        List<String> problems = EventTable.incompatibilities(table.getDefinition(), events);
        if (!problems.isEmpty()) {
          throw new TableProblem(
              "BigQuery table "
                  + tableName()
                  + " cannot store events: "
                  + String.join("; ", problems));
        }
      }
    } catch (BigQueryException e) {
      if (e.getCode() == 400 || e.getCode() == 401 || e.getCode() == 403) {
        throw new TableProblem("BigQuery refused access to " + tableName() + ": " + e.getMessage());
      }
      throw SinkException.transientFailure("cannot reach BigQuery: " + e.getMessage(), e);
    }
  }

  /**
   * Adds the columns a table created by an earlier version lacks, all NULLABLE, with BigQuery's
   * table patch: no data is rewritten, rows already stored read NULL there, and writes go on.
   */
  private Table addMissingColumns(Table table) {
    Schema patched = EventTable.withMissingColumns(table.getDefinition(), events);
    if (patched == null || !(table.getDefinition() instanceof StandardTableDefinition d)) {
      return table;
    }
    StandardTableDefinition wanted = d.toBuilder().setSchema(patched).build();
    if (!EventTable.incompatibilities(wanted, events).isEmpty()) {
      return table; // other problems too: start fails listing them all, the table unchanged
    }
    Table updated =
        metadata.update(
            table.toBuilder().setDefinition(d.toBuilder().setSchema(patched).build()).build());
    log.info(
        "Added {} column(s) to BigQuery table {}",
        patched.getFields().size() - d.getSchema().getFields().size(),
        tableName());
    return updated;
  }

  private void createTable(TableId id) {
    DatasetId dataset = DatasetId.of(config.project(), config.dataset());
    if (metadata.getDataset(dataset) == null) {
      DatasetInfo.Builder d = DatasetInfo.newBuilder(dataset);
      config.location().ifPresent(d::setLocation);
      try {
        metadata.create(d.build());
        log.info("Created BigQuery dataset {}.{}", config.project(), config.dataset());
      } catch (BigQueryException e) {
        if (e.getCode() != 409) {
          throw e;
        }
      }
    }
    try {
      metadata.create(TableInfo.of(id, EventTable.definition(events)));
      log.info("Created BigQuery table {}", tableName());
    } catch (BigQueryException e) {
      if (e.getCode() != 409) {
        throw e;
      }
    }
  }

  private String tableName() {
    return config.project() + "." + config.dataset() + "." + config.table();
  }

  @Override
  public SinkHealth check() {
    String failure = lastFailure;
    return failure == null ? SinkHealth.ok() : SinkHealth.failed(failure);
  }

  /** Closes the clients; waits at most a few seconds for a stuck connection. */
  @Override
  public void close() {
    Thread closing = dropWriter();
    if (closing != null) {
      try {
        closing.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (writeClient != null) {
      writeClient.close();
      try {
        writeClient.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public String toString() {
    return "BigQuerySink{table=" + tableName() + ", " + config + "}";
  }

  /** The table cannot take our rows, or is missing and may not be created: an operator's job. */
  private static final class TableProblem extends Exception {
    TableProblem(String message) {
      super(message);
    }
  }
}
