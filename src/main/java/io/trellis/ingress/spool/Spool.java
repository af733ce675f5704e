package io.trellis.ingress.spool;

import io.trellis.ingress.event.TrafficEvent;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The hand-off between the HTTP layer and the sinks. The HTTP layer answers 2xx only after the
 * future returned by {@link #append} completes: from then on the events will reach every sink.
 *
 * <p>Implementations are thread-safe. {@code append} never blocks the caller (it is called on
 * event-loop threads); the future completes on another thread.
 */
public interface Spool extends AutoCloseable {

  /**
   * Appends the events atomically: all of them are accepted or none. The future fails with {@link
   * SpoolFullException} when over budget (answer 503), {@link RecordTooLargeException} when an
   * event is larger than a record may be (answer 413), or another exception when the spool cannot
   * write (answer 503).
   */
  CompletableFuture<Void> append(List<TrafficEvent> events);

  /** Starts delivering to the sinks. */
  void start();

  /** True while appends are accepted (under budget and writable); the reason otherwise. */
  SpoolReadiness readiness();

  /** Stops accepting, flushes, lets the sinks drain for up to the configured time, and closes. */
  @Override
  void close();
}
