package io.trellis.ingress.capture;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Splits a batch body, a JSON array or an object {@code {"batch": [...]}}, into its items. Each
 * item keeps its exact original text (a slice of the body), so what is stored is what was sent.
 */
public final class BatchItems {
  /* One parser factory per nesting limit (in practice one: limits.json-depth-max). */
  private static final ConcurrentHashMap<Integer, JsonFactory> FACTORIES =
      new ConcurrentHashMap<>();

  /**
   * One array element: the object's top-level fields and raw text, or why it was rejected. {@code
   * start} and {@code end} are the byte offsets of its text in the body (0 for a rejected item).
   */
  public record Item(int index, String raw, JsonFields json, String error, int start, int end) {}

  /** The body is not valid JSON or not of the batch shape (400). */
  public static final class InvalidBatchException extends Exception {
    public InvalidBatchException(String message) {
      super(message, null, false, false);
    }
  }

  /** More items than allowed (413). */
  public static final class TooManyItemsException extends Exception {
    public TooManyItemsException(String message) {
      super(message, null, false, false);
    }
  }

  /** Objects and arrays nest deeper than allowed (400). */
  public static final class TooDeepException extends Exception {
    public TooDeepException(String message) {
      super(message, null, false, false);
    }
  }

  private BatchItems() {}

  /** Splits a batch whose object form holds its items in {@code "batch"}. */
  public static List<Item> parse(byte[] body, int maxItems, int maxDepth)
      throws InvalidBatchException, TooManyItemsException, TooDeepException {
    return parse(body, "batch", maxItems, maxDepth);
  }

  /**
   * Splits the batch, a JSON array or an object whose {@code field} holds the array (Snowplow's
   * envelope calls it {@code "data"}); objects and arrays may nest at most {@code maxDepth} levels,
   * the outer array included. The limit is checked by the parser in the same pass that splits the
   * items.
   */
  public static List<Item> parse(byte[] body, String field, int maxItems, int maxDepth)
      throws InvalidBatchException, TooManyItemsException, TooDeepException {
    JsonFactory factory =
        FACTORIES.computeIfAbsent(
            maxDepth,
            d ->
                JsonFactory.builder()
                    .streamReadConstraints(
                        StreamReadConstraints.builder().maxNestingDepth(d).build())
                    .build());
    JsonParser parser;
    try {
      parser = factory.createParser(body);
    } catch (IOException e) {
      throw new InvalidBatchException("invalid JSON: " + firstLine(e.getMessage()));
    }
    try (JsonParser p = parser) {
      return items(p, body, field, maxItems);
    } catch (StreamConstraintsException e) {
      if (parser.getParsingContext().getNestingDepth() >= maxDepth) {
        throw new TooDeepException(
            "JSON objects and arrays may nest at most " + maxDepth + " deep");
      }
      throw new InvalidBatchException("invalid JSON: " + firstLine(e.getMessage()));
    } catch (IOException e) {
      throw new InvalidBatchException("invalid JSON: " + firstLine(e.getMessage()));
    }
  }

  private static List<Item> items(JsonParser p, byte[] body, String field, int maxItems)
      throws IOException, InvalidBatchException, TooManyItemsException {
    JsonToken t = p.nextToken();
    if (t == JsonToken.START_OBJECT) {
      if (!seekBatchArray(p, field)) {
        throw new InvalidBatchException(
            "expected a JSON array of events or an object with a \"" + field + "\" array");
      }
    } else if (t != JsonToken.START_ARRAY) {
      throw new InvalidBatchException(
          "expected a JSON array of events or an object with a \"" + field + "\" array");
    }
    List<Item> items = new ArrayList<>();
    int index = 0;
    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
      if (t == null) {
        throw new InvalidBatchException("unexpected end of JSON input");
      }
      if (index >= maxItems) {
        throw new TooManyItemsException("a batch may hold at most " + maxItems + " events");
      }
      int start = (int) p.currentTokenLocation().getByteOffset();
      if (t == JsonToken.START_OBJECT) {
        JsonFields fields = JsonFields.read(p);
        int end = (int) p.currentLocation().getByteOffset();
        String raw = new String(body, start, end - start, StandardCharsets.UTF_8);
        items.add(new Item(index, raw, fields, null, start, end));
      } else {
        p.skipChildren();
        items.add(new Item(index, null, null, "item is not a JSON object", 0, 0));
      }
      index++;
    }
    return items;
  }

  /** Moves the parser into the value of the top-level array field; false when there is none. */
  private static boolean seekBatchArray(JsonParser p, String field) throws IOException {
    JsonToken t;
    while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      t = p.nextToken();
      if (field.equals(name) && t == JsonToken.START_ARRAY) {
        return true;
      }
      p.skipChildren();
    }
    return false;
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "malformed";
    }
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }
}
