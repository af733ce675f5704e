package io.trellis.ingress.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.auth.AuthResult;
import io.trellis.ingress.auth.LocalKeyStore;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeysCommandTest {
  @TempDir Path dir;

  record Run(int code, String out, String err) {}

  Run run(String... args) {
    return runInProcess(args);
  }

  /** Runs the command line in this JVM, capturing what it prints. */
  static synchronized Run runInProcess(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      int code = Main.run(args);
      return new Run(
          code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  @Test
  void relayKeysKeepTheirFlagAcrossRevocationOfOthers() {
    String relay =
        lastLine(run("keys", "create", "--org", "acme", "--relay", "--data-dir", dir.toString()));
    String plain = lastLine(run("keys", "create", "--org", "acme", "--data-dir", dir.toString()));
    run("keys", "revoke", plain.substring(4, 16), "--data-dir", dir.toString());

    assertThat(LocalKeyStore.open(dir).verify(relay))
        .isEqualTo(new AuthResult.Authorized("acme", relay.substring(4, 16), true));
  }

  private static String lastLine(Run r) {
    assertThat(r.code()).as(r.err()).isZero();
    String[] lines = r.out().strip().split("\n");
    return lines[lines.length - 1];
  }

  @Test
  void createPrintsTheKeyAloneOnTheLastLineListShowsNoSecretRevokeRefusesIt() {
    Run created =
        run("keys", "create", "--org", "acme", "--name", "web", "--data-dir", dir.toString());
    assertThat(created.code()).isZero();
    String[] lines = created.out().strip().split("\n");
    String key = lines[lines.length - 1];
    assertThat(key).matches("trk_[a-z0-9]{12}_[A-Za-z0-9]{32}");
    assertThat(LocalKeyStore.open(dir).verify(key)).isInstanceOf(AuthResult.Authorized.class);

    Run listed = run("keys", "list", "--data-dir", dir.toString());
    String keyId = key.substring(4, 16);
    assertThat(listed.out()).contains(keyId).contains("acme").contains("web").contains("active");
    assertThat(listed.out()).doesNotContain(key.substring(17));

    Run revoked = run("keys", "revoke", keyId, "--data-dir", dir.toString());
    assertThat(revoked.code()).isZero();
    assertThat(LocalKeyStore.open(dir).verify(key)).isInstanceOf(AuthResult.Unauthorized.class);
    assertThat(run("keys", "list", "--data-dir", dir.toString()).out()).contains("revoked");
  }

  @Test
  void revokingAnUnknownKeyFails() {
    Run r = run("keys", "revoke", "nopenopenope", "--data-dir", dir.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("no key with id nopenopenope");
  }

  @Test
  void badOrganizationIdFailsWithOneLine() {
    Run r = run("keys", "create", "--org", "../x", "--data-dir", dir.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err().strip())
        .startsWith("trellis-ingress: organization id must be")
        .doesNotContain("\n");
  }

  @Test
  void badConfigurationStopsWithOneLineNamingTheKey() {
    Run r = run("keys", "list", "--data-dir", dir.toString(), "--set", "limits.body-max=huge");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err().strip()).contains("limits.body-max").doesNotContain("\n");
  }
}
