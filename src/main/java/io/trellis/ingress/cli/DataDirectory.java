package io.trellis.ingress.cli;

import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.ConfigException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The data directory as the {@code keys} and {@code spool} commands see it. Each command says which
 * directory it uses, since a command pointed at another directory than the server's works on the
 * wrong key store; and a directory that does not exist is a mistake to report, not to create.
 */
final class DataDirectory {
  private DataDirectory() {}

  /** The configured directory, which must exist; its absolute path is printed first. */
  static Path existing(Config config, PrintStream out) {
    Path dir = configured(config);
    if (!Files.isDirectory(dir)) {
      throw new ConfigException(missing(dir));
    }
    out.println("Data directory: " + dir);
    return dir;
  }

  /** The configured directory, created (and said so) when it does not exist yet. */
  static Path createIfMissing(Config config, PrintStream out) {
    Path dir = configured(config);
    if (!Files.isDirectory(dir)) {
      try {
        Files.createDirectories(dir);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create the data directory " + dir, e);
      }
      out.println("Data directory: " + dir + " (created: it did not exist)");
    } else {
      out.println("Data directory: " + dir);
    }
    return dir;
  }

  private static Path configured(Config config) {
    return CommonOptions.dataDir(config).toAbsolutePath().normalize();
  }

  private static String missing(Path dir) {
    return "data directory "
        + dir
        + " does not exist; point --data-dir (or TRELLIS_DATA_DIR) at the directory the service"
        + " uses";
  }
}
