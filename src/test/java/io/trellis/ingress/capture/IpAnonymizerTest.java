package io.trellis.ingress.capture;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class IpAnonymizerTest {
  @Test
  void ipv4LosesItsLastOctet() {
    assertThat(IpAnonymizer.anonymize("203.0.113.77")).isEqualTo("203.0.113.0");
    assertThat(IpAnonymizer.anonymize(" 8.8.4.4 ")).isEqualTo("8.8.4.0");
  }

  @Test
  void ipv6LosesItsLast80Bits() {
    assertThat(IpAnonymizer.anonymize("2001:db8:85a3:8d3:1319:8a2e:370:7348"))
        .isEqualTo("2001:db8:85a3::");
    assertThat(IpAnonymizer.anonymize("2a00:1450:4001:82b::200e")).isEqualTo("2a00:1450:4001::");
    assertThat(IpAnonymizer.anonymize("[2001:db8::1]")).isEqualTo("2001:db8::");
    assertThat(IpAnonymizer.anonymize("::1")).isEqualTo("::");
  }

  @Test
  void anIpv4MappedIpv6AddressIsAnonymizedAsIpv4() {
    assertThat(IpAnonymizer.anonymize("::ffff:198.51.100.23")).isEqualTo("198.51.100.0");
  }

  @Test
  void somethingThatIsNotAnAddressIsNotOne() {
    assertThat(IpAnonymizer.anonymize("unknown")).isNull();
    assertThat(IpAnonymizer.anonymize("example.com")).isNull();
    assertThat(IpAnonymizer.anonymizeOrEmpty("_hidden")).isEmpty();
  }

  @Test
  void everyAddressOfAForwardingHeaderIsAnonymizedAndTheRestKept() {
    assertThat(IpAnonymizer.anonymizeAll("203.0.113.77, 2001:db8:85a3:8d3:1319:8a2e:370:7348"))
        .isEqualTo("203.0.113.0, 2001:db8:85a3::");
    assertThat(
            IpAnonymizer.anonymizeAll(
                "for=192.0.2.43;proto=https, for=\"[2001:db8:cafe::17]:4711\";by=unknown,"
                    + " for=\"198.51.100.9:8080\""))
        .isEqualTo(
            "for=192.0.2.0;proto=https, for=\"[2001:db8:cafe::]:4711\";by=unknown,"
                + " for=\"198.51.100.0:8080\"");
  }
}
