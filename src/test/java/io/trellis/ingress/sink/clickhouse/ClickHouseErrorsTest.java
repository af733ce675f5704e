package io.trellis.ingress.sink.clickhouse;

import static org.assertj.core.api.Assertions.assertThat;

import com.clickhouse.client.api.ClientException;
import com.clickhouse.client.api.ServerException;
import io.trellis.ingress.sink.SinkException;
import java.net.ConnectException;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

class ClickHouseErrorsTest {
  private static ServerException server(int code, String message) {
    return new ServerException(code, message, 500, "q1");
  }

  private static SinkException.Kind kind(Throwable t) {
    return ClickHouseErrors.classify(t).kind();
  }

  @Test
  void dataErrorsArePermanent() {
    assertThat(kind(server(376, "Cannot parse uuid"))).isEqualTo(SinkException.Kind.PERMANENT);
    assertThat(kind(server(131, "Too large value for FixedString(16)")))
        .isEqualTo(SinkException.Kind.PERMANENT);
    assertThat(kind(new ExecutionException(server(27, "Cannot parse input"))))
        .isEqualTo(SinkException.Kind.PERMANENT);
  }

  @Test
  void overloadOutagesAndOperatorErrorsAreTransient() {
    assertThat(kind(server(252, "Too many parts (300)"))).isEqualTo(SinkException.Kind.TRANSIENT);
    assertThat(ClickHouseErrors.classify(server(252, "Too many parts")).getMessage())
        .contains("backing off");
    assertThat(kind(server(241, "Memory limit (total) exceeded")))
        .isEqualTo(SinkException.Kind.TRANSIENT);
    assertThat(kind(server(60, "Table x.events doesn't exist")))
        .isEqualTo(SinkException.Kind.TRANSIENT);
    assertThat(kind(server(516, "Authentication failed"))).isEqualTo(SinkException.Kind.TRANSIENT);
    assertThat(kind(server(9999, "something new"))).isEqualTo(SinkException.Kind.TRANSIENT);
    assertThat(kind(new ClientException("failed", new ConnectException("Connection refused"))))
        .isEqualTo(SinkException.Kind.TRANSIENT);
    assertThat(ClickHouseErrors.isConnectionFailure(new ClientException("x", null))).isTrue();
    assertThat(ClickHouseErrors.isConnectionFailure(server(252, "x"))).isFalse();
  }

  @Test
  void oldServersGiveTheCodeOnlyInTheBody() {
    ServerException old =
        server(0, "Code: 376, e.displayText() = DB::Exception: Cannot parse uuid x");
    assertThat(ClickHouseErrors.code(old)).isEqualTo(376);
    assertThat(kind(old)).isEqualTo(SinkException.Kind.PERMANENT);
    assertThat(ClickHouseErrors.code(server(0, "Bad Gateway"))).isZero();
    assertThat(kind(server(0, "Bad Gateway"))).isEqualTo(SinkException.Kind.TRANSIENT);
  }

  @Test
  void theTwoMeaningsOfError252AreToldApartByTheirMessage() {
    // The texts of ClickHouse 26.5 (the first as the chDB engine answered it in ChdbSinkIT).
    SinkException partitions =
        ClickHouseErrors.classify(
            server(
                252,
                "Code: 252. DB::Exception: Too many partitions for single INSERT block (more than"
                    + " 100). The limit is controlled by 'max_partitions_per_insert_block'"
                    + " setting. (TOO_MANY_PARTS)"));
    SinkException parts =
        ClickHouseErrors.classify(
            server(
                252,
                "Code: 252. DB::Exception: Too many parts (3001 with average size of 1.00 KiB) in"
                    + " table 'db.events'. Merges are processing significantly slower than"
                    + " inserts. (TOO_MANY_PARTS)"));
    assertThat(ClickHouseErrors.tooManyPartitions(partitions)).isTrue();
    assertThat(ClickHouseErrors.tooManyPartitions(parts)).isFalse();
    assertThat(parts.getMessage()).contains("backing off");
    assertThat(parts.kind()).isEqualTo(SinkException.Kind.TRANSIENT);
  }
}
