package io.trellis.ingress.enrich;

import java.io.Closeable;
import java.io.IOException;
import java.util.List;

/**
 * The place of a client address from the operator's GeoIP databases, each filling what the earlier
 * ones left empty, remembered by address. A lookup walks each file's tree and decodes its record
 * (about a microsecond); a visitor sends many events from one address, so most are a hash lookup.
 * The files do not change while the service runs, so a remembered place is what a lookup gives.
 * Thread-safe.
 */
final class GeoPlaces implements Closeable {
  private final List<GeoIp> files;
  private final DerivedValues<String, GeoIp.Place> places;

  /**
   * @param cacheSize most distinct addresses remembered (the most asked for)
   */
  GeoPlaces(List<GeoIp> files, int cacheSize) {
    this.files = List.copyOf(files);
    this.places = new DerivedValues<>(cacheSize);
  }

  boolean isEmpty() {
    return files.isEmpty();
  }

  GeoIp.Place of(String ip) {
    return files.isEmpty() ? GeoIp.Place.NONE : places.get(ip, this::lookup);
  }

  int cached() {
    return places.size();
  }

  private GeoIp.Place lookup(String ip) {
    GeoIp.Place place = GeoIp.Place.NONE;
    for (int i = 0; i < files.size() && !place.complete(); i++) {
      place = place.or(files.get(i).lookup(ip));
    }
    return place;
  }

  @Override
  public void close() throws IOException {
    for (GeoIp g : files) {
      g.close();
    }
  }

  @Override
  public String toString() {
    return files.toString();
  }
}
