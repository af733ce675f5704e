package io.trellis.ingress.sink.bigquery;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.cloud.bigquery.storage.v1.AppendRowsResponse;
import com.google.cloud.bigquery.storage.v1.BigQueryWriteClient;
import com.google.cloud.bigquery.storage.v1.CreateWriteStreamRequest;
import com.google.cloud.bigquery.storage.v1.Exceptions;
import com.google.cloud.bigquery.storage.v1.ProtoRows;
import com.google.cloud.bigquery.storage.v1.StreamWriter;
import com.google.cloud.bigquery.storage.v1.WriteStream;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.trellis.ingress.cli.ServiceSettings;
import io.trellis.ingress.event.EventSchema;
import io.trellis.ingress.testing.bigquery.FakeBigQuery;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local server answers appends with offsets as the Storage Write API documents for committed
 * streams (AppendRows: "OUT_OF_RANGE … if an attempt is made to append to an offset beyond the
 * current end of the stream or ALREADY_EXISTS if user provides an offset that has already been
 * written to"), seen through Google's own client: the replay's exactly-once rests on it.
 */
class FakeWriteOffsetsIT {
  private static final String PROJECT = "offsets-project";

  @TempDir Path dataDir;
  private FakeBigQuery bq;
  private BigQueryConfig config;
  private BigQueryWriteClient client;
  private final EventRows rows = new EventRows(EventSchema.EVENTS);
  private String stream;

  @BeforeEach
  void start() throws Exception {
    bq = FakeBigQuery.start();
    config = BigQueryConfig.from(ServiceSettings.config(bq.settings(PROJECT)), dataDir);
    try (BigQuerySink sink = new BigQuerySink(config, new SimpleMeterRegistry())) {
      sink.start(); // creates the table
    }
    client = BigQueryClients.writer(config);
    stream =
        client
            .createWriteStream(
                CreateWriteStreamRequest.newBuilder()
                    .setParent(config.tablePath())
                    .setWriteStream(WriteStream.newBuilder().setType(WriteStream.Type.COMMITTED))
                    .build())
            .getName();
  }

  @AfterEach
  void stop() throws Exception {
    client.close();
    client.awaitTermination(5, TimeUnit.SECONDS);
    bq.close();
  }

  @Test
  void anOffsetAlreadyWrittenIsAlreadyExistsAndOneBeyondTheEndIsOutOfRange() throws Exception {
    assertThat(append(0, 0, 3).getAppendResult().getOffset().getValue()).isZero();

    assertThat(failure(0, 10, 3)).isInstanceOf(Exceptions.OffsetAlreadyExists.class);
    assertThat(failure(2, 10, 1)).isInstanceOf(Exceptions.OffsetAlreadyExists.class);
    Throwable beyond = failure(4, 10, 1);
    assertThat(beyond).isInstanceOf(Exceptions.OffsetOutOfRange.class);
    assertThat(((Exceptions.OffsetOutOfRange) beyond).getExpectedOffset()).isEqualTo(3);
    assertThat(((Exceptions.OffsetOutOfRange) beyond).getActualOffset()).isEqualTo(4);

    // Neither refused request stored anything: the rows are those of offsets 0..2, then 3.
    assertThat(append(3, 3, 1).getAppendResult().getOffset().getValue()).isEqualTo(3);
    assertThat(bq.rows(PROJECT, "trellis", "events"))
        .extracting(r -> r.get("event_id"))
        .containsExactlyElementsOf(
            LongStream.range(0, 4)
                .mapToObj(n -> BigQuerySinkIT.event(n, "", "").eventId())
                .toList());
  }

  /** Rows for events {@code first..first+n-1}, at {@code offset}, on a writer of their own. */
  private AppendRowsResponse append(long offset, long first, int n) throws Exception {
    try (StreamWriter w =
        StreamWriter.newBuilder(stream, client).setWriterSchema(rows.schema()).build()) {
      ProtoRows.Builder b = ProtoRows.newBuilder();
      for (long i = first; i < first + n; i++) {
        b.addSerializedRows(rows.encode(BigQuerySinkIT.event(i, "pageview", "{}"), 0));
      }
      return w.append(b.build(), offset).get(10, TimeUnit.SECONDS);
    }
  }

  private Throwable failure(long offset, long first, int n) throws Exception {
    try {
      append(offset, first, n);
    } catch (ExecutionException e) {
      return e.getCause();
    }
    throw new AssertionError("append at " + offset + " was accepted");
  }
}
