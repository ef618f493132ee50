#!/usr/bin/env bash
# scripts/fuzz.sh - run each libFuzzer harness for a bounded time, as `make fuzz` does.
#
#   usage: scripts/fuzz.sh SECONDS HARNESS...      (HARNESS: relay_frames, fd_cmsg)
#
# build/fuzz/HARNESS is the harness linked with libFuzzer (make fuzz builds it).  Its inputs:
# build/fuzz/corpus/HARNESS, where it keeps what it learns from run to run, then the committed
# seeds (fuzz/corpus/HARNESS) and every crash found so far (fuzz/regressions/HARNESS), which
# libFuzzer runs first.  Its output goes to build/fuzz/HARNESS.log; this script prints the
# figures.  A crash, a hang (10 s on one input) or a leak stops the harness: the input is saved
# as build/fuzz/HARNESS-crash-..., the report is shown, and the script exits 1.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

usage="usage: scripts/fuzz.sh SECONDS HARNESS...      (HARNESS: relay_frames, fd_cmsg)"
[[ ${1:-} == -h || ${1:-} == --help ]] && { echo "$usage"; exit 0; }
if (( $# < 2 )) || [[ ! $1 =~ ^[1-9][0-9]*$ ]]; then
    echo "$usage" >&2
    exit 2
fi
seconds=$1
shift

status=0
for name in "$@"; do
    bin=build/fuzz/$name
    [[ -x $bin ]] || { echo "fuzz: no $bin (make fuzz builds it)" >&2; exit 2; }
    mkdir -p "build/fuzz/corpus/$name" "fuzz/regressions/$name"
    log=build/fuzz/$name.log
    echo "fuzz: $name for $seconds s ..."
    # -close_fd_mask=2: the programs' own warnings (a refused frame, say) would flood the
    # terminal; libFuzzer keeps its messages and the sanitizers' reports on a stderr of its own.
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -close_fd_mask=2 \
        -print_final_stats=1 -artifact_prefix="build/fuzz/$name-" \
        "build/fuzz/corpus/$name" "fuzz/corpus/$name" "fuzz/regressions/$name" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)
    kept=$(find "build/fuzz/corpus/$name" -type f | wc -l)
    if (( rc != 0 )); then
        echo "fuzz: $name FAILED (exit $rc) after ${runs:-?} runs; the report:" >&2
        grep -E -A40 '^==[0-9]+==ERROR|broken:|ALARM|out-of-memory' "$log" | head -n 60 >&2
        artifact=$(sed -n "s/.*Test unit written to \\(.*\\)/\\1/p" "$log" | tail -n 1)
        echo "fuzz: the input is $artifact (replay it: make fuzz/$name && fuzz/$name $artifact)." \
            "Fix the bug, then copy the input to fuzz/regressions/$name/<what-it-breaks>:" \
            "make test replays it from then on." >&2
        status=1
        continue
    fi
    echo "fuzz: $name: $runs runs in $seconds s ($speed/s), $cov, $kept inputs kept; crashes: 0"
done
exit "$status"
