package io.trellis.ingress.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;

/** Loopback ports for the servers the tests start. */
public final class FreePorts {
  private FreePorts() {}

  /**
   * A port free now, for a server started next (the kernel could hand it out again meanwhile;
   * launchers that must not lose that race retry or let the server bind port 0).
   */
  public static int pick() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
