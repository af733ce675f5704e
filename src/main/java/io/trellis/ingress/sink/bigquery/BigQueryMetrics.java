package io.trellis.ingress.sink.bigquery;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * What the BigQuery sink counts beyond the delivery loop's per-sink batches and rows: appends by
 * outcome, rows stored, rows found already stored (replays answered {@code ALREADY_EXISTS}), probes
 * and write streams opened.
 */
final class BigQueryMetrics {
  private final MeterRegistry registry;
  private final Counter rowsStored;
  private final Counter alreadyStored;
  private final Counter rowsRejected;
  private final Counter probes;
  private final Counter streams;

  BigQueryMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.rowsStored = registry.counter("trellis.bigquery.rows.stored");
    this.alreadyStored = registry.counter("trellis.bigquery.appends.already.stored");
    this.rowsRejected = registry.counter("trellis.bigquery.rows.rejected");
    this.probes = registry.counter("trellis.bigquery.offset.probes");
    this.streams = registry.counter("trellis.bigquery.streams.created");
  }

  void append(String outcome) {
    registry.counter("trellis.bigquery.appends", "outcome", outcome).increment();
  }

  void stored(int rows) {
    rowsStored.increment(rows);
  }

  void alreadyStored() {
    alreadyStored.increment();
  }

  void rejected(int rows) {
    rowsRejected.increment(rows);
  }

  void probe() {
    probes.increment();
  }

  void streamCreated() {
    streams.increment();
  }
}
