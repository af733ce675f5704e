package io.trellis.ingress.auth;

import com.fasterxml.jackson.annotation.JsonProperty;

/** One key as the local key store keeps it: its digest, never the key. */
public record StoredKey(
    @JsonProperty("key_id") String keyId,
    @JsonProperty("organization_id") String organizationId,
    @JsonProperty("name") String name,
    @JsonProperty("sha256") String sha256,
    @JsonProperty("created_at") String createdAt,
    @JsonProperty("revoked_at") String revokedAt) {

  public boolean revoked() {
    return revokedAt != null && !revokedAt.isEmpty();
  }

  @Override
  public String toString() {
    return "StoredKey{id=" + keyId + ", org=" + organizationId + ", revoked=" + revoked() + "}";
  }
}
