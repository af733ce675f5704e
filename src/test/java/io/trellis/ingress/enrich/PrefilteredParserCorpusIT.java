package io.trellis.ingress.enrich;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import ua_parser.Client;
import ua_parser.Parser;

/**
 * All 17,816 user agents of ua-parser's own tests through uap-java and through {@link
 * PrefilteredParser} (about 20 s, most of it uap-java's): the same answer for each. The unit test
 * takes every sixteenth.
 */
class PrefilteredParserCorpusIT {
  @Test
  void everyUserAgentOfUaParsersTestsGetsUapJavasAnswer() {
    Parser uap = new Parser();
    PrefilteredParser prefiltered = new PrefilteredParser();
    List<String> corpus = PrefilteredParserTest.corpus();
    List<String> differ = new ArrayList<>();
    for (String ua : corpus) {
      Client expected = uap.parse(ua);
      Client actual = prefiltered.parse(ua);
      if (!actual.equals(expected)) {
        differ.add(ua + "\n  uap-java:    " + expected + "\n  prefiltered: " + actual);
      }
    }
    assertThat(corpus).hasSizeGreaterThan(17_000);
    assertThat(differ).isEmpty();
  }
}
