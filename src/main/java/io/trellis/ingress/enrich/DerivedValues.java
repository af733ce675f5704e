package io.trellis.ingress.enrich;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.function.Function;

/**
 * Values derived from a key (a user agent's parse, an address's place), remembered for up to a
 * number of keys. Which keys stay is Caffeine's W-TinyLFU: a new key is admitted only when it has
 * been asked for more often than the key it would evict, so the popular keys of a long-tailed
 * stream stay remembered while the tail passes through, and a flood of keys seen once (made-up user
 * agents) cannot push them out. Thread-safe; two threads may derive the same value at once, and
 * nobody waits on another's derivation.
 */
final class DerivedValues<K, V> {
  private final Cache<K, V> values;

  DerivedValues(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1: " + capacity);
    }
    // Its upkeep (evictions, the frequency sketch) on the threads that use it: no pool thread.
    this.values = Caffeine.newBuilder().maximumSize(capacity).executor(Runnable::run).build();
  }

  /** The value of a key, derived by {@code derive} when it is not remembered. */
  V get(K key, Function<K, V> derive) {
    V v = values.getIfPresent(key);
    if (v == null) {
      v = derive.apply(key);
      values.put(key, v);
    }
    return v;
  }

  /** How many keys are remembered, after any eviction that is due. */
  int size() {
    values.cleanUp();
    return (int) values.estimatedSize();
  }
}
