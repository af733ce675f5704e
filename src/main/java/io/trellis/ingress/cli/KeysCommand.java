package io.trellis.ingress.cli;

import io.trellis.ingress.auth.ApiKeys;
import io.trellis.ingress.auth.LocalKeyStore;
import io.trellis.ingress.auth.StoredKey;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Manages the local key store: {@code keys create | list | revoke}. */
@Command(
    name = "keys",
    description =
        "Manage API keys in the local key store (stored hashed under the data directory).",
    subcommands = {KeysCommand.Create.class, KeysCommand.ListKeys.class, KeysCommand.Revoke.class})
final class KeysCommand implements Runnable {
  @Override
  public void run() {
    new picocli.CommandLine(this).usage(System.out);
  }

  static LocalKeyStore store(CommonOptions common) {
    return LocalKeyStore.open(CommonOptions.dataDir(common.load()));
  }

  @Command(
      name = "create",
      description = "Create a key for an organization; the key is printed once, on the last line.")
  static final class Create implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Option(names = "--org", required = true, description = "Organization id the key writes to.")
    String org;

    @Option(names = "--name", description = "A label for the key (e.g. the site or SDK).")
    String name;

    @Override
    public Integer call() {
      ApiKeys.NewKey k = store(common).create(org, name);
      System.out.println("Created key " + k.keyId() + " for organization " + org + ".");
      System.out.println("Store it now: it cannot be shown again.");
      System.out.println(k.key());
      return 0;
    }
  }

  @Command(name = "list", description = "List keys (ids, organizations, state; never secrets).")
  static final class ListKeys implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Override
    public Integer call() {
      System.out.printf(
          "%-14s %-24s %-20s %-8s %s%n", "KEY_ID", "ORGANIZATION", "NAME", "STATE", "CREATED");
      for (StoredKey k : store(common).list()) {
        System.out.printf(
            "%-14s %-24s %-20s %-8s %s%n",
            k.keyId(),
            k.organizationId(),
            k.name() == null ? "" : k.name(),
            k.revoked() ? "revoked" : "active",
            k.createdAt());
      }
      return 0;
    }
  }

  @Command(
      name = "revoke",
      description = "Revoke a key; a running server refuses it within a second.")
  static final class Revoke implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Parameters(paramLabel = "KEY_ID", description = "The key id shown by 'keys list'.")
    String keyId;

    @Override
    public Integer call() {
      if (!store(common).revoke(keyId)) {
        System.err.println("trellis-ingress: no key with id " + keyId);
        return 1;
      }
      System.out.println("Revoked key " + keyId + ".");
      return 0;
    }
  }
}
