package io.trellis.ingress.spool;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** When an open group commit waits for company, from the times the writer measured. */
class GroupWaitTest {
  private static final long US = 1_000;
  private static final long MS = 1_000_000;

  /** Appends every {@code gap}, fsyncs of {@code fsync}; returns the time of the last arrival. */
  private static long feed(GroupWait w, long gap, long fsync, int appends) {
    long t = 1_000 * MS;
    for (int i = 0; i < appends; i++) {
      w.arrived(t);
      t += gap;
      if (i % 10 == 0) {
        w.synced(fsync);
      }
    }
    return t - gap;
  }

  @Test
  void appendsArrivingManyTimesPerFsyncAreWaitedForAtMostOneFsync() {
    GroupWait w = new GroupWait(true, 2 * MS);
    long last = feed(w, 20 * US, 400 * US, 200);
    // Opened 100 µs ago: one sleep to the end of the fsync's time since it opened.
    assertThat(w.waitNanos(last + 5 * US, last - 100 * US, last - 100 * US)).isEqualTo(295 * US);
    // The group has been open for almost one fsync: only what is left of it.
    long opened = last - 390 * US;
    assertThat(w.waitNanos(last + 5 * US, opened, opened)).isLessThanOrEqualTo(10 * US);
    assertThat(w.waitNanos(last + 5 * US, last - 500 * US, last - 500 * US)).isZero();
  }

  @Test
  void aLullInTheArrivalsDoesNotCloseTheGroupEarly() {
    // Appends come in bursts under load: 60 µs without one (three gaps) is not their end.
    GroupWait w = new GroupWait(true, 2 * MS);
    long last = feed(w, 20 * US, 400 * US, 200);
    assertThat(w.waitNanos(last + 60 * US, last, last)).isEqualTo(340 * US);
  }

  @Test
  void appendsFurtherApartThanAQuarterOfAnFsyncAreNotWaitedFor() {
    GroupWait w = new GroupWait(true, 2 * MS);
    long last = feed(w, 150 * US, 400 * US, 200);
    assertThat(w.waitNanos(last + 1 * US, last, last)).isZero();
  }

  @Test
  void beforeTheFirstFsyncIsMeasuredNobodyWaits() {
    GroupWait w = new GroupWait(true, 2 * MS);
    w.arrived(0);
    w.arrived(1 * US);
    assertThat(w.waitNanos(2 * US, 0, 0)).isZero();
  }

  @Test
  void theSettingCapsTheWaitBelowAnFsync() {
    GroupWait w = new GroupWait(true, 50 * US);
    long last = feed(w, 20 * US, 4 * MS, 200);
    long opened = last - 45 * US;
    assertThat(w.waitNanos(last + 1 * US, opened, opened)).isLessThanOrEqualTo(4 * US);
  }

  @Test
  void fixedWaitsUntilTheDelayInStepsOfATenth() {
    GroupWait w = new GroupWait(false, 1 * MS);
    assertThat(w.waitNanos(200 * US, 0, 0)).isEqualTo(100 * US);
    assertThat(w.waitNanos(950 * US, 0, 0)).isEqualTo(50 * US);
    assertThat(w.waitNanos(1 * MS, 0, 0)).isZero();
    assertThat(new GroupWait(false, 0).waitNanos(5, 0, 0)).isZero();
  }
}
