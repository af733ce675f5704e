#!/usr/bin/env bash
# The performance bench in one command: builds the service, starts it on loopback with each sink
# configuration, drives it with wrk, measures the baselines (a bare Vert.x server, the same server
# answering only once the service's records are durable in its spool, nginx empty_gif with a JSON
# access log) in the same run, and prints one table with ratios.
#
#   bench/run.sh                       3 runs of every scenario, files and ClickHouse sinks
#   bench/run.sh --runs 1 --duration 5 --sinks files      a quick look
#   bench/run.sh --jmh                 the JMH microbenchmarks of the hot path instead
#   bench/run.sh --memory 10           the memory test: 10 minutes of load with ClickHouse down
#   bench/run.sh --profile events      one JFR recording of the service under a scenario
#   bench/run.sh --enrichment          /events and /pixel with enrichment on and off, interleaved
#   bench/run.sh --compare OLD.jar     this tree's service against another build, interleaved
#   bench/run.sh --ab OLD.jar -- CaptureBenchmark.pixel   one JMH method of both builds, in one JVM
#
# Everything listens on 127.0.0.1 only; every load is bounded by --duration.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

runs=3
duration=10
warmup=8
jit_warmup=30
connections=64
threads=2
scenarios="events,batch,pixel"
sinks="files,clickhouse"
mode=table
memory_minutes=10
memory_rate=10000
profile_scenario=""
traffic=same
build=1

usage() {
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
  cat <<EOF
Options:
  --runs N            repetitions of every measurement; medians are printed (default $runs)
  --duration S        seconds measured per scenario (default $duration)
  --warmup S          seconds of load before each measurement (default $warmup)
  --jit-warmup S      seconds of load spread over the scenarios after each start of the service or
                      the bare server, before its first measurement: the JIT's compile burst is
                      not measured (default $jit_warmup)
  --connections N     wrk connections (default $connections)
  --scenarios LIST    events,batch,pixel (default $scenarios)
  --sinks LIST        files,clickhouse (default $sinks)
  --no-build          use the jar and classes already in target/
  --set KEY=VALUE     a service setting for every service started (repeatable)
  --jmh               run the JMH microbenchmarks (extra arguments after -- go to JMH)
  --memory MIN        memory test: MIN minutes of /events at --rate with ClickHouse stopped
  --rate N            offered events/s for the memory test (default $memory_rate)
  --profile SCENARIO  record JFR in the service (files sink) during SCENARIO; prints hot methods
  --enrichment        files sink, enrichment on (geo from BENCH_GEOIP) then off (enrich.enabled=false)
                      in each of --runs runs; --scenarios default to events,pixel; prints the ratio,
                      the delivery threads' CPU per request, the load average and the CPU per event
                      of each enrichment (EnrichmentCost)
  --compare JAR       files sink, this tree's jar and JAR (another build of the service), each
                      started and measured on --scenarios in each of --runs runs, in alternating
                      order; prints both builds' CPU per request by thread and their ratio per run
  --ab JAR            one JMH benchmark method (after --: Benchmark.method [slices] [param=value...])
                      of this tree's classes and of JAR's in one JVM, each build in a class loader of
                      its own, in alternating 0.2-s slices; prints each build's CPU time per call
                      and their ratio (BuildAB)
  --traffic KIND      same (default): every request of a scenario is the same request; varied:
                      user agents, pages, campaigns, referrers, visitors and addresses differ from
                      one request to the next as a site's visitors do (bench/lua/varied.lua)
Environment: BENCH_JAVA_OPTS (service JVM flags), BENCH_OUT (results directory).
EOF
}

jmh_args=()
service_sets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --jit-warmup) jit_warmup="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --scenarios) scenarios="$2"; scenarios_set=1; shift 2 ;;
    --sinks) sinks="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --set) service_sets+=(--set "$2"); shift 2 ;;
    --jmh) mode=jmh; shift ;;
    --memory) mode=memory; memory_minutes="$2"; shift 2 ;;
    --rate) memory_rate="$2"; shift 2 ;;
    --profile) mode=profile; profile_scenario="$2"; shift 2 ;;
    --enrichment) mode=enrichment; scenarios_set=${scenarios_set:-0}; shift ;;
    --compare) mode=compare; compare_jar="$2"; shift 2 ;;
    --ab) mode=ab; compare_jar="$2"; shift 2 ;;
    --traffic) traffic="$2"; shift 2 ;;
    --) shift; jmh_args=("$@"); break ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done

