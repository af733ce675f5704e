package io.trellis.ingress.http;

import io.trellis.ingress.base.Utf8;
import io.trellis.ingress.capture.UrlEncoding;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.IllegalCharsetNameException;
import java.nio.charset.StandardCharsets;
import java.nio.charset.UnsupportedCharsetException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Turns the bytes a client sent into the event text the capture step stores, whatever the client:
 *
 * <ul>
 *   <li>{@code Content-Encoding: gzip} or {@code deflate} is undone within the body limit;
 *   <li>the text is decoded from the declared charset (UTF-8 when none); a body declared in another
 *       charset must be valid in it, while UTF-8 that is not valid (Latin-1 sent undeclared, a
 *       truncated multi-byte sequence) is decoded with each bad sequence replaced by U+FFFD and its
 *       exact bytes kept beside the text;
 *   <li>JSON, {@code text/plain} (what {@code navigator.sendBeacon} sends) and any other type are
 *       taken as they are;
 *   <li>{@code application/x-www-form-urlencoded} forms: a {@code data} field holds the event JSON,
 *       plain or base64, and becomes the stored body; a form without one is stored as its raw text.
 *       Every other field is also returned to be treated like a query parameter (for extraction),
 *       as the same form sent with GET would be. A "form" whose text starts with <code>{</code> or
 *       <code>[</code> is JSON sent with the form type ({@code curl -d} without a {@code
 *       Content-Type}): a real form encodes those characters, so it is taken as JSON, with no
 *       fields.
 * </ul>
 *
 * Stateless and framework-free, so it can be tested (and fuzzed) without a server.
 */
final class BodyDecoder {
  static final String DATA_FIELD = "data";

  /**
   * A decoded body: {@code utf8} is the event text to store as UTF-8 (for a form, the {@code data}
   * field decoded, or the form's raw text when it has none); {@code formFields} the form fields
   * other than {@code data}, in order (empty for other bodies); {@code invalid} the exact bytes and
   * their replacements when the (inflated) body was not valid UTF-8, null when it was valid text.
   * The text itself is decoded from the bytes only when asked for: a valid UTF-8 body is stored
   * from its bytes.
   */
  static final class Decoded {
    private final byte[] utf8;
    private final List<Map.Entry<String, String>> formFields;
    private final InvalidUtf8 invalid;
    private String text;

    Decoded(
        String text, byte[] utf8, List<Map.Entry<String, String>> formFields, InvalidUtf8 invalid) {
      this.text = text;
      this.utf8 = utf8;
      this.formFields = formFields;
      this.invalid = invalid;
    }

    /** The event text; decoded from {@link #utf8} on first use. */
    String text() {
      if (text == null) {
        text = new String(utf8, StandardCharsets.UTF_8);
      }
      return text;
    }

    byte[] utf8() {
      return utf8;
    }

    List<Map.Entry<String, String>> formFields() {
      return formFields;
    }

    InvalidUtf8 invalid() {
      return invalid;
    }
  }

  /** The body cannot be decoded; the error says why and with which status. */
  static final class RejectedException extends Exception {
    private final HttpError error;

    RejectedException(HttpError error) {
      super(error.message(), null, false, false);
      this.error = error;
    }

    HttpError error() {
      return error;
    }
  }

  private BodyDecoder() {}

  /**
   * @param limit the most bytes the (inflated) body may have
   * @param maxFields the most form fields accepted
   */
  static Decoded decode(
      String contentEncoding, String contentType, byte[] raw, long limit, int maxFields)
      throws RejectedException {
    byte[] bytes;
    try {
      bytes = Inflation.decode(contentEncoding, raw, limit);
    } catch (Inflation.TooLargeException e) {
      throw new RejectedException(
          HttpError.tooLarge("the decompressed body exceeds the limit of " + limit + " bytes"));
    } catch (Inflation.InvalidException e) {
      throw new RejectedException(new HttpError(400, "invalid_compressed_body", e.getMessage()));
    } catch (Inflation.UnsupportedException e) {
      throw new RejectedException(HttpError.unsupported("unsupported_encoding", e.getMessage()));
    }
    Charset charset = charset(contentType);
    InvalidUtf8 invalid = null;
    String text;
    byte[] utf8;
    if (charset.equals(StandardCharsets.UTF_8)) {
      if (Utf8.isValid(bytes)) {
        text = null;
        utf8 = bytes;
      } else {
        invalid = InvalidUtf8.decode(bytes);
        text = invalid.text();
        utf8 = text.getBytes(StandardCharsets.UTF_8);
      }
    } else {
      text = text(bytes, charset);
      utf8 = text.getBytes(StandardCharsets.UTF_8);
    }
    // Browsers, URLSearchParams and form libraries percent-encode '{' and '[': a "form" that
    // starts with one is JSON sent with the form type.
    if (!isForm(contentType) || JsonDepth.looksLikeJson(utf8)) {
      return new Decoded(text, utf8, List.of(), invalid);
    }
    if (text == null) {
      text = new String(utf8, StandardCharsets.UTF_8);
    }
    List<Map.Entry<String, String>> fields = formFields(text, maxFields);
    String data = null;
    List<Map.Entry<String, String>> others = new ArrayList<>(fields.size());
    for (Map.Entry<String, String> f : fields) {
      if (data == null && f.getKey().equals(DATA_FIELD)) {
        data = dataText(f.getValue());
      } else {
        others.add(f);
      }
    }
    // Without a data field the form itself is the event: its raw text is stored as received.
    String event = data == null ? text : data;
    return new Decoded(event, event.getBytes(StandardCharsets.UTF_8), List.copyOf(others), invalid);
  }

  private static final String FORM = "application/x-www-form-urlencoded";

  /** Whether the media type, without parameters and in any case, is a URL-encoded form. */
  static boolean isForm(String contentType) {
    if (contentType == null) {
      return false;
    }
    int semi = contentType.indexOf(';');
    int end = semi < 0 ? contentType.length() : semi;
    int start = 0;
    while (start < end && contentType.charAt(start) <= ' ') {
      start++;
    }
    while (end > start && contentType.charAt(end - 1) <= ' ') {
      end--;
    }
    return end - start == FORM.length()
        && contentType.regionMatches(true, start, FORM, 0, FORM.length());
  }

  private static Charset charset(String contentType) throws RejectedException {
    if (contentType == null || contentType.indexOf(';') < 0) {
      // No parameters, so no charset: UTF-8, JSON's own.
      return StandardCharsets.UTF_8;
    }
    for (String param : contentType.split(";")) {
      String p = param.trim();
      if (p.regionMatches(true, 0, "charset=", 0, 8)) {
        String name = p.substring(8).trim().replace("\"", "");
        try {
          return Charset.forName(name);
        } catch (IllegalCharsetNameException | UnsupportedCharsetException e) {
          throw new RejectedException(
              HttpError.unsupported(
                  "unsupported_charset", "charset " + name + " is not supported; send UTF-8"));
        }
      }
    }
    return StandardCharsets.UTF_8;
  }

  /**
   * The bytes as text in a declared charset other than UTF-8; a byte sequence that is not valid in
   * it is refused, not mangled: the client said what the bytes are, and they are not that.
   */
  private static String text(byte[] bytes, Charset charset) throws RejectedException {
    if (bytes.length == 0) {
      return "";
    }
    try {
      return decodeStrictly(bytes, charset);
    } catch (CharacterCodingException e) {
      throw new RejectedException(
          new HttpError(
              400,
              "invalid_text",
              "the body is not valid "
                  + charset.name()
                  + " text; send UTF-8 or declare the charset of the bytes in Content-Type"));
    }
  }

  static List<Map.Entry<String, String>> formFields(String text, int maxFields)
      throws RejectedException {
    List<Map.Entry<String, String>> out = UrlEncoding.params(text, 0, text.length(), maxFields);
    if (out.size() > maxFields) {
      throw new RejectedException(tooManyFields(maxFields));
    }
    return out;
  }

  static HttpError tooManyFields(int max) {
    return new HttpError(
        400,
        "too_many_parameters",
        "a request may carry at most " + max + " query parameters and form fields");
  }

  /**
   * The {@code data} field's text: JSON as it is, or base64 (standard or URL-safe, padded or not)
   * that decodes to JSON. Anything else is kept as it was sent.
   */
  static String dataText(String value) {
    String t = value.strip();
    if (t.startsWith("{") || t.startsWith("[")) {
      return value;
    }
    // A '+' sent unencoded in a form arrives as a space.
    String b64 = t.replace(' ', '+').replace("\n", "").replace("\r", "");
    for (Base64.Decoder d : List.of(Base64.getDecoder(), Base64.getUrlDecoder())) {
      try {
        String json = strictUtf8(d.decode(b64));
        if (json != null) {
          String s = json.strip();
          if (s.startsWith("{") || s.startsWith("[")) {
            return json;
          }
        }
      } catch (IllegalArgumentException e) {
        // Not this alphabet.
      }
    }
    return value;
  }

  private static String strictUtf8(byte[] bytes) {
    try {
      return decodeStrictly(bytes, StandardCharsets.UTF_8);
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  private static String decodeStrictly(byte[] bytes, Charset charset)
      throws CharacterCodingException {
    return charset
        .newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .decode(ByteBuffer.wrap(bytes))
        .toString();
  }
}
