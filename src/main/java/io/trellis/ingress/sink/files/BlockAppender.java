package io.trellis.ingress.sink.files;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Appends bytes to the end of a file: every whole block through a channel opened for direct I/O,
 * past the page cache, and only the append's last partial block through the page cache, so that the
 * file ends exactly where the bytes do and a reader sees whole lines after each append.
 *
 * <p>Direct I/O needs the file position, the length and the memory of each write aligned to the
 * block size. The buffer is one aligned direct buffer whose first byte is always at a block
 * boundary of the file: an append starts by reading the file's partial last block back into it
 * (from the page cache, where the previous append left it), so that block is written again, whole,
 * once the new bytes fill it.
 *
 * <p>The NDJSON files are written once and read by others, never by the service: through the page
 * cache every new line takes a new page-cache page, which on a virtual machine whose free memory
 * goes back to its host costs a fault of the host per page (see docs/files-sink.md).
 *
 * <p>A full buffer is written by a thread of its own while the caller fills a second one: a direct
 * write waits for the device (about 300 µs for 256 KiB on the bench's disk), and the lines of the
 * next buffer are built meanwhile. At most one write is in flight; the next full buffer, {@link
 * #finish} and {@link #start} wait for it, and its failure is thrown there. A channel closed while
 * a write is queued or running fails that write or waits for it (FileChannel's close), so once the
 * caller's channels are closed nothing of an append is still being written.
 *
 * <p>Not thread-safe; one instance per writing thread, reused for every append.
 */
final class BlockAppender extends OutputStream {
  private final int blockSize;

  /** The buffer being filled, and the one written meanwhile (or idle). */
  private ByteBuffer buf;

  private ByteBuffer spare;

  /** The write of the other buffer, or null. */
  private Future<?> inFlight;

  /* One thread, started when needed and gone after a second without writes. */
  private final ThreadPoolExecutor writer =
      new ThreadPoolExecutor(
          1,
          1,
          1,
          TimeUnit.SECONDS,
          new LinkedBlockingQueue<>(),
          r -> {
            Thread t = new Thread(r, "deliver-files-write");
            t.setDaemon(true);
            return t;
          });

  private FileChannel direct;
  private FileChannel cached;

  /** The file position of the buffer's first byte, a multiple of the block size. */
  private long bufStart;

  /** Bytes at the buffer's start that are the file's own, read back, not yet written anew. */
  private int unchanged;

  /**
   * @param blockSize the alignment of direct I/O on the file system, a power of two
   * @param capacity the buffer's size, a multiple of {@code blockSize}
   */
  BlockAppender(int blockSize, int capacity) {
    if (blockSize <= 0 || Integer.bitCount(blockSize) != 1) {
      throw new IllegalArgumentException("block size " + blockSize + " is not a power of two");
    }
    if (capacity < blockSize || capacity % blockSize != 0) {
      throw new IllegalArgumentException(
          "capacity " + capacity + " is not a multiple of the block size " + blockSize);
    }
    this.blockSize = blockSize;
    this.buf = aligned(blockSize, capacity);
    this.spare = aligned(blockSize, capacity);
    writer.allowCoreThreadTimeOut(true);
  }

  private static ByteBuffer aligned(int blockSize, int capacity) {
    ByteBuffer b = ByteBuffer.allocateDirect(capacity + blockSize).alignedSlice(blockSize);
    b.limit(capacity);
    return b;
  }

  /**
   * Starts an append at the end of the file, {@code size} bytes long: both channels are of that
   * file, {@code direct} opened with direct I/O, neither in append mode.
   */
  void start(FileChannel direct, FileChannel cached, long size) throws IOException {
    // A failed append's write may still have been pending; whatever became of it, the caller has
    // since cut the file back to a size it read after closing that append's channels.
    abandonInFlight();
    this.direct = direct;
    this.cached = cached;
    bufStart = size - size % blockSize;
    unchanged = (int) (size - bufStart);
    buf.clear().limit(unchanged);
    while (buf.hasRemaining()) {
      if (cached.read(buf, bufStart + buf.position()) < 0) {
        throw new EOFException("the file shrank below " + size + " bytes during an append");
      }
    }
    buf.limit(buf.capacity());
  }

  @Override
  public void write(int b) throws IOException {
    buf.put((byte) b);
    if (!buf.hasRemaining()) {
      writeFull();
    }
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    while (len > 0) {
      int n = Math.min(len, buf.remaining());
      buf.put(b, off, n);
      off += n;
      len -= n;
      if (!buf.hasRemaining()) {
        writeFull();
      }
    }
  }

  /**
   * The full buffer, whole blocks only, handed to the writer thread; filling goes on in the other.
   */
  private void writeFull() throws IOException {
    awaitInFlight();
    ByteBuffer full = buf.duplicate().flip();
    FileChannel ch = direct;
    long at = bufStart;
    inFlight =
        writer.submit(
            () -> {
              try {
                writeFully(ch, full, at);
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            });
    bufStart += buf.position();
    unchanged = 0;
    ByteBuffer next = spare;
    spare = buf;
    buf = next;
    buf.clear();
  }

  /** Waits for the write in flight; throws its failure. */
  private void awaitInFlight() throws IOException {
    Future<?> f = inFlight;
    if (f == null) {
      return;
    }
    inFlight = null;
    try {
      f.get();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof UncheckedIOException u) {
        throw u.getCause();
      }
      throw new IOException("direct write failed", cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      // The write may still run: the caller's channels, closed on this failure, end it.
      throw new InterruptedIOException("interrupted while a direct write was in flight");
    }
  }

  /** Waits for the write in flight of an append that failed, ignoring how it ended. */
  private void abandonInFlight() {
    try {
      awaitInFlight();
    } catch (IOException e) {
      // Already thrown to that append's caller, or superseded by the failure it did throw.
    }
  }

  /**
   * Writes what the buffer holds: its whole blocks directly, the rest through the page cache.
   * Answers the file's size, the end of the appended bytes.
   */
  long finish() throws IOException {
    try {
      awaitInFlight();
      int len = buf.position();
      int whole = len - len % blockSize;
      if (whole > 0) {
        writeFully(direct, 0, whole);
      }
      int from = Math.max(whole, unchanged);
      if (len > from) {
        writeFully(cached, from, len);
      }
      return bufStart + len;
    } finally {
      direct = null;
      cached = null;
      buf.clear();
    }
  }

  private void writeFully(FileChannel ch, int from, int to) throws IOException {
    writeFully(ch, buf.duplicate().limit(to).position(from), bufStart + from);
  }

  private static void writeFully(FileChannel ch, ByteBuffer part, long pos) throws IOException {
    while (part.hasRemaining()) {
      pos += ch.write(part, pos);
    }
  }
}
