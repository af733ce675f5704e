package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.ingress.capture.CaptureConfig;
import io.trellis.ingress.capture.Endpoint;
import io.trellis.ingress.capture.EventCapture;
import io.trellis.ingress.capture.RequestData;
import io.trellis.ingress.event.TrafficEvent;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.AbstractMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Property tests (fuzzing) of request decoding: random bytes, encodings, content types, forms and
 * JSON shapes. Whatever the input, decoding either yields text within the limit or refuses with a
 * defined status; it never throws anything else. Bounded by a fixed number of tries.
 */
class DecodingPropertiesTest {
  private static final Set<Integer> REFUSALS = Set.of(400, 413, 415);
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final long LIMIT = 4096;

  @Provide
  Arbitrary<String> encodings() {
    return Arbitraries.of(
        null,
        "",
        "identity",
        "gzip",
        "x-gzip",
        "deflate",
        "GZIP",
        "br",
        "zstd",
        "gzip, deflate",
        "gzip,gzip,gzip",
        " deflate ",
        "compress");
  }

  @Provide
  Arbitrary<String> contentTypes() {
    return Arbitraries.of(
        null,
        "",
        "application/json",
        "application/json; charset=utf-8",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=ISO-8859-1",
        "text/plain; charset=\"utf-16\"",
        "application/json; charset=nonsense",
        "multipart/form-data; boundary=x",
        ";;;charset=",
        "application/octet-stream");
  }

  @Property(tries = 1500)
  void anyBytesDecodeOrAreRefusedWithADefinedStatus(
      @ForAll("encodings") String encoding,
      @ForAll("contentTypes") String contentType,
      @ForAll @Size(max = 600) byte[] body) {
    try {
      BodyDecoder.Decoded d = BodyDecoder.decode(encoding, contentType, body, LIMIT, 50);
      assertThat(d.text()).isNotNull();
      assertThat(d.utf8()).isEqualTo(d.text().getBytes(StandardCharsets.UTF_8));
      assertThat(d.formFields().size()).isLessThanOrEqualTo(50);
    } catch (BodyDecoder.RejectedException e) {
      assertThat(REFUSALS).contains(e.error().status());
      assertThat(e.error().code()).isNotBlank();
    }
  }

  @Property(tries = 300)
  void compressedBodiesInflateToTheOriginalOrAre413(
      @ForAll @Size(max = 9000) byte[] original, @ForAll("codings") String coding)
      throws Exception {
    byte[] compressed = compress(coding, original);
    try {
      BodyDecoder.Decoded d =
          BodyDecoder.decode(
              coding, "application/octet-stream; charset=ISO-8859-1", compressed, LIMIT, 50);
      assertThat(original.length).isLessThanOrEqualTo((int) LIMIT);
      assertThat(d.text().getBytes(StandardCharsets.ISO_8859_1)).isEqualTo(original);
    } catch (BodyDecoder.RejectedException e) {
      assertThat(original.length).isGreaterThan((int) LIMIT);
      assertThat(e.error().status()).isEqualTo(413);
    }
  }

  @Provide
  Arbitrary<String> codings() {
    return Arbitraries.of("gzip", "deflate");
  }

  @Property(tries = 300)
  void truncatedOrCorruptedCompressedBodiesAre400NeverAnException(
      @ForAll @Size(min = 1, max = 2000) byte[] original,
      @ForAll("codings") String coding,
      @ForAll @IntRange(min = 0, max = 1999) int cut,
      @ForAll byte flip)
      throws Exception {
    byte[] compressed = compress(coding, original);
    int at = cut % compressed.length;
    compressed[at] ^= (byte) (flip == 0 ? 1 : flip);
    try {
      BodyDecoder.decode(coding, "text/plain; charset=ISO-8859-1", compressed, LIMIT, 50);
    } catch (BodyDecoder.RejectedException e) {
      assertThat(e.error().status()).isIn(400, 413);
    }
  }

