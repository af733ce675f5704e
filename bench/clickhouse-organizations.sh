#!/usr/bin/env bash
# Benchmark (not a test): the ClickHouse sink writing events of 1, 100 and 5,000 organizations;
# inserts per batch, parts and rows/s. Default engine: ClickHouse 26.5 (chDB, npm ci in clients/).
#   bench/clickhouse-organizations.sh [events=100000] [batch-rows=50000] [chdb|server]
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -o -DskipTests -Dspotless.check.skip=true package >&2
cp=$(mvn -B -q -o dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=/dev/stdout)
exec java -Xmx2g -cp "target/classes:target/test-classes:$cp" \
  io.trellis.ingress.bench.ClickHouseOrganizationsBench "$@"
