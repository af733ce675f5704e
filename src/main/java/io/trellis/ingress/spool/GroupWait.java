package io.trellis.ingress.spool;

/**
 * How long an open group commit waits for another append before it writes its fsync.
 *
 * <p><b>Adaptive</b> (the default): a group waits only while waiting pays, judged from two moving
 * averages the writer keeps: the time an fsync takes and the gap between arriving appends. When
 * appends arrive at least {@value #COMPANY} times per fsync, a short wait gathers several of them
 * into this fsync instead of the next one, and every fsync saved is CPU the writer and the kernel
 * do not spend; the wait ends as soon as appends stop arriving (no append for two average gaps),
 * and never lasts longer than one average fsync since the group opened, nor {@code
 * spool.fsync-max-delay}, so it at most doubles the wait a request has for its fsync anyway. With
 * appends further apart than that, a group is whatever is queued and nobody waits: a lone request
 * pays one fsync and nothing else.
 *
 * <p><b>Fixed</b>: every group waits until {@code spool.fsync-max-delay} after its oldest append,
 * closing earlier once no append has arrived for a tenth of the delay.
 *
 * <p>Not thread-safe: the writer thread's.
 */
final class GroupWait {
  /** Appends per fsync time from which a group waits for company. */
  static final int COMPANY = 4;

  /* Moving averages weigh each new sample 1/8. */
  private static final int SHIFT = 3;
  private static final long IDLE_GAP_DIVISOR = 10;

  private final boolean adaptive;
  private final long maxDelayNanos;
  private final long idleGapNanos;
  private long fsyncNanos;
  private long gapNanos;
  private long lastArrivalNanos = Long.MIN_VALUE;

  GroupWait(boolean adaptive, long maxDelayNanos) {
    this.adaptive = adaptive;
    this.maxDelayNanos = maxDelayNanos;
    this.idleGapNanos = Math.max(1, maxDelayNanos / IDLE_GAP_DIVISOR);
  }

  /** An append the writer took, queued at {@code enqueuedNanos}. */
  void arrived(long enqueuedNanos) {
    if (lastArrivalNanos != Long.MIN_VALUE) {
      long gap = enqueuedNanos - lastArrivalNanos;
      if (gap >= 0) {
        // A long idle spell is one sample, not a reason to distrust the next burst for long.
        long cap = Math.max(fsyncNanos, 1_000_000L) * 4;
        gapNanos += (Math.min(gap, cap) - gapNanos) >> SHIFT;
      }
    }
    lastArrivalNanos = Math.max(lastArrivalNanos, enqueuedNanos);
  }

  /** An fsync that took {@code nanos}. */
  void synced(long nanos) {
    fsyncNanos = fsyncNanos == 0 ? nanos : fsyncNanos + ((nanos - fsyncNanos) >> SHIFT);
  }

  /**
   * How long to wait now, with nothing queued, for another append to join the group; 0 closes the
   * group.
   *
   * @param now the time now
   * @param openedNanos when the writer took the group's first append
   * @param firstEnqueuedNanos when the group's first append was queued
   */
  long waitNanos(long now, long openedNanos, long firstEnqueuedNanos) {
    if (!adaptive) {
      long left = firstEnqueuedNanos + maxDelayNanos - now;
      return left <= 0 ? 0 : Math.min(left, idleGapNanos);
    }
    if (fsyncNanos == 0 || gapNanos * COMPANY > fsyncNanos) {
      return 0;
    }
    long left = openedNanos + Math.min(maxDelayNanos, fsyncNanos) - now;
    long patience = 2 * Math.max(gapNanos, 1) - (now - lastArrivalNanos);
    return Math.max(0, Math.min(left, patience));
  }

  long fsyncNanos() {
    return fsyncNanos;
  }

  long gapNanos() {
    return gapNanos;
  }
}
