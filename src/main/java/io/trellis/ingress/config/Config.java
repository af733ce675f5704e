package io.trellis.ingress.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The effective configuration: every declared setting with its value and where the value came from.
 * Immutable; values were validated against their types when it was built, so the typed getters only
 * fail for a key that was never declared (a programming error).
 */
public final class Config {
  /** Where a value came from, in increasing order of precedence. */
  public enum Source {
    DEFAULT,
    FILE,
    ENV,
    FLAG
  }

  public record Value(String raw, Source source, String origin) {}

  private final List<Setting> declared;
  private final Map<String, Setting> settings;
  private final Map<String, Value> values;

  Config(Map<String, Setting> settings, Map<String, Value> values) {
    this.declared = List.copyOf(settings.values());
    this.settings = Map.copyOf(settings);
    this.values = Map.copyOf(values);
  }

  /** The declared settings at their defaults plus the given overrides, for tests and tools. */
  public static Config of(List<Setting> declared, Map<String, String> overrides) {
    return ConfigLoader.load(declared, null, Map.of(), overrides);
  }

  public String string(String key) {
    Value v = value(key);
    return v.raw() == null ? "" : v.raw();
  }

  /** The value, or empty when the setting is unset (no default and not given). */
  public Optional<String> optional(String key) {
    String s = string(key);
    return s.isBlank() ? Optional.empty() : Optional.of(s);
  }

  public int integer(String key) {
    return SettingType.parseInt(string(key));
  }

  public boolean bool(String key) {
    return SettingType.parseBoolean(string(key));
  }

  public Duration duration(String key) {
    return Durations.parse(string(key));
  }

  public long size(String key) {
    return Sizes.parse(string(key));
  }

  public List<String> list(String key) {
    return SettingType.parseList(string(key));
  }

  public Source source(String key) {
    return value(key).source();
  }

  /** True when the setting was given explicitly (file, environment or flag), not defaulted. */
  public boolean isSet(String key) {
    return value(key).source() != Source.DEFAULT;
  }

  /**
   * Every setting with its value in declaration order; secret settings and the secrets inside URLs
   * (user-info, password parameters) masked.
   */
  public Map<String, String> masked() {
    Map<String, String> out = new LinkedHashMap<>();
    for (Setting s : declared) {
      Value v = values.get(s.key());
      String raw = v == null || v.raw() == null ? "" : v.raw();
      out.put(s.key(), s.secret() && !raw.isEmpty() ? "****" : UrlSecrets.mask(raw));
    }
    return out;
  }

  private Value value(String key) {
    Value v = values.get(requireNonNull(key, "key is null"));
    if (v == null) {
      if (!settings.containsKey(key)) {
        throw new IllegalArgumentException("undeclared setting: " + key);
      }
      return new Value(null, Source.DEFAULT, "default");
    }
    return v;
  }

  @Override
  public String toString() {
    return "Config" + masked();
  }
}
