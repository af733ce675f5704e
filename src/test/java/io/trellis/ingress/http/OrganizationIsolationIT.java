package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.auth.ApiKeys;
import io.trellis.ingress.cli.Main;
import io.trellis.ingress.testing.Await;
import io.trellis.ingress.testing.RunningService;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client holding acme's key tries every way it could to write into the organization "victim";
 * every event it manages to store must belong to acme.
 */
class OrganizationIsolationIT {
  @TempDir Path dir;
  private RunningService service;
  private String acmeKey;
  private String victimKey;

  @BeforeEach
  void start() {
    // Clients are told apart by X-Forwarded-For from the local "proxy", as behind a balancer.
    service = RunningService.start(dir, Map.of("capture.trusted-proxies", "127.0.0.1"));
    acmeKey = service.createKey("acme");
    victimKey = service.createKey("victim");
  }

  @AfterEach
  void stop() {
    service.close();
  }

  private HttpRequest.Builder request(String pathAndQuery) {
    return HttpRequest.newBuilder(service.uri(pathAndQuery))
        .header("Authorization", "Bearer " + acmeKey);
  }

  /** Waits for the events acknowledged so far, then checks none went to the victim. */
  private List<JsonNode> assertAllStoredUnderAcme(int acknowledged) {
    List<JsonNode> events = service.awaitStored(es -> es.size() >= acknowledged);
    assertThat(events).hasSize(acknowledged);
    assertThat(events)
        .allSatisfy(e -> assertThat(e.get("organization_id").asText()).isEqualTo("acme"));
    assertThat(dir.resolve("events").resolve("org=victim")).doesNotExist();
    return events;
  }

  @Test
  void organizationFieldsInTheBodyAreIgnored() {
    String body =
        "{\"event\":\"signup\",\"organization_id\":\"victim\",\"organizationId\":\"victim\","
            + "\"org_id\":\"victim\",\"orgId\":\"victim\",\"organization\":\"victim\","
            + "\"org\":\"victim\",\"tenant\":\"victim\"}";

    HttpResponse<String> r = service.postJson("/events", acmeKey, body);

    assertThat(r.statusCode()).isEqualTo(200);
    List<JsonNode> events = assertAllStoredUnderAcme(1);
    assertThat(events.get(0).get("body").asText()).isEqualTo(body); // still stored losslessly
  }

  @Test
  void organizationQueryParametersAreIgnoredOnEveryEndpoint() {
    assertThat(sendQueryClaims()).allSatisfy(a -> assertThat(a.statusCode()).isEqualTo(200));
    assertAllStoredUnderAcme(5);
  }

  private List<HttpResponse<String>> sendQueryClaims() {
    String claim = "organization_id=victim&org=victim&organization=victim&org_id=victim";
    List<HttpResponse<String>> answers = new ArrayList<>();
    answers.add(service.send(request("/track?event=pageview&" + claim).GET()));
    answers.add(service.send(request("/pixel?" + claim).GET()));
    answers.add(
        service.send(request("/pixel?" + claim).POST(HttpRequest.BodyPublishers.ofString("x=1"))));
    answers.add(
        service.send(
            request("/events?" + claim)
                .POST(HttpRequest.BodyPublishers.ofString("{\"event\":\"x\"}"))));
    // The key in the query string, as pixels and links send it.
    answers.add(service.get("/pixel?api_key=" + acmeKey + "&" + claim));
    return answers;
  }

  @Test
  void organizationHeadersAreIgnored() {
    HttpResponse<String> r =
        service.send(
            request("/events")
                .header("X-Organization-Id", "victim")
                .header("X-Org-Id", "victim")
                .header("X-Trellis-Organization", "victim")
                .header("X-Tenant-Id", "victim")
                .header("Organization", "victim")
                .POST(HttpRequest.BodyPublishers.ofString("{\"event\":\"x\"}")));

    assertThat(r.statusCode()).isEqualTo(200);
    assertAllStoredUnderAcme(1);
  }

  @Test
  void batchItemsClaimingAnotherOrganizationAreStoredUnderTheKeysOrganization() {
    // An organization named inside an item is just data: it routes nothing.
    String items =
        "[{\"event\":\"a\",\"organization_id\":\"victim\"},"
            + "{\"event\":\"b\",\"context\":{\"organization_id\":\"victim\"}}]";
    HttpResponse<String> array = service.postJson("/batch?organization_id=victim", acmeKey, items);
    HttpResponse<String> wrapped =
        service.postJson(
            "/batch", acmeKey, "{\"organization_id\":\"victim\",\"batch\":" + items + "}");

    assertThat(array.statusCode()).isEqualTo(200);
    assertThat(wrapped.statusCode()).isEqualTo(200);
    assertThat(RunningService.json(array.body()).get("accepted").asInt()).isEqualTo(2);
    assertAllStoredUnderAcme(4);
  }

  @Test
  void aBatchItemCarryingAnotherOrganizationsKeyIsRefusedWhole() {
    // The victim's key inside an item is a second credential: the batch is refused and nothing of
    // it is stored, so the victim's key never lands in acme's data.
    String items = "[{\"event\":\"a\"},{\"event\":\"c\",\"api_key\":\"" + victimKey + "\"}]";
    HttpResponse<String> r = service.postJson("/batch", acmeKey, items);

    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(RunningService.json(r.body()).path("error").asText())
        .isEqualTo("conflicting_api_keys");
    assertThat(r.body()).doesNotContain(victimKey);
    assertThat(service.postJson("/events", acmeKey, "{\"event\":\"after\"}").statusCode())
        .isEqualTo(200);
    assertAllStoredUnderAcme(1);
  }

