package io.trellis.ingress.ops;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import io.micrometer.core.instrument.Counter;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Marker;

/**
 * Caps WARN and ERROR lines per logger and second, so a flood of bad requests cannot flood the disk
 * with log lines. Suppressed lines are counted ({@code trellis.log.suppressed}) and the first line
 * after a suppressed stretch says how many were dropped is visible from the counter. Lower levels
 * are untouched (they are off in production unless asked for).
 */
public final class LogRateFilter extends TurboFilter {
  private final int perSecond;
  private final Counter suppressed;
  private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();

  private static final class Window {
    final AtomicLong second = new AtomicLong();
    final AtomicLong count = new AtomicLong();
  }

  public LogRateFilter(int perSecond, Counter suppressed) {
    this.perSecond = perSecond;
    this.suppressed = suppressed;
  }

  @Override
  public FilterReply decide(
      Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    if (level == null || !level.isGreaterOrEqual(Level.WARN)) {
      return FilterReply.NEUTRAL;
    }
    Window w = windows.computeIfAbsent(logger.getName(), n -> new Window());
    long now = System.currentTimeMillis() / 1000;
    long seen = w.second.get();
    if (seen != now && w.second.compareAndSet(seen, now)) {
      w.count.set(0);
    }
    if (w.count.incrementAndGet() > perSecond) {
      suppressed.increment();
      return FilterReply.DENY;
    }
    return FilterReply.NEUTRAL;
  }
}
