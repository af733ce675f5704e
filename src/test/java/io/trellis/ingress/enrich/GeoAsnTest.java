package io.trellis.ingress.enrich;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.capture.Endpoint;
import io.trellis.ingress.event.Enrichment;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code geo_asn} from MaxMind's own GeoLite2 ASN test database (src/test/resources/geoip), read
 * through the {@code GeoLite2-ASN} layout; its networks are listed in MaxMind's {@code
 * source-data/GeoLite2-ASN-Test.json}.
 */
class GeoAsnTest {
  private static final long NOW = 1_796_403_600_000L;

  static Path asnDatabase() {
    try {
      return Path.of(GeoAsnTest.class.getResource("/geoip/GeoLite2-ASN-Test.mmdb").toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Enrichment from(Enricher enricher, String ip) {
    return enricher.enrich(Captured.get(Endpoint.PIXEL, "event=open", NOW, ip));
  }

  @Test
  void autonomousSystemOfIpv4AndIpv6Addresses() throws IOException {
    try (Enricher enricher =
        Enricher.open(
            EnrichConfig.defaults().withGeoipDatabases(List.of(asnDatabase().toString())))) {
      // 1.0.0.0/24 is AS15169, 12.81.96.0/19 AS7018 (no organization), 2001:1700::/27 AS6730.
      assertThat(from(enricher, "1.0.0.7").geoAsn()).isEqualTo("AS15169");
      assertThat(from(enricher, "12.81.100.1").geoAsn()).isEqualTo("AS7018");
      assertThat(from(enricher, "2001:1700::1").geoAsn()).isEqualTo("AS6730");
      // An ASN database knows no place.
      assertThat(from(enricher, "1.0.0.7").geoCountry()).isEmpty();
    }
  }

  @Test
  void addressesOutsideTheDatabaseHaveNoAsn() throws IOException {
    try (Enricher enricher =
        Enricher.open(
            EnrichConfig.defaults().withGeoipDatabases(List.of(asnDatabase().toString())))) {
      assertThat(from(enricher, "9.9.9.9").geoAsn()).isEmpty();
      assertThat(from(enricher, "10.0.0.1").geoAsn()).isEmpty();
      assertThat(from(enricher, "2a00:1450:4001:82b::200e").geoAsn()).isEmpty();
    }
  }
}
