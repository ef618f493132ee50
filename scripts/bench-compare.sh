#!/usr/bin/env bash
# scripts/bench-compare.sh - ipcbench's figures beside those of the standard tools that Debian
# ships, measured in one session, with the same placement and message sizes (`make
# bench-compare`):
#
#   pipe round trip, 4 bytes, one CPU      perf bench sched pipe (linux-perf)
#   TCP round trip, 64 bytes, both places  sockperf ping-pong (TCP_NODELAY, as ipcbench's tcp)
#   TCP throughput, 64 KiB writes, both    iperf3
#
# Round trips are compared as means, since perf and sockperf report means (sockperf reports
# half a round trip: doubled here); throughput in MB/s, MB = 10^6 bytes.  The ratio is
# ipcbench's figure over the reference's.  perf bench sched pipe cannot put its two sides on
# two given CPUs, so the pipe is compared on one CPU only.  scripts/bootstrap.sh --bench
# installs the tools when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1

usage="usage: scripts/bench-compare.sh     (no arguments: make bench-compare)"
case $# in
0) ;;
*) [[ $1 == -h || $1 == --help ]] && { echo "$usage"; exit 0; }
   echo "$usage" >&2; exit 2 ;;
esac

scripts/bootstrap.sh --bench
make -s --no-print-directory bench/ipcbench

work=$(mktemp -d -- "${TMPDIR:-/tmp}/ipclab-compare.XXXXXX")
servers=()
cleanup() {
    local pid
    for pid in "${servers[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

# The first two CPUs we may run on, as ipcbench picks them.
mapfile -t cpus < <(taskset -pc $$ | sed 's/.*: //' | tr ',' '\n' |
    awk -F- '{ for (c = $1; c <= ($2 == "" ? $1 : $2); c++) print c }' | head -n 2)
cpu0=${cpus[0]}
cpu1=${cpus[1]:-}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_listening PORT: until something listens on TCP PORT (at most 5 s).
wait_listening() {
    local tries=50
    while ((tries-- > 0)); do
        [[ -n $(ss -Hltn "sport = :$1") ]] && return 0
        sleep 0.1
    done
    echo "bench-compare: nothing listens on port $1" >&2
    exit 1
}

# ipcbench_row PLACEMENT ARGS...: run ipcbench on one placement; print the CSV's one figure
# row (memcpy's row left out).
ipcbench_row() {
    local placement=$1
    shift
    bench/ipcbench -P "$placement" -o "$work/ipcbench.csv" "$@" >/dev/null
    awk -F, 'NR > 1 && $3 != "memcpy"' "$work/ipcbench.csv"
}

printf '%-34s %-10s %14s %24s %7s\n' 'what' 'placement' 'ipcbench' 'reference' 'ratio'
report() { # WHAT PLACEMENT OURS REFERENCE UNIT TOOL
    printf '%-34s %-10s %14s %24s %7.2f\n' "$1" "$2" "$(printf '%.1f %s' "$3" "$5")" \
        "$(printf '%.1f %s (%s)' "$4" "$5" "$6")" "$(awk -v a="$3" -v b="$4" 'BEGIN { print a / b }')"
}

# 1. The pipe on one CPU.
ours=$(ipcbench_row same -k latency -m pipe -s 4 | awk -F, '{ print 1e6 / $11 }')
theirs=$(taskset -c "$cpu0" perf bench sched pipe -l 100000 | awk '/usecs\/op/ { print $1 }')
report 'pipe round trip, 4 B' same "$ours" "$theirs" us 'perf bench'

for placement in same split; do
    [[ $placement == split && -z $cpu1 ]] && continue
    server_cpu=$([[ $placement == same ]] && echo "$cpu0" || echo "$cpu1")

    # 2. TCP round trips of 64 bytes.
    ours=$(ipcbench_row "$placement" -k latency -m tcp -s 64 | awk -F, '{ print 1e6 / $11 }')
    port=$(free_port)
    taskset -c "$server_cpu" sockperf server --tcp -i 127.0.0.1 -p "$port" >"$work/sockperf.log" 2>&1 &
    servers+=("$!")
    wait_listening "$port"
    theirs=$(taskset -c "$cpu0" sockperf ping-pong --tcp -i 127.0.0.1 -p "$port" -m 64 -t 5 2>&1 |
        sed -n 's/.*avg-latency=\([0-9.]*\).*/\1/p' | awk '{ print 2 * $1 }')
    kill "${servers[-1]}"
    report 'TCP round trip, 64 B' "$placement" "$ours" "$theirs" us sockperf

    # 3. TCP throughput, 64 KiB writes.
    # 4 GiB, not the default 256 MiB: iperf3 streams for 5 s, and a stream of a tenth of a
    # second still pays for TCP's start (its buffers grow as the connection runs).
    ours=$(ipcbench_row "$placement" -k throughput -m tcp -c 65536 -n 4096 | awk -F, '{ print $12 }')
    port=$(free_port)
    iperf3 -s -1 -p "$port" -A "$server_cpu" >"$work/iperf3.log" 2>&1 &
    servers+=("$!")
    wait_listening "$port"
    theirs=$(iperf3 -c 127.0.0.1 -p "$port" -t 5 -l 65536 -A "$cpu0" --json |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 8e6)')
    report 'TCP throughput, 64 KiB writes' "$placement" "$ours" "$theirs" MB/s iperf3
done
echo "ratio: ipcbench / reference (goal: round trips within 0.9-1.1, throughput at least 0.9)"
