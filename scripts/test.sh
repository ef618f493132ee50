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
# What keeps the groups apart: after every test, teardown checks that no System V object has
# appeared anywhere on the machine (ipcs cannot tell whose test made one).  So the files whose
# programs make System V objects (msgq, shm, shm_sem, shm_counter, demo, which runs them all,
# status, faults-sysv, bench, labs; doctor, whose msgget check makes one of each kind for a
# moment) run one test at a time with that check: group 1 on the machine, groups 2 and 3 each
# in an IPC namespace of its own (unshare(1) --ipc: its own System V objects and POSIX queues,
# with /dev/mqueue mounted anew in a mount namespace of its own), where the check sees only
# that group's objects.  That takes root (CI, or sudo); without it,
# their files run in group 1, after its own.
# Groups 4 to 6 run with IPCLAB_SYSV_CHECK=0 -- their programs cannot make a System V object,
# and this script checks that first: none of their binaries calls msgget, shmget or semget.
# Every other check (run directory, POSIX names, sides ending) stays on in every group.
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
# `bats --timing`'s output).
sysv_groups=(
    "tests/msgq.bats tests/shm.bats tests/shm_sem.bats"
    "tests/shm_counter.bats tests/demo.bats tests/faults-sysv.bats"
    "tests/bench.bats tests/labs.bats tests/status.bats tests/doctor.bats"
)
plain_groups=(
    "tests/faults.bats tests/cli.bats tests/mmap.bats"
    "tests/unixsock.bats tests/panes.bats tests/inetsock.bats"
    "tests/fdpass.bats" # and every file not named above
)
alone=tests/bench-orderings.bats
for file in tests/*.bats; do
    [[ " ${sysv_groups[*]} ${plain_groups[*]} $alone " == *" $file "* ]] || plain_groups[-1]+=" $file"
done
# shellcheck source=scripts/lib.sh
source scripts/lib.sh # ipclab_in_namespace
if ! ipclab_in_namespace true 2>/dev/null; then
    sysv_groups=("${sysv_groups[*]}")
fi

# The plain groups may skip the System V check only if their programs make no System V object.
bin=${IPCLAB_BIN:-$PWD}
mapfile -t programs < <(make -s --no-print-directory print-programs)
read -ra plain_files <<<"${plain_groups[*]}"
for file in "${plain_files[@]}"; do
    mech=$(basename "$file" .bats)
    for prog in "${programs[@]}"; do
        # its mechanism's programs, and any other it names as $BIN/<mechanism>/<program>
        [[ $prog == "$mech"/* ]] || grep -q "\$BIN/$prog\b" "$file" || continue
        imports=$(nm -u "$bin/$prog") || { echo "scripts/test.sh: nm -u $bin/$prog failed" >&2; exit 1; }
        if grep -qwE 'msgget|shmget|semget' <<<"$imports"; then
            echo "scripts/test.sh: $prog makes System V objects: move $file to a System V group" >&2
            exit 1
        fi
    done
done

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
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The tests' files -- bats' directories, each test's run directory, its logs, FIFOs and sockets,
# some 20 000 made and removed in a run -- on a tmpfs, if TMPDIR is not set and /dev/shm is one:
# on an ext4 /tmp, allocating their inodes was a twentieth of the suite's CPU (perf record).
# (Not named ipclab-...: make status would list it among the POSIX objects.)
if [[ -z ${TMPDIR:-} && $(stat -f -c %T /dev/shm 2>/dev/null) == tmpfs && -w /dev/shm ]]; then
    if TMPDIR=$(mktemp -d /dev/shm/bats-ipclab.XXXXXX); then
        export TMPDIR
        trap 'rm -rf "$tmp" "$TMPDIR"' EXIT
    else
        unset TMPDIR
    fi
fi
start=$SECONDS
# run_group N WHERE FILES: bats on FILES, its output in $tmp/N.log, "N SECONDS" in $tmp/ends
# when it ends, its status in $tmp/N.status.  WHERE: host, namespace or plain.
run_group() {
    local n=$1 where=$2 files status=0
    read -ra files <<<"$3"
    case $where in
    host) "$BATS" "${flags[@]}" "${files[@]}" ;;
    namespace) ipclab_in_namespace "$BATS" "${flags[@]}" "${files[@]}" >"$tmp/$n.log" 2>&1 ;;
    plain) IPCLAB_SYSV_CHECK=0 "$BATS" "${flags[@]}" "${files[@]}" >"$tmp/$n.log" 2>&1 ;;
    esac || status=$?
    echo "$n $((SECONDS - start))" >>"$tmp/ends"
    echo "$status" >"$tmp/$n.status"
}
groups=("${sysv_groups[@]}" "${plain_groups[@]}")
pids=()
for ((i = 1; i < ${#groups[@]}; i++)); do
    where=plain
    ((i < ${#sysv_groups[@]})) && where=namespace
    run_group $((i + 1)) "$where" "${groups[i]}" &
    pids[i]=$!
done
echo "# group 1 (one test at a time, with the System V check): ${groups[0]}"
run_group 1 host "${groups[0]}"
for ((i = 1; i < ${#groups[@]}; i++)); do
    if ((i < ${#sysv_groups[@]})); then
        echo "# group $((i + 1)) (System V too, in an IPC namespace of its own, beside the others): ${groups[i]}"
    else
        echo "# group $((i + 1)) (no System V check, beside the others): ${groups[i]# }"
    fi
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
