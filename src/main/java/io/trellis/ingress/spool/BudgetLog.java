package io.trellis.ingress.spool;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.config.Durations;
import io.trellis.ingress.config.Sizes;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs the spool's disk budget being reached and the spool having room again: one line per change,
 * however many requests are refused in between (each refusal is counted in {@code
 * trellis.spool.refused}, not logged). The first line gives the figures an operator needs to act
 * (bytes used of the budget, each sink's lag); the second how long events were refused and how many
 * appends were.
 *
 * <p>Thread-safe: appends on any event loop and the delivery threads report to it concurrently; a
 * compare-and-set decides which one logs a change.
 */
final class BudgetLog {
  private static final Logger log = LoggerFactory.getLogger(DiskSpool.class);

  /** One sink's backlog when the budget was reached. */
  record SinkLag(String sink, long events, double seconds) {}

  /** When the budget was reached (epoch millis); null while the spool has room. */
  private final AtomicReference<Long> fullSince = new AtomicReference<>();

  private final AtomicLong refusedWhileFull = new AtomicLong();
  private final DiskBudget budget;
  private final Supplier<List<SinkLag>> lags;

  BudgetLog(DiskBudget budget, Supplier<List<SinkLag>> lags) {
    this.budget = requireNonNull(budget, "budget is null");
    this.lags = requireNonNull(lags, "lags is null");
  }

  /** An append was refused because the budget is reached. */
  void refused() {
    refusedWhileFull.incrementAndGet();
    if (fullSince.get() != null || !fullSince.compareAndSet(null, System.currentTimeMillis())) {
      return;
    }
    List<SinkLag> behind = lags.get();
    StringBuilder sinks = new StringBuilder();
    long maxLag = 0;
    double maxSeconds = 0;
    for (SinkLag l : behind) {
      sinks.append(sinks.length() == 0 ? "" : ", ").append(l.sink()).append(' ');
      sinks.append(l.events()).append(" events (").append(seconds(l.seconds())).append(')');
      maxLag = Math.max(maxLag, l.events());
      maxSeconds = Math.max(maxSeconds, l.seconds());
    }
    long used = budget.used();
    log.atWarn()
        .addKeyValue("event", "spool_budget_reached")
        .addKeyValue("used_bytes", used)
        .addKeyValue("max_bytes", budget.max())
        .addKeyValue("lag_events", maxLag)
        .addKeyValue("lag_seconds", maxSeconds)
        .log(
            "Spool disk budget reached: {} of {} used; refusing events with 503 until the sinks"
                + " catch up. Behind: {}",
            Sizes.format(used),
            Sizes.format(budget.max()),
            behind.isEmpty() ? "no sink" : sinks);
  }

  /** The spool has room again: an append was accepted, or segments were freed. */
  void room() {
    Long since = fullSince.get();
    if (since == null || !fullSince.compareAndSet(since, null)) {
      return;
    }
    long refused = refusedWhileFull.getAndSet(0);
    Duration full = Duration.ofMillis(System.currentTimeMillis() - since);
    long used = budget.used();
    log.atInfo()
        .addKeyValue("event", "spool_budget_recovered")
        .addKeyValue("used_bytes", used)
        .addKeyValue("max_bytes", budget.max())
        .addKeyValue("full_seconds", full.toMillis() / 1000.0)
        .addKeyValue("refused_appends", refused)
        .log(
            "Spool has room again: {} of {} used; accepting events after {} at the budget ({}"
                + " appends refused)",
            Sizes.format(used),
            Sizes.format(budget.max()),
            Durations.elapsed(full),
            refused);
  }

  boolean full() {
    return fullSince.get() != null;
  }

  private static String seconds(double s) {
    return Durations.elapsed(Duration.ofMillis((long) (s * 1000))) + " behind";
  }
}
