package io.trellis.ingress.cli;

import io.trellis.ingress.auth.ApiKeys;
import io.trellis.ingress.config.UrlSecrets;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code serve} prints on stdout once it accepts events: where to send them, where to look,
 * where the data goes and how keys are checked. A demo key created at this start comes last, alone
 * on its line, so {@code | tail -1} yields it; logs go to stderr and never follow it on stdout.
 */
final class Banner {
  private Banner() {}

  static void print(
      PrintStream out,
      ServiceConfig c,
      int port,
      int adminPort,
      ApiKeys.NewKey demoKey,
      boolean noKeys) {
    String capture = "http://" + c.http().host() + ":" + port;
    List<String> lines = new ArrayList<>();
    lines.add("trellis-ingress " + Version.NUMBER + " is accepting events");
    lines.add(row("capture", capture));
    lines.add(row("", "POST /events  /batch  /v1/track /v1/page /v1/batch … (Segment API)"));
    lines.add(row("", "GET  /track  /pixel  /r?u=URL"));
    lines.add(
        row(
            "admin",
            c.ops().adminEnabled()
                ? "http://"
                    + c.ops().adminHost()
                    + ":"
                    + adminPort
                    + "  /metrics /healthz /readyz"
                    + (c.live().enabled() ? " /live" : "")
                : "off (admin.enabled=false)"));
    lines.add(row("data", c.dataDir().toAbsolutePath().normalize().toString()));
    lines.add(row("sinks", String.join(", ", sinks(c))));
    lines.add(
        row(
            "auth",
            c.warden() == null
                ? "local key store " + c.dataDir().toAbsolutePath().normalize().resolve("keys.json")
                : "Warden at " + UrlSecrets.mask(c.warden().url().toString())));
    lines.forEach(out::println);
    if (demoKey != null) {
      out.println(
          "The key store was empty: created key " + demoKey.keyId() + " for organization demo.");
      out.println(
          "Try it: curl -H 'Authorization: Bearer "
              + demoKey.key()
              + "' -d '{\"event\":\"hello\"}' "
              + capture
              + "/events");
      out.println(demoKey.key());
    } else if (noKeys) {
      out.println(
          "The key store is empty: create a key with  trellis-ingress keys create --org ORG"
              + " --data-dir "
              + c.dataDir().toAbsolutePath().normalize());
    }
    out.flush();
  }

  private static List<String> sinks(ServiceConfig c) {
    List<String> sinks = new ArrayList<>();
    if (c.files().enabled()) {
      sinks.add("files " + c.files().directory().toAbsolutePath().normalize());
    }
    if (c.clickhouse() != null) {
      sinks.add(
          "clickhouse "
              + UrlSecrets.mask(c.clickhouse().urls().get(0).toString())
              + " "
              + c.clickhouse().qualifiedTable());
    }
    if (c.bigquery() != null) {
      sinks.add("bigquery " + c.bigquery().tablePath());
    }
    return sinks;
  }

  private static String row(String label, String value) {
    return String.format("  %-8s %s", label, value);
  }
}
