package io.trellis.ingress.sink.bigquery;

import com.google.api.gax.core.FixedCredentialsProvider;
import com.google.api.gax.core.NoCredentialsProvider;
import com.google.api.gax.grpc.InstantiatingGrpcChannelProvider;
import com.google.api.gax.retrying.RetrySettings;
import com.google.auth.Credentials;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.cloud.NoCredentials;
import com.google.cloud.bigquery.BigQuery;
import com.google.cloud.bigquery.BigQueryOptions;
import com.google.cloud.bigquery.storage.v1.BigQueryWriteClient;
import com.google.cloud.bigquery.storage.v1.BigQueryWriteSettings;
import com.google.cloud.http.HttpTransportOptions;
import io.grpc.ManagedChannelBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Builds Google's clients from a {@link BigQueryConfig}: the REST client for table metadata and the
 * Storage Write API client for rows. Credentials come from the key file when one is configured;
 * otherwise from Application Default Credentials, except that an {@code http://} endpoint (a local
 * server) is reached without credentials.
 *
 * <p>Each client call is bounded by the append timeout, so that a BigQuery outage surfaces as a
 * failed write (retried with backoff by the spool) instead of a call that waits for many minutes.
 */
final class BigQueryClients {
  private static final List<String> SCOPES =
      List.of(
          "https://www.googleapis.com/auth/bigquery",
          "https://www.googleapis.com/auth/cloud-platform");

  private BigQueryClients() {}

  static BigQuery metadata(BigQueryConfig config) throws IOException {
    int timeoutMillis = (int) Math.min(Integer.MAX_VALUE, config.appendTimeout().toMillis());
    BigQueryOptions.Builder b =
        BigQueryOptions.newBuilder()
            .setProjectId(config.project())
            .setRetrySettings(retries(config.appendTimeout()))
            .setTransportOptions(
                HttpTransportOptions.newBuilder()
                    .setConnectTimeout(Math.min(timeoutMillis, 10_000))
                    .setReadTimeout(timeoutMillis)
                    .build());
    config.location().ifPresent(b::setLocation);
    config.restEndpoint().ifPresent(u -> b.setHost(stripSlash(u.toString())));
    credentials(config, config.restEndpoint()).ifPresent(b::setCredentials);
    return b.build().getService();
  }

  static BigQueryWriteClient writer(BigQueryConfig config) throws IOException {
    BigQueryWriteSettings.Builder b = BigQueryWriteSettings.newBuilder();
    if (config.storageEndpoint().isPresent()) {
      URI u = config.storageEndpoint().get();
      boolean plaintext = "http".equalsIgnoreCase(u.getScheme());
      String hostPort = u.getHost() + ":" + (u.getPort() > 0 ? u.getPort() : plaintext ? 80 : 443);
      InstantiatingGrpcChannelProvider.Builder channel =
          BigQueryWriteSettings.defaultGrpcTransportProviderBuilder().setEndpoint(hostPort);
      if (plaintext) {
        channel.setChannelConfigurator(ManagedChannelBuilder::usePlaintext);
      }
      b.setEndpoint(hostPort).setTransportChannelProvider(channel.build());
    }
    Optional<Credentials> credentials = credentials(config, config.storageEndpoint());
    if (credentials.isPresent()) {
      b.setCredentialsProvider(
          credentials.get() instanceof NoCredentials
              ? NoCredentialsProvider.create()
              : FixedCredentialsProvider.create(credentials.get()));
    }
    RetrySettings retries = retries(config.appendTimeout());
    b.createWriteStreamSettings().setRetrySettings(retries);
    b.getWriteStreamSettings().setRetrySettings(retries);
    return BigQueryWriteClient.create(b.build());
  }

  /** Empty means "the client's default" (Application Default Credentials). */
  private static Optional<Credentials> credentials(BigQueryConfig config, Optional<URI> endpoint)
      throws IOException {
    if (config.credentials().isPresent()) {
      try (InputStream in = Files.newInputStream(config.credentials().get())) {
        return Optional.of(GoogleCredentials.fromStream(in).createScoped(SCOPES));
      } catch (IOException e) {
        // The message names the setting, never the path: the path is a secret too.
        throw new IOException(
            "cannot read the bigquery.credentials key file (" + e.getClass().getSimpleName() + ")");
      }
    }
    if (endpoint.isPresent() && "http".equalsIgnoreCase(endpoint.get().getScheme())) {
      return Optional.of(NoCredentials.getInstance());
    }
    return Optional.empty();
  }

  private static RetrySettings retries(Duration total) {
    return RetrySettings.newBuilder()
        .setMaxAttempts(3)
        .setInitialRetryDelayDuration(Duration.ofMillis(200))
        .setRetryDelayMultiplier(2.0)
        .setMaxRetryDelayDuration(Duration.ofSeconds(2))
        .setInitialRpcTimeoutDuration(total)
        .setRpcTimeoutMultiplier(1.0)
        .setMaxRpcTimeoutDuration(total)
        .setTotalTimeoutDuration(total)
        .build();
  }

  private static String stripSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }
}
