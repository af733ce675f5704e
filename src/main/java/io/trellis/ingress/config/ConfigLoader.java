package io.trellis.ingress.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a {@link Config} from, in increasing precedence: the declared defaults, one YAML file,
 * environment variables and command-line flags. Any unknown key or bad value stops here with one
 * line naming the key, where it came from, and what is wrong.
 */
public final class ConfigLoader {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private ConfigLoader() {}

  public static Config load(
      List<Setting> settings, Path file, Map<String, String> env, Map<String, String> flags) {
    Map<String, Setting> byKey = new LinkedHashMap<>();
    for (Setting s : settings) {
      byKey.put(s.key(), s);
    }
    Map<String, Config.Value> values = new LinkedHashMap<>();
    for (Setting s : settings) {
      values.put(s.key(), new Config.Value(s.defaultValue(), Config.Source.DEFAULT, "default"));
    }
    if (file != null) {
      for (Map.Entry<String, String> e : readYaml(file).entrySet()) {
        String key = normalize(e.getKey());
        Setting s = byKey.get(key);
        if (s == null) {
          throw new ConfigException(file + ": unknown key '" + e.getKey() + "'" + hint(key, byKey));
        }
        put(values, s, e.getValue(), Config.Source.FILE, file.toString());
      }
    }
    for (Setting s : settings) {
      String v = env.get(s.env());
      if (v != null) {
        put(values, s, v, Config.Source.ENV, s.env());
      }
    }
    for (Map.Entry<String, String> e : flags.entrySet()) {
      String key = normalize(e.getKey());
      Setting s = byKey.get(key);
      if (s == null) {
        throw new ConfigException(
            "--set " + e.getKey() + ": unknown key '" + e.getKey() + "'" + hint(key, byKey));
      }
      put(values, s, e.getValue(), Config.Source.FLAG, "--set " + key);
    }
    return new Config(byKey, values);
  }

  private static void put(
      Map<String, Config.Value> values,
      Setting s,
      String raw,
      Config.Source source,
      String origin) {
    String value = raw == null ? "" : raw;
    if (!value.isEmpty()) {
      String problem = s.type().check(value);
      if (problem != null) {
        String shown = s.secret() ? "" : " (" + origin + ")";
        throw new ConfigException(
            s.key() + shown + ": " + (s.secret() ? "invalid value" : problem));
      }
    }
    values.put(s.key(), new Config.Value(value, source, origin));
  }

  /** YAML keys may use dashes or underscores; the canonical form uses dashes. */
  static String normalize(String key) {
    return key.trim().replace('_', '-');
  }

  private static String hint(String key, Map<String, Setting> byKey) {
    String leaf = key.substring(key.lastIndexOf('.') + 1);
    for (String known : byKey.keySet()) {
      if (known.endsWith("." + leaf) || known.equals(leaf)) {
        return " (did you mean '" + known + "'?)";
      }
    }
    return "";
  }

  private static Map<String, String> readYaml(Path file) {
    JsonNode root;
    try {
      root = YAML.readTree(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read config file: " + e.getMessage());
    }
    Map<String, String> flat = new LinkedHashMap<>();
    if (root == null || root.isNull() || root.isMissingNode()) {
      return flat;
    }
    if (!root.isObject()) {
      throw new ConfigException(file + ": expected a mapping of keys to values at the top level");
    }
    flatten("", root, flat);
    return flat;
  }

  private static void flatten(String prefix, JsonNode node, Map<String, String> out) {
    if (node.isObject()) {
      Iterator<Map.Entry<String, JsonNode>> it = node.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), out);
      }
    } else if (node.isArray()) {
      List<String> items = new ArrayList<>();
      node.forEach(n -> items.add(n.asText()));
      out.put(prefix, String.join(",", items));
    } else {
      out.put(prefix, node.isNull() ? "" : node.asText());
    }
  }
}
