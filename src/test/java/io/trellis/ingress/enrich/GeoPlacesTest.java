package io.trellis.ingress.enrich;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Places remembered by address give what the databases give, within the cache's size. */
class GeoPlacesTest {
  @Test
  void aRememberedAddressGivesTheDatabasesAnswerWithoutALookup() throws IOException {
    GeoIp asn = GeoIp.open(GeoAsnTest.asnDatabase());
    try (GeoPlaces places = new GeoPlaces(List.of(asn), 10)) {
      GeoIp.Place first = places.of("1.0.0.7");

      assertThat(first).isEqualTo(asn.lookup("1.0.0.7"));
      assertThat(first.asn()).isEqualTo("AS15169");
      assertThat(places.of("1.0.0.7")).isSameAs(first);
      assertThat(places.cached()).isEqualTo(1);
    }
  }

  @Test
  void theCacheHoldsAtMostItsSizeAndStillAnswersRight() throws IOException {
    GeoIp asn = GeoIp.open(GeoAsnTest.asnDatabase());
    try (GeoPlaces places = new GeoPlaces(List.of(asn), 2)) {
      for (String ip : List.of("1.0.0.7", "12.81.100.1", "2001:1700::1", "9.9.9.9", "1.0.0.7")) {
        assertThat(places.of(ip)).as(ip).isEqualTo(asn.lookup(ip));
        assertThat(places.cached()).isLessThanOrEqualTo(2);
      }
    }
  }

  @Test
  void withoutDatabasesNothingIsLookedUpOrRemembered() throws IOException {
    try (GeoPlaces places = new GeoPlaces(List.of(), 10)) {
      assertThat(places.of("1.0.0.7")).isEqualTo(GeoIp.Place.NONE);
      assertThat(places.cached()).isZero();
    }
  }
}
