#!/usr/bin/env bats
# tests/shm_counter.bats - shm_counter's race on a real counter in shared memory, and its three
# locks: a real System V semaphore set, a real POSIX named semaphore, a real process-shared
# robust mutex, with real SIGKILLs inside the critical section.  Teardown checks that no
# semaphore set, named semaphore or process is left.

# shellcheck disable=SC2154 # $stderr is set by bats' run --separate-stderr
load test_helper
bats_require_minimum_version 1.5.0

setup() {
    ipclab_setup sysv_private # -l sysv makes its set IPC_PRIVATE (test_helper.bash, ipc_left)
    C=$BIN/shm/shm_counter
    NAME=$POSIX-c
}

teardown() {
    ipclab_teardown
}

# row LOCK: the numbers of LOCK's line of $output: TOTAL EXPECTED LOST.
row() {
    local line
    line=$(grep -E "^$1 " <<<"$output") || fail "no line for $1 in: $output"
    read -r _ TOTAL EXPECTED LOST _ <<<"$line"
}

# exact LOCK EXPECTED: LOCK's line says EXPECTED adds, all of them counted.
exact() {
    row "$1"
    [[ $TOTAL == "$2" && $EXPECTED == "$2" && $LOST == 0 ]] || fail "$1: $(grep "^$1 " <<<"$output")"
}

@test "shm_counter: without a lock, adds are lost (seen in one of four runs, each with more adds); the line adds up" {
    # On two free CPUs two processes read the same value at once all the time.  On one CPU, or
    # on two that the rest of the suite keeps busy, the children run one at a time, and one
    # loses the race only when it is switched out between its read and its write: a short run
    # can lose nothing (it did, beside the other test groups: 4 x 1000000 in 0.03 s, five
    # times).  So each run that lost nothing makes four times as many adds (shm/README.md has
    # runs on one CPU).
    local times=1000000 runs=0 short=0
    (($(nproc) >= 2)) || times=10000000
    while ((runs < 4 && short == 0)); do
        run --separate-stderr timeout 20 "$C" -l none -m "$times"
        assert_success
        row none
        ((EXPECTED == 4 * times && LOST == EXPECTED - TOTAL)) || fail "$output"
        ((LOST > 0)) && short=1
        runs=$((runs + 1)) times=$((times * 4))
    done
    ((short)) || fail "4 runs, up to 4 x $((times / 4)) adds, lost nothing: $output"
}

@test "shm_counter: with each lock the total is exact, every time" {
    # Each lock with enough adds that the children overlap: 5000 each under System V (a
    # semop() a step, some 0.2 s a run), 100000 under the two that stay in user space while the
    # lock is free (a few milliseconds).
    local round lock times
    for round in 1 2 3; do
        for lock in sysv posix mutex; do
            times=100000
            [[ $lock == sysv ]] && times=5000
            run --separate-stderr timeout 20 "$C" -l "$lock" -m "$times"
            assert_success
            assert_line --index 0 --regexp '^lock +total +expected +lost +seconds$'
            assert_equal "${#lines[@]}" 2
            exact "$lock" $((4 * times)) || fail "round $round"
            [[ $stderr == "shm_counter: 4 processes x $times adds each, on "[0-9]*" CPU(s)"* ]] ||
                fail "stderr: $stderr"
        done
    done
}

@test "shm_counter -k: killed holding the System V semaphore, SEM_UNDO gives it back: the others finish" {
    run --separate-stderr timeout 20 "$C" -l sysv -k -n 3 -m 20000
    assert_success
    exact sysv 40001 # two whole, and the one add of the one killed
    [[ $stderr == *"process 2 (pid "[0-9]*") was killed by signal 9 (Killed) after 1 add(s)"* ]] ||
        fail "stderr: $stderr"
}

@test "shm_counter -k: killed holding the robust mutex, the next locker gets EOWNERDEAD and goes on" {
    run --separate-stderr timeout 20 "$C" -l mutex -k -n 3 -m 20000
    assert_success
    exact mutex 40001
    [[ $stderr == *"the mutex's owner died holding it (EOWNERDEAD); marked consistent"* ]] ||
        fail "stderr: $stderr"
}

@test "shm_counter -k: killed holding the POSIX semaphore, nothing gives it back: the stall is seen, the others stopped" {
    run --separate-stderr timeout 20 "$C" -l posix -k -n 3 -m 20000
    assert_failure 1
    row posix
    ((TOTAL == 1 && EXPECTED == 1)) || fail "$output" # the dead one's add, and no other
    [[ $stderr == *"the counter has not moved for 1 s since a process died"*"stopping the others"* ]] ||
        fail "stderr: $stderr"
    [[ -z $(pgrep -x shm_counter) ]] || fail "processes left: $(pgrep -a -x shm_counter)"
}

