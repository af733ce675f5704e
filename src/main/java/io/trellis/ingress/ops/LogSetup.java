package io.trellis.ingress.ops;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Iterator;
import org.slf4j.LoggerFactory;

/** Applies the logging settings to Logback at start-up: level, JSON lines, access log, rate cap. */
public final class LogSetup {
  /** The logger of the access log; one line per capture request when {@code log.access} is on. */
  public static final String ACCESS_LOGGER = "trellis.access";

  private LogSetup() {}

  public static void apply(OpsConfig config, MeterRegistry registry) {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx)) {
      return;
    }
    ctx.getLogger("io.trellis").setLevel(Level.toLevel(config.logLevel(), Level.INFO));
    ctx.getLogger(ACCESS_LOGGER).setLevel(config.accessLog() ? Level.INFO : Level.OFF);
    ctx.getTurboFilterList().removeIf(f -> f instanceof LogRateFilter);
    LogRateFilter filter =
        new LogRateFilter(config.logErrorsPerSecond(), registry.counter("trellis.log.suppressed"));
    filter.setContext(ctx);
    filter.start();
    ctx.addTurboFilter(filter);
    if (config.logFormat().equals("json")) {
      ch.qos.logback.classic.Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
      for (Iterator<Appender<ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext(); ) {
        if (it.next() instanceof OutputStreamAppender<ILoggingEvent> out) {
          JsonLogEncoder json = new JsonLogEncoder();
          json.setContext(ctx);
          json.start();
          out.stop();
          out.setEncoder(json);
          out.start();
        }
      }
    }
  }
}
