package io.trellis.ingress.cli;

import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.Setting;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Prints the effective configuration (secrets masked), or the table of every setting. */
@Command(
    name = "config",
    mixinStandardHelpOptions = true,
    versionProvider = Version.Provider.class,
    description =
        "Print the effective configuration with the source of each value; secrets are masked.")
final class ConfigCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Option(
      names = "--reference",
      description = "Print the Markdown table of every setting (as in the README) instead.")
  boolean reference;

  @Override
  public Integer call() {
    if (reference) {
      System.out.print(referenceTable());
      return 0;
    }
    Config config = common.load();
    // Checked as serve checks it: a configuration serve would refuse is refused here too.
    ServiceConfig.from(config);
    Map<String, String> values = config.masked();
    int width = values.keySet().stream().mapToInt(String::length).max().orElse(10);
    for (Map.Entry<String, String> e : values.entrySet()) {
      String source =
          switch (config.source(e.getKey())) {
            case DEFAULT -> "default";
            case FILE -> "file";
            case ENV -> "env";
            case FLAG -> "flag";
          };
      System.out.printf("%-" + width + "s = %-24s (%s)%n", e.getKey(), e.getValue(), source);
    }
    return 0;
  }

  /** The README's settings table, generated from the declarations so it cannot drift. */
  static String referenceTable() {
    StringBuilder sb = new StringBuilder();
    sb.append("| key | environment variable | default | meaning |\n");
    sb.append("|---|---|---|---|\n");
    for (Setting s : ServiceSettings.all()) {
      String def =
          s.defaultValue() == null || s.defaultValue().isEmpty() ? "(none)" : s.defaultValue();
      sb.append("| `")
          .append(s.key())
          .append("` | `")
          .append(String.join("` or `", s.envNames()))
          .append("` | ")
          .append(def.equals("(none)") ? def : "`" + def + "`")
          .append(" | ")
          .append(s.secret() ? "(secret) " : "")
          .append(s.doc().replace("|", "\\|"))
          .append(" |\n");
    }
    return sb.toString();
  }
}
