package io.trellis.ingress.live;

import static java.util.Objects.requireNonNull;

import java.util.ArrayDeque;

/**
 * One connected viewer's queue: the stream's frames (shared, encoded once for all viewers) that its
 * connection has not taken yet, bounded in bytes. The tail thread offers; the admin event loop
 * takes what the connection can accept. When the queue is full the frame is dropped for this viewer
 * only and counted, and the count is sent to the viewer once its connection accepts again. A viewer
 * never makes the tail wait and never holds more than its bound.
 *
 * <p>Thread-safe: {@link #offer} from the tail thread, the rest from the event loop.
 */
final class LiveViewer {
  private final LiveFilter filter;
  private final long maxBytes;
  private final ArrayDeque<byte[]> queue = new ArrayDeque<>();
  private long queuedBytes;
  private long dropped;
  private long droppedSent;
  /* Bytes handed to the connection, not yet in its socket; written by the event loop only. */
  private volatile long writing;

  LiveViewer(LiveFilter filter, long maxBytes) {
    this.filter = requireNonNull(filter, "filter is null");
    this.maxBytes = maxBytes;
  }

  LiveFilter filter() {
    return filter;
  }

  /** Queues a frame, or counts it dropped when the viewer's buffer has no room for it. */
  synchronized boolean offer(byte[] frame) {
    if (queuedBytes + frame.length > maxBytes) {
      dropped++;
      return false;
    }
    queue.addLast(frame);
    queuedBytes += frame.length;
    return true;
  }

  /*
   * No stored record is smaller than this: a viewer with less room left gets nothing more, and the
   * tail need not encode an event only to drop it.
   */
  private static final int SMALLEST_FRAME = 256;

  /** True when no frame fits: the next events are dropped whatever they are. */
  synchronized boolean full() {
    return queuedBytes + SMALLEST_FRAME > maxBytes;
  }

  /** Counts one event dropped without being offered (the viewer was {@link #full()}). */
  synchronized void drop() {
    dropped++;
  }

  /** Counts events the viewer cannot see because the tail itself passed over them. */
  synchronized void missed(long events) {
    dropped += events;
  }

  /**
   * Takes queued frames of up to about {@code budget} bytes (at least one) into {@code out}; a
   * {@code dropped} frame first when more were dropped since the last one sent.
   */
  synchronized void drainTo(io.vertx.core.buffer.Buffer out, int budget) {
    if (dropped != droppedSent) {
      droppedSent = dropped;
      out.appendString("event: dropped\ndata: {\"dropped\":" + dropped + "}\n\n");
    }
    while (!queue.isEmpty()
        && (out.length() == 0 || out.length() + queue.peekFirst().length <= budget)) {
      byte[] f = queue.pollFirst();
      queuedBytes -= f.length;
      out.appendBytes(f);
    }
  }

  synchronized long dropped() {
    return dropped;
  }

  synchronized long queuedBytes() {
    return queuedBytes;
  }

  /** Bytes handed to the connection and not yet written to its socket. */
  long writingBytes() {
    return writing;
  }

  /** Event loop only: {@code n} more (or, negative, fewer) bytes handed to the connection. */
  void writing(long n) {
    writing += n;
  }
}
