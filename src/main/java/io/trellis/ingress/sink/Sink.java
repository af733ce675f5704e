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
   * Hands the sink its spool context, on the delivery thread, before the first {@link #write}: the
   * committed cursor and the note saved with it ({@link SinkContext}). Called again after {@link
   * #preCommit} failed, before the events from the cursor are written again: a sink that can puts
   * its store back to the cursor, as after a restart.
   */
  default void open(SinkContext context) throws SinkException {}

  /**
   * Stores every event of the batch, or throws. Returning normally is the sink's promise that the
   * whole batch is written; it is durable once {@link #preCommit} says so (by default at once). The
   * same batch (same events, same offsets) may be written again after a failure or a restart, so
   * sinks that can should deduplicate on {@link SinkBatch#firstOffset()} / {@link
   * SinkBatch#lastOffset()}.
   *
   * <p>The batch's events may be read during this call only: the delivery holds their records off
   * the heap ({@link io.trellis.ingress.event.RecordArena}) and reuses that memory for the next
   * batch. A sink that keeps events for later keeps what it read of them.
   */
  void write(SinkBatch batch) throws SinkException;

  /**
   * The offset below which every event handed to this sink is durable in the store (Kafka Connect's
   * {@code preCommit}): the spool moves the sink's cursor only that far, and after a crash delivers
   * again from there. Called after each write, and every few milliseconds while the sink holds
   * written events that are not durable yet. {@code written} is the offset below which every event
   * was written or dead-lettered; the answer is at most that. A sink that makes each batch durable
   * inside {@link #write} returns {@code written} (the default).
   *
   * @param flush make everything written durable now (the spool is draining or stopping)
   * @throws SinkException when the written events cannot be made durable: the spool then opens the
   *     sink again ({@link #open}) and writes every event from the cursor again
   */
  default long preCommit(long written, boolean flush) throws SinkException {
    return written;
  }

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
