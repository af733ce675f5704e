package io.trellis.ingress.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalKeyStoreTest {
  @TempDir Path dir;

  @Test
  void createdKeysResolveToTheirOrganizationAndAreStoredOnlyAsDigests() throws Exception {
    LocalKeyStore store = LocalKeyStore.open(dir);
    ApiKeys.NewKey k = store.create("acme", "site");

    assertThat(k.key()).startsWith("trk_" + k.keyId() + "_").hasSize(4 + 12 + 1 + 32);
    assertThat(store.verify(k.key())).isEqualTo(new AuthResult.Authorized("acme", k.keyId()));
    String file = Files.readString(dir.resolve("keys.json"));
    assertThat(file).doesNotContain(k.key()).contains(ApiKeys.hash(k.key())).contains(k.keyId());
  }

  @Test
  void keysPersistAcrossReopen() {
    ApiKeys.NewKey k = LocalKeyStore.open(dir).create("acme", null);

    assertThat(LocalKeyStore.open(dir).verify(k.key())).isInstanceOf(AuthResult.Authorized.class);
  }

  @Test
  void wrongSecretWithAKnownKeyIdIsRefused() {
    LocalKeyStore store = LocalKeyStore.open(dir);
    ApiKeys.NewKey k = store.create("acme", null);
    String forged =
        k.key().substring(0, k.key().length() - 1) + (k.key().endsWith("a") ? "b" : "a");

    assertThat(store.verify(forged)).isInstanceOf(AuthResult.Unauthorized.class);
    assertThat(store.verify("garbage")).isInstanceOf(AuthResult.Unauthorized.class);
    assertThat(store.verify("")).isInstanceOf(AuthResult.Unauthorized.class);
  }

  @Test
  void revokedKeysAreRefusedAndAnotherStoreInstanceSeesItAfterReload() {
    LocalKeyStore server = LocalKeyStore.open(dir);
    LocalKeyStore cli = LocalKeyStore.open(dir);
    ApiKeys.NewKey k = cli.create("acme", null);
    server.reloadIfChanged();
    assertThat(server.verify(k.key())).isInstanceOf(AuthResult.Authorized.class);

    assertThat(cli.revoke(k.keyId())).isTrue();
    server.reloadIfChanged();

    assertThat(server.verify(k.key())).isEqualTo(new AuthResult.Unauthorized("API key revoked"));
    assertThat(cli.revoke("nosuchkeyid0")).isFalse();
  }

  @Test
  void organizationIdsMustBeSafeNames() {
    LocalKeyStore store = LocalKeyStore.open(dir);
    assertThatThrownBy(() -> store.create("../etc", null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> store.create("", null)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void toStringShowsNoSecret() {
    ApiKeys.NewKey k = ApiKeys.generate();
    assertThat(k.toString()).doesNotContain(k.key());
    LocalKeyStore store = LocalKeyStore.open(dir);
    store.create("acme", null);
    assertThat(store.list().get(0).toString()).doesNotContain(store.list().get(0).sha256());
  }
}
