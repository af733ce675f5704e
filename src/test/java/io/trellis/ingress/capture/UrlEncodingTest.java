package io.trellis.ingress.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
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
    String expected;
    try {
      expected = URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      expected = s;
    }
    assertThat(UrlEncoding.decode(s)).isEqualTo(expected);
  }
}
