package io.trellis.ingress.spool;

import io.trellis.ingress.event.EventCodec;
import io.trellis.ingress.event.TrafficEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The hand-off between the HTTP layer and the sinks. The HTTP layer answers 2xx only after the
 * future returned by {@link #append} completes: from then on the events will reach every sink.
 *
 * <p>Implementations are thread-safe. {@code append} never blocks the caller (it is called on
 * event-loop threads).
 */
public interface Spool extends AutoCloseable {

  /** The outcome of one append. */
  @FunctionalInterface
  interface Completion {
    /** Called once: {@code failure} is null when the events are stored. */
    void completed(Throwable failure);
  }

  /** Runs a completion on the thread that completes the append (tests, tools). */
  Executor DIRECT = Runnable::run;

  /**
   * Appends encoded events ({@link io.trellis.ingress.event.EventCodec} records) atomically: all of
   * them are accepted or none. The spool keeps the arrays as they are: the caller must not change
   * them afterwards. The completion gets {@link SpoolFullException} when over budget (answer 503),
   * {@link RecordTooLargeException} when a record is larger than a record may be (answer 413), or
   * another exception when the spool cannot write (answer 503); null once the events are stored.
   *
   * <p>A refusal known at once is given on the calling thread before this returns. Otherwise the
   * completion runs through {@code executor}, and the appends of one group that name the same
   * executor are completed by one task on it: an HTTP event loop is woken once per group, not once
   * per request.
   */
  void appendRecords(List<byte[]> records, Executor executor, Completion completion);

  /** {@link #appendRecords} of the events, each encoded with {@link EventCodec#encode}. */
  default void append(List<TrafficEvent> events, Executor executor, Completion completion) {
    List<byte[]> records = new ArrayList<>(events.size());
    for (TrafficEvent e : events) {
      records.add(EventCodec.encode(e));
    }
    appendRecords(records, executor, completion);
  }

  /** {@link #append(List, Executor, Completion)} as a future, completed on the writer's thread. */
  default CompletableFuture<Void> append(List<TrafficEvent> events) {
    CompletableFuture<Void> f = new CompletableFuture<>();
    append(
        events,
        DIRECT,
        failure -> {
          if (failure == null) {
            f.complete(null);
          } else {
            f.completeExceptionally(failure);
          }
        });
    return f;
  }

  /** Starts delivering to the sinks. */
  void start();

  /** True while appends are accepted (under budget and writable); the reason otherwise. */
  SpoolReadiness readiness();

  /** Stops accepting, flushes, lets the sinks drain for up to the configured time, and closes. */
  @Override
  void close();
}
