package io.trellis.ingress.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * The lookup of a list of names in a request's parameters, indexed once per request, against a
 * search per name.
 */
class FirstParamTest {
  private static final List<JsonFields.Names> LISTS =
      List.of(
          JsonFields.names(ClickIds.GENERIC),
          JsonFields.names(ClickIds.PLATFORMS),
          JsonFields.names(List.of("utm_source", "source")),
          JsonFields.names(List.of("event_type", "event")),
          JsonFields.names(List.of("session_id", "sessionId", "sid")));

  /**
   * Parameters named from the lists and beside them, repeated, empty and valueless: the value of
   * the first name, in the list's order, whose first parameter is not empty.
   */
  @Property(tries = 3000)
  void answersAsASearchPerNameDoes(
      @ForAll("params") List<Map.Entry<String, String>> params,
      @ForAll("lists") JsonFields.Names names) {
    RequestData req = request(params);

    assertThat(firstParam(req, names)).isEqualTo(searchPerName(req, names.list()));
  }

  @Example
  void aLaterNameDoesNotWinOverAnEarlierOneAndOnlyANamesFirstParameterCounts() {
    JsonFields.Names platforms = JsonFields.names(ClickIds.PLATFORMS);
    // fbclid comes after gclid in the list; gclid's first parameter is empty, its second is not.
    RequestData req =
        request(
            List.of(
                Map.entry("fbclid", "fb"),
                Map.entry("gclid", ""),
                Map.entry("gclid", "g2"),
                Map.entry("gbraid", "gb")));

    assertThat(firstParam(req, platforms)).isEqualTo("gb");
    assertThat(firstParam(request(List.of(Map.entry("gclid", ""))), platforms)).isNull();
  }

  @Provide
  Arbitrary<JsonFields.Names> lists() {
    return Arbitraries.of(LISTS);
  }

  @Provide
  Arbitrary<List<Map.Entry<String, String>>> params() {
    List<String> known = new ArrayList<>();
    LISTS.forEach(n -> known.addAll(n.list()));
    Arbitrary<String> name =
        Arbitraries.frequencyOf(
            Tuple.of(4, Arbitraries.of(known)),
            Tuple.of(1, Arbitraries.of("e", "dl", "GCLID", "gclid ", "", "utm_medium")));
    Arbitrary<String> value = Arbitraries.of("", "", "v1", "v2", "a b", "é");
    return Arbitraries.entries(name, value).list().ofMaxSize(20);
  }

  private static String firstParam(RequestData req, JsonFields.Names names) {
    return names.firstParam(JsonFields.firstParams(req.query()));
  }

  /** Each name in turn, its first parameter's value when not empty. */
  private static String searchPerName(RequestData req, List<String> names) {
    for (String name : names) {
      String v = req.param(name);
      if (v != null && !v.isEmpty()) {
        return v;
      }
    }
    return null;
  }

  private static RequestData request(List<Map.Entry<String, String>> params) {
    return new RequestData("GET", "http://x/pixel", List.of(), params, "127.0.0.1", 0);
  }
}
