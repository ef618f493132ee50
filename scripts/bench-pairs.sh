#!/usr/bin/env bash
# scripts/bench-pairs.sh - the pairs table of `make bench`: each streaming pair run as a student
# runs it, its real programs with stdin from a file and stdout to a file, both in tmpfs (so no
# disk is timed), on one CPU and on two (taskset), beside ipcbench's figure for the same
# mechanism at the pair's chunk size.  The output is compared with the input byte for byte: a
# figure counts only if everything arrived.
#
#   usage: scripts/bench-pairs.sh [-q] [-o CSV] [-m WORD]
#     -q      quick: 16 MiB through each pair, and the bench's cells at 16 MiB; 256 MiB otherwise
#             (-qq: 2 MiB, a smoke run, what the tests run: every pair whole, figures meaningless)
#     -m WORD only the pairs whose name holds WORD (e.g. -m pshm)
#     -o CSV  also append each figure to CSV (bench/results.csv, as ipcbench writes it): a row
#             placement,pair,PAIR,CHUNK,STATUS,,,,,,,MB_PER_S,,OF_LIMIT where OF_LIMIT is the
#             pair's figure over ipcbench's for its mechanism and chunk: a pair's limit
#
# IPCLAB_BIN, if set, is where the programs and bench/ipcbench are built (as for the tests).
#
# The output file is filled with zeros before each run and written over in place (opened with
# <>, not truncated): tmpfs then has its pages already, and the time is the pair's, not the
# kernel's allocating 256 MiB for the file.  A byte that did not arrive stays 0, and cmp sees it.
#
# MB = 10^6 bytes.  The time runs from the writer's start to the reader's end; the reader is
# started first and has said it is ready, so its setup is not timed (the writer's is, as the
# student's `time` would).  A pair is meant to move data at the speed of its mechanism: the
# last column says how near it comes.
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

usage="usage: scripts/bench-pairs.sh [-q] [-o CSV] [-m WORD]"
quick=0 csv='' only=''
[[ ${1:-} == --help ]] && { echo "$usage"; exit 0; }
while getopts ":qo:m:h" opt; do
    case $opt in
    q) quick=$((quick + 1)) ;;
    o) csv=$OPTARG ;;
    m) only=$OPTARG ;;
    h) echo "$usage"; exit 0 ;;
    *) echo "bench-pairs: unknown option -$OPTARG" >&2; echo "$usage" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
