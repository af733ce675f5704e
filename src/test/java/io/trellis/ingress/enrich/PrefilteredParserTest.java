package io.trellis.ingress.enrich;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import ua_parser.Parser;

/**
 * {@link PrefilteredParser} must answer what uap-java's {@link Parser} answers, for every user
 * agent: here on the user agents of ua-parser's own tests, which reach nearly every pattern ({@code
 * PrefilteredParserPropertiesTest}: those strings changed; {@code PrefilteredParserCorpusIT}: all
 * of them).
 */
class PrefilteredParserTest {
  static final List<String> CORPUS = corpus();
  static final Parser UAP = new Parser();
  static final PrefilteredParser PREFILTERED = new PrefilteredParser();

  /** Every sixteenth of them here (all: about 20 s, in the IT): 1,114 user agents. */
  @Test
  void theUserAgentsOfUaParsersTestsGetUapJavasAnswers() {
    int compared = 0;
    for (int i = 0; i < CORPUS.size(); i += 16) {
      String ua = CORPUS.get(i);
      assertThat(PREFILTERED.parse(ua)).as(ua).isEqualTo(UAP.parse(ua));
      compared++;
    }
    assertThat(compared).isGreaterThan(1_100);
  }

  static List<String> corpus() {
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(
                new GZIPInputStream(
                    PrefilteredParserTest.class.getResourceAsStream("uap-core-user-agents.txt.gz")),
                StandardCharsets.UTF_8))) {
      return r.lines().filter(l -> !l.isEmpty()).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
