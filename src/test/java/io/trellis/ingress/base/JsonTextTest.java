package io.trellis.ingress.base;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class JsonTextTest {
  /** Jackson's escape, which every stored header and parameter object was written with. */
  private static String jackson(String s) {
    return new String(JsonStringEncoder.getInstance().quoteAsString(s));
  }

  @Property(tries = 3000)
  void escapesExactlyAsJacksonDoes(@ForAll("texts") String s) {
    assertThat(JsonText.escape(new StringBuilder("x"), s).toString()).isEqualTo("x" + jackson(s));
    assertThat(JsonText.quote(new StringBuilder(), s).toString()).isEqualTo('"' + jackson(s) + '"');
  }

  @Example
  void quotesBackslashesAndControlCharactersAreEscapedTheRestIsKept() {
    assertThat(JsonText.quote(new StringBuilder(), "a\"b\\c\n\u0001é€😀/").toString())
        .isEqualTo("\"a\\\"b\\\\c\\n\\u0001é€😀/\"");
    assertThat(JsonText.quote(new StringBuilder(), "plain text, 100% ok").toString())
        .isEqualTo("\"plain text, 100% ok\"");
  }

  @Provide
  Arbitrary<String> texts() {
    return Arbitraries.oneOf(
        Arbitraries.strings().ofMaxLength(40),
        Arbitraries.strings()
            .withChars("ab\"\\\n\t\u0000\u001f\u007f/é€\ud83d\ude00 ")
            .ofMaxLength(20),
        Arbitraries.strings().ascii().ofMaxLength(60));
  }
}
