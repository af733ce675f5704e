package io.trellis.ingress.sink;

/**
 * A store that events are written to: ClickHouse, BigQuery, local files. Deliberately small:
 * batching, retries, backoff, dead letters and metrics live once around every sink (in the spool's
 * delivery loop), not inside each one.
 *
 * <p>Implementations are called from one delivery thread per sink and need not be thread-safe. A
 * sink's {@code toString()} is a summary without secrets.
 */
public interface Sink extends AutoCloseable {

  /** A stable name, used for the sink's spool cursor, metrics and dead letters. */
  String name();

  /**
   * Prepares the sink (connects, creates or checks the schema). Throws with a clear message when
   * the sink can never work with its configuration; a transient failure may be retried by the
   * caller.
   */
  default void start() throws SinkException {}

  /**
   * Stores every event of the batch durably, or throws. Returning normally is the sink's promise
   * that the whole batch is stored: the spool then moves the sink's cursor past it. The same batch
   * (same events, same offsets) may be written again after a failure, so sinks that can should
   * deduplicate on {@link SinkBatch#firstOffset()} / {@link SinkBatch#lastOffset()}.
   */
  void write(SinkBatch batch) throws SinkException;

  /**
   * The batch sizes this store prefers, or {@code defaults} (the spool's {@code spool.batch-*}
   * settings). A column store wants large batches (ClickHouse: tens of thousands of rows, about a
   * second); a file wants events visible quickly.
   */
  default BatchLimits batchLimits(BatchLimits defaults) {
    return defaults;
  }

  /** Health as a value; never throws. */
  default SinkHealth check() {
    return SinkHealth.ok();
  }

  @Override
  default void close() {}
}
