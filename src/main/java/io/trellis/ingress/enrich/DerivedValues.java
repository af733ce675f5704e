package io.trellis.ingress.enrich;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Values derived from a key, remembered up to a number of keys and forgotten all at once when full:
 * cheaper than an LRU, and enough when the popular keys (user agents, client addresses) come back
 * within a few events. Thread-safe; two threads may derive the same value at once.
 */
final class ClearingCache<K, V> {
  private final int capacity;
  private final ConcurrentHashMap<K, V> values = new ConcurrentHashMap<>();

  ClearingCache(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1: " + capacity);
    }
    this.capacity = capacity;
  }

  /** The value of a key, derived by {@code derive} when it is not remembered. */
  V get(K key, Function<K, V> derive) {
    V v = values.get(key);
    if (v != null) {
      return v;
    }
    v = derive.apply(key);
    if (values.size() >= capacity) {
      values.clear();
    }
    values.put(key, v);
    return v;
  }

  int size() {
    return values.size();
  }
}
