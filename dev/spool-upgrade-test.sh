#!/usr/bin/env bash
# The spool upgrade test with real processes: a release built from git writes a spool its sink
# cannot deliver, is killed with SIGKILL under load, and this tree's jar starts on the same data
# directory. Every acknowledged event must reach the files sink and none may be dead-lettered.
#
#   dev/spool-upgrade-test.sh [OLD_REF]        default OLD_REF: 69d18b5 (record versions 1 and 2)
#
# Environment: OLD_JAR (a jar of OLD_REF already built), NEW_JAR (default target/trellis-ingress.jar),
# SECONDS_OF_LOAD (default 8), FIXTURE_DIR (also copy the killed spool and the acknowledged ids
# there, for the unit test's fixture), BLOCK_SINK=0 (the first process's sink delivers as usual;
# with OLD_JAR=NEW_JAR this is a kill -9 test of one release).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
old_ref="${1:-69d18b5}"
new_jar="${NEW_JAR:-$root/target/trellis-ingress.jar}"
load_s="${SECONDS_OF_LOAD:-8}"
export PAYLOAD="${PAYLOAD:-$root/bench/payloads/event.json}"
work="$(mktemp -d /tmp/spool-upgrade.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
log() { echo "[upgrade $(date +%H:%M:%S)] $*" >&2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

old_jar="${OLD_JAR:-}"
if [ -z "$old_jar" ]; then
  log "building $old_ref from git in $work/old"
  mkdir -p "$work/old"
  git -C "$root" archive "$old_ref" | tar -x -C "$work/old"
  (cd "$work/old" && mvn -B -q -DskipTests -Dspotless.check.skip=true package) >&2
  old_jar="$work/old/target/trellis-ingress.jar"
fi
[ -f "$new_jar" ] || { echo "no $new_jar: run mvn -DskipTests package first" >&2; exit 2; }

data="$work/data"
key=$(java -jar "$old_jar" keys create --org upgrade --data-dir "$data" | tail -1)
# The files sink cannot write: its organization directory is a file. Deliveries fail and are
# retried, so everything acknowledged stays in the spool, written by the old release.
mkdir -p "$data/events"
[ "${BLOCK_SINK:-1}" = 0 ] || touch "$data/events/org=upgrade"

serve() { # jar port admin log
  java -Xmx256m -jar "$1" serve --data-dir "$data" --port "$2" --set "admin.port=$3" \
    --set auth.demo-key=false --set spool.segment-size=1MiB --set spool.max-record-size=512KiB --set limits.body-max=256KiB >"$4" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do
    curl -s -o /dev/null "http://127.0.0.1:$2/" && return 0
    sleep 0.1
  done
  echo "service did not start: $(cat "$4")" >&2
  exit 1
}

port=$(free_port); admin=$(free_port)
serve "$old_jar" "$port" "$admin" "$work/old.log"
old_pid=${pids[-1]}
log "first release (${OLD_JAR:-$old_ref}) pid $old_pid on port $port: sending load for ${load_s}s, then kill -9"

python3 - "$port" "$key" "$load_s" "$work/acked.txt" "$old_pid" <<'PY' >&2
import http.client, json, os, signal, sys, threading, time
port, key, seconds, out, victim = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4], int(sys.argv[5])
event = open(os.environ.get("PAYLOAD", "/dev/null"), "rb").read() or b'{"event":"page_view","url":"https://shop.example.com/p?utm_source=news&utm_medium=mail","properties":{"price":1.5}}'
bad_utf8 = b'{"event":"bad_bytes","note":"caf\xe9 \xff"}'
batch = b"[" + b",".join([event] * 10) + b"]"
acked, lock, stop = [], threading.Lock(), time.monotonic() + seconds
counts = {"sent": 0, "acked": 0, "refused": 0, "lost_connection": 0}
def worker(n):
    conn = None
    i = 0
    while time.monotonic() < stop + 5:
        kind = ("events", "bad", "batch")[i % 3]; i += 1
        body = {"events": event, "bad": bad_utf8, "batch": batch}[kind]
        path = "/batch" if kind == "batch" else "/events"
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            with lock: counts["sent"] += 1
            conn.request("POST", path, body, {"Authorization": "Bearer " + key, "Content-Type": "application/json"})
            r = conn.getresponse(); data = r.read()
            if r.status == 200:
                j = json.loads(data)
                ids = j["event_ids"] if kind == "batch" else [j["event_id"]]
                with lock:
                    acked.extend(ids); counts["acked"] += 1
            else:
                with lock: counts["refused"] += 1
        except Exception:
            with lock: counts["lost_connection"] += 1
            conn = None
            if time.monotonic() > stop:
                return
            time.sleep(0.05)
threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
for t in threads: t.start()
time.sleep(seconds)
os.kill(victim, signal.SIGKILL)
for t in threads: t.join()
open(out, "w").write("\n".join(acked) + "\n")
print("requests sent %(sent)d, answered 2xx %(acked)d, refused %(refused)d, connections lost %(lost_connection)d" % counts, "; events acknowledged", len(acked))
PY
wait "$old_pid" 2>/dev/null || true
acked=$(grep -c . "$work/acked.txt" || true)
segments=$(ls "$data/spool" | grep -c '\.segment$' || true)
log "old release killed; $acked events acknowledged; $segments segment file(s), $(du -sh "$data/spool" | cut -f1)"
if [ -n "${FIXTURE_DIR:-}" ]; then
  rm -rf "$FIXTURE_DIR"; mkdir -p "$FIXTURE_DIR"
  cp -r "$data/spool" "$FIXTURE_DIR/spool"
  rm -rf "$FIXTURE_DIR/spool/cursors" "$FIXTURE_DIR/spool/spool.lock" "$FIXTURE_DIR/spool/sinks"
  cp "$work/acked.txt" "$FIXTURE_DIR/acked-event-ids.txt"
  log "fixture written to $FIXTURE_DIR"
fi

[ -d "$data/events/org=upgrade" ] || rm -f "$data/events/org=upgrade"
port=$(free_port); admin=$(free_port)
serve "$new_jar" "$port" "$admin" "$work/new.log"
new_pid=${pids[-1]}
log "new release pid $new_pid on the same data directory: waiting for the files sink to drain"
lag=""
for _ in $(seq 1 600); do
  lag=$(curl -s "http://127.0.0.1:$admin/metrics" | awk '$1 ~ /^trellis_sink_lag_events/ { s += $2 } END { printf "%d", s }')
  [ "$lag" = 0 ] && break
  sleep 0.2
done
kill "$new_pid"; wait "$new_pid" 2>/dev/null || true

stored="$work/stored.txt"
cat "$data"/events/org=upgrade/*/*.ndjson 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    print(json.loads(line)["event_id"])' | sort >"$stored"
sort -u "$work/acked.txt" | grep . >"$work/acked.sorted"
missing=$(comm -23 "$work/acked.sorted" "$stored" | wc -l)
dead=$({ find "$data/dead-letters" -type f 2>/dev/null || true; } | xargs -r cat | wc -l)
log "stored lines $(wc -l <"$stored") (distinct $(sort -u "$stored" | wc -l)); acknowledged $(wc -l <"$work/acked.sorted"); missing $missing; dead-lettered $dead; lag at the end ${lag:-?}"
grep -i "quarantine\|corrupt\|torn" "$work/new.log" | head -5 >&2 || true
[ "$missing" = 0 ] && [ "$dead" = 0 ] && [ "$lag" = 0 ] || { echo "UPGRADE TEST FAILED" >&2; tail -30 "$work/new.log" >&2; exit 1; }
log "upgrade test passed"
