package io.trellis.ingress.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.testing.CliProcess;
import io.trellis.ingress.testing.CliProcess.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A configuration mistake stops {@code serve} with one line naming the setting, before anything is
 * created under the data directory, and {@code config} refuses the same configuration.
 */
class ConfigMistakesIT {
  @TempDir Path dir;

  private Result run(Map<String, String> env, String... args) {
    return CliProcess.run(dir, env, args);
  }

  private static void assertOneLineNaming(Result r, String... words) {
    assertThat(r.code()).as(r.toString()).isEqualTo(1);
    assertThat(r.out()).as(r.toString()).isEmpty();
    assertThat(r.errLines()).as(r.toString()).hasSize(1);
    assertThat(r.err()).startsWith("trellis-ingress: ").contains(words);
  }

  @Test
  void aMisspelledEnvironmentVariableStopsStartUpNamingTheClosestSetting() {
    Result r = run(Map.of("TRELLIS_ADMIN_PROT", "19437"), "serve", "--data-dir", "data");

    assertOneLineNaming(r, "TRELLIS_ADMIN_PROT", "did you mean TRELLIS_ADMIN_PORT?");
    assertThat(dir.resolve("data")).doesNotExist();
  }

  @Test
  void theRuleNameAndTheShortAliasBothSetTheWardenUrl() {
    CompletableFuture<Result> rule =
        CompletableFuture.supplyAsync(
            () ->
                run(
                    Map.of("TRELLIS_AUTH_WARDEN_URL", "http://warden-a:8080"),
                    "config",
                    "--set",
                    "auth.mode=warden"));
    Result alias =
        run(
            Map.of("TRELLIS_WARDEN_URL", "http://warden-b:8080"),
            "config",
            "--set",
            "auth.mode=warden");
    Result both =
        run(
            Map.of("TRELLIS_WARDEN_URL", "http://a:1", "TRELLIS_AUTH_WARDEN_URL", "http://b:1"),
            "config");

    assertThat(rule.join().out())
        .containsPattern("auth\\.warden\\.url += http://warden-a:8080 +\\(env\\)");
    assertThat(alias.out())
        .containsPattern("auth\\.warden\\.url += http://warden-b:8080 +\\(env\\)");
    assertOneLineNaming(both, "TRELLIS_AUTH_WARDEN_URL", "TRELLIS_WARDEN_URL");
  }

  @Test
  void badValuesAndBrokenCrossSettingRulesLeaveNothingBehindAndConfigRefusesThemToo() {
    record Mistake(String setting, String expected) {}
    List<Mistake> mistakes =
        List.of(
            new Mistake("spool.fsync=always", "spool.fsync"),
            new Mistake("limits.json-depth-max=1000", "limits.json-depth-max"),
            new Mistake("files.enabled=false", "no sink is enabled"),
            new Mistake("limits.body-max=16MiB", "spool.max-record-size"));
    List<CompletableFuture<Result[]>> runs =
        mistakes.stream()
            .map(
                m ->
                    CompletableFuture.supplyAsync(
                        () ->
                            new Result[] {
                              run(
                                  Map.of(),
                                  "serve",
                                  "--data-dir",
                                  "data-" + m.expected().replace(' ', '-'),
                                  "--port",
                                  "0",
                                  "--set",
                                  "admin.port=0",
                                  "--set",
                                  m.setting()),
                              run(Map.of(), "config", "--set", m.setting())
                            }))
            .toList();

    for (int i = 0; i < mistakes.size(); i++) {
      Mistake m = mistakes.get(i);
      Result[] r = runs.get(i).join();
      assertOneLineNaming(r[0], m.expected());
      assertThat(dir.resolve("data-" + m.expected().replace(' ', '-')))
          .as("nothing created for " + m.setting())
          .doesNotExist();
      assertOneLineNaming(r[1], m.expected());
      assertThat(r[1].err()).isEqualTo(r[0].err());
    }
    assertThat(Files.exists(dir.resolve("data"))).isFalse();
  }

  @Test
  void configMasksPasswordsInsideUrls() {
    CompletableFuture<Result> userInfo =
        CompletableFuture.supplyAsync(
            () ->
                run(
                    Map.of("TRELLIS_CLICKHOUSE_URL", "http://alice:hunter2@127.0.0.1:8123/"),
                    "config"));
    Result param =
        run(
            Map.of(),
            "config",
            "--set",
            "clickhouse.url=http://127.0.0.1:8123/?user=alice&password=hunter2");

    assertThat(param.code()).as(param.toString()).isZero();
    assertThat(param.out())
        .doesNotContain("hunter2")
        .contains("clickhouse.url")
        .contains("http://127.0.0.1:8123/?user=alice&password=****");
    assertThat(userInfo.join().out() + userInfo.join().err()).doesNotContain("hunter2");
  }
}
