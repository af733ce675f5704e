package io.trellis.ingress.capture;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
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
  void aLoopsNextRequestWithAnotherKeyGetsThatKeysRedactor() throws Exception {
    String first = "trk_first_key_0123456789abcdef";
    String second = "trk_second_key_fedcba9876543210";
    KeyRedactor a = KeyRedactor.of(first);

    // The same key again (another String instance, as each request parses its own) reuses it.
    assertThat(KeyRedactor.of(new String(first.toCharArray()))).isSameAs(a);

    KeyRedactor b = KeyRedactor.of(second);
    String text = "a=" + first + "&b=" + second;
    assertThat(b.scrub(text)).isEqualTo("a=" + first + "&b=" + EventCapture.REDACTED);
    assertThat(KeyRedactor.of(first).scrub(text))
        .isEqualTo("a=" + EventCapture.REDACTED + "&b=" + second);

    // Another thread makes its own.
    java.util.concurrent.atomic.AtomicReference<KeyRedactor> other =
        new java.util.concurrent.atomic.AtomicReference<>();
    Thread t = new Thread(() -> other.set(KeyRedactor.of(first)));
    t.start();
    t.join();
    assertThat(other.get()).isNotSameAs(KeyRedactor.of(first));
    assertThat(other.get().scrub(text)).isEqualTo(KeyRedactor.of(first).scrub(text));
  }

  @Example
  void keysAreEqualOnlyWhenEveryCharAndTheLengthAre() {
    assertThat(KeyRedactor.sameKey("trk_abc", "trk_abc")).isTrue();
    assertThat(KeyRedactor.sameKey("", "")).isTrue();
    assertThat(KeyRedactor.sameKey("trk_abc", "trk_abd")).isFalse();
    assertThat(KeyRedactor.sameKey("xrk_abc", "trk_abc")).isFalse();
    assertThat(KeyRedactor.sameKey("trk_ab", "trk_abc")).isFalse();
    assertThat(KeyRedactor.sameKey("trk_abc", "trk_ab")).isFalse();
    assertThat(KeyRedactor.sameKey("trk_abc", "")).isFalse();
  }

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

  /**
   * Capture stores the request's user agent, referrer and session header as they were scrubbed
   * once, without scrubbing them again per event: for a key that scrubs once (no form holds '[' or
   * ']' or lies inside "[redacted]"), a second scrub must change nothing, whatever mix of forms,
   * escapes and near misses the text held.
   */
  @Property(tries = 3000)
  void scrubbedTextIsLeftAsItIsByASecondScrub(@ForAll("piecesOfKeys") List<String> pieces) {
    String text = String.join("", pieces);
    assertThat(r.scrubsOnce()).isTrue();
    String once = r.scrub(text);
    assertThat(r.scrub(once)).isEqualTo(once);
  }

  /**
   * A '+' of the key, or of its base64 in a Basic credential, that was sent unencoded in a query or
   * form reads back as a space; such text holds no escape, and the key must be found all the same,
   * by the byte check too. A group of three key bytes ending in '>' or '~' has a '+' in its base64.
   */
  @Example
  void aPlusReadBackAsASpaceIsFoundInTextWithoutAnEscape() {
    String basic = Base64.getEncoder().encodeToString("ab>cd>ef>gh:pw".getBytes(UTF_8));
    assertThat(basic).startsWith("YWI+Y2Q+ZWY+");
    KeyRedactor plusBase64 = KeyRedactor.of("ab>cd>ef>gh");
    KeyRedactor plusKey = KeyRedactor.of("tok+en+key+abc");
    KeyRedactor manyPluses = KeyRedactor.of("a+b+c+d+e+f+g");
    for (var c :
        List.of(
            Map.entry(plusBase64, "auth=" + basic.replace('+', ' ') + "&x=1"),
            Map.entry(plusBase64, "auth=" + basic.replaceFirst("\\+", " ") + "&x=1"),
            Map.entry(plusKey, "{\"k\":\"tok en+key abc\"}"),
            Map.entry(manyPluses, "k=a b+c d e f g;"))) {
      String text = c.getValue();
      byte[] utf8 = text.getBytes(UTF_8);
      assertThat(c.getKey().mayOccurIn(utf8, 0, utf8.length)).as(text).isTrue();
      assertThat(c.getKey().scrub(text)).as(text).contains(EventCapture.REDACTED);
      assertThat(c.getKey().scrub(text)).as(text).doesNotContain("Y2Q", "key", "c d e");
    }
    assertThat(plusKey.scrub("tok en key ab")).isEqualTo("tok en key ab");
  }

  /** The byte check never misses what scrubbing would replace, for keys with '+' as well. */
  @Property(tries = 3000)
  void theByteCheckNeverMissesASwappedPlus(@ForAll("piecesOfPlusKeys") List<String> pieces) {
    String text = String.join("", pieces);
    byte[] utf8 = text.getBytes(UTF_8);
    for (KeyRedactor k : List.of(PLUS_BASE64, PLUS_KEY)) {
      if (!k.mayOccurIn(utf8, 0, utf8.length)) {
        assertThat(k.scrub(text)).isSameAs(text);
      }
      assertThat(k.scrub(k.scrub(text))).isEqualTo(k.scrub(text));
    }
    assertThat(PLUS_KEY.scrub(text)).doesNotContain("tok+en", "tok en");
  }

  /**
   * {@link KeyRedactor#scrub} skips the char-by-char path for text whose escapes all read as chars
   * no form holds, and for text without escapes that holds no form literally: whatever the text, it
   * answers exactly as that path does. Texts mix the key and its base64 with some of their chars
   * percent- or JSON-escaped, escapes of chars the forms hold and of chars they do not, broken
   * escapes, and pluses and spaces, for a plain key and for keys with a '+'.
   */
  @Property(tries = 5000)
  void theShortcutsAnswerAsTheCharByCharPath(@ForAll("escapedPieces") List<String> pieces) {
    String text = String.join("", pieces);
    for (KeyRedactor k : List.of(r, PLUS_BASE64, PLUS_KEY)) {
      assertThat(k.scrub(text)).as(text).isEqualTo(k.replaceForms(text));
    }
  }

  @Provide
  Arbitrary<List<String>> escapedPieces() {
    String basic = Base64.getEncoder().encodeToString((KEY + ":pw").getBytes(UTF_8));
    Arbitrary<String> escapedForm =
        Arbitraries.of(KEY, basic, "tok+en", "YWI+Y2Q+ZWY+Z2g6cHc")
            .flatMap(
                form ->
                    Arbitraries.integers()
                        .between(0, 2)
                        .list()
                        .ofSize(form.length())
                        .map(ways -> escapeSome(form, ways)));
    return Arbitraries.oneOf(
            escapedForm,
            Arbitraries.of(
                "%2F",
                "%3A",
                "%3d",
                "%20",
                "%7E",
                "%",
                "%4",
                "%G1",
                "\\/",
                "\\n",
                "\\u00e9",
                "\\u0074",
                "\\",
                "\\u12",
                "https://x.example/?a=1&b=%2F",
                "+",
                " ",
                "é"),
            Arbitraries.strings().withChars("trkYWI%\\u05fF+ /").ofMaxLength(6))
        .list()
        .ofMaxSize(8);
  }

  /** The form with char {@code i} as it is (0), percent-escaped (1) or JSON-escaped (2). */
  private static String escapeSome(String form, List<Integer> ways) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < form.length(); i++) {
      char c = form.charAt(i);
      switch (ways.get(i)) {
        case 1 -> sb.append(String.format("%%%02X", (int) c));
        case 2 -> sb.append(String.format("\\u%04x", (int) c));
        default -> sb.append(c);
      }
    }
    return sb.toString();
  }

  private static final KeyRedactor PLUS_BASE64 = KeyRedactor.of("ab>cd>ef>gh");
  private static final KeyRedactor PLUS_KEY = KeyRedactor.of("tok+en");

  @Provide
  Arbitrary<List<String>> piecesOfPlusKeys() {
    return Arbitraries.oneOf(
            Arbitraries.of(
                "tok+en",
                "tok en",
                "tok",
                "YWI+Y2Q+ZWY+Z2g6cHc",
                "YWI Y2Q ZWY Z2g6cHc",
                "YWI+Y2Q ZWY",
                "%2B",
                "+",
                " ",
                "%",
                "\\u002b",
                "é"),
            Arbitraries.strings().ofMaxLength(4))
        .list()
        .ofMaxSize(8);
  }

  /**
   * A key whose first char is sent escaped or swapped, in the middle of text whose other escapes
   * start no form: each way of sending the first char is found.
   */
  @Example
  void aFormWhoseFirstCharIsEscapedOrSwappedIsFound() {
    KeyRedactor plus = KeyRedactor.of("+tok+en");
    KeyRedactor slash = KeyRedactor.of("/tok_en");
    KeyRedactor space = KeyRedactor.of(" tok_en");
    for (String sent : List.of("+tok_en", "%20tok_en", "\\u0020tok_en")) {
      assertThat(space.scrub("q=%3F&k=" + sent)).as(sent).isEqualTo("q=%3F&k=[redacted]");
    }
    for (String sent : List.of("%2Btok+en", "%2btok+en", "\\u002Btok+en", " tok+en", "+tok en")) {
      String text = "a=%3A%2F%2Fx&k=" + sent + "&z=%3F";
      assertThat(plus.scrub(text)).as(sent).isEqualTo("a=%3A%2F%2Fx&k=[redacted]&z=%3F");
    }
    for (String sent : List.of("%2Ftok_en", "\\/tok_en", "\\u002ftok_en", "/tok%5Fen")) {
      String text = "{\"u\":\"%3A\\n" + sent + "\"}";
      assertThat(slash.scrub(text)).as(sent).isEqualTo("{\"u\":\"%3A\\n[redacted]\"}");
    }
  }

  @Example
  void aKeyHoldingABracketIsScrubbedEveryTime() {
    // The first scrub leaves "a" before its "[redacted]": together they are the key again.
    KeyRedactor bracket = KeyRedactor.of("a[redacted]");
    assertThat(bracket.scrubsOnce()).isFalse();
    String once = bracket.scrub("aa[redacted]");
    assertThat(once).isEqualTo("a[redacted]");
    assertThat(bracket.scrub(once)).isEqualTo("[redacted]");
    // A key that is part of "[redacted]" finds itself in what the first scrub wrote.
    for (String inside : List.of("t", "redacted", "[redac", "ted]x")) {
      assertThat(KeyRedactor.of(inside).scrubsOnce()).as(inside).isFalse();
    }
    assertThat(KeyRedactor.of("t").scrub("t")).isEqualTo("[redacted]");
    assertThat(KeyRedactor.of("t").scrub("[redacted]")).isEqualTo("[redac[redacted]ed]");
  }

  /**
   * The byte check reads eight positions at a time: it must say exactly what a plain search says,
   * for every range, wherever a form, an escape or a near miss falls against its blocks.
   */
  @Property(tries = 3000)
  void theByteCheckAnswersExactlyAsAPlainSearch(
      @ForAll("piecesOfKeys") java.util.List<String> pieces,
      @ForAll("piecesOfKeys") java.util.List<String> more,
      @ForAll @net.jqwik.api.constraints.IntRange(min = 0, max = 15) int cut) {
    byte[] utf8 =
        (String.join("", pieces) + String.join("", more)).getBytes(StandardCharsets.UTF_8);
    int from = Math.min(cut, utf8.length);
    int to = Math.max(from, utf8.length - cut / 2);

    assertThat(r.mayOccurIn(utf8, from, to - from)).isEqualTo(plainSearch(KEY, utf8, from, to));
    assertThat(KeyRedactor.of("t").mayOccurIn(utf8, from, to - from))
        .isEqualTo(plainSearch("t", utf8, from, to));
  }

  @Example
  void aFormIsFoundAtEveryPositionAgainstTheBlocks() {
    byte[] key = KEY.getBytes(StandardCharsets.UTF_8);
    for (int at = 0; at < 24; at++) {
      byte[] text = new byte[at + key.length + 7];
      java.util.Arrays.fill(text, (byte) 'x');
      System.arraycopy(key, 0, text, at, key.length);

      assertThat(r.mayOccurIn(text, 0, text.length)).as("key at %d", at).isTrue();
      // One byte short of the whole key is a near miss.
      assertThat(r.mayOccurIn(text, 0, at + key.length - 1)).as("cut at %d", at).isFalse();
      text[at + 1] = 'x';
      assertThat(r.mayOccurIn(text, 0, text.length)).as("broken at %d", at).isFalse();
    }
  }

  /**
   * '%', '\\' or a whole form of the key within {@code [from, to)}, found one position at a time.
   * The forms: the key, and the base64 of its whole three-byte groups (standard and URL-safe) when
   * that is at least eight characters.
   */
  private static boolean plainSearch(String key, byte[] utf8, int from, int to) {
    for (int i = from; i < to; i++) {
      if (utf8[i] == '%' || utf8[i] == '\\') {
        return true;
      }
    }
    byte[] k = key.getBytes(StandardCharsets.UTF_8);
    java.util.List<byte[]> forms = new java.util.ArrayList<>(java.util.List.of(k));
    byte[] head = java.util.Arrays.copyOf(k, k.length / 3 * 3);
    if (head.length / 3 * 4 >= 8) {
      forms.add(Base64.getEncoder().withoutPadding().encode(head));
      forms.add(Base64.getUrlEncoder().withoutPadding().encode(head));
    }
    for (byte[] f : forms) {
      for (int i = from; i + f.length <= to; i++) {
        if (java.util.Arrays.equals(utf8, i, i + f.length, f, 0, f.length)) {
          return true;
        }
      }
    }
    return false;
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
