package io.trellis.ingress.event;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds the spool records of one sink batch off the heap while the batch fills and is written.
 *
 * <p>A ClickHouse batch is up to 64 MiB of records kept for up to a second. On the heap, every
 * young collection in that second copied the whole of it from survivor space to survivor space and
 * then into the old generation, where it died: the sink's GC cost was most of that copying. Here
 * the records lie in direct buffers of {@value #CHUNK_BYTES} bytes that the collector never copies;
 * the batch keeps one small {@link SpooledEvent} per record on the heap. Decoding an event copies
 * its record into one of two arrays its thread reuses ({@link Enrichments}); another read copies it
 * into a young array that dies at once.
 *
 * <p>{@link #clear} ends a batch and reuses the memory for the next one, so the arena holds at most
 * what its largest batch needed (about the sink's {@code batch-max-bytes}), allocated once. An
 * event held here may be read only until then: reading it after {@link #clear} throws instead of
 * reading the next batch's bytes. A record larger than a quarter of a chunk, or one met when no
 * direct memory is left ({@code -XX:MaxDirectMemorySize}), stays on the heap as before.
 *
 * <p>Not thread-safe: owned by one delivery thread, which also reads the events it holds.
 */
public final class RecordArena {
  private static final Logger log = LoggerFactory.getLogger(RecordArena.class);

  static final int CHUNK_BYTES = 1 << 20;
  private static final int MAX_HELD_RECORD = CHUNK_BYTES / 4;

  /* put's answer for a record it did not copy. */
  private static final long NOT_HELD = -1;

  private final List<ByteBuffer> chunks = new ArrayList<>();
  private final IntFunction<ByteBuffer> allocator;

  /** The chunk being filled, and where its free bytes start. */
  private int chunk;

  private int position;

  /** Counts the batches; an event remembers the one it belongs to. */
  private int generation;

  /** True after direct memory ran out in this batch. */
  private boolean exhausted;

  private boolean outOfMemoryLogged;

  public RecordArena() {
    this(ByteBuffer::allocateDirect);
  }

  /** An arena that takes its chunks from {@code allocator} (tests: memory that runs out). */
  RecordArena(IntFunction<ByteBuffer> allocator) {
    this.allocator = allocator;
  }

  /** Bytes of direct memory the arena holds (its chunks). */
  public long capacity() {
    return (long) chunks.size() * CHUNK_BYTES;
  }

  /**
   * {@code e} with its record moved here, or {@code e} itself when it has no record on the heap or
   * the record stays there (see the class comment).
   */
  public SpooledEvent hold(SpooledEvent e) {
    byte[] record = e.heapRecord();
    long at = record == null ? NOT_HELD : put(record, record.length);
    return at == NOT_HELD ? e : e.heldIn(this, generation, at);
  }

  /**
   * The event of offset {@code offset} whose record is {@code src[0, length)}, checked, with its
   * record copied here, or to a heap array of its own when it stays there (see the class comment);
   * {@code src} is the caller's again on return. {@code enrichments} as {@link
   * SpooledEvent#encoded(long, byte[], EnrichmentCache)} takes it, or null.
   *
   * @throws IllegalArgumentException when the bytes are not a well-formed encoding
   */
  public SpooledEvent hold(long offset, byte[] src, int length, EnrichmentCache enrichments) {
    SpooledEvent checked = SpooledEvent.checked(offset, src, length, enrichments);
    long at = put(src, length);
    return at == NOT_HELD
        ? SpooledEvent.onHeap(checked, Arrays.copyOf(src, length))
        : checked.heldIn(this, generation, at);
  }

  /**
   * Copies {@code src[0, length)} into the batch's chunks and answers where (chunk high, position
   * low), or {@link #NOT_HELD} when the record stays on the heap (see the class comment).
   */
  private long put(byte[] src, int length) {
    if (length > MAX_HELD_RECORD
        || ((chunk == chunks.size() || CHUNK_BYTES - position < length) && !nextChunk())) {
      return NOT_HELD;
    }
    chunks.get(chunk).put(position, src, 0, length);
    long at = (long) chunk << 32 | position;
    position += length;
    return at;
  }

  /** Ends the batch: the events held so far may no longer be read, and their memory is reused. */
  public void clear() {
    generation++;
    exhausted = false;
    chunk = 0;
    position = 0;
  }

  /** A heap copy of {@code length} bytes at {@code at}, of an event held in batch {@code gen}. */
  byte[] copy(int gen, long at, int from, int length) {
    if (gen != generation) {
      throw new IllegalStateException("read of a spool record after its batch was done");
    }
    byte[] out = new byte[length];
    chunks.get((int) (at >>> 32)).get((int) at + from, out);
    return out;
  }

  /**
   * Copies the {@code length} bytes at {@code at}, of an event held in batch {@code gen}, to the
   * start of {@code into} (at least that long).
   */
  void copyTo(int gen, long at, int length, byte[] into) {
    if (gen != generation) {
      throw new IllegalStateException("read of a spool record after its batch was done");
    }
    chunks.get((int) (at >>> 32)).get((int) at, into, 0, length);
  }

  /** Moves to a chunk with room for any held record; false when there is no memory for one. */
  private boolean nextChunk() {
    if (exhausted) {
      return false;
    }
    if (chunk < chunks.size()) {
      chunk++;
      position = 0;
    }
    if (chunk < chunks.size()) {
      return true;
    }
    try {
      chunks.add(allocator.apply(CHUNK_BYTES));
      return true;
    } catch (OutOfMemoryError e) {
      // Each refused allocation first waits for collections to free direct memory: try again
      // only in the next batch.
      exhausted = true;
      if (!outOfMemoryLogged) {
        outOfMemoryLogged = true;
        log.warn(
            "No direct memory left for a sink's batch ({} MiB held); the rest of the batch waits"
                + " on the heap (raise -XX:MaxDirectMemorySize): {}",
            capacity() >> 20,
            e.getMessage());
      }
      return false;
    }
  }
}
