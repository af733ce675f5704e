package io.trellis.ingress.sink.clickhouse;

/**
 * The service contract against the installed {@code clickhouse-server} (Debian's 18.16 here), or
 * the server at {@code CLICKHOUSE_URL}.
 */
class ClickHouseServiceIT extends ClickHouseServiceContract {}
