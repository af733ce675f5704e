package io.trellis.ingress.sink.clickhouse;

import io.trellis.ingress.testing.ChdbEngine;

/** The service contract against the ClickHouse 26.5 engine of {@code libchdb.so}. */
@ChdbEngine
class ChdbServiceIT extends ClickHouseServiceContract {}
