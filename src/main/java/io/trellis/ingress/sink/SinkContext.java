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

  /**
   * Sets the note that the spool stores with the next cursor it saves, in the same atomic write,
   * without writing anything now. Called from {@link Sink#preCommit} just before it answers a new
   * durable offset, the note then describes the sink's store at exactly that offset (the files
   * sink: the size of each file). Until a cursor is saved the note saved last stays in force.
   */
  default void metadataWithNextCursor(String metadata) {
    throw new UnsupportedOperationException("this context keeps no note with its cursor");
  }
}
