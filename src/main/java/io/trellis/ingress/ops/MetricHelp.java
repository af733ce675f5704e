package io.trellis.ingress.ops;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.config.MeterFilter;
import java.util.Map;

/**
 * The HELP text of every service metric, in one table, so that each {@code # HELP} line on {@code
 * /metrics} says what is counted. A meter registered with its own description keeps it.
 */
final class MetricHelp {
  private static final Map<String, String> HELP =
      Map.ofEntries(
          Map.entry(
              "trellis.http.requests", "Capture requests by endpoint and status, with latency."),
          Map.entry("trellis.http.connections.open", "Open connections on the capture port."),
          Map.entry(
              "trellis.http.connections.refused",
              "Connections closed at once because a connection limit was reached, by limit."),
          Map.entry(
              "trellis.http.body.memory.bytes",
              "Memory held by request bodies being read and by open HTTP/2 streams."),
          Map.entry("trellis.events.accepted", "Events acknowledged (on disk), by endpoint."),
          Map.entry("trellis.events.rejected", "Events refused, by endpoint and reason."),
          Map.entry("trellis.auth.failures", "Failed authentications, by outcome."),
          Map.entry("trellis.limits.rejected", "Requests refused by a rate limit, by limit."),
          Map.entry(
              "trellis.log.suppressed",
              "WARN and ERROR log lines not written because of log.max-errors-per-second."),
          Map.entry("trellis.auth.warden.calls", "Calls to Warden, by outcome."),
          Map.entry("trellis.auth.warden.cache", "Key verdict cache lookups, by result."),
          Map.entry("trellis.auth.warden.cache.size", "Key verdicts held in the cache."),
          Map.entry("trellis.auth.warden.refreshes", "Background re-verifications of cached keys."),
          Map.entry(
              "trellis.auth.warden.stale",
              "Requests accepted with a cached verdict past its TTL while Warden was unavailable."),
          Map.entry(
              "trellis.auth.warden.unverifiable",
              "Requests answered 503 because Warden could not verify their key."),
          Map.entry("trellis.spool.appended.events", "Events appended to the spool."),
          Map.entry("trellis.live.viewers", "Live view streams (/live/events) connected now."),
          Map.entry(
              "trellis.live.buffered.bytes",
              "Event bytes held for live viewers: queued (at most live.viewer-buffer each) and being"
                  + " written to their connections."),
          Map.entry(
              "trellis.live.events", "Events queued for live viewers (one per matching viewer)."),
          Map.entry(
              "trellis.live.dropped",
              "Events a live viewer did not get because its connection was behind (per viewer)."),
          Map.entry(
              "trellis.live.refused", "Live view streams refused, by reason (too_many_viewers)."),
          Map.entry("trellis.spool.appended.bytes", "Encoded bytes appended to the spool."),
          Map.entry("trellis.spool.fsync", "Spool fsync calls and their duration."),
          Map.entry(
              "trellis.spool.ack.latency",
              "Time from an append to its acknowledgement (written and synced)."),
          Map.entry("trellis.spool.group.events", "Events made durable by one group commit."),
          Map.entry("trellis.spool.bytes", "Bytes the spool holds on disk."),
          Map.entry("trellis.spool.max.bytes", "The spool's disk budget."),
          Map.entry("trellis.spool.segments", "Segment files in the spool."),
          Map.entry("trellis.spool.refused", "Appends the spool refused, by reason."),
          Map.entry(
              "trellis.spool.quarantined.ranges", "Damaged spool ranges moved to quarantine."),
          Map.entry("trellis.spool.quarantined.bytes", "Bytes moved to quarantine."),
          Map.entry("trellis.sink.batches", "Batches a sink stored."),
          Map.entry("trellis.sink.rows", "Events a sink stored."),
          Map.entry("trellis.sink.bytes", "Encoded event bytes a sink stored."),
          Map.entry("trellis.sink.retries", "Batch retries after a failure, by sink."),
          Map.entry("trellis.sink.failures", "Failed sink writes, by sink and kind."),
          Map.entry(
              "trellis.sink.dead_letters", "Events a sink refused as bad data (dead letters)."),
          Map.entry("trellis.sink.lag.events", "Events in the spool a sink has not stored yet."),
          Map.entry(
              "trellis.sink.lag.seconds",
              "Age of the oldest event a sink has not stored yet (0 when caught up)."),
          Map.entry("trellis.bigquery.appends", "Storage Write API appends, by outcome."),
          Map.entry(
              "trellis.bigquery.appends.already.stored",
              "Appends BigQuery answered as already stored (a retried batch)."),
          Map.entry("trellis.bigquery.rows.stored", "Rows BigQuery stored."),
          Map.entry("trellis.bigquery.rows.rejected", "Rows BigQuery refused as bad data."),
          Map.entry("trellis.bigquery.offset.probes", "Probes of a stream's stored offset."),
          Map.entry("trellis.bigquery.streams.created", "BigQuery write streams created."));

  private MetricHelp() {}

  /** Adds the table's text to a meter that has no description of its own. */
  static MeterFilter filter() {
    return new MeterFilter() {
      @Override
      public Meter.Id map(Meter.Id id) {
        String help = HELP.get(id.getName());
        if (help == null || (id.getDescription() != null && !id.getDescription().isBlank())) {
          return id;
        }
        return new Meter.Id(
            id.getName(), Tags.of(id.getTags()), id.getBaseUnit(), help, id.getType());
      }
    };
  }
}
