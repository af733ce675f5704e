package io.trellis.ingress.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.CharRange;
import net.jqwik.api.constraints.Chars;

class UrlEncodingTest {
  @Example
  void plainTextIsReturnedAsItIs() {
    String s = "utm_source";
    assertThat(UrlEncoding.decode(s)).isSameAs(s);
    assertThat(UrlEncoding.decode("a=b&utm_source=x", 4, 14)).isEqualTo("utm_source");
  }

  @Example
  void escapesAndPlusAreDecodedAndMalformedEscapesKept() {
    assertThat(UrlEncoding.decode("caf%C3%A9+au+lait")).isEqualTo("café au lait");
    assertThat(UrlEncoding.decode("x=%zz&y", 2, 5)).isEqualTo("%zz");
    assertThat(UrlEncoding.decode("50%")).isEqualTo("50%");
    assertThat(UrlEncoding.decode("")).isEmpty();
  }

  @Property(tries = 300)
  void decodesAsUrlDecoderDoes(
      @ForAll @CharRange(from = 'a', to = 'f') @Chars({'%', '+', '2', '0', 'C', '3', 'A', '9'})
          String s) {
    assertThat(UrlEncoding.decode(s)).isEqualTo(urlDecoderOrAsSent(s));
  }

  /**
   * Text as pixels and forms send it: escapes of any byte (so UTF-8 sequences whole, cut, overlong
   * or out of order), escapes of whole characters of one to four bytes, '+', plain ASCII, a char
   * beyond ASCII sent unescaped, and broken escapes ("%", "%4", "%zz", "%+1", "%-0").
   */
  @Property(tries = 2000)
  void decodesEscapedBytesAsUrlDecoderDoes(@ForAll("escapedText") String s) {
    String expected = urlDecoderOrAsSent(s);
    assertThat(UrlEncoding.decode(s)).isEqualTo(expected);
    assertThat(UrlEncoding.decode("a=" + s + "&b", 2, 2 + s.length())).isEqualTo(expected);
  }

  /**
   * A query looked up in place answers as the decoded pairs do, for names it holds (plain, or
   * encoded as the page sent them) and names it does not: pairs with and without '=', empty parts,
   * repeated names, '=' in values.
   */
  @Property(tries = 2000)
  void aQueryLookedUpInPlaceAnswersAsItsDecodedPairs(
      @ForAll("pairs") List<String> parts, @ForAll("names") String name) {
    String query = String.join("&", parts);
    String url = "https://shop.example.com/p?" + query + "#frag";
    int start = url.indexOf('?') + 1;
    int end = url.indexOf('#');

    List<java.util.Map.Entry<String, String>> pairs = UrlEncoding.params(url, start, end, 1000);
    UrlEncoding.Query inPlace = UrlEncoding.query(url, start, end);

    assertThat(inPlace.first(name)).isEqualTo(UrlEncoding.first(pairs, name));
    for (java.util.Map.Entry<String, String> p : pairs) {
      assertThat(inPlace.first(p.getKey())).isEqualTo(UrlEncoding.first(pairs, p.getKey()));
    }
  }

  @Provide
  Arbitrary<List<String>> pairs() {
    Arbitrary<String> name =
        Arbitraries.frequencyOf(
            Tuple.of(4, names()),
            Tuple.of(1, names().map(n -> n.replace("_", "%5F"))),
            Tuple.of(1, names().map(n -> n.replace("_", "+"))),
            Tuple.of(1, escapedText()));
    Arbitrary<String> value =
        Arbitraries.oneOf(escapedText(), Arbitraries.of("", "a=b", "x%3Dy", "==", "%ZZ"));
    Arbitrary<String> part =
        Arbitraries.frequencyOf(
            Tuple.of(6, name.flatMap(n -> value.map(v -> n + "=" + v))),
            Tuple.of(1, name),
            Tuple.of(1, Arbitraries.just("")));
    return part.list().ofMaxSize(8);
  }

  @Provide
  Arbitrary<String> names() {
    return Arbitraries.of(
        "utm_source", "utm_medium", "gclid", "fbclid", "a", "utm source", "é", "");
  }

  @Provide
  Arbitrary<String> escapedText() {
    Arbitrary<String> anyByte =
        Arbitraries.integers()
            .between(0, 255)
            .flatMap(b -> Arbitraries.of(String.format("%%%02X", b), String.format("%%%02x", b)));
    Arbitrary<String> wholeChar =
        Arbitraries.of("é", "€", "😀", "\u0000", "ß")
            .map(c -> URLEncoder.encode(c, StandardCharsets.UTF_8));
    Arbitrary<String> token =
        Arbitraries.frequencyOf(
            Tuple.of(6, anyByte),
            Tuple.of(3, wholeChar),
            Tuple.of(
                2, Arbitraries.strings().withCharRange('!', '~').ofMinLength(1).ofMaxLength(3)),
            Tuple.of(1, Arbitraries.of("+", " ", "é", "%", "%4", "%zz", "%+1", "%-0")));
    return token.list().ofMaxSize(12).map(parts -> String.join("", parts));
  }

  @Example
  void aCutSequenceBeforePlainTextIsReplacedAsUrlDecoderDoes() {
    for (String s : List.of("%E2%82x%AC", "%F0%9Fa", "%C3", "%E0%80A", "%ED%A0%80z", "a%C3+b")) {
      assertThat(UrlEncoding.decode(s)).as(s).isEqualTo(urlDecoderOrAsSent(s));
    }
  }

  /**
   * What URLDecoder makes of the text; the text as sent when it refuses it, as decode() keeps it.
   */
  private static String urlDecoderOrAsSent(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return s;
    }
  }
}
