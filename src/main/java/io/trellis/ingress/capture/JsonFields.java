package io.trellis.ingress.capture;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * The top-level fields of one JSON object, read in one streaming pass: capture only ever looks at
 * top-level values (event type, ids, UTM, page URL), so nested objects and arrays are skipped
 * rather than built into a tree. A scalar value reads as the text a Jackson tree gives for it
 * ({@code asText()}): strings as they are, numbers in Java's notation ({@code 1e2} reads {@code
 * "100.0"}), booleans as {@code true}/{@code false}. A repeated name keeps its last value, as a
 * tree does.
 *
 * <p>Immutable once read.
 */
public final class JsonFields {
  private static final JsonFactory JSON = new JsonFactory();

  /** Name to text; a field whose value is an object, an array or null maps to null. */
  private final Map<String, String> values;

  private JsonFields(Map<String, String> values) {
    this.values = values;
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
    JsonToken t;
    while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken value = p.nextToken();
      if (value == null) {
        throw new IOException("unexpected end of JSON input");
      }
      values.put(name, text(p, value));
      p.skipChildren();
    }
    if (t != JsonToken.END_OBJECT) {
      throw new IOException("malformed JSON object");
    }
    return new JsonFields(values);
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
