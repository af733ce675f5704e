#!/usr/bin/env bash
# Appends/s and acknowledgement latency of the disk spool (group fsync and fsync off).
#   bench/spool-benchmark.sh [SECONDS_PER_SCENARIO]   (default 5)
# The spool files go to a temporary directory on the disk that holds $TMPDIR (default /tmp).
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -o test-compile -Dspotless.check.skip=true
cp_file="target/bench-classpath.txt"
mvn -B -q -o dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file"
exec java -Xmx1g ${BENCH_OPTS:-} -cp "target/classes:target/test-classes:$(cat "$cp_file")" \
  io.trellis.ingress.bench.SpoolBenchmark "$@"
