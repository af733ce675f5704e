package io.trellis.ingress.spool;

/**
 * How long an open group commit waits for another append before it writes its fsync.
 *
 * <p><b>Adaptive</b> (the default): a group waits only while waiting pays, judged from two moving
 * averages the writer keeps: the time an fsync takes and the gap between arriving appends. When
 * appends arrive at least {@value #COMPANY} times per fsync, the group waits once, until one
 * average fsync has passed since it opened (never longer than {@code spool.fsync-max-delay}), and
 * takes everything that came meanwhile: every fsync saved is CPU the writer and the kernel do not
 * spend, and so is every wake-up. That at most doubles the wait a request has for its fsync anyway.
 * With appends further apart, a group is whatever is queued and nobody waits: a lone request pays
 * one fsync and nothing else.
 *
 * <p>The wait is one sleep, not a string of short ones that close the group at the first lull.
 * Under load appends come in bursts (each group's answers bring the next requests together), so a
 * group closed at a lull is followed by another fsync soon after, and each short sleep is a context
 * switch more (docs/performance.md measures both).
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
    return Math.max(0, openedNanos + Math.min(maxDelayNanos, fsyncNanos) - now);
  }

  long fsyncNanos() {
    return fsyncNanos;
  }

  long gapNanos() {
    return gapNanos;
  }
}
