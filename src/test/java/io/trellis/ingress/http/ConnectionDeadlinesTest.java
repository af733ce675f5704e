package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ConnectionDeadlinesTest {
  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

  @Test
  void onlyABodyStillReadingAtItsDeadlineTimesOutAndNoneIsKeptAfterwards() {
    ConnectionDeadlines deadlines = new ConnectionDeadlines(60_000);
    List<String> timedOut = new ArrayList<>();
    long start = System.nanoTime();
    ConnectionDeadlines.Body complete = deadlines.bodyStarted(50, () -> timedOut.add("complete"));
    ConnectionDeadlines.Body late = deadlines.bodyStarted(50, () -> timedOut.add("late"));
    ConnectionDeadlines.Body later = deadlines.bodyStarted(60_000, () -> timedOut.add("later"));
    assertThat(complete.finished()).isTrue();

    deadlines.sweep(start);
    assertThat(timedOut).isEmpty();
    assertThat(deadlines.watchedBodies()).isEqualTo(2);

    deadlines.sweep(start + 10_000 * MS);
    assertThat(timedOut).containsExactly("late");
    // A late body's own completion no longer counts: its answer was the 408.
    assertThat(late.finished()).isFalse();
    assertThat(deadlines.watchedBodies()).isEqualTo(1);

    assertThat(later.finished()).isTrue();
    deadlines.sweep(start + 10_000 * MS);
    assertThat(timedOut).containsExactly("late");
    assertThat(deadlines.watchedBodies()).isZero();
  }
}
