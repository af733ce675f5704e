package io.trellis.ingress.cli;

import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.ConfigLoader;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** Options every command takes: where the configuration and the data live. */
final class CommonOptions {
  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "YAML configuration file (environment variables and flags override it).")
  Path configFile;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description = "Data directory (key store, spool, files sink). Env: TRELLIS_DATA_DIR.")
  String dataDir;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description = "Set any configuration key, e.g. --set limits.body-max=2MiB.")
  Map<String, String> set = new LinkedHashMap<>();

  /** The effective configuration; extra flags (like --port) win over everything else. */
  Config load(Map<String, String> extraFlags) {
    Map<String, String> flags = new LinkedHashMap<>(set);
    if (dataDir != null) {
      flags.put(ServiceSettings.DATA_DIR, dataDir);
    }
    flags.putAll(extraFlags);
    return ConfigLoader.load(ServiceSettings.all(), configFile, System.getenv(), flags);
  }

  Config load() {
    return load(Map.of());
  }

  static Path dataDir(Config config) {
    return Path.of(config.string(ServiceSettings.DATA_DIR));
  }
}
