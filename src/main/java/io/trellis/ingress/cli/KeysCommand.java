package io.trellis.ingress.cli;

import io.trellis.ingress.auth.ApiKeys;
import io.trellis.ingress.auth.AuthConfig;
import io.trellis.ingress.auth.LocalKeyStore;
import io.trellis.ingress.auth.StoredKey;
import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.ConfigException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Manages the local key store: {@code keys create | list | revoke}. */
@Command(
    name = "keys",
    mixinStandardHelpOptions = true,
    versionProvider = Version.Provider.class,
    description =
        "Manage API keys in the local key store (stored hashed under the data directory).",
    subcommands = {KeysCommand.Create.class, KeysCommand.ListKeys.class, KeysCommand.Revoke.class})
final class KeysCommand extends Usage.Group {

  private static final Pattern KEY_ID = Pattern.compile("[a-z0-9]{12}");
  private static final DateTimeFormatter DATE =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'").withZone(ZoneOffset.UTC);

  /** In warden mode the local key store is not consulted: writing to it would only mislead. */
  private static void refuseInWardenMode(Config config, String what) {
    if (AuthConfig.from(config).mode().equals("warden")) {
      throw new ConfigException(
          "auth.mode is warden: keys are issued and revoked in Warden, so "
              + what
              + " in the local key store would have no effect");
    }
  }

  @Command(
      name = "create",
      mixinStandardHelpOptions = true,
      versionProvider = Version.Provider.class,
      description = "Create a key for an organization; the key is printed once, on the last line.")
  static final class Create implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Option(names = "--org", required = true, description = "Organization id the key writes to.")
    String org;

    @Option(names = "--name", description = "A label for the key (e.g. the site or SDK).")
    String name;

    @Option(
        names = "--relay",
        description =
            "Let server-side SDKs set each event's client IP and user agent to the browser's"
                + " they relay (context.ip, $ip, ip/ua); give it only to keys kept on servers.")
    boolean relay;

    @Override
    public Integer call() {
      Config config = common.load();
      refuseInWardenMode(config, "a key created");
      // Checked before the data directory is created for it.
      LocalKeyStore.requireValidOrganizationId(org);
      LocalKeyStore store = LocalKeyStore.open(DataDirectory.createIfMissing(config, System.out));
      ApiKeys.NewKey k = store.create(org, name, relay);
      System.out.println("Created key " + k.keyId() + " for organization " + org + ".");
      System.out.println("Store it now: it cannot be shown again.");
      System.out.println(k.key());
      return 0;
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      versionProvider = Version.Provider.class,
      description = "List keys (ids, organizations, state; never secrets).")
  static final class ListKeys implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Override
    public Integer call() {
      Config config = common.load();
      LocalKeyStore store = LocalKeyStore.open(DataDirectory.existing(config, System.out));
      String row = "%-12s  %-24s  %-20s  %-7s  %s%n";
      System.out.printf(row, "KEY ID", "ORGANIZATION", "NAME", "STATE", "CREATED");
      for (StoredKey k : store.list()) {
        System.out.printf(
            row,
            k.keyId(),
            fit(k.organizationId(), 24),
            fit(k.name() == null ? "" : k.name(), 20),
            k.revoked() ? "revoked" : "active",
            date(k.createdAt()));
      }
      return 0;
    }
  }

  @Command(
      name = "revoke",
      mixinStandardHelpOptions = true,
      versionProvider = Version.Provider.class,
      description = "Revoke a key; a running server refuses it within a second.")
  static final class Revoke implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Parameters(
        paramLabel = "KEY_ID",
        description = "The key id shown by 'keys list' (a whole key is accepted too).")
    String keyId;

    @Override
    public Integer call() {
      Config config = common.load();
      refuseInWardenMode(config, "a key revoked");
      // A whole key pasted here is a secret: use its id and never print what was given.
      String id = ApiKeys.keyIdOf(keyId) != null ? ApiKeys.keyIdOf(keyId) : keyId;
      if (!KEY_ID.matcher(id).matches()) {
        throw new ConfigException(
            "not a key id: expected the 12 letters and digits shown by 'keys list'");
      }
      LocalKeyStore store = LocalKeyStore.open(DataDirectory.existing(config, System.out));
      if (!store.revoke(id)) {
        System.err.println("trellis-ingress: no key with id " + id);
        return 1;
      }
      System.out.println("Revoked key " + id + ".");
      return 0;
    }
  }

  /** Cuts a cell to its column, marking the cut, so a long name cannot push the table wide. */
  static String fit(String s, int width) {
    return s.length() <= width ? s : s.substring(0, width - 3) + "...";
  }

  static String date(String iso) {
    try {
      return DATE.format(Instant.parse(iso));
    } catch (DateTimeParseException | NullPointerException e) {
      return String.valueOf(iso);
    }
  }
}
