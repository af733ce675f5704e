package io.trellis.ingress.cli;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;

/**
 * Turns a failure to listen into one line naming the setting: {@code port 8080 (TRELLIS_PORT) on
 * 127.0.0.1 is in use}. Ports are probed before anything is created, so a taken port costs nothing;
 * the real bind later reports the same way if the port was taken meanwhile.
 */
final class Ports {
  private Ports() {}

  /** A listening port and the settings that choose it. */
  record Listen(String label, String portEnv, String hostEnv, String host, int port) {
    static Listen capture(String host, int port) {
      return new Listen("port", "TRELLIS_PORT", "TRELLIS_HOST", host, port);
    }

    static Listen admin(String host, int port) {
      return new Listen("admin port", "TRELLIS_ADMIN_PORT", "TRELLIS_ADMIN_HOST", host, port);
    }
  }

  /** Fails when the port cannot be bound now; 0 (any free port) always can. */
  static void checkFree(Listen l) {
    if (l.port() == 0) {
      return;
    }
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(InetAddress.getByName(l.host()), l.port()));
    } catch (IOException e) {
      StartupException explained = explain(l, e);
      throw explained != null ? explained : new StartupException(l.label() + ": " + e, e);
    }
  }

  /** The operator's line for a bind failure, or null when the failure is something else. */
  static StartupException explain(Listen l, Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof UnknownHostException) {
        return new StartupException(
            "host " + l.host() + " (" + l.hostEnv() + ") is not a known address", e);
      }
      if (t instanceof BindException b) {
        String m = String.valueOf(b.getMessage());
        if (m.contains("assign requested address")) {
          return new StartupException(
              "host " + l.host() + " (" + l.hostEnv() + ") is not an address of this machine", e);
        }
        String where = l.label() + " " + l.port() + " (" + l.portEnv() + ") on " + l.host();
        if (m.contains("ermission denied")) {
          return new StartupException(where + ": permission denied (a port below 1024?)", e);
        }
        return new StartupException(where + " is in use", e);
      }
    }
    return null;
  }
}