  @Test
  void onlyTheRequestsCredentialsChooseTheOrganization() {
    // Two different keys in one request are refused: nothing may choose between them.
    HttpResponse<String> bodyKey =
        service.send(
            request("/events")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"event\":\"x\",\"api_key\":\"" + victimKey + "\"}")));
    assertThat(bodyKey.statusCode()).isEqualTo(400);
    assertThat(RunningService.json(bodyKey.body()).path("error").asText())
        .isEqualTo("conflicting_api_keys");
    HttpResponse<String> both =
        service.send(
            request("/track?event=x&api_key=" + victimKey).header("X-Api-Key", victimKey).GET());
    assertThat(both.statusCode()).isEqualTo(400);

    // The same key given in several places is one credential.
    HttpResponse<String> same = service.send(request("/track?event=x&api_key=" + acmeKey).GET());
    assertThat(same.statusCode()).isEqualTo(200);

    // Basic auth names the key as user; a password naming another key changes nothing.
    String basic =
        Base64.getEncoder()
            .encodeToString((acmeKey + ":" + victimKey).getBytes(StandardCharsets.UTF_8));
    HttpResponse<String> basicAuth =
        service.send(
            HttpRequest.newBuilder(service.uri("/events"))
                .header("Authorization", "Basic " + basic)
                .POST(HttpRequest.BodyPublishers.ofString("{\"event\":\"x\"}")));
    assertThat(basicAuth.statusCode()).isEqualTo(200);

    assertAllStoredUnderAcme(2);
  }

  @Test
  void everyDirectoryTheFilesSinkWroteBelongsToTheKeysOrganization() throws Exception {
    sendQueryClaims();
    service.postJson("/events", acmeKey, "{\"event\":\"x\",\"organization_id\":\"../victim\"}");
    assertAllStoredUnderAcme(6);

    try (var files = Files.walk(dir.resolve("events"))) {
      assertThat(files.filter(Files::isDirectory).map(p -> p.getFileName().toString()))
          .filteredOn(n -> n.startsWith("org="))
          .containsExactly("org=acme");
    }
  }

  @Test
  void keyRevokedMidStreamStopsWritingAndStaysStopped() throws Exception {
    List<int[]> sent = new CopyOnWriteArrayList<>(); // {marker, status}
    AtomicBoolean stop = new AtomicBoolean();
    Thread sender =
        new Thread(
            () -> {
              long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
              for (int i = 0; !stop.get() && i < 5000 && System.nanoTime() < deadline; i++) {
                int status =
                    service
                        .send(
                            request("/events")
                                .header("X-Forwarded-For", "198.51.100.7")
                                .POST(
                                    HttpRequest.BodyPublishers.ofString(
                                        "{\"event\":\"tick\",\"marker\":" + i + "}")))
                        .statusCode();
                sent.add(new int[] {i, status});
              }
            },
            "sender");
    sender.start();
    try {
      Await.until(() -> count(sent, 200) >= 20);
      // The operator's command, against the running server's data directory.
      int exit = Main.run("keys", "revoke", ApiKeys.keyIdOf(acmeKey), "--data-dir", dir.toString());
      assertThat(exit).isZero();
      Await.until(() -> trailingRefusals(sent) >= 20);
    } finally {
      stop.set(true);
      sender.join(30_000);
    }

    // Refused: 401, and 429 once the address has spent its failed authentications.
    assertThat(sent).allSatisfy(s -> assertThat(s[1]).isIn(200, 401, 429));
    int firstRefused = 0;
    while (sent.get(firstRefused)[1] == 200) {
      firstRefused++;
    }
    assertThat(sent.get(firstRefused)[1]).isEqualTo(401);
    assertThat(sent.subList(firstRefused, sent.size()))
        .as("no request is accepted once the revocation has been seen")
        .allSatisfy(s -> assertThat(s[1]).isIn(401, 429));

    Set<Integer> accepted =
        sent.stream().filter(s -> s[1] == 200).map(s -> s[0]).collect(Collectors.toSet());
    List<JsonNode> stored = assertAllStoredUnderAcme(accepted.size());
    Set<Integer> storedMarkers =
        stored.stream()
            .map(e -> RunningService.json(e.get("body").asText()).get("marker").asInt())
            .collect(Collectors.toSet());
    assertThat(storedMarkers).as("exactly the acknowledged events are stored").isEqualTo(accepted);

    // Other organizations' keys are untouched by the revocation.
    HttpResponse<String> other =
        service.send(
            HttpRequest.newBuilder(service.uri("/events"))
                .header("Authorization", "Bearer " + victimKey)
                .header("X-Forwarded-For", "203.0.113.9")
                .POST(HttpRequest.BodyPublishers.ofString("{\"event\":\"ok\"}")));
    assertThat(other.statusCode()).isEqualTo(200);
    List<JsonNode> all = service.awaitStored(es -> es.size() == accepted.size() + 1);
    assertThat(all).filteredOn(e -> e.get("organization_id").asText().equals("victim")).hasSize(1);
  }

  private static long count(List<int[]> sent, int status) {
    return sent.stream().filter(s -> s[1] == status).count();
  }

  private static int trailingRefusals(List<int[]> sent) {
    int n = 0;
    for (int i = sent.size() - 1; i >= 0 && sent.get(i)[1] != 200; i--) {
      n++;
    }
    return n;
  }
}
