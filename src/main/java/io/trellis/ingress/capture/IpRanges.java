package io.trellis.ingress.capture;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/** A set of IP addresses and CIDR ranges (IPv4 and IPv6), e.g. the trusted proxies. */
public final class IpRanges {
  private record Range(byte[] network, int prefix) {}

  private final List<Range> ranges;

  private IpRanges(List<Range> ranges) {
    this.ranges = List.copyOf(ranges);
  }

  /** Parses entries like {@code 10.0.0.0/8}, {@code 127.0.0.1}, {@code ::1}, {@code fd00::/8}. */
  public static IpRanges parse(List<String> entries) {
    List<Range> out = new ArrayList<>();
    for (String entry : entries) {
      String[] parts = entry.trim().split("/", 2);
      byte[] addr = literal(parts[0]);
      if (addr == null) {
        throw new IllegalArgumentException("not an IP address or CIDR range: '" + entry + "'");
      }
      int prefix = addr.length * 8;
      if (parts.length == 2) {
        try {
          prefix = Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
          prefix = -1;
        }
        if (prefix < 0 || prefix > addr.length * 8) {
          throw new IllegalArgumentException("bad prefix length in '" + entry + "'");
        }
      }
      out.add(new Range(addr, prefix));
    }
    return new IpRanges(out);
  }

  public boolean isEmpty() {
    return ranges.isEmpty();
  }

  public boolean contains(String ip) {
    if (ranges.isEmpty() || ip == null) {
      return false;
    }
    byte[] addr = literal(ip);
    if (addr == null) {
      return false;
    }
    for (Range r : ranges) {
      if (r.network().length == addr.length && samePrefix(r.network(), addr, r.prefix())) {
        return true;
      }
    }
    return false;
  }

  private static boolean samePrefix(byte[] a, byte[] b, int bits) {
    BigInteger mask =
        BigInteger.ONE.shiftLeft(a.length * 8).subtract(BigInteger.ONE).shiftRight(bits).not();
    return new BigInteger(1, a).and(mask).equals(new BigInteger(1, b).and(mask));
  }

  /** Parses an IP literal without any DNS lookup; null when it is not one. */
  static byte[] literal(String s) {
    String t = s.trim();
    if (t.startsWith("[") && t.endsWith("]")) {
      t = t.substring(1, t.length() - 1);
    }
    if (t.isEmpty() || !(t.indexOf(':') >= 0 || t.matches("[0-9.]+"))) {
      return null;
    }
    if (!t.matches("[0-9a-fA-F:.%a-zA-Z]+")) {
      return null;
    }
    try {
      return InetAddress.getByName(t).getAddress();
    } catch (UnknownHostException e) {
      return null;
    }
  }
}