(( $# == 0 )) || { echo "bench-pairs: unexpected argument '$1'" >&2; echo "$usage" >&2; exit 2; }

mib=$(( quick > 1 ? 2 : quick ? 16 : 256 ))
bytes=$(( mib << 20 ))

# tmpfs for the input and output files: /dev/shm on Linux.
tmpfs=/dev/shm
[[ $(stat -f -c %T -- "$tmpfs" 2>/dev/null) == tmpfs ]] || tmpfs=${XDG_RUNTIME_DIR:-/tmp}
work=$(mktemp -d -- "$tmpfs/ipclab-pairs.XXXXXX")
children=()
cleanup() {
    local pid
    for pid in "${children[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export IPCLAB_DIR=$work/run # the pairs meet here, never in a student's run directory
mkdir -m 700 "$IPCLAB_DIR"
head -c "$bytes" /dev/urandom >"$work/in"

bin=${IPCLAB_BIN:-.}

# The CPUs: the first two this process may use (one, if that is all there is).
read -ra cpus < <(taskset -pc $$ | sed 's/.*: //' | tr ',' '\n' |
    awk -F- '{ for (c = $1; c <= ($2 == "" ? $1 : $2); c++) printf "%d ", c } END { print "" }')
placements=("same ${cpus[0]} ${cpus[0]}")
(( ${#cpus[@]} >= 2 )) && placements+=("split ${cpus[0]} ${cpus[1]}")

# fresh_out: $work/out as zeros of the input's size (see the top).
fresh_out() { head -c "$bytes" /dev/zero >"$work/out"; }

# mbps SECONDS: the MB/s of $bytes in SECONDS.
mbps() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.0f", b / s / 1e6 }'; }

# run_pair WRITER_CPU READER_CPU 'READER COMMAND' 'WRITER COMMAND': start the reader (stdout to
# $work/out), wait for its ready line, time the writer from its start to the reader's end.
# Prints the seconds, or "failed" (with the sides' messages on stderr) if anything went wrong
# or the output differs from the input.
run_pair() {
    local wcpu=$1 rcpu=$2 reader=$3 writer=$4 t0 t1 rpid wstatus=0 rstatus=0
    fresh_out
    # Emptied here, not by the redirection below: that one happens in the new process, and until
    # then the wait below would find the previous reader's ready line.
    : >"$work/reader.err"
    # shellcheck disable=SC2086 # the commands are words on purpose
    taskset -c "$rcpu" "$bin/"$reader 1<>"$work/out" 2>"$work/reader.err" &
    rpid=$!
    children+=("$rpid")
    if ! ipclab_wait_for "$work/reader.err" ': ready' 10; then
        kill "$rpid" 2>/dev/null
        echo failed
        return
    fi
    t0=$EPOCHREALTIME
    # shellcheck disable=SC2086
    taskset -c "$wcpu" "$bin/"$writer <"$work/in" >"$work/writer.out" 2>"$work/writer.err" || wstatus=$?
    wait "$rpid" || rstatus=$?
    t1=$EPOCHREALTIME
    if (( wstatus != 0 || rstatus != 0 )) || ! cmp -s "$work/in" "$work/out"; then
        echo "bench-pairs: $writer (exit $wstatus) -> $reader (exit $rstatus):" \
            "$(cat "$work/writer.err" "$work/reader.err")" >&2
        echo failed
        return
    fi
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }'
}

# run_cat WRITER_CPU READER_CPU: the same through a FIFO, with cat on both sides: the peer a
# student already has.
run_cat() {
    local t0 t1 rpid rstatus=0
    fresh_out
    rm -f "$work/cat.fifo"
    mkfifo -m 600 "$work/cat.fifo"
    t0=$EPOCHREALTIME
    taskset -c "$2" cat "$work/cat.fifo" 1<>"$work/out" &
    rpid=$!
    children+=("$rpid")
    taskset -c "$1" cat "$work/in" >"$work/cat.fifo"
    wait "$rpid" || rstatus=$?
    t1=$EPOCHREALTIME
    if (( rstatus != 0 )) || ! cmp -s "$work/in" "$work/out"; then
        echo failed
        return
    fi
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }'
}

# run_echo WRITER_CPU READER_CPU 'SERVER' 'CLIENT': an echo pair.  The client sends the file
# and waits for every reply; the server prints what arrives (compared with the input), and is
# stopped once the client is done.
run_echo() {
    local t0 t1 spid cstatus=0
    fresh_out
    : >"$work/reader.err" # as in run_pair
    # shellcheck disable=SC2086
    taskset -c "$2" "$bin/"$3 1<>"$work/out" 2>"$work/reader.err" &
    spid=$!
    children+=("$spid")
    if ! ipclab_wait_for "$work/reader.err" ': ready' 10; then
        kill "$spid" 2>/dev/null
        echo failed
        return
    fi
    t0=$EPOCHREALTIME
    # shellcheck disable=SC2086
    taskset -c "$1" "$bin/"$4 <"$work/in" >/dev/null 2>"$work/writer.err" || cstatus=$?
    t1=$EPOCHREALTIME
    kill -TERM "$spid" 2>/dev/null
    wait "$spid" 2>/dev/null || true
    if (( cstatus != 0 )) || ! cmp -s "$work/in" "$work/out"; then
        echo "bench-pairs: $4 (exit $cstatus): $(cat "$work/writer.err")" >&2
        echo failed
        return
    fi
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }'
}

# run_dd WRITER_CPU: no IPC at all -- one dd copies the input file to the output file, 256 KiB a
# call.  Every pair reads its input and writes its output with the same calls, so this is what
# no pair can beat on one CPU (on two, its two sides may copy at once).
run_dd() {
    local t0 t1
    fresh_out
    t0=$EPOCHREALTIME
    taskset -c "$1" dd if="$work/in" of="$work/out" bs=256K conv=notrunc status=none || {
        echo failed
        return
    }
    t1=$EPOCHREALTIME
    cmp -s "$work/in" "$work/out" || { echo failed; return; }
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }'
}

# bench_mbps MECHANISM CHUNK PLACEMENT: ipcbench's one-way MB/s for it (the same amount).
bench_mbps() {
    "$bin/bench/ipcbench" -k throughput -m "$1" -c "$2" -n "$mib" -P "$3" -o "$work/bench.csv" \
        >/dev/null 2>"$work/bench.err" || { echo failed; return; }
    awk -F, -v m="$1" '$2 == "throughput" && $3 == m && $5 == "ok" { print $12 }' "$work/bench.csv"
}

# The pairs, as a student runs them (each program's defaults): name|chunk|mechanism|reader|writer.
# chunk is what one call of the pair moves (fifo and unix_stream: IPCLAB_STREAM_CHUNK in
# common/ipclab.h; msgq: kernel.msgmax; pmq: PMQ_MSGSIZE in msgq/pmq.h; pshm: a buffer of the
# ring in shm/pshm.h; shm: SHM_SIZE in shm/shm.h); mechanism is ipcbench's to compare with
# (- for none): shm_writer's signals have no twin there, so it stands beside posix_shm, shared
# memory with semaphores.  The first row moves the file with no IPC at all, the ceiling of
# every pair on one CPU: ipcbench moves memory to memory, a pair file to file.  The echo
# pair's server prints what arrives (the output compared) and sends it back: every byte
# crosses twice, and the client's time is the one taken.
pairs=(
    "dd < file > file (no IPC)|262144|-|dd|dd"
    "cat > FIFO > cat|131072|fifo|cat|cat"
    "fifo_writer > fifo_reader|131072|fifo|fifo/fifo_reader|fifo/fifo_writer"
    "msgq_send > msgq_recv|8192|sysv_msgq|msgq/msgq_recv|msgq/msgq_send"
    "pmq_send > pmq_recv|8192|posix_mq|msgq/pmq_recv|msgq/pmq_send"
    "pshm_writer > pshm_reader|262144|posix_shm|shm/pshm_reader|shm/pshm_writer"
    "shm_writer > shm_reader|4096|posix_shm|shm/shm_reader|shm/shm_writer"
    "unix_stream_client (echo)|131072|unix_stream|unixsock/unix_stream_server|unixsock/unix_stream_client"
)

# size_label BYTES: 4K, 64K, 1M.
size_label() {
    if (( $1 >= 1048576 && $1 % 1048576 == 0 )); then echo "$(( $1 >> 20 ))M"
    elif (( $1 >= 1024 && $1 % 1024 == 0 )); then echo "$(( $1 >> 10 ))K"
    else echo "$1"; fi
}

# cell PAIR_MBPS BENCH_MBPS: "PAIR / BENCH (N%)".
cell() {
    if [[ $2 == - ]]; then
        printf '%s' "$1"
    elif [[ $1 == failed || $2 == failed || -z $2 ]]; then
        printf '%s / %s' "$1" "${2:-?}"
    else
        awk -v p="$1" -v b="$2" 'BEGIN { printf "%d / %d (%.0f%%)", p, b, 100 * p / b }'
    fi
}

printf 'pairs: MB/s one way (MB = 10^6 bytes), %d MiB from a file in tmpfs through each pair as a\n' "$mib"
printf 'student runs it, output compared with input; beside it, ipcbench'"'"'s figure for the same\n'
printf 'mechanism at the same chunk, and the pair'"'"'s share of it (the first row: no IPC at all,\n'
printf 'one process copying the file, the most a pair can do on one CPU)\n'
header=$(printf '%-28s %6s' pair chunk)
for p in "${placements[@]}"; do
    read -r key _ _ <<<"$p"
    header+=$(printf '   %-22s' "$([[ $key == same ]] && echo 'same CPU' || echo 'split CPUs')")
done
echo "$header"
failed=0
for entry in "${pairs[@]}"; do
    IFS='|' read -r name chunk mech reader writer <<<"$entry"
    [[ $name == *"$only"* ]] || continue
    line=$(printf '%-28s %6s' "$name" "$(size_label "$chunk")")
    for p in "${placements[@]}"; do
        read -r key wcpu rcpu <<<"$p"
        if [[ $reader == dd ]]; then
            secs=$(run_dd "$wcpu")
        elif [[ $reader == cat ]]; then
            secs=$(run_cat "$wcpu" "$rcpu")
        elif [[ $name == *'(echo)'* ]]; then
            secs=$(run_echo "$wcpu" "$rcpu" "$reader" "$writer")
        else
            secs=$(run_pair "$wcpu" "$rcpu" "$reader" "$writer")
        fi
        pair=failed
        [[ $secs == failed ]] || pair=$(mbps "$secs")
        [[ $pair == failed ]] && failed=$((failed + 1))
        bench=-
        [[ $mech == - ]] || bench=$(bench_mbps "$mech" "$chunk" "$key")
        line+=$(printf '   %-22s' "$(cell "$pair" "$bench")")
        if [[ -n $csv ]]; then
            ratio=$(awk -v p="$pair" -v b="$bench" 'BEGIN { if (p + 0 > 0 && b + 0 > 0) printf "%.3f", p / b }')
            printf '%s,pair,%s,%s,%s,,,,,,,%s,,%s\n' "$key" "$name" "$chunk" \
                "$([[ $pair == failed ]] && echo failed || echo ok)" \
                "$([[ $pair == failed ]] || echo "$pair")" "$ratio" >>"$csv"
        fi
    done
    echo "$line"
done
(( failed == 0 ))
