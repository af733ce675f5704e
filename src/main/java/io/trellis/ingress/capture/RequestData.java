package io.trellis.ingress.capture;

import java.util.List;
import java.util.Map;

/**
 * An HTTP request as the capture step sees it, independent of the HTTP framework.
 *
 * @param url the full request URL as received (scheme, host, path and query)
 * @param headers header names and values in arrival order (names in any case)
 * @param query decoded query parameters in arrival order
 * @param peerIp the socket peer's address
 * @param receivedAt receipt time, epoch milliseconds
 */
public record RequestData(
    String method,
    String url,
    List<Map.Entry<String, String>> headers,
    List<Map.Entry<String, String>> query,
    String peerIp,
    long receivedAt) {

  /** The same request with other query parameters (a form body's, or a batch envelope's too). */
  public RequestData withQuery(List<Map.Entry<String, String>> params) {
    return new RequestData(method, url, headers, params, peerIp, receivedAt);
  }

  /** The first value of a header, case-insensitively, or null. */
  public String header(String name) {
    for (int i = 0; i < headers.size(); i++) {
      Map.Entry<String, String> h = headers.get(i);
      if (h.getKey().equalsIgnoreCase(name)) {
        return h.getValue();
      }
    }
    return null;
  }

  /** Method and path only: headers and query carry credentials. */
  @Override
  public String toString() {
    int q = url.indexOf('?');
    return "RequestData{" + method + " " + (q < 0 ? url : url.substring(0, q)) + "}";
  }

  /** The first value of a query parameter, or null. */
  public String param(String name) {
    return UrlEncoding.first(query, name);
  }
}
