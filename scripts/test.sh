#!/usr/bin/env bash
# scripts/test.sh - run the whole bats suite, as `make test` does, in groups side by side.
#
#   usage: scripts/test.sh [BATS-OPTIONS...]      (one file alone: bats tests/fifo.bats)
#
# Why groups: most tests spend their time waiting (for a side to start, to notice a kill, to
# time out), one test at a time; bats runs side by side fill the two cores of a small machine
# (README.md, "Robustness", says how long it takes).  Why not bats --jobs: it needs GNU
# parallel, and its runs in parallel of one file's tests gained nothing measurable here.
#
# What keeps the groups apart: each test has a run directory and POSIX names of its own, and
# teardown's System V check counts only the test's own objects (tests/test_helper.bash,
# ipc_left: by the keys of its files and the ids its sides name), never another's.  Only a
# queue or set of IPC_PRIVATE leads to no test: a file whose programs make those calls
# "ipclab_setup sysv_private", and then any such object counts as its test's.  So those files
# (shm_counter, demo, bench), and labs, which runs shm_counter's tests on a lab's start, run one
# after another in group 1; any other file may go in any group (doctor's msgget check makes a
# private queue for a moment, but teardown counts one only if it is still there 2 s later).  The
# groups are the same with or without root.
#
# Then tests/bench-orderings.bats runs alone: it measures, and must not share the CPUs.
#
# Group 1's results appear as they come; the others', kept in files meanwhile, follow, then the
# orderings'.  The exit status is 0 only if all pass.  IPCLAB_BIN (set by make) locates the
# programs.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

BATS=${BATS:-bats}
case ${1:-} in
-h | --help) echo "usage: scripts/test.sh [BATS-OPTIONS...]      (one file alone: bats tests/fifo.bats)"; exit 0 ;;
esac
# The groups, each a list of files, balanced by the time they took (each file's time alone is in
# `bats --timing`'s output).  Group 1 first: the files that make objects of IPC_PRIVATE.
groups=(
    "tests/shm_counter.bats tests/demo.bats tests/bench.bats tests/labs.bats"
    "tests/faults.bats tests/mmap.bats tests/pipe.bats"
    "tests/inetsock.bats tests/shm_sem.bats tests/faults-sysv.bats"
    "tests/cli.bats tests/msgq.bats tests/fuzz.bats tests/docs.bats tests/doctor.bats"
    "tests/unixsock.bats tests/fdpass.bats tests/shm.bats"
    "tests/panes.bats tests/lesson.bats" # and every file not named above
)
alone=tests/bench-orderings.bats
for file in tests/*.bats; do
    [[ " ${groups[*]} $alone " == *" $file "* ]] || groups[-1]+=" $file"
done
while read -r file; do
    [[ " ${groups[0]} $alone " == *" $file "* ]] ||
        { echo "scripts/test.sh: $file counts IPC_PRIVATE objects as its own: put it in group 1" >&2
          exit 1; }
done < <(grep -l '^ *ipclab_setup sysv_private' tests/*.bats)

# Each group's own format: a terminal gets bats' pretty output for both, unless options say
# otherwise (CI passes --tap).
flags=("$@")
(( $# == 0 )) && [[ -t 1 ]] && flags=(--pretty)

# Every tests/*.bats runs here, on the programs in IPCLAB_BIN, each lab's tests among them:
# tests/labs.bats need not run those on our programs a second time -- unless a filter leaves
# some out.
export IPCLAB_WHOLE_SUITE=1
for flag in "$@"; do
    [[ $flag == -f || $flag == --filter* ]] && IPCLAB_WHOLE_SUITE=0
done
tmp=$(mktemp -d) own_tmpdir=""
# The tests' POSIX names begin /ipclab-t$$- (tests/test_helper.bash): a run interrupted mid-test
# (Ctrl-C) leaves no queue, segment or named semaphore behind.
export IPCLAB_TEST_RUN=$$
cleanup() {
    rm -f /dev/shm/ipclab-t"$$"-* /dev/shm/sem.ipclab-t"$$"-* /dev/mqueue/ipclab-t"$$"-*
    rm -rf "$tmp" ${own_tmpdir:+"$own_tmpdir"}
}
trap cleanup EXIT
# Ctrl-C reaches every group too: their tests' teardowns run first.
# A second SIGINT (coreutils timeout passes one on to us, say) ends a bare `wait` at once: wait
# for each group until it has really ended, or the cleanup would run while one still makes names.
pids=()
stop() {
    local pid
    for pid in "${pids[@]}"; do
        until wait "$pid" 2>/dev/null || ! kill -0 "$pid" 2>/dev/null; do :; done
    done
    exit 130
}
trap stop INT
trap 'exit 143' TERM
# The tests' files -- bats' directories, each test's run directory, its logs, FIFOs and sockets,
# some 20 000 made and removed in a run -- on a tmpfs, if TMPDIR is not set and /dev/shm is one:
# on an ext4 /tmp, allocating their inodes was a twentieth of the suite's CPU (perf record).
# (Not named ipclab-...: make status would list it among the POSIX objects.)
if [[ -z ${TMPDIR:-} && $(stat -f -c %T /dev/shm 2>/dev/null) == tmpfs && -w /dev/shm ]]; then
    if own_tmpdir=$(mktemp -d /dev/shm/bats-ipclab.XXXXXX); then
        export TMPDIR=$own_tmpdir
    fi
fi
start=$SECONDS
# run_group N FILES [LOG]: bats on FILES, its output in LOG if given, "N SECONDS" in $tmp/ends
# when it ends, its status in $tmp/N.status.
run_group() {
    local n=$1 files status=0
    read -ra files <<<"$2"
    if (($# > 2)); then
        "$BATS" "${flags[@]}" "${files[@]}" >"$3" 2>&1
    else
        "$BATS" "${flags[@]}" "${files[@]}"
    fi || status=$?
    echo "$n $((SECONDS - start))" >>"$tmp/ends"
    echo "$status" >"$tmp/$n.status"
}
for ((i = 1; i < ${#groups[@]}; i++)); do
    run_group $((i + 1)) "${groups[i]}" "$tmp/$((i + 1)).log" &
    pids[i]=$!
done
echo "# group 1: ${groups[0]}"
run_group 1 "${groups[0]}"
for ((i = 1; i < ${#groups[@]}; i++)); do
    echo "# group $((i + 1)) (beside the others): ${groups[i]# }"
    tail -n +1 -s 0.1 --pid="${pids[i]}" -f "$tmp/$((i + 1)).log"
    wait "${pids[i]}"
done
groups_took=$(sort -n -k 2 "$tmp/ends" | awk '{ printf "%s%s: %d s", sep, $1, $2; sep = ", " }')
echo "# then alone: $alone"
"$BATS" "${flags[@]}" "$alone"
alone_status=$?

verdicts="" failed=0
for ((i = 1; i <= ${#groups[@]}; i++)); do
    if [[ $(cat "$tmp/$i.status") == 0 ]]; then
        verdicts+="group $i passed, "
    else
        verdicts+="group $i FAILED, "
        failed=1
    fi
done
if ((alone_status == 0)); then
    verdicts+="orderings passed"
else
    verdicts+="orderings FAILED"
    failed=1
fi
echo "# make test: $verdicts, in $((SECONDS - start)) s (groups ended at $groups_took)"
((failed == 0)) || echo "# if failures mention SIGBUS, /dev/shm, /dev/mqueue, msgget, a queue's limit, mkfifo, bind or strace, run make doctor"
((failed == 0))
