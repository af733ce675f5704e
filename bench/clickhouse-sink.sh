#!/usr/bin/env bash
# Benchmark (not a test): events through the service into ClickHouse, against a direct curl INSERT
# of the same rows. Uses CLICKHOUSE_URL when set, else starts the installed clickhouse-server.
#   bench/clickhouse-sink.sh [events=300000] [http-clients=4] [spool-batch-rows=50000]
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -o -DskipTests -Dspotless.check.skip=true package >&2
exec java -Xmx2g -cp target/trellis-ingress.jar:target/test-classes \
  io.trellis.ingress.bench.ClickHouseSinkBench "$@"
