#!/usr/bin/env bash
# Regenerates the settings table of README.md from the declarations in the code
# (between the settings:begin and settings:end markers).
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -o compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt >/dev/null
table="$(java -cp "target/classes:$(cat target/classpath.txt)" io.trellis.ingress.cli.Main config --reference)"
TABLE="$table" python3 - <<'PY'
import os, re
readme = open("README.md").read()
begin = readme.index("<!-- settings:begin")
begin = readme.index("\n", begin) + 1
end = readme.index("<!-- settings:end -->")
open("README.md", "w").write(readme[:begin] + os.environ["TABLE"] + "\n" + readme[end:])
PY
