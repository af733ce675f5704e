package io.trellis.ingress.config;

import java.util.regex.Pattern;

/**
 * Masks the secrets a URL can carry before it is printed or logged: the user-info part ({@code
 * http://user:password@host}) and the values of query parameters that name a secret ({@code
 * ?password=…}, {@code &token=…}). Applied to any text, it masks every URL in it.
 */
public final class UrlSecrets {
  private static final Pattern USER_INFO = Pattern.compile("(?<=://)[^/@\\s]*@");
  private static final Pattern SECRET_PARAM =
      Pattern.compile(
          "(?i)([?&;](?:password|passwd|pwd|pass|secret|token|access_token|api_key|apikey|key"
              + "|auth|credentials?|sig|signature)=)[^&#\\s]*");

  private UrlSecrets() {}

  public static String mask(String text) {
    if (text == null || text.isEmpty()) {
      return text;
    }
    String s = USER_INFO.matcher(text).replaceAll("****@");
    return SECRET_PARAM.matcher(s).replaceAll("$1****");
  }
}
