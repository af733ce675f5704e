package io.trellis.ingress.auth.warden;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.auth.AuthResult;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WardenClientTest {

  private static AuthResult answer(int status, String body) {
    return WardenClient.interpret(status, body.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void okWithIngestScopeAuthorizesTheNamedOrganization() {
    assertThat(
            answer(
                200, "{\"organization_id\":\"org-1\",\"key_id\":\"k1\",\"scopes\":[\"ingest\"]}"))
        .isEqualTo(new AuthResult.Authorized("org-1", "k1"));
  }

  @Test
  void relayScopeLetsTheKeysEventsCarryRelayedClientData() {
    assertThat(
            answer(
                200,
                "{\"organization_id\":\"org-1\",\"key_id\":\"k1\","
                    + "\"scopes\":[\"relay\",\"ingest\"]}"))
        .isEqualTo(new AuthResult.Authorized("org-1", "k1", true));
    assertThat(
            answer(200, "{\"organization_id\":\"org-1\",\"key_id\":\"k1\",\"scopes\":[\"relay\"]}"))
        .isInstanceOf(AuthResult.Forbidden.class);
  }

  @Test
  void okWithoutIngestScopeIsForbidden() {
    assertThat(answer(200, "{\"organization_id\":\"org-1\",\"key_id\":\"k1\",\"scopes\":[]}"))
        .isInstanceOf(AuthResult.Forbidden.class);
  }

  @ParameterizedTest
  @ValueSource(ints = {401, 403, 404})
  void refusalsMeanTheKeyIsNotValid(int status) {
    assertThat(answer(status, "{}")).isInstanceOf(AuthResult.Unauthorized.class);
  }

  @ParameterizedTest
  @ValueSource(ints = {500, 502, 503, 504, 429, 400, 301})
  void anythingElseMeansWardenIsUnavailable(int status) {
    assertThat(answer(status, "{}")).isInstanceOf(AuthResult.Unavailable.class);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "not json",
        "[]",
        "{\"key_id\":\"k1\",\"scopes\":[\"ingest\"]}",
        "{\"organization_id\":\"\",\"scopes\":[\"ingest\"]}",
        "{\"organization_id\":\"../etc\",\"scopes\":[\"ingest\"]}",
        "{\"organization_id\":42,\"scopes\":[\"ingest\"]}",
        "{\"organization_id\":\"org-1\"}"
      })
  void okThatCannotBeReadIsNeverTakenAsValid(String body) {
    assertThat(answer(200, body)).isInstanceOf(AuthResult.Unavailable.class);
  }
}