@test "shm_counter: results lost (stdout full, closed, or its reader gone) is exit 1 with a message (was: exit 0)" {
    local redirect
    # shellcheck disable=SC2016 # "$@" is the inner shell's
    for redirect in '>/dev/full' '>&-' '> >(:); wait $!'; do
        run --separate-stderr timeout 10 bash -c "exec $redirect"'; exec "$@"' - "$C" -n 2 -m 10 -l none
        assert_failure 1
        [[ $stderr == *"shm_counter: write stdout"*"results lost"* ]] || fail "$redirect: stderr: $stderr"
    done
}

@test "shm_counter: -p with a name sem_open cannot take (NAME_MAX - 4 bytes after the slash) is a usage error" {
    local long=${NAME#/}
    long+=$(printf '%0*d' $((251 - ${#long})) 0) # 251 bytes, the test's own name first
    run --separate-stderr timeout 10 "$C" -l posix -n 2 -m 10 -p "/a$long"
    assert_failure 2
    [[ $stderr == *"-p wants a name like /myname: a slash, then 1 to 251 bytes"* ]] || fail "stderr: $stderr"
    run --separate-stderr timeout 10 "$C" -l posix -n 2 -m 10 -p "/$long"
    assert_success
    [[ ! -e /dev/shm/sem.$long ]] || fail "the semaphore was left"
}

# children_at_least PID N: process PID has N live child processes or more (pgrep skips zombies).
children_at_least() {
    (( $(pgrep -c -P "$1") >= $2 ))
}

# gone PID: process PID has ended (a zombie counts as ended).
gone() {
    ! is_alive "$1"
}

# stalled PID: child PID of a -l posix -k run has died (the one -k kills) or waits on the
# semaphore (a futex wait) that nobody will post.
stalled() {
    ! is_alive "$1" || grep -q futex "/proc/$1/wchan" 2>/dev/null
}

@test "shm_counter -k: parent SIGKILLed while the others wait on the POSIX semaphore: they end too (was: asleep for ever)" {
    start_side c /dev/null "$C" -l posix -k -n 3 -m 20000 -p "$NAME"
    wait_output c '^lock'
    local parent kids=() kid
    parent=$(pgrep -P "$(pgid_of c)" -x shm_counter)
    wait_until 5 children_at_least "$parent" 2 # the third is killed by -k
    mapfile -t kids < <(pgrep -P "$parent")
    for kid in "${kids[@]}"; do
        wait_until 5 stalled "$kid"
    done
    kill -KILL "$parent"
    assert_exit c $((128 + 9)) 5
    for kid in "${kids[@]}"; do
        ipclab_poll 2 gone "$kid" && continue
        kill -KILL "${kids[@]}" 2>/dev/null # orphans: out of teardown's reach
        fail "child $kid still waits 2 s after its parent's death"
    done
}

# in_group_at_least PGID N: N shm_counter processes or more in process group PGID, counted anew
# at each call (wait_until calls it until it is true).
in_group_at_least() {
    (( $(pgrep -c -g "$1" -x shm_counter) >= $2 ))
}

# midrun LOCK: start shm_counter with LOCK on a long run, and wait until its four children are at
# work; PARENT = its pid.
midrun() {
    start_side c /dev/null "$C" -l "$1" -m 100000000 -p "$NAME"
    wait_output c '^lock'
    local pgid
    pgid=$(pgid_of c)
    wait_until 5 in_group_at_least "$pgid" 5
    PARENT=$(pgrep -o -g "$pgid" -x shm_counter)
}

@test "shm_counter: SIGTERM to the parent alone stops every child; the set is removed, and it dies of SIGTERM" {
    midrun sysv
    ipcs -s | grep -q "^0x00000000 " || fail "no private set: $(ipcs -s)"
    kill -TERM "$PARENT"
    assert_exit c 143 5
    grep -q '^sysv ' "$LOG/c.out" || fail "no line for the run cut short: $(cat "$LOG/c.out")"
    [[ -z $(pgrep -g "$(pgid_of c)" -x shm_counter) ]] || fail "children left"
    # teardown: no semaphore set left
}

@test "shm_counter: Ctrl-C (SIGINT to the whole group) mid-run: all end, nothing left in /dev/shm" {
    midrun posix
    [[ ! -e /dev/shm/sem.${NAME#/} ]] || fail "the name was not unlinked as soon as opened"
    kill -INT -- "-$(pgid_of c)"
    assert_exit c 130 5
    grep -q 'SIGINT: cleaned up, leaving' "$LOG/c.err" || fail "$(cat "$LOG/c.err")"
}

@test "shm_counter: a semaphore of that name made by someone else is refused and left alone" {
    local sem=/dev/shm/sem.${NAME#/}
    : >"$sem"
    (( EUID != 0 )) || chown 65534 "$sem" # as root: another user's
    run --separate-stderr timeout 5 "$C" -l posix -p "$NAME" -m 10
    assert_failure 1
    [[ $stderr == *"sem_open $NAME: File exists"* ]] || fail "stderr: $stderr"
    [[ -e $sem ]] || fail "$sem was removed"
    rm -f "$sem"
}
