package io.trellis.ingress.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalKeySecrecyTest {
  @TempDir Path dir;

  @Test
  void keyStoreHoldsOnlyTheDigestOfEachKey() throws Exception {
    LocalKeyStore store = LocalKeyStore.open(dir);
    ApiKeys.NewKey k = store.create("acme", "site");
    String secret = k.key().substring(k.key().lastIndexOf('_') + 1);

    String file = Files.readString(dir.resolve("keys.json"));

    assertThat(file).contains(ApiKeys.hash(k.key())).contains(k.keyId());
    assertThat(file).doesNotContain(k.key()).doesNotContain(secret);
  }

  @Test
  void keyWithTheRightIdButAnyOtherSecretIsRefused() {
    LocalKeyStore store = LocalKeyStore.open(dir);
    String key = store.create("acme", null).key();
    char last = key.charAt(key.length() - 1);
    String lastChanged = key.substring(0, key.length() - 1) + (last == 'a' ? 'b' : 'a');
    int firstSecret = key.lastIndexOf('_') + 1;
    String firstChanged =
        key.substring(0, firstSecret)
            + (key.charAt(firstSecret) == 'a' ? 'b' : 'a')
            + key.substring(firstSecret + 1);

    assertThat(store.verify(key))
        .isEqualTo(new AuthResult.Authorized("acme", ApiKeys.keyIdOf(key)));
    assertThat(store.verify(lastChanged)).isInstanceOf(AuthResult.Unauthorized.class);
    assertThat(store.verify(firstChanged)).isInstanceOf(AuthResult.Unauthorized.class);
    assertThat(store.verify(key.toUpperCase())).isInstanceOf(AuthResult.Unauthorized.class);
  }

  @Test
  void matchesComparesDigestsAndRejectsAStoredValueThatIsNotOne() {
    String key = ApiKeys.generate().key();

    assertThat(ApiKeys.matches(key, ApiKeys.hash(key))).isTrue();
    assertThat(ApiKeys.matches(key, ApiKeys.hash(key + "x"))).isFalse();
    assertThat(ApiKeys.matches(key, key)).isFalse(); // a clear key in the file never matches
    assertThat(ApiKeys.matches(key, "not hex")).isFalse();
  }

  @Test
  void summariesNeverShowTheKey() {
    LocalKeyStore store = LocalKeyStore.open(dir);
    ApiKeys.NewKey k = store.create("acme", "site");

    assertThat(k.toString()).contains(k.keyId()).doesNotContain(k.key());
    assertThat(store.list()).allSatisfy(s -> assertThat(s.toString()).doesNotContain(k.key()));
    assertThat(store.toString()).doesNotContain(k.key());
    assertThat(store.verify(k.key()).toString()).doesNotContain(k.key());
  }
}
