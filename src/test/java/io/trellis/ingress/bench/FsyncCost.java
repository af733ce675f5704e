package io.trellis.ingress.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * What one group commit costs the thread that makes it durable, with nothing of the spool around
 * it: the CPU time (user and kernel, {@code ThreadMXBean}) and the wall time of writing {@code
 * bytes} and calling {@code fdatasync}, over a file that already has its blocks (as the spool's
 * reused segments do) or one that grows (a new segment). The spool writer cannot spend less per
 * group than this, so its cost per request is at least this divided by the requests a group holds.
 * Not a test.
 *
 * <pre>
 *   java -cp target/test-classes io.trellis.ingress.bench.FsyncCost [dir] [groups] [bytes...]
 * </pre>
 */
public final class FsyncCost {
  private FsyncCost() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args.length > 0 ? args[0] : "target");
    int groups = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
    int[] sizes = {512, 16_384, 163_840};
    if (args.length > 2) {
      sizes = new int[args.length - 2];
      for (int i = 2; i < args.length; i++) {
        sizes[i - 2] = Integer.parseInt(args[i]);
      }
    }
    Path file = Files.createTempFile(dir, "fsync-cost", ".dat");
    try {
      for (boolean reuse : new boolean[] {true, false}) {
        for (int bytes : sizes) {
          measure(file, reuse, groups, bytes);
        }
      }
    } finally {
      Files.deleteIfExists(file);
    }
  }

  private static void measure(Path file, boolean reuse, int groups, int bytes) throws Exception {
    Files.deleteIfExists(file);
    if (reuse) {
      fill(file, (long) groups * bytes + bytes);
    }
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    ByteBuffer data = ByteBuffer.allocateDirect(bytes);
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      // Warm-up: the JIT compiles the loop, the file system's caches settle.
      long at = write(ch, data, 0, Math.min(100, groups));
      long cpu0 = threads.getCurrentThreadCpuTime();
      long wall0 = System.nanoTime();
      write(ch, data, at, groups);
      long cpu = threads.getCurrentThreadCpuTime() - cpu0;
      long wall = System.nanoTime() - wall0;
      System.out.printf(
          "%-8s %7d B per group: %6.1f µs CPU, %7.1f µs wall per write + fdatasync%n",
          reuse ? "reused" : "growing", bytes, cpu / 1e3 / groups, wall / 1e3 / groups);
    }
  }

  private static long write(FileChannel ch, ByteBuffer data, long at, int groups) throws Exception {
    for (int g = 0; g < groups; g++) {
      data.clear();
      while (data.hasRemaining()) {
        at += ch.write(data, at);
      }
      ch.force(false);
    }
    return at;
  }

  private static void fill(Path file, long size) throws Exception {
    ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      for (long at = 0; at < size; ) {
        zeros.clear();
        at += ch.write(zeros, at);
      }
      ch.force(true);
    }
  }
}
