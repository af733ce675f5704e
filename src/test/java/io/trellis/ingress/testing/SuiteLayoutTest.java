package io.trellis.ingress.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps the rule of the suite's layout true. {@code mvn test} (surefire) runs the {@code *Test}
 * classes: unit tests, the whole set in under a minute. A class that starts the service (in this
 * JVM or as a process), a server (ClickHouse, chDB, ZooKeeper, or a fake Warden or BigQuery in this
 * JVM), a browser, Node.js, a tmpfs or any other process is named {@code *IT}: failsafe runs it in
 * {@code mvn verify}, after the jar is built.
 */
class SuiteLayoutTest {
  private static final Path SOURCES = Path.of("src/test/java");

  /** What only integration tests may start; a test that uses one directly or by inheritance. */
  private static final Pattern STARTS_SOMETHING =
      Pattern.compile(
          "\\b(RunningService|ServiceProcess|CliProcess|AttackedProcess|ClickHouseServer"
              + "|ClickHouseServerExtension|ClickHouseCluster|ChdbEngine|ChdbHttpFront"
              + "|EmbeddedZooKeeper|NodeClients|SmallDisk|FakeWarden|FakeBigQuery|ServiceJvm|ProcessBuilder)\\b");

  private static final Pattern EXTENDS = Pattern.compile("\\bextends\\s+(\\w+)");

  @Test
  void unitTestsStartNoServiceServerOrProcess() throws IOException {
    Map<String, String> sources = testSources();
    Set<String> starting = new TreeSet<>();
    for (Map.Entry<String, String> e : sources.entrySet()) {
      if (STARTS_SOMETHING.matcher(withoutComments(e.getValue())).find()) {
        starting.add(e.getKey());
      }
    }
    // A class inherits what its superclass starts (the ClickHouse contracts).
    boolean grew = true;
    while (grew) {
      grew = false;
      for (Map.Entry<String, String> e : sources.entrySet()) {
        Matcher m = EXTENDS.matcher(e.getValue());
        while (m.find()) {
          if (starting.contains(m.group(1)) && starting.add(e.getKey())) {
            grew = true;
          }
        }
      }
    }
    List<String> misplaced =
        starting.stream().filter(c -> c.endsWith("Test")).collect(Collectors.toList());
    assertThat(misplaced)
        .as(
            "these unit tests start the service, a server or a process: rename them *IT"
                + " (failsafe runs them in mvn verify)")
        .isEmpty();
  }

  /**
   * JUnit Jupiter and jqwik each report a class they both run under the same name, and the second
   * report overwrites the first (surefire counted 1 test of JsonFieldsTest's 5): a class with
   * properties writes its examples as jqwik's {@code @Example}.
   */
  @Test
  void noClassMixesJqwikAndJupiter() throws IOException {
    List<String> mixed =
        testSources().entrySet().stream()
            .filter(e -> e.getValue().contains("import net.jqwik.api."))
            .filter(e -> e.getValue().contains("import org.junit.jupiter."))
            .map(Map.Entry::getKey)
            .collect(Collectors.toList());
    assertThat(mixed).as("classes run by both jqwik and JUnit Jupiter").isEmpty();
  }

  @Test
  void theRuleSeesWhatItLooksFor() throws IOException {
    Map<String, String> sources = testSources();
    assertThat(sources).containsKeys("CrashRecoveryIT", "ChdbServiceIT", "JsonFieldsTest");
    assertThat(STARTS_SOMETHING.matcher(sources.get("CrashRecoveryIT")).find()).isTrue();
    assertThat(EXTENDS.matcher(sources.get("ChdbServiceIT")).find()).isTrue();
  }

  /** Test source text by class name (the file's name), outside the launchers' own package. */
  private static Map<String, String> testSources() throws IOException {
    Map<String, String> sources = new HashMap<>();
    try (Stream<Path> files = Files.walk(SOURCES)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        String name = p.getFileName().toString();
        if (name.endsWith(".java") && !p.getParent().endsWith("testing")) {
          sources.put(name.substring(0, name.length() - ".java".length()), Files.readString(p));
        }
      }
    }
    return sources;
  }

  private static String withoutComments(String source) {
    return source.replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\n]*", "");
  }
}
