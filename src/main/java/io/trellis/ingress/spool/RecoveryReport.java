package io.trellis.ingress.spool;

/**
 * What {@link SegmentLog}'s recovery found when it opened the log: the figures of the one summary
 * line {@link DiskSpool} logs after an unclean stop or when anything was damaged. The WARN lines
 * naming each file and byte offset are logged where the damage is found; this only counts.
 *
 * <p>Not thread-safe: filled by the opening thread before the log is shared.
 */
final class RecoveryReport {
  /** Records validated by the scan of the last segment. */
  long recordsScanned;

  /** Bytes cut from the end of the last segment: a torn or corrupt tail. */
  long tornTailBytes;

  /** Corrupt records (ranges) in the middle of the last segment, copied to quarantine. */
  long quarantinedRanges;

  /** Bytes copied to quarantine: corrupt records, damaged headers and unreadable segments. */
  long quarantinedBytes;

  /** Segment files that could not be read at all and were moved to quarantine. */
  long unreadableSegments;

  /** Damaged segment headers rebuilt from their records. */
  long headersRebuilt;

  /** Segment files removed because their header was torn while they were being created. */
  long tornHeadersRemoved;

  /** Whether anything was damaged, truncated or moved aside. */
  boolean damaged() {
    return tornTailBytes > 0
        || quarantinedRanges > 0
        || quarantinedBytes > 0
        || unreadableSegments > 0
        || headersRebuilt > 0
        || tornHeadersRemoved > 0;
  }
}
