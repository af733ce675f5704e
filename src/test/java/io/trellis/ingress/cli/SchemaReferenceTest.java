package io.trellis.ingress.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.event.Column;
import io.trellis.ingress.event.EventSchema;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class SchemaReferenceTest {
  @Test
  void readmeWhatIsStoredTableIsTheSchemasTable() throws Exception {
    String readme = Files.readString(Path.of("README.md"));
    int start = readme.indexOf("<!-- schema:begin");
    int end = readme.indexOf("<!-- schema:end -->");
    assertThat(start).as("README schema markers").isPositive();
    String table = readme.substring(readme.indexOf('\n', start) + 1, end);

    assertThat(table)
        .as("README \"What is stored\" table; regenerate with dev/update-readme-schema.sh")
        .isEqualTo(SchemaReference.table(EventSchema.EVENTS));
    for (Column c : EventSchema.EVENTS.columns()) {
      assertThat(table).contains("| `" + c.name() + "` |");
    }
  }
}
