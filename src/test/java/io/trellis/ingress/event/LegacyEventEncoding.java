package io.trellis.ingress.event;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The positional encoding (versions 1 and 2) that earlier releases wrote, kept to make records as
 * they did: the spool of an upgraded node still holds them.
 */
final class LegacyEventEncoding {
  private LegacyEventEncoding() {}

  static byte[] encode(TrafficEvent e) {
    String[] strings = {
      e.organizationId(), e.eventId(), e.method(), e.url(), e.headers(), e.queryParams(), e.body(),
      e.ip(), e.userAgent(), e.referer(), e.eventType(), e.clickId(), e.sessionId(), e.source(),
      e.medium(), e.campaign()
    };
    boolean exact = !e.bodyBase64().isEmpty();
    int count = exact ? 17 : 16;
    byte[][] parts = new byte[count][];
    int size = 1 + 8;
    for (int i = 0; i < count; i++) {
      parts[i] = (i < 16 ? strings[i] : e.bodyBase64()).getBytes(StandardCharsets.UTF_8);
      size += 4 + parts[i].length;
    }
    ByteBuffer buf = ByteBuffer.allocate(size);
    buf.put(exact ? EventCodec.VERSION_2 : EventCodec.VERSION_1).putLong(e.timestamp());
    for (byte[] p : parts) {
      buf.putInt(p.length).put(p);
    }
    return buf.array();
  }
}
