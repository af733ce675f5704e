package io.trellis.ingress.auth;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One key as the local key store keeps it: its digest, never the key. {@code relay} (absent means
 * false) lets the key's events carry the browser's IP and user agent relayed by a server-side SDK.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record StoredKey(
    @JsonProperty("key_id") String keyId,
    @JsonProperty("organization_id") String organizationId,
    @JsonProperty("name") String name,
    @JsonProperty("sha256") String sha256,
    @JsonProperty("created_at") String createdAt,
    @JsonProperty("revoked_at") String revokedAt,
    @JsonProperty("relay") Boolean relay) {

  @JsonCreator
  public StoredKey {}

  public StoredKey(
      String keyId,
      String organizationId,
      String name,
      String sha256,
      String createdAt,
      String revokedAt) {
    this(keyId, organizationId, name, sha256, createdAt, revokedAt, null);
  }

  public boolean relays() {
    return Boolean.TRUE.equals(relay);
  }

  public boolean revoked() {
    return revokedAt != null && !revokedAt.isEmpty();
  }

  @Override
  public String toString() {
    return "StoredKey{id=" + keyId + ", org=" + organizationId + ", revoked=" + revoked() + "}";
  }
}
