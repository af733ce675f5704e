package io.trellis.ingress.sink;

import java.io.IOException;

/**
 * What the spool keeps for a sink besides its events: the sink's cursor (every event below it is
 * durable in the sink or in its dead letters) and a short note of the sink's own, stored with the
 * cursor in one atomic file write and handed back after a restart (Kafka Connect's offset
 * metadata). A sink that needs to find its place in the store again (BigQuery: which write stream,
 * and which spool offset is its row 0) keeps that here instead of in a file of its own.
 *
 * <p>Used from the sink's delivery thread only.
 */
public interface SinkContext {

  /** The sink's committed cursor: the offset of the first event it may not have durably. */
  long committedOffset();

  /** The note saved last with the cursor, or the empty string. */
  String metadata();

  /**
   * Replaces the note, durably, before returning (the cursor stays where it is). A single line of
   * text, at most a few kilobytes.
   *
   * @throws IOException when it could not be stored; the old note is then still in force
   */
  void saveMetadata(String metadata) throws IOException;
}
