#!/usr/bin/env bash
# Regenerates the "What is stored" table of README.md from the event schema
# (between the schema:begin and schema:end markers).
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -o compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt >/dev/null
table="$(java -cp "target/classes:$(cat target/classpath.txt)" io.trellis.ingress.cli.SchemaReference)"
TABLE="$table" python3 - <<'PY'
import os
readme = open("README.md").read()
begin = readme.index("<!-- schema:begin")
begin = readme.index("\n", begin) + 1
end = readme.index("<!-- schema:end -->")
open("README.md", "w").write(readme[:begin] + os.environ["TABLE"] + "\n" + readme[end:])
PY
