package io.trellis.ingress.capture;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The top-level fields of one JSON object, read in one streaming pass: capture only ever looks at
 * top-level values (event type, ids, UTM, page URL), so nested objects and arrays are skipped
 * rather than built into a tree. A scalar value reads as the text a Jackson tree gives for it
 * ({@code asText()}): strings as they are, numbers in Java's notation ({@code 1e2} reads {@code
 * "100.0"}), booleans as {@code true}/{@code false}. A repeated name keeps its last value, as a
 * tree does.
 *
 * <p>A few nested places are read too: the scalar fields of {@code context.page} and {@code
 * context.campaign}, where Segment and RudderStack SDKs put the page URL and the UTM parameters,
 * the scalars {@code context.ip}, {@code context.userAgent} and {@code context.sessionId} ({@link
 * #context(String)}), and the few {@code properties} scalars SDKs put the page, session and browser
 * in (Segment's {@code properties.url}, PostHog's {@code $current_url}, {@code $session_id}, …:
 * {@link #property(String)}).
 *
 * <p>Immutable once read.
 */
public final class JsonFields {
  private static final JsonFactory JSON = new JsonFactory();

  /** The nested objects of {@code context} that are read, and the prefix their fields get. */
  private static final Map<String, String> CONTEXT_OBJECTS =
      Map.of("page", "page.", "campaign", "campaign.");

  /** The scalars of the top-level {@code context} itself that are read. */
  private static final Set<String> CONTEXT_SCALARS = Set.of("ip", "userAgent", "sessionId");

  /** The scalars of the top-level {@code properties} that are read. */
  private static final Set<String> PROPERTIES =
      Set.of(
          "url",
          "referrer",
          "$current_url",
          "$session_id",
          "$referrer",
          "$ip",
          "$raw_user_agent",
          "token");

  /** Name to text; a field whose value is an object, an array or null maps to null. */
  private final Map<String, String> values;

  /** {@code page.url}, {@code campaign.source}, …: scalars of the last top-level context. */
  private final Map<String, String> context;

  /** The scalars of {@link #PROPERTIES} in the last top-level {@code properties} object. */
  private final Map<String, String> properties;

  private JsonFields(
      Map<String, String> values, Map<String, String> context, Map<String, String> properties) {
    this.values = values;
    this.context = context;
    this.properties = properties;
  }

  /** The fields of a body that is exactly one JSON object; null for anything else. */
  public static JsonFields parse(byte[] utf8) {
    if (!startsAsObject(utf8)) {
      return null;
    }
    try (JsonParser p = JSON.createParser(utf8)) {
      p.nextToken();
      JsonFields fields = read(p);
      return p.nextToken() == null ? fields : null;
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * Reads the object the parser is on ({@link JsonToken#START_OBJECT}) up to and including its end.
   *
   * @throws IOException when the JSON is malformed
   */
  public static JsonFields read(JsonParser p) throws IOException {
    Map<String, String> values = new HashMap<>();
    Map<String, String> context = Map.of();
    Map<String, String> properties = Map.of();
    JsonToken t;
    while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken value = p.nextToken();
      if (value == null) {
        throw new IOException("unexpected end of JSON input");
      }
      values.put(name, text(p, value));
      if (name.equals("context")) {
        // A repeated "context" replaces the earlier one, as in a tree.
        context = value == JsonToken.START_OBJECT ? readContext(p) : Map.of();
      } else if (name.equals("properties")) {
        properties = value == JsonToken.START_OBJECT ? readProperties(p) : Map.of();
      }
      p.skipChildren();
    }
    if (t != JsonToken.END_OBJECT) {
      throw new IOException("malformed JSON object");
    }
    return new JsonFields(values, context, properties);
  }

  /** Reads the properties object the parser is on up to its end, keeping the wanted scalars. */
  private static Map<String, String> readProperties(JsonParser p) throws IOException {
    Map<String, String> out = Map.of();
    JsonToken t;
    while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken value = p.nextToken();
      if (PROPERTIES.contains(name)) {
        String text = value == null ? null : text(p, value);
        if (out.isEmpty()) {
          out = new HashMap<>(4);
        }
        if (text == null) {
          out.remove(name);
        } else {
          out.put(name, text);
        }
      }
      p.skipChildren();
    }
    if (t != JsonToken.END_OBJECT) {
      throw new IOException("malformed JSON object");
    }
    return out;
  }

  /**
   * Reads the context object the parser is on up to its end, keeping the scalars of its {@code
   * page} and {@code campaign} objects.
   */
  private static Map<String, String> readContext(JsonParser p) throws IOException {
    Map<String, String> out = new HashMap<>();
    JsonToken t;
    while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      String prefix = CONTEXT_OBJECTS.get(name);
      JsonToken value = p.nextToken();
      if (CONTEXT_SCALARS.contains(name)) {
        String text = value == null ? null : text(p, value);
        if (text == null) {
          out.remove(name);
        } else {
          out.put(name, text);
        }
        p.skipChildren();
        continue;
      }
      if (prefix != null) {
        // A repeated "page" or "campaign" replaces the earlier one, as in a tree.
        out.keySet().removeIf(k -> k.startsWith(prefix));
      }
      if (prefix == null || value != JsonToken.START_OBJECT) {
        p.skipChildren();
        continue;
      }
      // The object's own fields, as read at the top level; scalars only.
      read(p)
          .values
          .forEach(
              (field, text) -> {
                if (text != null) {
                  out.put(prefix + field, text);
                }
              });
    }
    if (t != JsonToken.END_OBJECT) {
      throw new IOException("malformed JSON object");
    }
    return out;
  }

  private static String text(JsonParser p, JsonToken value) throws IOException {
    return switch (value) {
      case VALUE_STRING -> p.getText();
      case VALUE_NUMBER_INT -> p.getNumberValue().toString();
      case VALUE_NUMBER_FLOAT -> Double.toString(p.getDoubleValue());
      case VALUE_TRUE -> "true";
      case VALUE_FALSE -> "false";
      default -> null;
    };
  }

  /** The field's text; null when it is absent, null, an object or an array. */
  public String text(String name) {
    return values.get(name);
  }

  /**
   * A scalar of the top-level {@code context} object's {@code page} or {@code campaign}, by path
   * ({@code "page.url"}, {@code "campaign.source"}), or one of the context's own scalars {@code
   * ip}, {@code userAgent}, {@code sessionId}; null when absent or not a scalar.
   */
  public String context(String path) {
    return context.get(path);
  }

  /**
   * One of the read scalars of the top-level {@code properties} object ({@code url}, {@code
   * referrer}, {@code $current_url}, {@code $session_id}, {@code $referrer}, {@code $ip}, {@code
   * $raw_user_agent}, {@code token}); null when absent or not a scalar.
   */
  public String property(String name) {
    return properties.get(name);
  }

  /** True when the object has the field, whatever its value. */
  public boolean has(String name) {
    return values.containsKey(name);
  }

  /** True when the first byte after JSON whitespace opens an object. */
  public static boolean startsAsObject(byte[] utf8) {
    int i = 0;
    while (i < utf8.length
        && (utf8[i] == ' ' || utf8[i] == '\t' || utf8[i] == '\n' || utf8[i] == '\r')) {
      i++;
    }
    return i < utf8.length && utf8[i] == '{';
  }

  /** Names only: values can be anything a client sent. */
  @Override
  public String toString() {
    return "JsonFields" + values.keySet();
  }
}