out="${BENCH_OUT:-$root/target/bench/$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
# A reused BENCH_OUT: the tables are appended to run by run, and an earlier bench's rows (its run 3
# after this one's runs 1 and 2, say) would be read as this bench's.
rm -f "$out"/*.tsv "$out"/table.txt
export BENCH_LUA_DIR="$here/lua"
case "$traffic" in
  same | varied) export BENCH_TRAFFIC="$traffic" ;;
  *) die "--traffic is same or varied, not $traffic" ;;
esac
export BENCH_PAYLOAD="$here/payloads/event.json"
export BENCH_THREADS="$threads"
trap cleanup EXIT INT TERM

ensure_tools
[ "$build" = 1 ] && build_all
log "results in $out"

case "$mode" in
  jmh) run_jmh "${jmh_args[@]}"; exit 0 ;;
  memory) run_memory_test; exit 0 ;;
  profile) run_profile "$profile_scenario"; exit 0 ;;
  compare) run_build_comparison; exit 0 ;;
  ab) run_ab "${jmh_args[@]}"; exit 0 ;;
  enrichment)
    [ "${scenarios_set:-0}" = 1 ] || scenarios=events,pixel
    run_enrichment_comparison
    exit 0
    ;;
esac

new_results

IFS=, read -r -a scenario_list <<<"$scenarios"
IFS=, read -r -a sink_list <<<"$sinks"

for run in $(seq 1 "$runs"); do
  log "run $run of $runs"
  probe_page_cache "$run"
  start_bare
  warm_jit "$bare_port" bench-key-not-checked
  for s in "${scenario_list[@]}"; do
    measure "$run" "$s" bare-vertx "$bare_pid" "$bare_port" "bench-key-not-checked"
  done
  stop_pid "$bare_pid"
  bare_events_rps=$(median_of "$results" events bare-vertx 4 "$run")

  # The floor of a durable answer: the bare server storing the service's records in its spool.
  start_bare "$out/bare-spool"
  svc_admin=$bare_port svc_pid=$bare_pid warm_jit "$bare_port" bench-key-not-checked discard
  for s in "${scenario_list[@]}"; do
    measure "$run" "$s" bare-vertx-spool "$bare_pid" "$bare_port" "bench-key-not-checked"
    if svc_admin=$bare_port svc_pid=$bare_pid await_lag_zero discard && [ "$drain_lag" = 0 ]; then
      record_stored "$run" "$s" bare-vertx-spool
    else
      log "floor: its sink's lag is ${drain_lag:-unknown} after ${drain_s:-?}s; CPU until stored not recorded"
    fi
  done
  stop_pid "$bare_pid"
  rm -rf "$out/bare-spool"

  if [[ ",$scenarios," == *,pixel,* ]]; then
    start_nginx
    measure "$run" pixel nginx-empty_gif "$nginx_master" "$nginx_port" "bench-key-not-checked"
    stop_nginx
  fi

  for sink in "${sink_list[@]}"; do
    start_service "$sink"
    warm_jit "$svc_port" "$svc_key" "$sink"
    for s in "${scenario_list[@]}"; do
      hook=spool_window_mark
      [ "$sink" = clickhouse ] && hook=ch_window_mark
      window_hook=$hook measure "$run" "$s" "trellis-$sink" "$svc_pid" "$svc_port" "$svc_key"
      save_metrics "$run" "$s" "$sink"
      if [ "$sink" = clickhouse ]; then
        await_drain "$run" "$s"
      else
        await_files_drain "$run" "$s"
      fi
    done
    if [ "$sink" = files ] && [[ ",$scenarios," == *,events,* ]]; then
      # The latency target, paced (not closed-loop): at half the bare server's rate when the
      # service reaches it, else at half of what the service itself reached in this run.
      own=$(median_of "$results" events trellis-files 4 "$run")
      half=$(awk -v b="${bare_events_rps:-0}" -v o="${own:-0}" \
        'BEGIN { r = (o >= b / 2 && b > 0) ? b / 2 : o / 2; printf "%d", r }')
      log "paced /events at $half requests/s"
      [ "${half:-0}" -gt 0 ] && BENCH_RATE="$half" window_hook=spool_window_mark \
        measure "$run" events "trellis-files-paced" "$svc_pid" "$svc_port" "$svc_key" paced
      await_files_drain "$run" events-paced
      printf '%s\t%s\n' "$run" "$half" >>"$out/paced-rates.tsv"
      # The target's own reading: half of 60% of the bare server's rate, whatever the service
      # reaches closed-loop (the row shows what it sustained at that offer).
      target_half=$(awk -v b="${bare_events_rps:-0}" 'BEGIN { printf "%d", b * 0.3 }')
      log "paced /events at $target_half requests/s (30% of bare)"
      [ "${target_half:-0}" -gt 0 ] && BENCH_RATE="$target_half" window_hook=spool_window_mark \
        measure "$run" events "trellis-files-paced-30%bare" "$svc_pid" "$svc_port" "$svc_key" paced
      await_files_drain "$run" events-paced-30%bare
      printf '%s\t%s\n' "$run" "$target_half" >>"$out/paced-target-rates.tsv"
    fi
    stop_service
    if [ "$sink" = clickhouse ] && [[ ",$scenarios," == *,batch,* ]]; then
      ceiling_under_load "$run"
    fi
  done
  [ -n "${ch_pid:-}" ] && stop_clickhouse
done

print_table "$results" | tee "$out/table.txt"
