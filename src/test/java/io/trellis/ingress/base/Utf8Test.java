package io.trellis.ingress.base;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Valid UTF-8 is exactly what the JDK decodes and encodes back to the same bytes. */
class Utf8Test {
  private static boolean roundTrips(byte[] b) {
    return Arrays.equals(new String(b, StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8), b);
  }

  @Test
  void theEdgesOfEachSequenceLengthAgreeWithTheJdk() {
    String[] cases = {
      "",
      "41",
      "7f",
      "80",
      "c0af",
      "c1bf",
      "c280",
      "dfbf",
      "df",
      "e08080",
      "e09fbf",
      "e0a080",
      "ed9fbf",
      "eda080",
      "edbfbf",
      "ee8080",
      "efbfbd",
      "efbf",
      "f08f8080",
      "f0908080",
      "f48fbfbf",
      "f4908080",
      "f5808080",
      "ff",
      "41c3",
      "c3a9c3",
      "e282ac41"
    };
    for (String hex : cases) {
      byte[] b = HexFormat.of().parseHex(hex);
      assertThat(Utf8.isValid(b)).as(hex).isEqualTo(roundTrips(b));
    }
  }

  @Test
  void randomBytesAgreeWithTheJdk() {
    Random random = new Random(18);
    int valid = 0;
    for (int i = 0; i < 200_000; i++) {
      byte[] b = new byte[1 + random.nextInt(6)];
      random.nextBytes(b);
      if (random.nextBoolean()) {
        // Mostly continuation bytes after a lead byte: the interesting region.
        for (int j = 1; j < b.length; j++) {
          b[j] = (byte) (0x80 | b[j] & 0x3f);
        }
      }
      boolean expected = roundTrips(b);
      valid += expected ? 1 : 0;
      assertThat(Utf8.isValid(b)).as(HexFormat.of().formatHex(b)).isEqualTo(expected);
    }
    assertThat(valid).isGreaterThan(1000);
  }

  @Test
  void textOfEveryPlaneIsValid() {
    String text = "a é € 𝄞 \uFFFD \uD800\uDC00 \uDBFF\uDFFF";
    assertThat(Utf8.isValid(text.getBytes(StandardCharsets.UTF_8))).isTrue();
  }

  @Test
  void aRangeAmidAsciiRunsAgreesWithTheJdkOnThatRange() {
    // ASCII runs of every length around the bytes, so that a bad byte lands at every place of a
    // word of eight, and the range's ends cut through them.
    Random random = new Random(19);
    for (int i = 0; i < 100_000; i++) {
      byte[] b = new byte[random.nextInt(40)];
      for (int j = 0; j < b.length; j++) {
        int kind = random.nextInt(8);
        b[j] = (byte) (kind < 6 ? 0x20 + random.nextInt(0x5f) : random.nextInt(256));
      }
      int from = b.length == 0 ? 0 : random.nextInt(b.length);
      int to = from + (b.length == from ? 0 : random.nextInt(b.length - from + 1));
      boolean expected = roundTrips(Arrays.copyOfRange(b, from, to));
      assertThat(Utf8.isValid(b, from, to))
          .as("%s [%d, %d)", HexFormat.of().formatHex(b), from, to)
          .isEqualTo(expected);
    }
  }
}
