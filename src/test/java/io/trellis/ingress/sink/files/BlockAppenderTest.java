package io.trellis.ingress.sink.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlockAppenderTest {
  @TempDir Path dir;

  /**
   * Appends of every kind (empty, inside the partial last block, ending on a block boundary, larger
   * than the buffer, one byte at a time) through direct I/O on a real file: after each, the file
   * holds exactly the bytes appended so far, no more.
   */
  @Test
  void directAppendsOfAnySizeLeaveExactlyTheBytesWritten() throws Exception {
    int block = (int) Files.getFileStore(dir).getBlockSize();
    BlockAppender appender = new BlockAppender(block, 2 * block);
    Path file = dir.resolve("a.ndjson");
    Files.write(file, bytes(new Random(1), block + 123)); // an existing file, not block-aligned
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    expected.write(Files.readAllBytes(file));

    Random random = new Random(42);
    int[] sizes = {0, 1, 5, block - 129, block, 3 * block + 7, 5 * block, 17, 2 * block - 1};
    for (int round = 0; round < 40; round++) {
      int size = round < sizes.length ? sizes[round] : random.nextInt(6 * block);
      byte[] data = bytes(random, size);
      try (FileChannel cached =
              FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
          FileChannel direct = FilesSink.directChannel(file)) {
        appender.start(direct, cached, cached.size());
        if (round % 5 == 4) {
          for (byte b : data) {
            appender.write(b);
          }
        } else {
          appender.write(data, 0, data.length);
        }
        long end = appender.finish();
        expected.write(data);
        assertThat(end).isEqualTo(expected.size());
        assertThat(cached.size()).as("file size after append %d", round).isEqualTo(end);
      }
      assertThat(Files.readAllBytes(file)).isEqualTo(expected.toByteArray());
    }
  }

  /**
   * A full buffer is written while the next one fills: a write that fails there is thrown by the
   * append (by a later write or by finish), and after the caller cuts the file back, as the files
   * sink does, the next append on the same appender leaves exactly its bytes.
   */
  @Test
  void aDirectWriteThatFailsWhileTheNextBufferFillsFailsTheAppend() throws Exception {
    int block = (int) Files.getFileStore(dir).getBlockSize();
    BlockAppender appender = new BlockAppender(block, 2 * block);
    Path file = dir.resolve("b.ndjson");
    byte[] head = bytes(new Random(3), block + 5);
    Files.write(file, head);

    byte[] data = bytes(new Random(4), 7 * block);
    try (FileChannel cached =
        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      FileChannel direct = FilesSink.directChannel(file);
      appender.start(direct, cached, cached.size());
      direct.close();
      assertThatThrownBy(
              () -> {
                appender.write(data, 0, data.length);
                appender.finish();
              })
          .isInstanceOf(IOException.class)
          .isInstanceOf(ClosedChannelException.class);
      cached.truncate(head.length);
    }
    assertThat(Files.readAllBytes(file)).isEqualTo(head);

    try (FileChannel cached =
            FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileChannel direct = FilesSink.directChannel(file)) {
      appender.start(direct, cached, cached.size());
      appender.write(data, 0, data.length);
      assertThat(appender.finish()).isEqualTo(head.length + data.length);
    }
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    expected.write(head);
    expected.write(data);
    assertThat(Files.readAllBytes(file)).isEqualTo(expected.toByteArray());
  }

  private static byte[] bytes(Random random, int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) ('a' + random.nextInt(26));
    }
    return b;
  }
}
