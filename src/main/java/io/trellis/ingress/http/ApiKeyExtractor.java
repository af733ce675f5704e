package io.trellis.ingress.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.trellis.ingress.capture.JsonFields;
import io.trellis.ingress.capture.RequestData;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds the API key of a request: {@code Authorization: Bearer KEY}, {@code Authorization: Basic}
 * with the key as user name (as Segment-style SDKs send it), {@code X-Api-Key}, the {@code api_key}
 * or {@code writeKey} query parameter or form field for pixels, links, beacons and forms, or a
 * top-level {@code api_key} / {@code writeKey} field of a JSON body (analytics.js sends it there).
 */
final class ApiKeyExtractor {
  /** Names of the parameters, form fields and top-level JSON fields that carry a key. */
  static final List<String> FIELDS = List.of("api_key", "writeKey");

  private static final JsonFactory JSON = new JsonFactory();
  private static final byte[][] FIELD_BYTES = {
    "\"api_key\"".getBytes(StandardCharsets.US_ASCII),
    "\"writeKey\"".getBytes(StandardCharsets.US_ASCII)
  };

  private ApiKeyExtractor() {}

  /**
   * Every distinct key the request carries, in order of precedence: headers, then parameters and
   * form fields, then the JSON body. More than one means the request is ambiguous. {@code parsed}
   * is the body's fields when it was read as one JSON object (else null): their names then tell
   * whether a key field is there at all, so the usual body that carries none is not scanned again.
   */
  static Set<String> candidates(RequestData req, byte[] jsonBody, JsonFields parsed) {
    return candidates(req, null, jsonBody, parsed);
  }

  /**
   * The same, with the key a path segment carries ({@code /snowplow/KEY/…}, for trackers whose only
   * setting is the collector URL) first; null when the path has none.
   */
  static Set<String> candidates(
      RequestData req, String pathKey, byte[] jsonBody, JsonFields parsed) {
    Set<String> keys = new LinkedHashSet<>(2);
    add(keys, pathKey);
    String auth = req.header("authorization");
    if (auth != null) {
      String a = auth.trim();
      if (a.regionMatches(true, 0, "Bearer ", 0, 7)) {
        add(keys, a.substring(7).trim());
      } else if (a.regionMatches(true, 0, "Basic ", 0, 6)) {
        try {
          String decoded =
              new String(Base64.getDecoder().decode(a.substring(6).trim()), StandardCharsets.UTF_8);
          int colon = decoded.indexOf(':');
          add(keys, colon < 0 ? decoded : decoded.substring(0, colon));
        } catch (IllegalArgumentException e) {
          // Not base64: no key here.
        }
      }
    }
    String header = req.header("x-api-key");
    if (header != null) {
      add(keys, header.trim());
    }
    for (Map.Entry<String, String> q : req.query()) {
      if (FIELDS.contains(q.getKey())) {
        add(keys, q.getValue());
      }
    }
    addBodyKeys(keys, jsonBody, parsed);
    return keys;
  }

  /**
   * Adds the keys of a JSON body's top-level key fields ({@code jsonBody} null: none), the last
   * step of {@link #candidates}, for a request whose other keys are known.
   */
  static void addBodyKeys(Set<String> keys, byte[] jsonBody, JsonFields parsed) {
    if (jsonBody != null && mayCarryKey(jsonBody, parsed)) {
      fromJsonBody(jsonBody, keys);
    }
  }

  /**
   * False when the body cannot hold a top-level key field: it is not a JSON object (a batch array,
   * say), or it parsed as one without such a field. Only then is it parsed field by field, which
   * also sees every value of a repeated field.
   */
  private static boolean mayCarryKey(byte[] body, JsonFields parsed) {
    if (parsed != null) {
      for (String f : FIELDS) {
        if (parsed.has(f)) {
          return true;
        }
      }
      return false;
    }
    return JsonFields.startsAsObject(body) && mentionsKeyField(body);
  }

  /** Adds the string values of top-level key fields of a JSON object body. */
  private static void fromJsonBody(byte[] body, Set<String> keys) {
    try (JsonParser p = JSON.createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        if (value == JsonToken.VALUE_STRING && FIELDS.contains(name)) {
          add(keys, p.getText());
        } else {
          p.skipChildren();
        }
      }
    } catch (IOException e) {
      // Not JSON, or broken after the fields seen so far: those are all the body offers.
    }
  }

  /**
   * True when a batch item names a key other than the request's in a top-level key field: an item
   * must not be stored under another key's organization, nor carry that key into this one's data.
   */
  static boolean itemConflicts(JsonFields item, String requestKey) {
    for (String f : FIELDS) {
      String v = item.text(f);
      if (v != null && !v.isBlank() && !v.trim().equals(requestKey)) {
        return true;
      }
    }
    return false;
  }

  /**
   * True when a PostHog event names a project token ({@code token} or {@code properties.token})
   * other than the request's key.
   */
  static boolean postHogTokenConflicts(JsonFields item, String requestKey) {
    for (String v : new String[] {item.text("token"), item.property("token")}) {
      if (v != null && !v.isBlank() && !v.trim().equals(requestKey)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Adds the keys a batch item names: its top-level {@code api_key} or {@code writeKey}, and
   * PostHog's project token ({@code token}, {@code properties.token}).
   */
  static void addItemKeys(Set<String> keys, JsonFields item) {
    for (String f : FIELDS) {
      add(keys, item.text(f));
    }
    add(keys, item.text("token"));
    add(keys, item.property("token"));
  }

  /** A cheap filter: most bodies never name a key field, and need no second parse. */
  private static boolean mentionsKeyField(byte[] body) {
    for (byte[] needle : FIELD_BYTES) {
      if (indexOf(body, needle) >= 0) {
        return true;
      }
    }
    return false;
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i <= hay.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  static void add(Set<String> keys, String key) {
    if (key != null) {
      String k = key.trim();
      if (!k.isEmpty()) {
        keys.add(k);
      }
    }
  }
}
