package io.trellis.ingress.sink.files;

import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

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
 * <p>Not thread-safe; one instance per writing thread, reused for every append.
 */
final class BlockAppender extends OutputStream {
  private final int blockSize;
  private final ByteBuffer buf;

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
    this.buf = ByteBuffer.allocateDirect(capacity + blockSize).alignedSlice(blockSize);
    buf.limit(capacity);
  }

  /**
   * Starts an append at the end of the file, {@code size} bytes long: both channels are of that
   * file, {@code direct} opened with direct I/O, neither in append mode.
   */
  void start(FileChannel direct, FileChannel cached, long size) throws IOException {
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

  /** The full buffer, whole blocks only, written directly. */
  private void writeFull() throws IOException {
    writeFully(direct, 0, buf.position());
    bufStart += buf.position();
    unchanged = 0;
    buf.clear();
  }

  /**
   * Writes what the buffer holds: its whole blocks directly, the rest through the page cache.
   * Answers the file's size, the end of the appended bytes.
   */
  long finish() throws IOException {
    try {
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
    ByteBuffer part = buf.duplicate().limit(to).position(from);
    long pos = bufStart + from;
    while (part.hasRemaining()) {
      pos += ch.write(part, pos);
    }
  }
}
