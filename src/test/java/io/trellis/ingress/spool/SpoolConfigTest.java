package io.trellis.ingress.spool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.ingress.cli.ServiceSettings;
import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.ConfigException;
import io.trellis.ingress.config.ConfigLoader;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SpoolConfigTest {
  @Test
  void defaults() {
    SpoolConfig c = SpoolConfig.from(ServiceSettings.defaults());
    assertThat(c.fsync()).isEqualTo(SpoolConfig.FsyncPolicy.GROUP);
    assertThat(c.groupCommit()).isEqualTo(SpoolConfig.GroupCommit.ADAPTIVE);
    assertThat(c.fsyncMaxDelay()).isEqualTo(Duration.ofMillis(1));
    assertThat(c.fsyncMaxBytes()).isEqualTo(1 << 20);
    assertThat(c.segmentBytes()).isEqualTo(64L << 20);
    assertThat(c.maxRecordBytes()).isEqualTo(8 << 20);
    assertThat(c.maxBytes()).isEmpty();
    assertThat(c.batchMaxRows()).isEqualTo(2_000);
    assertThat(c.batchMaxAge()).isEqualTo(Duration.ofMillis(200));
    assertThat(c.drainTimeout()).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void groupCommitIsAdaptiveOrFixed() {
    assertThat(
            SpoolConfig.from(ServiceSettings.config(Map.of("spool.group-commit", " Fixed ")))
                .groupCommit())
        .isEqualTo(SpoolConfig.GroupCommit.FIXED);
    assertThatThrownBy(
            () ->
                SpoolConfig.from(ServiceSettings.config(Map.of("spool.group-commit", "sometimes"))))
        .hasMessageContaining("spool.group-commit: expected adaptive or fixed, got sometimes");
  }

  @Test
  void theDiskBudgetComesFromTrellisSpoolMaxBytes() {
    Config c =
        ConfigLoader.load(
            ServiceSettings.all(), null, Map.of("TRELLIS_SPOOL_MAX_BYTES", "10GiB"), Map.of());
    assertThat(SpoolConfig.from(c).maxBytes()).hasValue(10L << 30);
  }

  @Test
  void explicitValuesAreMapped() {
    SpoolConfig c =
        SpoolConfig.from(
            ServiceSettings.config(
                Map.of(
                    "spool.fsync", "none",
                    "spool.segment-size", "1MiB",
                    "spool.max-record-size", "64KiB",
                    "spool.batch-max-bytes", "4MiB",
                    "spool.retry-max-backoff", "5s")));
    assertThat(c.fsync()).isEqualTo(SpoolConfig.FsyncPolicy.NONE);
    assertThat(c.segmentBytes()).isEqualTo(1 << 20);
    assertThat(c.maxRecordBytes()).isEqualTo(64 << 10);
    assertThat(c.batchMaxBytes()).isEqualTo(4 << 20);
    assertThat(c.retryMaxBackoff()).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void badCombinationsAreRefusedWithTheKeyInTheMessage() {
    assertThatThrownBy(
            () -> SpoolConfig.from(ServiceSettings.config(Map.of("spool.fsync", "always"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("spool.fsync");
    assertThatThrownBy(
            () ->
                SpoolConfig.from(
                    ServiceSettings.config(
                        Map.of("spool.segment-size", "8MiB", "spool.max-record-size", "8MiB"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("never spans two segments");
    assertThatThrownBy(
            () -> SpoolConfig.from(ServiceSettings.config(Map.of("spool.max-bytes", "100MiB"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("at least two segments");
  }
}
