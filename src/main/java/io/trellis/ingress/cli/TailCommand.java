package io.trellis.ingress.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.ingress.config.Config;
import io.trellis.ingress.live.LiveClient;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tail}: prints a running service's acknowledged events as they arrive. */
@Command(
    name = "tail",
    mixinStandardHelpOptions = true,
    versionProvider = Version.Provider.class,
    description =
        "Print the events a running service acknowledges, as they arrive, from its live view"
            + " (GET /live/events on the admin port): one stored record per line as NDJSON, or a"
            + " short line each with --format text. Events dropped because this reader fell"
            + " behind are counted on stderr.")
final class TailCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Mixin CommonOptions common;

  @Option(names = "--org", paramLabel = "ORG", description = "Only this organization's events.")
  String org;

  @Option(names = "--type", paramLabel = "TYPE", description = "Only events of this event_type.")
  String type;

  @Option(
      names = "--endpoint",
      paramLabel = "PATH",
      description = "Only events sent to this path, e.g. /batch or /pixel.")
  String endpoint;

  @Option(
      names = "--grep",
      paramLabel = "TEXT",
      description = "Only events whose stored record contains TEXT (case-insensitive).")
  String grep;

  @Option(
      names = "--format",
      paramLabel = "FORMAT",
      defaultValue = "json",
      description = "json (the stored record, one per line; default) or text.")
  String format;

  @Option(
      names = "--count",
      paramLabel = "N",
      defaultValue = "0",
      description = "Stop after N events (0: until interrupted).")
  long count;

  @Option(
      names = "--url",
      paramLabel = "URL",
      description =
          "The service's admin address (default http://ADMIN_HOST:ADMIN_PORT from the"
              + " configuration, e.g. http://127.0.0.1:9090).")
  String url;

  @Override
  public Integer call() throws Exception {
    if (!format.equals("json") && !format.equals("text")) {
      throw new IllegalArgumentException("--format: expected json or text, got " + format);
    }
    if (count < 0) {
      throw new IllegalArgumentException("--count: must be 0 or more");
    }
    URI base = URI.create(url != null ? url : adminUrl(common.load()));
    PrintStream out = System.out;
    long[] seen = {0};
    try {
      new LiveClient(base)
          .stream(
              org,
              type,
              endpoint,
              grep,
              new LiveClient.Listener() {
                @Override
                public boolean event(String record) {
                  out.println(format.equals("json") ? record : text(record));
                  out.flush();
                  return count == 0 || ++seen[0] < count;
                }

                @Override
                public void dropped(long total) {
                  System.err.println(
                      "tail: "
                          + total
                          + " event(s) dropped so far: this reader did not keep up with the"
                          + " stream");
                }
              });
    } catch (LiveClient.RefusedException e) {
      System.err.println("trellis-ingress tail: " + e.getMessage());
      return 1;
    }
    return 0;
  }

  private static String adminUrl(Config c) {
    String host = c.string("admin.host").trim();
    if (host.isEmpty() || host.equals("0.0.0.0") || host.equals("::")) {
      host = "127.0.0.1";
    }
    if (host.indexOf(':') >= 0 && !host.startsWith("[")) {
      host = "[" + host + "]";
    }
    return "http://" + host + ":" + c.integer("admin.port");
  }

  /** time, organization, type, endpoint, click id, source, event id. */
  static String text(String record) {
    try {
      JsonNode n = JSON.readTree(record);
      StringBuilder sb = new StringBuilder();
      sb.append(n.path("timestamp").asText()).append("  ");
      sb.append(n.path("organization_id").asText()).append("  ");
      sb.append(n.path("event_type").asText()).append("  ");
      String url = n.path("url").asText();
      int scheme = url.indexOf("://");
      int path = scheme < 0 ? -1 : url.indexOf('/', scheme + 3);
      String endpoint = path < 0 ? url : url.substring(path);
      int q = endpoint.indexOf('?');
      sb.append(q < 0 ? endpoint : endpoint.substring(0, q));
      if (!n.path("click_id").asText().isEmpty()) {
        sb.append("  click_id=").append(n.path("click_id").asText());
      }
      if (!n.path("source").asText().isEmpty()) {
        sb.append("  source=").append(n.path("source").asText());
      }
      sb.append("  ").append(n.path("event_id").asText());
      return sb.toString();
    } catch (IOException e) {
      return record;
    }
  }
}
