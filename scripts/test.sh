#!/usr/bin/env bash
# scripts/test.sh - run the whole bats suite, as `make test` does, in four groups at once.
#
#   usage: scripts/test.sh [BATS-OPTIONS...]      (one file alone: bats tests/fifo.bats)
#
# Why groups: the suite spends most of its time running real processes and bash, one test at a
# time, on one core; bats runs side by side use both cores of a small machine (README.md,
# "Robustness", says how long it takes).  Two would fill the two cores; the third (below) is
# made of tests that mostly wait, and fills the time the others leave idle; the fourth takes
# half of the System V files, which otherwise run one after another.  Why not bats --jobs: it needs GNU
# parallel, and its runs in parallel of one file's tests gained nothing measurable here.
#
# What keeps the groups apart: after every test, teardown checks that no System V object has
# appeared anywhere on the machine (ipcs cannot tell whose test made one).  So the files whose
# programs make System V objects (msgq, shm, shm_sem, shm_counter, demo, which runs them all,
# status, faults-sysv) run one test at a time with that check: in group 1, and in group 4, which
# runs beside it in an IPC namespace of its own (unshare(1) --ipc: its own System V objects and
# POSIX queues, with /dev/mqueue mounted anew in a mount namespace of its own), where the check
# sees only group 4's objects.  That takes root (CI, or sudo); without it, group 4's files run
# in group 1, after its own.
# Groups 2 and 3 run with IPCLAB_SYSV_CHECK=0 -- their programs cannot make a System V object,
# and this script checks that first: none of their binaries calls msgget, shmget or semget.
# Every other check (run directory, POSIX names, sides ending) stays on in every group.
#
# Then tests/bench.bats runs alone: it measures, and must not share the CPUs with other tests.
#
# Group 1's results appear as they come; group 2's and 3's, kept in files meanwhile, follow,
# then the bench's.  The exit status is 0 only if all pass.  IPCLAB_BIN (set by make) locates the
# programs.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

BATS=${BATS:-bats}
case ${1:-} in
-h | --help) echo "usage: scripts/test.sh [BATS-OPTIONS...]      (one file alone: bats tests/fifo.bats)"; exit 0 ;;
esac
group1=(tests/msgq.bats tests/shm.bats tests/shm_sem.bats)
group4=(tests/shm_counter.bats tests/demo.bats tests/status.bats tests/faults-sysv.bats)
# in_namespace COMMAND...: COMMAND in new IPC and mount namespaces, /dev/mqueue mounted there.
in_namespace() {
    unshare --ipc --mount --propagation private \
        sh -c 'mount -t mqueue ipclab-test /dev/mqueue && exec "$@"' in_namespace "$@"
}
if ! in_namespace true 2>/dev/null; then
    group1+=("${group4[@]}")
    group4=()
fi
# Group 3, tests/faults.bats, runs beside both, like group 2: its tests mostly wait (for a side
# to stall, to notice a kill, to show no CPU used), so a third bats process fills idle time.
# tests/cli.bats joins it to even out the times: it runs the System V programs too, but only with
# -h or malformed arguments, which they refuse before they make anything.  So does
# tests/fdpass.bats, whose two 5-second waits for a silent connection use no CPU either.
group3=(tests/faults.bats tests/cli.bats tests/fdpass.bats)
alone=tests/bench.bats
group2=()
for file in tests/*.bats; do
    [[ " ${group1[*]} ${group3[*]} ${group4[*]} " == *" $file "* || $file == "$alone" ]] || group2+=("$file")
done

# Group 2 may skip the System V check only if its programs make no System V object.
bin=${IPCLAB_BIN:-$PWD}
mapfile -t programs < <(make -s --no-print-directory print-programs)
for file in "${group2[@]}" "${group3[@]}"; do
    mech=$(basename "$file" .bats)
    for prog in "${programs[@]}"; do
        # its mechanism's programs, and any other it names as $BIN/<mechanism>/<program>
        [[ $prog == "$mech"/* ]] || grep -q "\$BIN/$prog\b" "$file" || continue
        imports=$(nm -u "$bin/$prog") || { echo "scripts/test.sh: nm -u $bin/$prog failed" >&2; exit 1; }
        if grep -qwE 'msgget|shmget|semget' <<<"$imports"; then
            echo "scripts/test.sh: $prog makes System V objects: move $file to group 1" >&2
            exit 1
        fi
    done
done

# Each group's own format: a terminal gets bats' pretty output for both, unless options say
# otherwise (CI passes --tap).
flags=("$@")
(( $# == 0 )) && [[ -t 1 ]] && flags=(--pretty)

log=$(mktemp)
log3=$(mktemp)
log4=$(mktemp)
ends=$(mktemp) # "GROUP SECONDS" as each group ends: which one the others wait for
trap 'rm -f "$log" "$log3" "$log4" "$ends"' EXIT
start=$SECONDS
{ IPCLAB_SYSV_CHECK=0 "$BATS" "${flags[@]}" "${group2[@]}" >"$log" 2>&1; s=$?; echo "2 $((SECONDS - start))" >>"$ends"; exit "$s"; } &
group2_pid=$!
{ IPCLAB_SYSV_CHECK=0 "$BATS" "${flags[@]}" "${group3[@]}" >"$log3" 2>&1; s=$?; echo "3 $((SECONDS - start))" >>"$ends"; exit "$s"; } &
group3_pid=$!
status4=0
if ((${#group4[@]} > 0)); then
    { in_namespace "$BATS" "${flags[@]}" "${group4[@]}" >"$log4" 2>&1; s=$?; echo "4 $((SECONDS - start))" >>"$ends"; exit "$s"; } &
    group4_pid=$!
fi

echo "# group 1 (one test at a time, with the System V check): ${group1[*]}"
"$BATS" "${flags[@]}" "${group1[@]}"
status1=$?
echo "1 $((SECONDS - start))" >>"$ends"
echo "# group 2 (run beside group 1): ${group2[*]}"
tail -n +1 -s 0.1 --pid="$group2_pid" -f "$log"
wait "$group2_pid"
status2=$?
echo "# group 3 (run beside them): ${group3[*]}"
tail -n +1 -s 0.1 --pid="$group3_pid" -f "$log3"
wait "$group3_pid"
status3=$?

if ((${#group4[@]} > 0)); then
    echo "# group 4 (System V too, in an IPC namespace of its own, beside them): ${group4[*]}"
    tail -n +1 -s 0.1 --pid="$group4_pid" -f "$log4"
    wait "$group4_pid"
    status4=$?
fi
groups_took=$(sort -n "$ends" | awk '{ printf "%s%s: %d s", sep, $1, $2; sep = ", " }')
echo "# then alone: $alone"
"$BATS" "${flags[@]}" "$alone"
status5=$?

verdict() { (($1 == 0)) && echo passed || echo FAILED; }
echo "# make test: group 1 $(verdict "$status1"), group 2 $(verdict "$status2")," \
    "group 3 $(verdict "$status3"),${group4[0]:+ group 4 $(verdict "$status4"),} bench $(verdict "$status5")," \
    "in $((SECONDS - start)) s" \
    "(groups ended at $groups_took)"
((status1 == 0 && status2 == 0 && status3 == 0 && status4 == 0 && status5 == 0))
