package io.trellis.ingress.http;

import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.ConfigException;
import io.trellis.ingress.config.Setting;
import io.trellis.ingress.config.SettingType;
import io.trellis.ingress.config.Sizes;
import java.time.Duration;
import java.util.List;

/**
 * What one stranger may hold of the process: connections (file descriptors) and request bodies in
 * memory, in total and per client address, and how long a refused request's body is read and
 * dropped before its connection closes. A setting of 0 means "derived from the process": see {@link
 * #resolve}.
 */
public record CapacityConfig(
    int connectionsMax,
    int connectionsPerClient,
    long bodyMemoryMax,
    long bodyMemoryPerClient,
    Duration lingerTime,
    long lingerMaxBytes) {

  public static final List<Setting> SETTINGS =
      List.of(
          Setting.of(
              "limits.connections-max",
              SettingType.INT,
              "0",
              "Most open connections on the capture port; more are answered 503 and closed at"
                  + " once. 0 derives it from the open-file limit, keeping files in reserve for"
                  + " the spool, sinks and admin port, and from the direct memory: half of it"
                  + " over twice the largest request head (limits.url-max plus"
                  + " limits.header-max), which a connection may hold unread."),
          Setting.of(
              "limits.connections-per-client",
              SettingType.INT,
              "0",
              "Most open connections from one client address (an IPv6 /64); more are answered"
                  + " 429 and closed at once. 0 means an eighth of limits.connections-max. A"
                  + " trusted proxy (capture.trusted-proxies) has no such cap, only the total."),
          Setting.of(
              "limits.body-memory-max",
              SettingType.SIZE,
              "0",
              "Most memory held by request bodies being read or handled, and by open HTTP/2"
                  + " streams (8KiB and twice their headers' characters each); a body or stream"
                  + " that would pass it is answered 503. 0 means an eighth of the maximum heap."),
          Setting.of(
              "limits.body-memory-per-client",
              SettingType.SIZE,
              "0",
              "Most memory held by the request bodies and HTTP/2 streams of one client address"
                  + " (a trusted proxy's streams count towards the total only); 429 above. 0 means"
                  + " half of limits.body-memory-max, or limits.batch-body-max if that is more"
                  + " (up to limits.body-memory-max)."),
          Setting.of(
              "limits.linger-time",
              SettingType.DURATION,
              "30s",
              "How long the unread rest of a refused request body is read and dropped before the"
                  + " connection closes, so that a client still sending reads the answer."),
          Setting.of(
              "limits.linger-max",
              SettingType.SIZE,
              "64MiB",
              "Most bytes read and dropped after a refused request's answer before the"
                  + " connection closes, counted as sent (chunk framing included)."));

  public CapacityConfig {
    if (connectionsMax < 0 || connectionsPerClient < 0) {
      throw new ConfigException("limits.connections-max/-per-client: must be 0 or more");
    }
    if (bodyMemoryMax < 0 || bodyMemoryPerClient < 0) {
      throw new ConfigException("limits.body-memory-max/-per-client: must be 0 or more");
    }
    if (lingerTime.isNegative() || lingerMaxBytes < 0) {
      throw new ConfigException("limits.linger-time/-max: must be 0 or more");
    }
  }

  public static CapacityConfig from(Config c) {
    return new CapacityConfig(
        c.integer("limits.connections-max"),
        c.integer("limits.connections-per-client"),
        c.size("limits.body-memory-max"),
        c.size("limits.body-memory-per-client"),
        c.duration("limits.linger-time"),
        c.size("limits.linger-max"));
  }

  /**
   * Open files kept free of connections: for the spool's segments and readers, the sinks' files and
   * sockets, the admin port, the JVM's own jars. An eighth of the limit, at least 128.
   */
  static int reservedFiles(long openFileLimit) {
    return (int) Math.min(Integer.MAX_VALUE, Math.max(128, openFileLimit / 8));
  }

  /**
   * The connections that fit in half the direct memory, each holding what one may: the bytes of a
   * request head not yet whole sit in its network buffer, up to the request line and header limits,
   * in buffers up to twice as large. Without a bound, 8,400 connections each holding 60 KB of an
   * unfinished header would take all 256 MiB, and the event loops would then spend their time
   * failing to allocate read buffers, serving and closing no connection again.
   */
  static long connectionsFitting(long maxDirectMemory, long requestHeadMax) {
    return maxDirectMemory / 2 / (2 * Math.max(1, requestHeadMax));
  }

  /**
   * A warning when a configured connection limit lets the connections' unfinished request heads
   * take more than half the direct memory, or null. Derived limits never do.
   */
  public String directMemoryWarning(long maxDirectMemory, long requestHeadMax) {
    long fit = connectionsFitting(maxDirectMemory, requestHeadMax);
    if (connectionsMax <= fit) {
      return null;
    }
    return "limits.connections-max "
        + connectionsMax
        + " is more than the "
        + fit
        + " connections whose unfinished request heads fit in half the direct memory ("
        + Sizes.format(maxDirectMemory)
        + "): a flood of them can leave no memory to read any connection. Raise"
        + " -XX:MaxDirectMemorySize, or lower limits.header-max and limits.url-max.";
  }

  /**
   * The settings with every 0 replaced by its derived value.
   *
   * @param openFileLimit the process's soft open-file limit
   * @param openAtStart files the process holds before the capture port opens
   * @param maxHeap the JVM's maximum heap in bytes
   * @param maxDirectMemory the JVM's direct-memory limit in bytes
   * @param batchBodyMax the largest /batch body accepted
   * @param requestHeadMax the longest request line plus the largest headers accepted
   */
  public CapacityConfig resolve(
      long openFileLimit,
      long openAtStart,
      long maxHeap,
      long maxDirectMemory,
      long batchBodyMax,
      long requestHeadMax) {
    int conns = connectionsMax;
    if (conns == 0) {
      long free = openFileLimit - openAtStart - reservedFiles(openFileLimit);
      long fit = connectionsFitting(maxDirectMemory, requestHeadMax);
      conns = (int) Math.max(16, Math.min(Integer.MAX_VALUE, Math.min(free, fit)));
    }
    int perClient = connectionsPerClient == 0 ? Math.max(8, conns / 8) : connectionsPerClient;
    long memory = bodyMemoryMax == 0 ? maxHeap / 8 : bodyMemoryMax;
    long memoryPerClient =
        bodyMemoryPerClient == 0
            ? Math.max(memory / 2, Math.min(memory, batchBodyMax))
            : bodyMemoryPerClient;
    return new CapacityConfig(
        conns,
        Math.min(perClient, conns),
        memory,
        Math.min(memoryPerClient, memory),
        lingerTime,
        lingerMaxBytes);
  }
}
