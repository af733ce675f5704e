package io.trellis.ingress.replay;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.event.SpooledEvent;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.SinkBatch;
import io.trellis.ingress.sink.SinkContext;
import io.trellis.ingress.sink.SinkException;
import io.trellis.ingress.sink.bigquery.BigQuerySink;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Replays into BigQuery through the service's own sink: the replay's row numbers play the part of
 * spool offsets, so row {@code n} goes to offset {@code n - base} of the replay's own committed
 * write stream, and the stream (with its base) is kept in the replay's checkpoint as the sink keeps
 * it with its spool cursor. A chunk appended before a kill and not yet checkpointed is read again
 * with the same row numbers and answered {@code ALREADY_EXISTS}: counted as already stored, not
 * stored twice.
 *
 * <p>BigQuery is not asked which event ids it holds: a rerun with {@code --restart}, or a chunk
 * that was in flight when its stream was lost, is appended again.
 */
final class BigQueryTarget extends SinkTarget<BigQuerySink> {
  private final PrintStream err;
  private ReplayCheckpoint checkpoint;

  /** The chunk an interrupted run may have appended, and the stream it would be in. */
  private long uncertainRow = -1;

  private String uncertainStream = "";

  /** The first row of the chunk being written, and the sink's count of stored rows before it. */
  private long chunkRow = -1;

  private long storedBefore;

  BigQueryTarget(BigQuerySink sink, PrintStream err) throws SinkException {
    super(sink);
    this.err = requireNonNull(err, "err is null");
  }

  @Override
  public void open(ReplayCheckpoint checkpoint) throws SinkException {
    this.checkpoint = requireNonNull(checkpoint, "checkpoint is null");
    uncertainRow = checkpoint.pending().map(ReplayCheckpoint.Pending::firstRow).orElse(-1L);
    uncertainStream = checkpoint.note();
    sink.open(new CheckpointContext());
  }

  @Override
  public long write(List<TrafficEvent> events, long firstRow) throws SinkException {
    if (firstRow != chunkRow) {
      chunkRow = firstRow; // a retry of the same chunk keeps the count from its first attempt
      storedBefore = sink.rowsStored();
    }
    List<SpooledEvent> items = new ArrayList<>(events.size());
    for (int i = 0; i < events.size(); i++) {
      items.add(new SpooledEvent(firstRow + i, events.get(i)));
    }
    sink.write(new SinkBatch(items));
    if (firstRow == uncertainRow
        && !uncertainStream.isEmpty()
        && !checkpoint.note().equals(uncertainStream)) {
      err.printf(
          "replay: the write stream of the interrupted run is gone, so whether it had stored the"
              + " %d event(s) it was appending cannot be known; they were appended to a new"
              + " stream and may now be in bigquery twice (rows %d to %d of this replay)%n",
          events.size(), firstRow, firstRow + events.size() - 1);
    }
    uncertainRow = -1;
    return events.size() - (sink.rowsStored() - storedBefore);
  }

  /** The sink's cursor and note, kept in the replay's checkpoint. */
  private final class CheckpointContext implements SinkContext {
    @Override
    public long committedOffset() {
      return checkpoint.rows();
    }

    @Override
    public String metadata() {
      return checkpoint.note();
    }

    @Override
    public void saveMetadata(String metadata) throws IOException {
      checkpoint.saveNote(metadata);
    }
  }
}
