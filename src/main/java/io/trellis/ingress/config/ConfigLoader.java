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
import java.util.Set;
import java.util.TreeMap;

/**
 * Builds a {@link Config} from, in increasing precedence: the declared defaults, one YAML file,
 * environment variables and command-line flags. Any unknown key or bad value stops here with one
 * line naming the key, where it came from, and what is wrong.
 */
public final class ConfigLoader {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final String ENV_PREFIX = "TRELLIS_";

  /** Variables with the prefix that are not settings: the launcher script reads them. */
  private static final Set<String> NOT_SETTINGS = Set.of("TRELLIS_JAVA_OPTS");

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
    readEnvironment(settings, env, values);
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

  /**
   * Reads each setting from its {@code TRELLIS_<KEY>} variable or its short alias, and refuses any
   * other {@code TRELLIS_*} variable: a misspelled name would otherwise be silently ignored.
   */
  private static void readEnvironment(
      List<Setting> settings, Map<String, String> env, Map<String, Config.Value> values) {
    Map<String, Setting> byEnv = new TreeMap<>();
    for (Setting s : settings) {
      for (String name : s.envNames()) {
        byEnv.put(name, s);
      }
    }
    for (String name : new TreeMap<>(env).keySet()) {
      if (name.startsWith(ENV_PREFIX) && !byEnv.containsKey(name) && !NOT_SETTINGS.contains(name)) {
        throw new ConfigException(
            name + " is not a setting" + closest(name, byEnv.keySet()) + envHint());
      }
    }
    for (Setting s : settings) {
      String used = null;
      for (String name : s.envNames()) {
        String v = env.get(name);
        if (v == null) {
          continue;
        }
        if (used != null && !v.equals(env.get(used))) {
          throw new ConfigException(
              used + " and " + name + " are both set, to different values; keep one");
        }
        if (used == null) {
          used = name;
          put(values, s, v, Config.Source.ENV, name);
        }
      }
    }
  }

  private static String envHint() {
    return "; every setting and its variable: trellis-ingress config --reference";
  }

  /** " (did you mean X?)" for the nearest known name, when one is near enough to be a typo. */
  static String closest(String name, Iterable<String> known) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String k : known) {
      int d = editDistance(name, k);
      if (d < bestDistance) {
        best = k;
        bestDistance = d;
      }
    }
    int allowed = Math.max(2, name.length() / 4);
    return best != null && bestDistance <= allowed ? " (did you mean " + best + "?)" : "";
  }

  /** Levenshtein distance, counting a swap of two neighbours as one edit (PROT for PORT). */
  static int editDistance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1
            && j > 1
            && a.charAt(i - 1) == b.charAt(j - 2)
            && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
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
    return closest(key, byKey.keySet()).replace("mean ", "mean '").replace("?)", "'?)");
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
