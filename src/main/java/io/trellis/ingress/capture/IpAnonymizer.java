package io.trellis.ingress.capture;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Set;

/**
 * Drops the host part of client addresses before they are stored: the last octet of an IPv4 address
 * ({@code 203.0.113.77} → {@code 203.0.113.0}) and the last 80 bits of an IPv6 address ({@code
 * 2001:db8:85a3:8d3:1319:8a2e:370:7348} → {@code 2001:db8:85a3::}), as Google Analytics does. What
 * is left still names the network (for geo and abuse analysis), not the household. Stateless.
 */
public final class IpAnonymizer {
  /**
   * Headers whose values are client addresses, lower case. Proxies and CDNs put the address of the
   * client in these; the socket address the service keeps for relay keys is one of them.
   */
  static final Set<String> ADDRESS_HEADERS =
      Set.of(
          "x-forwarded-for",
          "x-real-ip",
          "forwarded",
          "x-client-ip",
          "x-cluster-client-ip",
          "cf-connecting-ip",
          "true-client-ip",
          "fastly-client-ip",
          "x-original-forwarded-for",
          "cf-connecting-ipv6",
          "x-envoy-external-address",
          "x-azure-clientip",
          "x-azure-socketip",
          "x-appengine-user-ip",
          "x-vercel-forwarded-for",
          "x-nf-client-connection-ip",
          "fly-client-ip",
          "x-forwarded",
          "forwarded-for",
          EventCapture.SOCKET_IP_HEADER);

  private IpAnonymizer() {}

  /** The address with its host part zeroed, in canonical form; null when it is not an address. */
  public static String anonymize(String ip) {
    if (ip == null) {
      return null;
    }
    byte[] addr = IpRanges.literal(ip);
    if (addr == null) {
      return null;
    }
    if (addr.length == 4) {
      return (addr[0] & 0xff) + "." + (addr[1] & 0xff) + "." + (addr[2] & 0xff) + ".0";
    }
    // Keep 48 bits (three groups): the site prefix, not the subnet or the interface.
    for (int i = 6; i < 16; i++) {
      addr[i] = 0;
    }
    try {
      return compress(InetAddress.getByAddress(addr).getHostAddress());
    } catch (UnknownHostException e) {
      throw new IllegalStateException("16 bytes are an IPv6 address", e);
    }
  }

  /** The address anonymized, or the empty string when it is not an address at all. */
  public static String anonymizeOrEmpty(String ip) {
    String a = anonymize(ip);
    return a == null ? "" : a;
  }

  /**
   * A header value with every address in it anonymized ({@code X-Forwarded-For}'s list, {@code
   * Forwarded}'s {@code for=} and {@code by=}, with or without brackets, quotes and ports); the
   * rest of the value is kept as it is.
   */
  public static String anonymizeAll(String value) {
    StringBuilder out = new StringBuilder(value.length());
    int i = 0;
    int n = value.length();
    while (i < n) {
      char c = value.charAt(i);
      if (isDelimiter(c)) {
        out.append(c);
        i++;
        continue;
      }
      int end = i;
      while (end < n && !isDelimiter(value.charAt(end))) {
        end++;
      }
      out.append(anonymizeToken(value.substring(i, end)));
      i = end;
    }
    return out.toString();
  }

  private static boolean isDelimiter(char c) {
    return c == ',' || c == ';' || c == '=' || c == '"' || c == '[' || c == ']' || c == ' ';
  }

  private static String anonymizeToken(String token) {
    String a = anonymize(token);
    if (a != null) {
      return a;
    }
    // An IPv4 address with a port (Forwarded: for="203.0.113.7:4711").
    int colon = token.indexOf(':');
    if (colon > 0 && colon == token.lastIndexOf(':') && token.indexOf('.') > 0) {
      String host = anonymize(token.substring(0, colon));
      if (host != null) {
        return host + token.substring(colon);
      }
    }
    // An IPv6 address with a port after its closing bracket arrives as ":4711"; keep it.
    return token;
  }

  /** The JDK writes every group ({@code 2001:db8:85a3:0:0:0:0:0}); write the short form. */
  private static String compress(String full) {
    String[] groups = full.split(":", -1);
    int bestStart = -1;
    int bestLen = 0;
    for (int i = 0; i < groups.length; ) {
      if (!groups[i].equals("0")) {
        i++;
        continue;
      }
      int j = i;
      while (j < groups.length && groups[j].equals("0")) {
        j++;
      }
      if (j - i > bestLen && j - i > 1) {
        bestStart = i;
        bestLen = j - i;
      }
      i = j;
    }
    if (bestStart < 0) {
      return full;
    }
    String head = String.join(":", java.util.Arrays.copyOfRange(groups, 0, bestStart));
    String tail =
        String.join(":", java.util.Arrays.copyOfRange(groups, bestStart + bestLen, groups.length));
    return head + "::" + tail;
  }
}
