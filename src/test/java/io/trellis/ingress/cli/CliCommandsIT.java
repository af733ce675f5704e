package io.trellis.ingress.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.auth.AuthResult;
import io.trellis.ingress.auth.LocalKeyStore;
import io.trellis.ingress.testing.CliProcess;
import io.trellis.ingress.testing.CliProcess.Result;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line as an operator meets it, each command run as its own process. */
class CliCommandsIT {
  @TempDir Path dir;

  private Result run(String... args) {
    return CliProcess.run(dir, Map.of(), args);
  }

  private static CompletableFuture<Result> async(Supplier<Result> run) {
    return CompletableFuture.supplyAsync(run);
  }

  @Test
  void aPortInUseIsNamedWithItsSettingAndAddressBeforeAnythingIsCreated() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      int port = taken.getLocalPort();
      CompletableFuture<Result> admin =
          async(
              () ->
                  run(
                      "serve",
                      "--data-dir",
                      "data-admin",
                      "--port",
                      "0",
                      "--set",
                      "admin.port=" + port));
      Result capture =
          run(
              "serve",
              "--data-dir",
              "data",
              "--port",
              Integer.toString(port),
              "--set",
              "admin.port=0");

      assertThat(capture.code()).as(capture.toString()).isEqualTo(1);
      assertThat(capture.errLines())
          .as(capture.toString())
          .containsExactly(
              "trellis-ingress: port " + port + " (TRELLIS_PORT) on 127.0.0.1 is in use");
      assertThat(capture.out()).isEmpty();
      assertThat(dir.resolve("data")).doesNotExist();
      Result a = admin.join();
      assertThat(a.code()).as(a.toString()).isEqualTo(1);
      assertThat(a.errLines())
          .as(a.toString())
          .containsExactly(
              "trellis-ingress: admin port "
                  + port
                  + " (TRELLIS_ADMIN_PORT) on 127.0.0.1 is in use");
      assertThat(dir.resolve("data-admin")).doesNotExist();
    }
  }

  @Test
  void keysAndSpoolCommandsSayWhichDirectoryTheyUseAndRefuseOneThatDoesNotExist() {
    List<CompletableFuture<Result>> refused =
        List.of(
            async(() -> run("keys", "list", "--data-dir", "missing")),
            async(() -> run("keys", "revoke", "abcdefghijkl", "--data-dir", "missing")),
            async(() -> run("spool", "status", "--data-dir", "missing")));
    Result created = run("keys", "create", "--org", "acme", "--data-dir", "fresh");
    Result second = run("keys", "create", "--org", "acme", "--data-dir", "fresh");

    Path missing = dir.resolve("missing").toAbsolutePath();
    for (CompletableFuture<Result> f : refused) {
      Result r = f.join();
      assertThat(r.code()).as(r.toString()).isEqualTo(1);
      assertThat(r.errLines())
          .as(r.toString())
          .singleElement()
          .asString()
          .startsWith("trellis-ingress: data directory " + missing + " does not exist");
    }
    assertThat(missing).doesNotExist();
    Path fresh = dir.resolve("fresh").toAbsolutePath();
    assertThat(created.code()).as(created.toString()).isZero();
    assertThat(created.outLines().get(0))
        .isEqualTo("Data directory: " + fresh + " (created: it did not exist)");
    assertThat(second.outLines().get(0)).isEqualTo("Data directory: " + fresh);
    String key = second.outLines().get(second.outLines().size() - 1);
    assertThat(LocalKeyStore.open(fresh).verify(key)).isInstanceOf(AuthResult.Authorized.class);

    Result listed = run("keys", "list", "--data-dir", "fresh");
    Result status = run("spool", "status", "--data-dir", "fresh");
    assertThat(listed.outLines().get(0)).isEqualTo("Data directory: " + fresh);
    assertThat(status.code()).as(status.toString()).isZero();
    assertThat(status.outLines().get(0)).isEqualTo("Data directory: " + fresh);
  }

  @Test
  void keysCreateRefusesInWardenModeAndRevokeNeverEchoesAWholeKey() {
    CompletableFuture<Result> warden =
        async(
            () ->
                run(
                    "keys",
                    "create",
                    "--org",
                    "acme",
                    "--data-dir",
                    "w",
                    "--set",
                    "auth.mode=warden",
                    "--set",
                    "auth.warden.url=http://127.0.0.1:9"));
    Result created = run("keys", "create", "--org", "acme", "--data-dir", "d");
    String key = created.outLines().get(created.outLines().size() - 1);
    String secret = key.substring(17);
    Result revoked = run("keys", "revoke", key, "--data-dir", "d");
    Result unknown =
        run(
            "keys",
            "revoke",
            "trk_zzzzzzzzzzzz_abcdefghijklmnopqrstuvwxyz012345",
            "--data-dir",
            "d");

    Result w = warden.join();
    assertThat(w.code()).as(w.toString()).isEqualTo(1);
    assertThat(w.errLines()).singleElement().asString().contains("auth.mode is warden");
    assertThat(dir.resolve("w")).doesNotExist();
    assertThat(revoked.code()).as(revoked.toString()).isZero();
    assertThat(revoked.out() + revoked.err()).doesNotContain(secret).contains(key.substring(4, 16));
    assertThat(LocalKeyStore.open(dir.resolve("d")).verify(key))
        .isInstanceOf(AuthResult.Unauthorized.class);
    assertThat(unknown.code()).isEqualTo(1);
    assertThat(unknown.out() + unknown.err())
        .doesNotContain("abcdefghijklmnopqrstuvwxyz012345")
        .contains("no key with id zzzzzzzzzzzz");
  }

  @Test
  void everyCommandHasHelpABareCommandPrintsUsageAndExitsTwo() {
    List<List<String>> helps =
        List.of(List.of("help", "keys"), List.of("keys", "create", "--help"));
    List<CompletableFuture<Result>> runs =
        helps.stream().map(a -> async(() -> run(a.toArray(String[]::new)))).toList();
    CompletableFuture<Result> bare = async(() -> run());
    CompletableFuture<Result> bareKeys = async(() -> run("keys"));
    Result version = run("--version");

    for (int i = 0; i < helps.size(); i++) {
      Result r = runs.get(i).join();
      assertThat(r.code()).as(helps.get(i) + "\n" + r).isZero();
      assertThat(r.err()).as(helps.get(i) + "\n" + r).isEmpty();
      assertThat(r.out()).as(helps.get(i) + "\n" + r).startsWith("Usage: trellis-ingress");
    }
    for (Result r : List.of(bare.join(), bareKeys.join())) {
      assertThat(r.code()).as(r.toString()).isEqualTo(2);
      assertThat(r.out()).isEmpty();
      assertThat(r.err()).startsWith("Usage: trellis-ingress");
    }
    assertThat(version.code()).isZero();
    assertThat(version.out()).isEqualTo("trellis-ingress " + pomVersion() + "\n");
  }

  /** The project's own version in pom.xml: the one place the release number is written. */
  private static String pomVersion() {
    try {
      String pom = Files.readString(Path.of("pom.xml"));
      Matcher m =
          Pattern.compile("<artifactId>trellis-ingress</artifactId>\\s*<version>([^<]+)<")
              .matcher(pom);
      assertThat(m.find()).as("the project version in pom.xml").isTrue();
      return m.group(1);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every command and subcommand, found from the command tree, answers --help and help. */
  @Test
  void helpWorksOnEveryCommandAndSubcommand() {
    List<List<String>> paths = new java.util.ArrayList<>();
    collect(new picocli.CommandLine(new Main()), new java.util.ArrayList<>(), paths);
    assertThat(paths).hasSizeGreaterThanOrEqualTo(9);
    for (List<String> path : paths) {
      List<String> help = new java.util.ArrayList<>(path);
      help.add("--help");
      KeysCommandTest.Run r = KeysCommandTest.runInProcess(help.toArray(String[]::new));
      assertThat(r.code()).as(help + "\n" + r).isZero();
      assertThat(r.err()).as(help + "\n" + r).isEmpty();
      assertThat(r.out())
          .as(help + "\n" + r)
          .contains("Usage: trellis-ingress " + String.join(" ", path));
      if (path.size() == 1) {
        KeysCommandTest.Run h = KeysCommandTest.runInProcess("help", path.get(0));
        assertThat(h.code()).as("help " + path + "\n" + h).isZero();
        assertThat(h.out()).contains("Usage: trellis-ingress " + path.get(0));
      }
    }
  }

  private static void collect(picocli.CommandLine cmd, List<String> path, List<List<String>> out) {
    out.add(List.copyOf(path));
    for (var e : cmd.getSubcommands().entrySet()) {
      List<String> sub = new java.util.ArrayList<>(path);
      sub.add(e.getKey());
      collect(e.getValue(), sub, out);
    }
  }

  @Test
  void keysListFitsIn100ColumnsWithReadableDates() {
    run(
        "keys",
        "create",
        "--org",
        "a-very-long-organization-name-that-goes-on",
        "--name",
        "marketing website, production, europe",
        "--data-dir",
        "d");

    Result listed = run("keys", "list", "--data-dir", "d");

    assertThat(listed.code()).isZero();
    assertThat(listed.outLines()).hasSize(3);
    assertThat(listed.outLines()).allSatisfy(l -> assertThat(l.length()).isLessThanOrEqualTo(100));
    assertThat(listed.outLines().get(2))
        .containsPattern("active +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC$")
        .contains("a-very-long-organizat...");
  }
}
