package io.trellis.ingress.config;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Locale;

/**
 * One configuration key: its dotted name in the YAML file, its environment variable, its type, its
 * default and its meaning. Every setting of the service is declared once as a {@code Setting}; the
 * loader, the {@code config} command and the README table are all derived from these declarations.
 *
 * @param env the environment variable by the documented rule, {@code TRELLIS_<KEY>}
 * @param alias a shorter environment variable read as well, or null
 */
public record Setting(
    String key,
    String env,
    String alias,
    SettingType type,
    String defaultValue,
    boolean secret,
    String doc) {

  public Setting {
    requireNonNull(key, "key is null");
    requireNonNull(env, "env is null");
    requireNonNull(type, "type is null");
    requireNonNull(doc, "doc is null");
  }

  /** A setting whose environment variable is derived from its key: {@code TRELLIS_<KEY>}. */
  public static Setting of(String key, SettingType type, String defaultValue, String doc) {
    return new Setting(key, envName(key), null, type, defaultValue, false, doc);
  }

  /** A secret setting: its value is never printed. */
  public static Setting secret(String key, SettingType type, String defaultValue, String doc) {
    return new Setting(key, envName(key), null, type, defaultValue, true, doc);
  }

  /** The same setting, also read from a shorter environment variable. */
  public Setting withAlias(String alias) {
    return new Setting(
        key, env, requireNonNull(alias, "alias is null"), type, defaultValue, secret, doc);
  }

  /** Every environment variable this setting is read from: the rule's name first. */
  public List<String> envNames() {
    return alias == null ? List.of(env) : List.of(env, alias);
  }

  static String envName(String key) {
    return "TRELLIS_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }
}
