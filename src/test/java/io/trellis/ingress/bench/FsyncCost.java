package io.trellis.ingress.bench;

import com.sun.nio.file.ExtendedOpenOption;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * What one group commit costs the thread that makes it durable, with nothing of the spool around
 * it: the CPU time (user and kernel, {@code ThreadMXBean}) and the wall time of writing {@code
 * bytes} and calling {@code fdatasync}, over a file that already has its blocks (as the spool's
 * reused segments do) or one that grows (a new segment). The spool writer cannot spend less per
 * group than this, so its cost per request is at least this divided by the requests a group holds.
 * Over reused blocks it also measures the other ways of making a write durable: {@code O_DIRECT}
 * then {@code fdatasync}, {@code O_DSYNC} writes, and both. Not a test.
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
      for (Mode mode : Mode.values()) {
        for (int bytes : sizes) {
          if (mode.direct && bytes % BLOCK != 0) {
            continue;
          }
          measure(file, mode, groups, bytes);
        }
      }
    } finally {
      Files.deleteIfExists(file);
    }
  }

  private static final int BLOCK = 4096;

  /** How each group is made durable. */
  private enum Mode {
    REUSED("reused", true, false, false),
    GROWING("growing", false, false, false),
    DIRECT("direct", true, true, false),
    DSYNC("dsync", true, false, true),
    DIRECT_DSYNC("direct+dsync", true, true, true);

    final String label;
    final boolean reuse;
    final boolean direct;
    final boolean dsync;

    Mode(String label, boolean reuse, boolean direct, boolean dsync) {
      this.label = label;
      this.reuse = reuse;
      this.direct = direct;
      this.dsync = dsync;
    }

    OpenOption[] options() {
      List<OpenOption> o =
          new ArrayList<>(List.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE));
      if (direct) {
        o.add(ExtendedOpenOption.DIRECT);
      }
      if (dsync) {
        o.add(StandardOpenOption.DSYNC);
      }
      return o.toArray(OpenOption[]::new);
    }
  }

  private static void measure(Path file, Mode mode, int groups, int bytes) throws Exception {
    Files.deleteIfExists(file);
    if (mode.reuse) {
      fill(file, (long) (groups + 100) * bytes + bytes);
    }
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    // Aligned for O_DIRECT.
    int blocks = (bytes + BLOCK - 1) / BLOCK * BLOCK;
    ByteBuffer data = ByteBuffer.allocateDirect(blocks + BLOCK).alignedSlice(BLOCK).limit(bytes);
    try (FileChannel ch = FileChannel.open(file, mode.options())) {
      // Warm-up: the JIT compiles the loop, the file system's caches settle.
      long at = write(ch, data, 0, Math.min(100, groups), !mode.dsync);
      long cpu0 = threads.getCurrentThreadCpuTime();
      long wall0 = System.nanoTime();
      write(ch, data, at, groups, !mode.dsync);
      long cpu = threads.getCurrentThreadCpuTime() - cpu0;
      long wall = System.nanoTime() - wall0;
      System.out.printf(
          "%-12s %7d B per group: %6.1f µs CPU, %7.1f µs wall per durable write%n",
          mode.label, bytes, cpu / 1e3 / groups, wall / 1e3 / groups);
    }
  }

  private static long write(FileChannel ch, ByteBuffer data, long at, int groups, boolean sync)
      throws Exception {
    int bytes = data.limit();
    for (int g = 0; g < groups; g++) {
      data.clear().limit(bytes);
      while (data.hasRemaining()) {
        at += ch.write(data, at);
      }
      if (sync) {
        ch.force(false);
      }
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
