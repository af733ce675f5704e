package io.trellis.ingress.enrich;

import static java.util.Objects.requireNonNull;

import com.maxmind.db.Reader;
import com.maxmind.geoip2.DatabaseReader;
import com.maxmind.geoip2.exception.GeoIp2Exception;
import com.maxmind.geoip2.model.AsnResponse;
import com.maxmind.geoip2.model.CityResponse;
import com.maxmind.geoip2.model.CountryResponse;
import com.maxmind.geoip2.record.Subdivision;
import java.io.Closeable;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Country (ISO 3166-1 alpha-2), region, city and autonomous system of an address, from a
 * MaxMind-format database ({@code .mmdb}) the operator names with {@code enrich.geoip.database}.
 *
 * <p>Two layouts are read. MaxMind's own databases (GeoLite2 and GeoIP2 City, Country, ASN,
 * Enterprise; their type names say which) through MaxMind's {@code geoip2} {@link DatabaseReader};
 * the flat layout of the ip-location-db builds ({@code country_code}, {@code state1}, {@code city},
 * {@code autonomous_system_number}) through the same project's {@code maxmind-db} {@link Reader},
 * which {@code geoip2} is built on. The file is memory-mapped; lookups need no lock. Thread-safe.
 */
final class GeoIp implements Closeable {
  record Place(String country, String region, String city, String asn) {
    static final Place NONE = new Place("", "", "", "");

    /** This place, its empty fields filled from another database's answer. */
    Place or(Place other) {
      return new Place(
          country.isEmpty() ? other.country : country,
          region.isEmpty() ? other.region : region,
          city.isEmpty() ? other.city : city,
          asn.isEmpty() ? other.asn : asn);
    }

    boolean complete() {
      return !country.isEmpty() && !region.isEmpty() && !city.isEmpty() && !asn.isEmpty();
    }
  }

  private enum Layout {
    CITY,
    COUNTRY,
    ASN,
    FLAT
  }

  private final Path file;
  private final Layout layout;
  private final boolean ipv4Only;
  private final DatabaseReader maxmind;
  private final Reader flat;

  private GeoIp(Path file, Layout layout, boolean ipv4Only, DatabaseReader maxmind, Reader flat) {
    this.file = file;
    this.layout = layout;
    this.ipv4Only = ipv4Only;
    this.maxmind = maxmind;
    this.flat = flat;
  }

  /** Opens a database; fails with the file's name when it is missing or not an .mmdb file. */
  static GeoIp open(Path file) throws IOException {
    requireNonNull(file, "file is null");
    Reader probe;
    try {
      probe = new Reader(file.toFile());
    } catch (IOException | RuntimeException e) {
      throw new IOException(file + " is not a readable MaxMind database: " + e.getMessage(), e);
    }
    String type = probe.getMetadata().databaseType();
    // An IPv4-only tree answers an IPv6 address with the record of its first 32 bits.
    boolean ipv4Only = probe.getMetadata().ipVersion() == 4;
    Layout layout;
    if (type.contains("City") || type.contains("Enterprise")) {
      layout = Layout.CITY;
    } else if (type.contains("Country")) {
      layout = Layout.COUNTRY;
    } else if (type.contains("ASN")) {
      layout = Layout.ASN;
    } else {
      return new GeoIp(file, Layout.FLAT, ipv4Only, null, probe);
    }
    probe.close();
    return new GeoIp(
        file, layout, ipv4Only, new DatabaseReader.Builder(file.toFile()).build(), null);
  }

  /** The place of an address; {@link Place#NONE} for addresses not in the database. */
  Place lookup(String ip) {
    InetAddress addr = address(ip);
    if (addr == null || (ipv4Only && addr instanceof Inet6Address)) {
      return Place.NONE;
    }
    try {
      return switch (layout) {
        case CITY -> maxmind.tryCity(addr).map(GeoIp::city).orElse(Place.NONE);
        case COUNTRY -> maxmind.tryCountry(addr).map(GeoIp::country).orElse(Place.NONE);
        case ASN -> maxmind.tryAsn(addr).map(GeoIp::asn).orElse(Place.NONE);
        case FLAT -> flat(addr);
      };
    } catch (IOException | GeoIp2Exception e) {
      return Place.NONE;
    }
  }

  private static Place city(CityResponse r) {
    Subdivision region = r.mostSpecificSubdivision();
    return new Place(
        orEmpty(r.country().isoCode()),
        region == null ? "" : orEmpty(region.name()),
        orEmpty(r.city().name()),
        r.traits() == null || r.traits().autonomousSystemNumber() == null
            ? ""
            : "AS" + r.traits().autonomousSystemNumber());
  }

  private static Place country(CountryResponse r) {
    return new Place(orEmpty(r.country().isoCode()), "", "", "");
  }

  private static Place asn(AsnResponse r) {
    Long n = r.autonomousSystemNumber();
    return new Place("", "", "", n == null ? "" : "AS" + n);
  }

  @SuppressWarnings("unchecked")
  private Place flat(InetAddress addr) throws IOException {
    Map<String, Object> m = flat.get(addr, Map.class);
    if (m == null) {
      return Place.NONE;
    }
    Object asn = m.get("autonomous_system_number");
    return new Place(
        text(m.get("country_code")),
        text(m.get("state1")),
        text(m.get("city")),
        asn == null ? "" : "AS" + asn);
  }

  private static String text(Object o) {
    return o == null ? "" : o.toString();
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }

  /** An IP literal as an address, without DNS; null for anything else or a private address. */
  private static InetAddress address(String ip) {
    if (ip == null || ip.isEmpty()) {
      return null;
    }
    for (int i = 0; i < ip.length(); i++) {
      char c = ip.charAt(i);
      if (!(Character.digit(c, 16) >= 0 || c == '.' || c == ':')) {
        return null;
      }
    }
    try {
      return InetAddress.getByName(ip);
    } catch (UnknownHostException e) {
      return null;
    }
  }

  @Override
  public void close() throws IOException {
    if (maxmind != null) {
      maxmind.close();
    }
    if (flat != null) {
      flat.close();
    }
  }

  @Override
  public String toString() {
    return "GeoIp{" + file + ", " + layout + "}";
  }
}
