package io.trellis.ingress.spool;

import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.ConfigException;
import io.trellis.ingress.config.Setting;
import io.trellis.ingress.config.SettingType;
import io.trellis.ingress.config.Sizes;
import io.trellis.ingress.sink.BatchLimits;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * The durable spool under {@code DATA_DIR/spool/}: how appends become durable, how large the log
 * may grow, and how sinks are fed from it.
 *
 * @param maxBytes the disk budget; empty means "a fraction of the free space, computed at start"
 */
public record SpoolConfig(
    FsyncPolicy fsync,
    GroupCommit groupCommit,
    Duration fsyncMaxDelay,
    long fsyncMaxBytes,
    long segmentBytes,
    int maxRecordBytes,
    OptionalLong maxBytes,
    int batchMaxRows,
    long batchMaxBytes,
    Duration batchMaxAge,
    Duration retryInitialBackoff,
    Duration retryMaxBackoff,
    Duration drainTimeout,
    int enrichmentCacheEvents) {

  /** How appends are made durable before they are acknowledged. */
  public enum FsyncPolicy {
    /** Many appends share one fsync (group commit); survives a power loss. */
    GROUP,
    /** Written to the page cache only: survives a process crash, not a power loss. */
    NONE
  }

  /** When a group commit waits for more appends to share its fsync; see {@link GroupWait}. */
  public enum GroupCommit {
    /** Only while appends arrive several times per measured fsync, for at most one fsync. */
    ADAPTIVE,
    /** Always up to {@code spool.fsync-max-delay}. */
    FIXED
  }

  /** Share of the free disk space the spool may use when {@code spool.max-bytes} is not set. */
  public static final double DEFAULT_BUDGET_SHARE = 0.5;

  public static final List<Setting> SETTINGS =
      List.of(
          Setting.of(
              "spool.fsync",
              SettingType.STRING,
              "group",
              "group: an append is acknowledged after an fsync shared by concurrent appends;"
                  + " none: after the write to the page cache (survives a crash, not a power"
                  + " loss)."),
          Setting.of(
              "spool.group-commit",
              SettingType.STRING,
              "adaptive",
              "adaptive: a group waits for more appends only while they arrive at least four"
                  + " times per measured fsync, then until one fsync's time since it opened (at"
                  + " most spool.fsync-max-delay); fixed: every group waits up to"
                  + " spool.fsync-max-delay."),
          Setting.of(
              "spool.fsync-max-delay",
              SettingType.DURATION,
              "1ms",
              "Longest an append waits for later ones to share its fsync (microseconds"
                  + " allowed, e.g. 250us). 0: no wait; the appends that arrive during one fsync"
                  + " share the next."),
          Setting.of(
              "spool.fsync-max-bytes",
              SettingType.SIZE,
              "1MiB",
              "Bytes after which a group is synced without waiting longer."),
          Setting.of(
              "spool.segment-size",
              SettingType.SIZE,
              "64MiB",
              "Size of one spool segment file; space is freed a whole segment at a time."),
          Setting.of(
              "spool.max-record-size",
              SettingType.SIZE,
              "8MiB",
              "Largest encoded event the spool stores; larger events are refused with 413."),
          Setting.of(
              "spool.max-bytes",
              SettingType.SIZE,
              "",
              "Disk budget of the spool; when reached, requests get 503 until sinks catch up."
                  + " Default: half of the free space of the data directory at start, at least two"
                  + " segments."),
          Setting.of(
              "spool.batch-max-rows",
              SettingType.INT,
              "2000",
              "Most events in one sink batch (a batch is held in memory, as its spool records, until"
                  + " written)."),
          Setting.of(
              "spool.batch-max-bytes",
              SettingType.SIZE,
              "16MiB",
              "Most encoded bytes in one sink batch."),
          Setting.of(
              "spool.batch-max-age",
              SettingType.DURATION,
              "200ms",
              "Longest an event waits for its batch to fill before the batch is written."),
          Setting.of(
              "spool.retry-initial-backoff",
              SettingType.DURATION,
              "100ms",
              "First wait before retrying a failed sink batch; doubles on each failure."),
          Setting.of(
              "spool.retry-max-backoff",
              SettingType.DURATION,
              "30s",
              "Longest wait between retries of a failed sink batch."),
          Setting.of(
              "spool.drain-timeout",
              SettingType.DURATION,
              "10s",
              "On shutdown, how long sinks may drain; what is left stays for the next start."),
          Setting.of(
              "spool.enrichment-cache-events",
              SettingType.INT,
              "32768",
              "Most recent events whose derived columns are kept for the other sinks, so each"
                  + " event is enriched once for all of them (a few hundred bytes each)."));

  /** Frame and segment header overhead around the largest record, see {@link SegmentLog}. */
  private static final long OVERHEAD = Segment.HEADER_BYTES + RecordFrame.singleBatchBytes(0);

  public SpoolConfig {
    if (fsyncMaxDelay.isNegative()) {
      throw new ConfigException("spool.fsync-max-delay: must not be negative");
    }
    if (maxRecordBytes < 1024) {
      throw new ConfigException("spool.max-record-size: must be at least 1KiB");
    }
    if (segmentBytes < maxRecordBytes + OVERHEAD) {
      throw new ConfigException(
          "spool.segment-size ("
              + Sizes.format(segmentBytes)
              + ") must be larger than spool.max-record-size ("
              + Sizes.format(maxRecordBytes)
              + ") plus "
              + OVERHEAD
              + " bytes: a record never spans two segments");
    }
    if (maxBytes.isPresent() && maxBytes.getAsLong() < 2 * segmentBytes) {
      throw new ConfigException(
          "spool.max-bytes ("
              + Sizes.format(maxBytes.getAsLong())
              + ") must be at least two segments (2 x spool.segment-size = "
              + Sizes.format(2 * segmentBytes)
              + ")");
    }
    if (batchMaxRows < 1) {
      throw new ConfigException("spool.batch-max-rows: must be at least 1");
    }
    if (batchMaxBytes < 1) {
      throw new ConfigException("spool.batch-max-bytes: must be at least 1 byte");
    }
    if (retryInitialBackoff.isNegative() || retryInitialBackoff.isZero()) {
      throw new ConfigException("spool.retry-initial-backoff: must be positive");
    }
    if (enrichmentCacheEvents < 1 || enrichmentCacheEvents > 1 << 24) {
      throw new ConfigException("spool.enrichment-cache-events: must be between 1 and 16777216");
    }
    if (retryMaxBackoff.compareTo(retryInitialBackoff) < 0) {
      throw new ConfigException(
          "spool.retry-max-backoff: must be at least spool.retry-initial-backoff");
    }
  }

  public static SpoolConfig from(Config c) {
    String fsync = c.string("spool.fsync").trim().toLowerCase(Locale.ROOT);
    FsyncPolicy policy =
        switch (fsync) {
          case "group" -> FsyncPolicy.GROUP;
          case "none" -> FsyncPolicy.NONE;
          default -> throw new ConfigException("spool.fsync: expected group or none, got " + fsync);
        };
    String wait = c.string("spool.group-commit").trim().toLowerCase(Locale.ROOT);
    GroupCommit groupCommit =
        switch (wait) {
          case "adaptive" -> GroupCommit.ADAPTIVE;
          case "fixed" -> GroupCommit.FIXED;
          default ->
              throw new ConfigException(
                  "spool.group-commit: expected adaptive or fixed, got " + wait);
        };
    long maxRecord = c.size("spool.max-record-size");
    if (maxRecord > Integer.MAX_VALUE - OVERHEAD) {
      throw new ConfigException("spool.max-record-size: at most 1GiB");
    }
    return new SpoolConfig(
        policy,
        groupCommit,
        c.duration("spool.fsync-max-delay"),
        c.size("spool.fsync-max-bytes"),
        c.size("spool.segment-size"),
        (int) maxRecord,
        c.optional("spool.max-bytes")
            .map(Sizes::parse)
            .map(OptionalLong::of)
            .orElse(OptionalLong.empty()),
        c.integer("spool.batch-max-rows"),
        c.size("spool.batch-max-bytes"),
        c.duration("spool.batch-max-age"),
        c.duration("spool.retry-initial-backoff"),
        c.duration("spool.retry-max-backoff"),
        c.duration("spool.drain-timeout"),
        c.integer("spool.enrichment-cache-events"));
  }

  /** The default sink batch limits; a sink may prefer others. */
  public BatchLimits batchLimits() {
    return new BatchLimits(batchMaxRows, batchMaxBytes, batchMaxAge);
  }

  /** The same configuration with another disk budget. */
  public SpoolConfig withMaxBytes(long bytes) {
    return new SpoolConfig(
        fsync,
        groupCommit,
        fsyncMaxDelay,
        fsyncMaxBytes,
        segmentBytes,
        maxRecordBytes,
        OptionalLong.of(bytes),
        batchMaxRows,
        batchMaxBytes,
        batchMaxAge,
        retryInitialBackoff,
        retryMaxBackoff,
        drainTimeout,
        enrichmentCacheEvents);
  }
}
