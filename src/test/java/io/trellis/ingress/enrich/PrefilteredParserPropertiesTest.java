package io.trellis.ingress.enrich;

import static io.trellis.ingress.enrich.PrefilteredParserTest.CORPUS;
import static io.trellis.ingress.enrich.PrefilteredParserTest.PREFILTERED;
import static io.trellis.ingress.enrich.PrefilteredParserTest.UAP;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * {@link PrefilteredParser} against uap-java on the user agents of ua-parser's tests cut, joined,
 * padded with random text and with their case changed: strings no pattern was written for.
 */
class PrefilteredParserPropertiesTest {
  @Property(tries = 400)
  void changedUserAgentsGetUapJavasAnswers(@ForAll("changed") String ua) {
    assertThat(PREFILTERED.parse(ua)).as(ua).isEqualTo(UAP.parse(ua));
  }

  @Provide
  Arbitrary<String> changed() {
    Arbitrary<String> real = Arbitraries.of(CORPUS);
    Arbitrary<Integer> cut = Arbitraries.integers().between(0, 400);
    Arbitrary<String> noise = Arbitraries.strings().ofMaxLength(24);
    return Arbitraries.oneOf(
        Combinators.combine(real, cut).as((ua, n) -> ua.substring(0, Math.min(n, ua.length()))),
        Combinators.combine(real, real).as((a, b) -> a + " " + b),
        Combinators.combine(real, noise, cut)
            .as(
                (ua, s, n) -> {
                  int at = Math.min(n, ua.length());
                  return ua.substring(0, at) + s + ua.substring(at);
                }),
        real.map(ua -> ua.toUpperCase(Locale.ROOT)),
        real.map(ua -> ua.toLowerCase(Locale.ROOT)));
  }
}
