package io.trellis.ingress.ops;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * The limits the process runs under, read at start: the open-file limit (soft and hard, from {@code
 * /proc/self/limits}), the files open now (from {@code /proc/self/fd}) and the maximum heap.
 *
 * <p>The JVM itself raises the soft open-file limit to the hard one as it starts (HotSpot's {@code
 * -XX:+MaxFDLimit}, on by default on Linux), so no native call is needed for that; the hard limit
 * is the operator's (systemd {@code LimitNOFILE}, {@code docker run --ulimit nofile=…}, {@code
 * ulimit -Hn}). Where {@code /proc} is missing the open-file figures are -1.
 *
 * <p>The direct-memory limit is {@code -XX:MaxDirectMemorySize}, or the maximum heap when it is not
 * set, as the JVM itself decides. The network buffers of every connection come out of it.
 */
public record ProcessLimits(
    long openFilesSoft, long openFilesHard, long openFiles, long maxHeap, long maxDirectMemory) {

  /** Assumed when the limit cannot be read: the usual Linux default soft limit. */
  static final long UNKNOWN_LIMIT_FALLBACK = 1024;

  public static ProcessLimits read() {
    long soft = -1;
    long hard = -1;
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
        if (line.startsWith("Max open files")) {
          String[] parts = line.substring("Max open files".length()).trim().split("\\s+");
          soft = number(parts[0]);
          hard = number(parts[1]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // Not Linux: the limits stay unknown.
    }
    long heap = Runtime.getRuntime().maxMemory();
    return new ProcessLimits(soft, hard, countOpenFiles(), heap, maxDirectMemory(heap));
  }

  private static long maxDirectMemory(long maxHeap) {
    try {
      long set =
          Long.parseLong(
              ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                  .getVMOption("MaxDirectMemorySize")
                  .getValue());
      return set > 0 ? set : maxHeap;
    } catch (RuntimeException e) {
      return maxHeap; // not HotSpot: its default
    }
  }

  /** Files this process holds open now, or -1 when unknown. */
  public static long countOpenFiles() {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** The soft open-file limit, or a common default when it is unknown or unlimited. */
  public long effectiveOpenFileLimit() {
    return openFilesSoft > 0 ? openFilesSoft : UNKNOWN_LIMIT_FALLBACK;
  }

  private static long number(String s) {
    return "unlimited".equals(s) ? Long.MAX_VALUE / 4 : Long.parseLong(s);
  }
}
