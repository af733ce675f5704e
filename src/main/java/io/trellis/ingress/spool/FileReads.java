package io.trellis.ingress.spool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/** Positional reads of spool files. Thread-safe (stateless). */
final class FileReads {
  private FileReads() {}

  /**
   * Reads into {@code buf} from {@code position} of the file until the buffer is full or the file
   * ends, then flips the buffer: what was read is between its position and limit.
   */
  static void readAt(FileChannel channel, ByteBuffer buf, long position) throws IOException {
    long at = position;
    while (buf.hasRemaining()) {
      int r = channel.read(buf, at);
      if (r < 0) {
        break;
      }
      at += r;
    }
    buf.flip();
  }
}
