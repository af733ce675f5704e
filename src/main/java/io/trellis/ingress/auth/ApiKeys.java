package io.trellis.ingress.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The format of API keys: {@code trk_<key id>_<secret>}, where the key id (12 lowercase
 * alphanumerics) names the key in listings and logs, and the secret is 32 random base62 characters
 * (~190 bits). Keys are stored as SHA-256 digests only: the secret's entropy makes a slow password
 * hash unnecessary, and a fast one keeps verification off the request's critical path.
 */
public final class ApiKeys {
  public static final String PREFIX = "trk_";
  private static final String ALPHANUM =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  private static final int ID_LENGTH = 12;
  private static final int SECRET_LENGTH = 32;
  private static final SecureRandom RANDOM = new SecureRandom();

  private ApiKeys() {}

  /** A new random key id and key. */
  public record NewKey(String keyId, String key) {
    @Override
    public String toString() {
      return "NewKey{keyId=" + keyId + "}";
    }
  }

  public static NewKey generate() {
    String id = random(ID_LENGTH, 36);
    return new NewKey(id, PREFIX + id + "_" + random(SECRET_LENGTH, ALPHANUM.length()));
  }

  /** The key id embedded in a well-formed key, or null when the key is not of our format. */
  public static String keyIdOf(String key) {
    if (key == null
        || key.length() != PREFIX.length() + ID_LENGTH + 1 + SECRET_LENGTH
        || !key.startsWith(PREFIX)
        || key.charAt(PREFIX.length() + ID_LENGTH) != '_') {
      return null;
    }
    return key.substring(PREFIX.length(), PREFIX.length() + ID_LENGTH);
  }

  /** Hex SHA-256 of the key. */
  public static String hash(String key) {
    return HexFormat.of().formatHex(digest(key));
  }

  /** Compares a presented key with a stored hash in time independent of where they differ. */
  public static boolean matches(String key, String storedHash) {
    byte[] expected = digestOf(storedHash);
    return expected != null && matches(key, expected);
  }

  /** As {@link #matches(String, String)}, with the stored hash as bytes ({@link #digestOf}). */
  static boolean matches(String key, byte[] storedDigest) {
    return MessageDigest.isEqual(digest(key), storedDigest);
  }

  /** The bytes of a stored hex hash; null when it is not hex. */
  static byte[] digestOf(String storedHash) {
    try {
      return HexFormat.of().parseHex(storedHash);
    } catch (IllegalArgumentException | NullPointerException e) {
      return null;
    }
  }

  /* Looking the algorithm up costs more than hashing a key; each thread keeps its instance. */
  private static final ThreadLocal<MessageDigest> SHA256 =
      ThreadLocal.withInitial(
          () -> {
            try {
              return MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
              throw new IllegalStateException(e);
            }
          });

  static byte[] digest(String key) {
    // digest() resets the instance, so the next call starts clean even after a failure.
    return SHA256.get().digest(key.getBytes(StandardCharsets.UTF_8));
  }

  private static String random(int length, int alphabet) {
    StringBuilder sb = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      sb.append(ALPHANUM.charAt(RANDOM.nextInt(alphabet)));
    }
    return sb.toString();
  }
}
