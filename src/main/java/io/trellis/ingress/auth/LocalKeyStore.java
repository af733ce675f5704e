package io.trellis.ingress.auth;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.trellis.ingress.base.DurableFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * API keys kept in {@code DATA_DIR/keys.json}, hashed. The file is written whole to a temporary
 * file and renamed into place, under an exclusive lock on {@code keys.lock}, so the CLI and a
 * running server never see half a file. A running server picks up changes (a revoked key, a new
 * key) by calling {@link #reloadIfChanged()}, which the server does every second.
 *
 * <p>Thread-safe: lookups read an immutable snapshot that reloads swap atomically.
 */
public final class LocalKeyStore implements KeyResolver {
  private static final Logger log = LoggerFactory.getLogger(LocalKeyStore.class);
  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  private static final Pattern ORG_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  private final Path file;
  private final Path lockFile;
  private volatile Snapshot snapshot;

  private record Snapshot(
      FileTime modified, long size, Map<String, StoredKey> byId, Map<String, Known> known) {
    Snapshot(FileTime modified, long size, Map<String, StoredKey> byId) {
      this(modified, size, byId, known(byId));
    }

    private static Map<String, Known> known(Map<String, StoredKey> byId) {
      Map<String, Known> out = new HashMap<>();
      byId.forEach(
          (id, k) -> {
            byte[] digest = ApiKeys.digestOf(k.sha256());
            if (digest != null) {
              out.put(id, new Known(digest, verdict(k)));
            }
          });
      return Map.copyOf(out);
    }
  }

  /**
   * What verifying a key of this id needs, made when the file is read rather than per request: its
   * digest as bytes, and the verdict for the key when the digest matches.
   */
  private record Known(byte[] sha256, AuthResult verdict) {}

  private static AuthResult verdict(StoredKey k) {
    if (k.revoked()) {
      return new AuthResult.Unauthorized("API key revoked");
    }
    return new AuthResult.Authorized(k.organizationId(), k.keyId(), k.relays());
  }

  record KeyFile(
      @JsonProperty("version") int version, @JsonProperty("keys") List<StoredKey> keys) {}

  private LocalKeyStore(Path dataDir) {
    this.file = dataDir.resolve("keys.json");
    this.lockFile = dataDir.resolve("keys.lock");
    this.snapshot = read();
  }

  public static LocalKeyStore open(Path dataDir) {
    try {
      Files.createDirectories(dataDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create data directory " + dataDir, e);
    }
    return new LocalKeyStore(dataDir);
  }

  public static boolean isValidOrganizationId(String org) {
    return org != null && ORG_ID.matcher(org).matches();
  }

  /** Throws, with the rule in the message, when the organization id is not acceptable. */
  public static void requireValidOrganizationId(String org) {
    if (!isValidOrganizationId(org)) {
      throw new IllegalArgumentException(
          "organization id must be 1-128 characters of letters, digits, '.', '_' or '-',"
              + " starting with a letter or digit");
    }
  }

  @Override
  public CompletionStage<AuthResult> resolve(String apiKey) {
    return CompletableFuture.completedFuture(verify(apiKey));
  }

  /** Verifies synchronously; cheap (one map lookup and one SHA-256). */
  public AuthResult verify(String apiKey) {
    String id = ApiKeys.keyIdOf(apiKey);
    Known k = id == null ? null : snapshot.known().get(id);
    if (k == null || !ApiKeys.matches(apiKey, k.sha256())) {
      return new AuthResult.Unauthorized("unknown API key");
    }
    return k.verdict();
  }

  /** Creates a key for the organization and returns it; the key itself is never stored. */
  public ApiKeys.NewKey create(String organizationId, String name) {
    return create(organizationId, name, false);
  }

  /**
   * Creates a key; with {@code relay} its events may carry the client IP and user agent a
   * server-side SDK relays. The key itself is never stored.
   */
  public ApiKeys.NewKey create(String organizationId, String name, boolean relay) {
    requireValidOrganizationId(organizationId);
    ApiKeys.NewKey k = ApiKeys.generate();
    StoredKey stored =
        new StoredKey(
            k.keyId(),
            organizationId,
            name == null ? "" : name,
            ApiKeys.hash(k.key()),
            Instant.now().toString(),
            null,
            relay ? Boolean.TRUE : null);
    update(
        keys -> {
          List<StoredKey> out = new ArrayList<>(keys);
          out.add(stored);
          return out;
        });
    return k;
  }

  /** Marks the key revoked; returns false when there is no such key. */
  public boolean revoke(String keyId) {
    boolean[] found = {false};
    update(
        keys -> {
          List<StoredKey> out = new ArrayList<>();
          for (StoredKey k : keys) {
            if (k.keyId().equals(keyId) && !k.revoked()) {
              found[0] = true;
              out.add(
                  new StoredKey(
                      k.keyId(),
                      k.organizationId(),
                      k.name(),
                      k.sha256(),
                      k.createdAt(),
                      Instant.now().toString(),
                      k.relay()));
            } else {
              if (k.keyId().equals(keyId)) {
                found[0] = true;
              }
              out.add(k);
            }
          }
          return out;
        });
    return found[0];
  }

  public List<StoredKey> list() {
    return List.copyOf(snapshot.byId().values()).stream()
        .sorted((a, b) -> a.createdAt().compareTo(b.createdAt()))
        .toList();
  }

  public boolean isEmpty() {
    return snapshot.byId().isEmpty();
  }

  /** Re-reads the file when it changed on disk; keeps the old snapshot if it cannot be read. */
  public void reloadIfChanged() {
    try {
      FileTime mtime = Files.getLastModifiedTime(file);
      long size = Files.size(file);
      Snapshot s = snapshot;
      if (mtime.equals(s.modified()) && size == s.size()) {
        return;
      }
      snapshot = read();
    } catch (NoSuchFileException e) {
      if (!snapshot.byId().isEmpty()) {
        snapshot = new Snapshot(null, 0, Map.of());
      }
    } catch (IOException | UncheckedIOException e) {
      log.warn("Could not reload key store {}: {}", file, e.getMessage());
    }
  }

  private void update(UnaryOperator<List<StoredKey>> change) {
    try (FileChannel ch =
            FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock ignored = ch.lock()) {
      Snapshot current = read();
      List<StoredKey> next = change.apply(List.copyOf(current.byId().values()));
      DurableFiles.writeAtomically(file, JSON.writeValueAsBytes(new KeyFile(1, next)));
      snapshot = read();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write key store " + file, e);
    }
  }

  private Snapshot read() {
    try {
      FileTime mtime = Files.getLastModifiedTime(file);
      byte[] bytes = Files.readAllBytes(file);
      KeyFile kf = JSON.readValue(bytes, KeyFile.class);
      Map<String, StoredKey> byId = new HashMap<>();
      if (kf.keys() != null) {
        for (StoredKey k : kf.keys()) {
          byId.put(requireNonNull(k.keyId(), "key_id is null"), k);
        }
      }
      return new Snapshot(mtime, bytes.length, Map.copyOf(byId));
    } catch (NoSuchFileException e) {
      return new Snapshot(null, 0, Map.of());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read key store " + file, e);
    }
  }

  @Override
  public String toString() {
    return "LocalKeyStore{file=" + file + ", keys=" + snapshot.byId().size() + "}";
  }
}
