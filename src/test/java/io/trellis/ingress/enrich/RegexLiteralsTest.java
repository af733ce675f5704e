package io.trellis.ingress.enrich;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class RegexLiteralsTest {
  /** The clauses, each as its alternatives joined by "|", each as its strings joined by "+". */
  private static List<String> needs(String regex, boolean ignoreCase) {
    return Stream.of(RegexLiterals.of(regex, ignoreCase).clauses())
        .map(c -> String.join("|", Stream.of(c).map(all -> String.join("+", all)).toList()))
        .toList();
  }

  @Test
  void aGroupThatMustMatchGivesItsTextAndPunctuationBetweenGroupsItsOwn() {
    assertThat(needs("(Chrome)/(\\d+)\\.(\\d+)", false)).containsExactly("Chrome", "/", ".");
  }

  @Test
  void optionalPartsGiveNothing() {
    assertThat(needs("(GeoEvent Server) (\\d+)(?:\\.(\\d+)(?:\\.(\\d+)|)|)", false))
        .containsExactly("GeoEvent Server", " ");
    assertThat(needs("ab?c", false)).containsExactlyInAnyOrder("a", "c");
    assertThat(needs("x*(?:Foo)?Bar {0,2}Baz", false)).containsExactly("Bar", "Baz");
    assertThat(needs("a{0,2}b", false)).containsExactly("b");
  }

  @Test
  void aRepeatedPartCountsOnceAndEndsItsRun() {
    assertThat(needs("ab+c", false)).containsExactly("ab", "c");
    assertThat(needs("(?:Foo)+Bar", false)).containsExactly("Foo", "Bar");
    assertThat(needs("x{2,}y", false)).containsExactlyInAnyOrder("x", "y");
  }

  @Test
  void alternativesNeedAllThatOneOfThemNeedsUnlessOneNeedsNothing() {
    assertThat(needs("(Edge|Edg)/(\\d+)", false)).containsExactly("Edge|Edg", "/");
    assertThat(needs("Foo|Bar", false)).containsExactly("Foo|Bar");
    assertThat(needs("Windows {0,2}Phone|BREW", false)).containsExactly("Windows+Phone|BREW");
    assertThat(needs("(?:Foo [a-z]Bar|Baz)x", false)).containsExactly("Foo +Bar|Baz", "x");
    assertThat(needs("(?:Foo|\\d+)x", false)).containsExactly("x");
    // An alternative with no clause of its own gives the alternatives of its best clause.
    assertThat(needs("A(?:(?:Foo|Fo)o|Bar)", false)).containsExactlyInAnyOrder("o|Bar", "A");
    assertThat(needs("A(?:(?:Foo|Fo)|Bar)", false)).containsExactly("Foo|Fo|Bar", "A");
  }

  @Test
  void lookaroundsClassesAndEscapesOfLettersGiveNothing() {
    assertThat(needs("Foo(?=Bar)(?!Baz)(?<=o)", false)).containsExactly("Foo");
    assertThat(needs("[A-Z]x[^]]?y\\d\\bz", false)).containsExactlyInAnyOrder("x", "y", "z");
    assertThat(needs("(a)\\1b\\p{L}c\\x41d\\u0041e", false))
        .containsExactlyInAnyOrder("a", "b", "c", "d", "e");
    assertThat(needs("\\QFoo\\Ebar", false)).containsExactly("bar");
  }

  @Test
  void whatItCannotReadNeedsNothing() {
    assertThat(needs("(?iu)Kelvin", false)).isEmpty();
    assertThat(needs("(?x) Foo Bar", false)).isEmpty();
    assertThat(needs("Foo[abc", false)).isEmpty();
    assertThat(needs("Foo)Bar", false)).isEmpty();
  }

  @Test
  void aPatternThatIgnoresCaseOrSpellsBothCasesNeedsItsTextLowered() {
    assertThat(needs("(Nexus) 7", true)).containsExactly("nexus", " 7");
    assertThat(needs("x(?i)Foo", false)).containsExactly("foo", "x");
    assertThat(RegexLiterals.of("(?im:Foo)", false).lowered()).isTrue();
    assertThat(RegexLiterals.of("(?:Foo)", false).lowered()).isFalse();
    RegexLiterals.Needs spider = RegexLiterals.of("(?:[Ss][Pp][Ii][Dd][Ee][Rr]|[Ss]crape)/", false);
    assertThat(spider.lowered()).isTrue();
    assertThat(needs("(?:[Ss][Pp][Ii][Dd][Ee][Rr]|[Ss]crape)/", false))
        .containsExactly("spider|scrape", "/");
  }
}
