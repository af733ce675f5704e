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
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Splits a batch body, a JSON array or an object {@code {"batch": [...]}}, into its items. Each
 * item keeps its exact original text (a slice of the body), so what is stored is what was sent. The
 * other fields of an object (the envelope: Segment's {@code sentAt} and {@code context}, PostHog's
 * {@code sent_at}, Snowplow's {@code schema}) are kept too, each as its string value or its exact
 * JSON text: they describe every item, and are stored with each.
 */
public final class BatchItems {
  /* One parser factory per nesting limit (in practice one: limits.json-depth-max). */
  private static final ConcurrentHashMap<Integer, JsonFactory> FACTORIES =
      new ConcurrentHashMap<>();

  /**
   * One array element: the object's top-level fields and its bytes {@code body[start, end)}, or why
   * it was rejected (then {@code body} is null and the offsets 0).
   */
  public record Item(int index, JsonFields json, String error, int start, int end, byte[] body) {
    /** The item's exact text, decoded from the body on each call; null for a rejected item. */
    public String raw() {
      return body == null ? null : new String(body, start, end - start, StandardCharsets.UTF_8);
    }

    /** Index and offsets only: the body is the whole request's. */
    @Override
    public String toString() {
      return "Item{"
          + index
          + ", "
          + start
          + ".."
          + end
          + (error == null ? "" : ", " + error)
          + "}";
    }
  }

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

  /**
   * A split batch: its items, and the envelope's other fields in body order (empty for an array), a
   * string as its value and anything else as its exact JSON text.
   */
  public record Batch(List<Item> items, List<Map.Entry<String, String>> envelope) {}

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
    return split(body, field, maxItems, maxDepth).items();
  }

  /** The same, with the envelope's other fields. */
  public static Batch split(byte[] body, String field, int maxItems, int maxDepth)
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

  private static Batch items(JsonParser p, byte[] body, String field, int maxItems)
      throws IOException, InvalidBatchException, TooManyItemsException {
    JsonToken t = p.nextToken();
    List<Map.Entry<String, String>> envelope = List.of();
    if (t == JsonToken.START_OBJECT) {
      envelope = new ArrayList<>(4);
      if (!seekBatchArray(p, body, field, envelope)) {
        throw new InvalidBatchException(
            "expected a JSON array of events or an object with a \"" + field + "\" array");
      }
    } else if (t != JsonToken.START_ARRAY) {
      throw new InvalidBatchException(
          "expected a JSON array of events or an object with a \"" + field + "\" array");
    }
    List<Item> items = elements(p, body, maxItems);
    if (t == JsonToken.START_OBJECT) {
      // The fields after the array belong to the envelope as much as those before it.
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        envelopeField(p, body, envelope);
      }
      if (t != JsonToken.END_OBJECT) {
        throw new InvalidBatchException("unexpected end of JSON input");
      }
    }
    return new Batch(items, envelope);
  }

  private static List<Item> elements(JsonParser p, byte[] body, int maxItems)
      throws IOException, InvalidBatchException, TooManyItemsException {
    JsonToken t;
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
        items.add(new Item(index, fields, null, start, end, body));
      } else {
        p.skipChildren();
        items.add(new Item(index, null, "item is not a JSON object", 0, 0, null));
      }
      index++;
    }
    return items;
  }

  /**
   * Moves the parser into the value of the top-level array field, adding the fields before it to
   * the envelope; false when there is none.
   */
  private static boolean seekBatchArray(
      JsonParser p, byte[] body, String field, List<Map.Entry<String, String>> envelope)
      throws IOException {
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      if (field.equals(p.currentName()) && p.nextToken() == JsonToken.START_ARRAY) {
        return true;
      }
      envelopeField(p, body, envelope);
    }
    return false;
  }

  /** Reads the value of the current field (or of the field whose value is current) into env. */
  private static void envelopeField(
      JsonParser p, byte[] body, List<Map.Entry<String, String>> envelope) throws IOException {
    String name = p.currentName();
    JsonToken t = p.currentToken() == JsonToken.FIELD_NAME ? p.nextToken() : p.currentToken();
    if (t == JsonToken.VALUE_STRING) {
      envelope.add(Map.entry(name, p.getText()));
      return;
    }
    int start = (int) p.currentTokenLocation().getByteOffset();
    p.skipChildren();
    int end = (int) p.currentLocation().getByteOffset();
    envelope.add(Map.entry(name, new String(body, start, end - start, StandardCharsets.UTF_8)));
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "malformed";
    }
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }
}
