package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BodyDecoderTest {
  private static final byte[] FORM = "a=1&b=%C3%A9".getBytes(StandardCharsets.US_ASCII);

  @Test
  void aFormIsKnownByItsMediaTypeInAnyCaseWithSpacesAndParameters() {
    for (String type :
        List.of(
            "application/x-www-form-urlencoded",
            "Application/X-WWW-Form-URLEncoded",
            " application/x-www-form-urlencoded ",
            "application/x-www-form-urlencoded;charset=UTF-8",
            "application/x-www-form-urlencoded \t; charset=utf-8")) {
      assertThat(BodyDecoder.isForm(type)).as(type).isTrue();
    }
    for (String type :
        Arrays.asList(
            null,
            "",
            ";",
            "application/json",
            "application/x-www-form-urlencode",
            "application/x-www-form-urlencodedx",
            "xapplication/x-www-form-urlencoded",
            "application/x-www-form-urlencoded-x; charset=utf-8",
            "multipart/form-data")) {
      assertThat(BodyDecoder.isForm(type)).as(String.valueOf(type)).isFalse();
    }
  }

  @Test
  void aFormBodyIsReadAsFieldsAndAnyOtherAsText() throws Exception {
    BodyDecoder.Decoded form =
        BodyDecoder.decode(
            null, "Application/X-WWW-Form-Urlencoded ; charset=UTF-8", FORM, 1 << 20, 100);
    assertThat(form.formFields()).containsExactly(Map.entry("a", "1"), Map.entry("b", "é"));

    BodyDecoder.Decoded json = BodyDecoder.decode(null, "application/json", FORM, 1 << 20, 100);
    assertThat(json.formFields()).isEmpty();
    assertThat(json.text()).isEqualTo("a=1&b=%C3%A9");
  }

  @Test
  void aCharsetIsReadOnlyFromAParameterAndAnUnknownOneIsRefused() throws Exception {
    byte[] latin1 = "{\"k\":\"é\"}".getBytes(StandardCharsets.ISO_8859_1);
    assertThat(
            BodyDecoder.decode(null, "application/json; charset=ISO-8859-1", latin1, 1 << 20, 100)
                .text())
        .isEqualTo("{\"k\":\"é\"}");
    // Without a parameter the body is UTF-8, and these bytes are not: replaced, not refused.
    assertThat(BodyDecoder.decode(null, "application/json", latin1, 1 << 20, 100).text())
        .isEqualTo("{\"k\":\"\ufffd\"}");
    assertThatThrownBy(
            () ->
                BodyDecoder.decode(
                    null, "application/json; charset=klingon-8", latin1, 1 << 20, 100))
        .isInstanceOf(BodyDecoder.RejectedException.class);
  }
}
