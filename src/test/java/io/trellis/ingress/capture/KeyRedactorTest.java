package io.trellis.ingress.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class KeyRedactorTest {
  private static final String KEY = "trk_abcdefghijkl_0123456789ABCDEFGHIJKLMNOPQRSTUV";
  private final KeyRedactor r = KeyRedactor.of(KEY);

  @Example
  void textWithoutTheKeyIsReturnedAsTheSameInstance() {
    String text = "{\"a\":\"100%\",\"b\":\"\\u00e9 trk_other\"}";

    assertThat(r.scrub(text)).isSameAs(text);
  }

  @Example
  void everyEncodingAndMixesOfThemAreReplacedWhole() {
    assertThat(r.scrub("k=" + KEY + "&x")).isEqualTo("k=[redacted]&x");
    assertThat(r.scrub("k=trk%5Fabcdefghijkl%5f0123456789ABCDEFGHIJKLMNOPQRSTUV&x"))
        .isEqualTo("k=[redacted]&x");
    assertThat(r.scrub("\"trk\\u005Fabcdefghijkl\\u005f0123456789ABCDEFGHIJKLMNOPQRSTUV\""))
        .isEqualTo("\"[redacted]\"");
    assertThat(r.scrub("%74rk_abcdefghijkl\\u005f0123456789ABCDEFGHIJKLMNOPQRSTUV"))
        .isEqualTo("[redacted]");
  }

  @Example
  void basicCredentialsAreReplacedWithTheirPassword() {
    String basic =
        Base64.getEncoder().encodeToString((KEY + ":pw").getBytes(StandardCharsets.UTF_8));
    String urlSafe =
        Base64.getUrlEncoder().encodeToString((KEY + ":").getBytes(StandardCharsets.UTF_8));

    assertThat(r.scrub("Basic " + basic + ", next")).isEqualTo("Basic [redacted], next");
    assertThat(r.scrub("t=" + urlSafe.replace("=", "%3D") + "&y=1")).isEqualTo("t=[redacted]&y=1");
  }

  @Example
  void aNearMissIsKept() {
    String text = "trk%5Fabcdefghijkl%5F0123456789ABCDEFGHIJKLMNOPQRSTU";

    assertThat(r.scrub(text)).isEqualTo(text);
  }

  /**
   * The byte check that lets capture copy a body as it is: whenever scrubbing would change the
   * text, it must say the key may be there. Texts are built from pieces of the key's forms, escapes
   * and other characters, so that near misses, forms at the very start and end, and multi-byte
   * characters all occur.
   */
  @Property(tries = 3000)
  void theByteCheckNeverMissesWhatScrubbingWouldReplace(
      @ForAll("piecesOfKeys") java.util.List<String> pieces) {
    String text = String.join("", pieces);
    byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);

    if (!r.mayOccurIn(utf8, 0, utf8.length)) {
      assertThat(r.scrub(text)).isSameAs(text);
    }
    if (text.contains(KEY) || text.indexOf('%') >= 0 || text.indexOf('\\') >= 0) {
      assertThat(r.mayOccurIn(utf8, 0, utf8.length)).isTrue();
    }
    assertThat(r.scrub(text)).doesNotContain(KEY);
    // A range in the middle is checked alone, not with what surrounds it.
    byte[] framed = ("\\" + text + "%").getBytes(StandardCharsets.UTF_8);
    assertThat(r.mayOccurIn(framed, 1, utf8.length)).isEqualTo(r.mayOccurIn(utf8, 0, utf8.length));
  }

  @Provide
  Arbitrary<java.util.List<String>> piecesOfKeys() {
    String basic =
        Base64.getEncoder().encodeToString((KEY + ":pw").getBytes(StandardCharsets.UTF_8));
    return Arbitraries.oneOf(
            Arbitraries.of(
                KEY,
                KEY.substring(0, 12),
                KEY.substring(1),
                basic,
                basic.substring(0, 20),
                "t",
                "trk_",
                "%",
                "%5F",
                "\\",
                "\\u005f",
                "+",
                " ",
                "é",
                "€",
                "😀",
                "\""),
            Arbitraries.strings().ofMaxLength(6))
        .list()
        .ofMaxSize(8);
  }
}