  @Property(tries = 500)
  void formsRoundTripTheirFieldsAndTheDataJson(
      @ForAll("fieldNames") List<String> names, @ForAll @Size(max = 40) String value) {
    StringBuilder form = new StringBuilder("data=" + encode("{\"v\":" + quote(value) + "}"));
    for (String n : names) {
      form.append('&').append(encode(n)).append('=').append(encode(value));
    }
    try {
      BodyDecoder.Decoded d =
          BodyDecoder.decode(
              null,
              "application/x-www-form-urlencoded",
              form.toString().getBytes(StandardCharsets.UTF_8),
              1 << 20,
              1000);
      assertThat(MAPPER.readTree(d.text()).path("v").asText()).isEqualTo(value);
      assertThat(d.formFields()).hasSize(names.size());
      for (int i = 0; i < names.size(); i++) {
        assertThat(d.formFields().get(i).getKey()).isEqualTo(names.get(i));
        assertThat(d.formFields().get(i).getValue()).isEqualTo(value);
      }
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Provide
  Arbitrary<List<String>> fieldNames() {
    return Arbitraries.strings()
        .ofMinLength(1)
        .ofMaxLength(12)
        .filter(s -> !s.equals("data"))
        .list()
        .ofMaxSize(8);
  }

  @Property(tries = 200)
  void jsonDepthAgreesWithTheNestingOfGeneratedDocuments(
      @ForAll("nested") String json, @ForAll @IntRange(min = 1, max = 9) int max) throws Exception {
    int depth = depthOf(MAPPER.readTree(json));
    assertThat(JsonDepth.exceeds(json.getBytes(StandardCharsets.UTF_8), max))
        .isEqualTo(depth > max);
  }

  @Provide
  Arbitrary<String> nested() {
    Arbitrary<String> leaf =
        Arbitraries.oneOf(
            Arbitraries.strings().ofMaxLength(6).map(DecodingPropertiesTest::quote),
            Arbitraries.integers().map(String::valueOf),
            Arbitraries.of("\"[{\"", "\"\\\"]}\"", "null", "true"));
    return Arbitraries.recursive(
        () -> leaf,
        inner ->
            Arbitraries.oneOf(
                inner.list().ofMaxSize(3).map(l -> "[" + String.join(",", l) + "]"),
                Combinators.combine(Arbitraries.strings().ofMaxLength(4), inner)
                    .as((k, v) -> "{" + quote(k) + ":" + v + "}")),
        0,
        8);
  }

  @Property(tries = 500)
  void keyExtractionAndCaptureNeverThrowAndNeverStoreTheKey(
      @ForAll @Size(max = 300) String body, @ForAll("keyPlacements") String placement) {
    String key = "trk_abcdefghijkl_ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    String text = placement.replace("KEY", key).replace("BODY", quote(body));
    byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
    RequestData req =
        new RequestData(
            "POST",
            "http://h/events",
            List.of(new AbstractMap.SimpleImmutableEntry<>("Content-Type", "text/plain")),
            List.<Map.Entry<String, String>>of(),
            "127.0.0.1",
            1L);
    Set<String> keys = ApiKeyExtractor.candidates(req, utf8, null);
    if (keys.contains(key)) {
      EventCapture capture = new EventCapture(CaptureConfig.defaults());
      TrafficEvent e = capture.event(capture.request(req, key), "org", Endpoint.EVENTS, text, null);
      assertThat(e.body()).doesNotContain(key);
    }
  }

  @Provide
  Arbitrary<String> keyPlacements() {
    return Arbitraries.of(
        "{\"api_key\":\"KEY\",\"x\":BODY}",
        "{\"x\":BODY,\"writeKey\":\"KEY\"}",
        "{\"x\":BODY,\"writeKey\":\"KEY\"",
        "{\"batch\":[{\"x\":BODY}],\"writeKey\":\"KEY\"}",
        "BODY",
        "{\"api_key\":BODY}",
        "[\"KEY\",BODY]");
  }

  private static int depthOf(com.fasterxml.jackson.databind.JsonNode n) {
    if (!n.isContainerNode()) {
      return 0;
    }
    int max = 0;
    for (com.fasterxml.jackson.databind.JsonNode c : n) {
      max = Math.max(max, depthOf(c));
    }
    return max + 1;
  }

  private static byte[] compress(String coding, byte[] data) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (var z =
        coding.equals("gzip")
            ? new GZIPOutputStream(out)
            : new DeflaterOutputStream(out, new Deflater(6, data.length % 2 == 0))) {
      z.write(data);
    }
    return out.toByteArray();
  }

  private static String encode(String s) {
    return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  static String quote(String s) {
    try {
      return MAPPER.writeValueAsString(s);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
