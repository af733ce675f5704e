package io.trellis.ingress.sink.files;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * What writing NDJSON lines to a new file costs the writing thread, through the page cache and with
 * {@link BlockAppender}'s direct I/O: CPU time (user and kernel, {@code ThreadMXBean}) per line of
 * 1,483 bytes (a bench event's line), in appends of 100 lines, with an fdatasync every 20 appends.
 * The file is new, so every page the page-cache way writes is a new one; each run starts 10 s after
 * the previous one deleted its file. Not a test.
 *
 * <pre>
 *   java -cp target/test-classes:target/classes io.trellis.ingress.sink.files.DirectIoCost [dir] [MiB]
 * </pre>
 */
public final class DirectIoCost {
  private static final int LINE = 1483;
  private static final int LINES_PER_APPEND = 100;

  private DirectIoCost() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args.length > 0 ? args[0] : "target");
    long bytes = (args.length > 1 ? Long.parseLong(args[1]) : 2048) << 20;
    byte[] line = new byte[LINE];
    Arrays.fill(line, (byte) 'x');
    line[LINE - 1] = '\n';
    for (boolean direct : new boolean[] {false, true, false, true}) {
      Path file = Files.createTempFile(dir, "direct-io-cost", ".ndjson");
      try {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long cpu = threads.getCurrentThreadCpuTime();
        long lines = direct ? direct(file, line, bytes) : cached(file, line, bytes);
        cpu = threads.getCurrentThreadCpuTime() - cpu;
        System.out.printf(
            "%-10s %,d lines: %.2f us of CPU per line%n",
            direct ? "direct" : "page cache", lines, cpu / 1e3 / lines);
      } finally {
        Files.delete(file);
      }
      // The freed page-cache pages go back to the host (free page reporting) only after a pause;
      // without it the next run would write into pages still backed, which a service writing
      // steadily does not get.
      Thread.sleep(10_000);
    }
  }

  private static long cached(Path file, byte[] line, long bytes) throws Exception {
    ByteBuffer buf = ByteBuffer.allocateDirect(LINE * LINES_PER_APPEND);
    long lines = 0;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      for (int appends = 1; lines * LINE < bytes; appends++) {
        buf.clear();
        for (int i = 0; i < LINES_PER_APPEND; i++, lines++) {
          buf.put(line);
        }
        buf.flip();
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        if (appends % 20 == 0) {
          ch.force(false);
        }
      }
      ch.force(false);
    }
    return lines;
  }

  private static long direct(Path file, byte[] line, long bytes) throws Exception {
    int block = (int) Files.getFileStore(file).getBlockSize();
    BlockAppender appender = new BlockAppender(block, FilesSink.DIRECT_BUFFER_BYTES);
    long lines = 0;
    long size = 0;
    try (FileChannel cached =
            FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileChannel direct = FilesSink.directChannel(file)) {
      for (int appends = 1; lines * LINE < bytes; appends++) {
        appender.start(direct, cached, size);
        for (int i = 0; i < LINES_PER_APPEND; i++, lines++) {
          appender.write(line, 0, LINE);
        }
        size = appender.finish();
        if (appends % 20 == 0) {
          cached.force(false);
        }
      }
      cached.force(false);
    }
    return lines;
  }
}
