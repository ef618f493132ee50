#!/usr/bin/env bats
# tests/faults-sysv.bats - tests/faults.bats for the pairs that make System V objects (a queue,
# a segment, a semaphore set): SIGKILL at a random point of a 1 MiB transfer, SIGSTOP, a full queue; and every
# program's refusal of a run directory it must not trust.  Teardown checks after every test that
# none of the test's System V objects is left (tests/test_helper.bash, ipc_left).

# shellcheck disable=SC2034,SC2153,SC2154 # FPID, OPID, OUT, ECHO, SERVES, FED, QUEUE_ID and PORT
# are read by faults_helper.bash; PID comes from test_helper.bash, $stderr from bats' run

load test_helper
load faults_helper
bats_require_minimum_version 1.5.0

setup() {
    faults_setup
}

teardown() {
    ipclab_teardown
}

start_msgq() {
    stdout_for "o$1"
    start_side "o$1" /dev/null "$BIN/msgq/msgq_recv"
    wait_ready "o$1"
    start_fed "f$1" "$BIN/msgq/msgq_send"
    wait_ready "f$1"
    FPID=${PID[f$1]} OPID=${PID[o$1]}
    QUEUE_ID=$(sed -n 's/.*: ready (pid [0-9]*): queue \([0-9]*\) .*/\1/p' "$LOG/f$1.err")
    OUT=o$1 ECHO=0 SERVES=0 FED=1
}

start_shm() {
    stdout_for "o$1"
    start_side "o$1" /dev/null "$BIN/shm/shm_reader"
    wait_ready "o$1"
    start_fed "f$1" "$BIN/shm/shm_writer"
    wait_ready "f$1"
    FPID=${PID[f$1]} OPID=${PID[o$1]}
    OUT=o$1 ECHO=0 SERVES=0 FED=1
}

start_shm_sem() {
    stdout_for "o$1"
    start_side "o$1" /dev/null "$BIN/shm/shm_sem_reader"
    wait_ready "o$1"
    start_fed "f$1" "$BIN/shm/shm_sem_writer"
    wait_ready "f$1"
    FPID=${PID[f$1]} OPID=${PID[o$1]}
    OUT=o$1 ECHO=0 SERVES=0 FED=1
}

@test "faults: msgq_send / msgq_recv SIGKILLed mid-transfer: the other ends with a message; stale queue reclaimed" {
    faults msgq
}

@test "faults: shm_writer / shm_reader SIGKILLed mid-transfer: the other ends with a message; stale segment reclaimed" {
    faults shm
}

@test "faults: shm_sem_writer / shm_sem_reader SIGKILLed mid-transfer: the other ends with a message; stale set and segment reclaimed" {
    faults shm_sem
}

@test "faults: stdout past ulimit -f (SIGXFSZ): msgq_recv, shm_reader, shm_sem_reader say File too large, exit 1; nothing left" {
    past_fsize msgq 1
    past_fsize shm 2
    past_fsize shm_sem 3
}

@test "faults: SIGSTOP either side of msgq, shm and shm_sem: the other waits asleep, no CPU; after SIGCONT the 1 MiB is whole" {
    stops msgq
    stops shm
    stops shm_sem
}

@test "faults: a full System V queue (msgmnb reached) blocks msgq_send, drops nothing; all arrives once drained" {
    # msgq_recv stopped: msgq_send fills the queue to msgmnb and must then wait in msgsnd(),
    # not drop a message or fail; after SIGCONT every byte arrives, in order.
    SYSV_QUEUE_FULL=1 stopped_run msgq 1 o
}

@test "faults: every program that uses the run directory refuses one with the wrong mode or owner" {
    # Each program that uses the run directory, with what it needs to get that far.
    declare -A args=([fifo/fifo_chat]=a [msgq/msgq_chat]='1 2' [unixsock/relay_client]=alice
        [fdpass/fd_sender]=$DATA)
    local prog programs=() bad
    for prog in $(make -s --no-print-directory -C "$ROOT" print-programs); do
        # its usage says so: a default name in the run directory
        "$BIN/$prog" -h | tr -s ' \n' ' ' | grep -q 'in the run directory' && programs+=("$prog")
    done
    (( ${#programs[@]} >= 15 )) || fail "only ${#programs[@]} programs use the run directory: ${programs[*]}"
    for bad in mode owner; do
        if [[ $bad == mode ]]; then
            chmod 755 "$IPCLAB_DIR"
        elif (( EUID == 0 )); then
            chmod 700 "$IPCLAB_DIR" && chown 65534 "$IPCLAB_DIR" # nobody's
        else
            export IPCLAB_DIR=/ # root's, and we are not root
        fi
        for prog in "${programs[@]}"; do
            # shellcheck disable=SC2086 # the arguments are words
            run --separate-stderr timeout 5 "$BIN/$prog" ${args[$prog]:-} </dev/null
            [[ $status == 1 && $stderr =~ (has mode 755: others can get in|belongs to uid [0-9]+, not to you).*refusing ]] ||
                fail "$prog, run directory with the wrong $bad: exit $status, stderr: $stderr"
        done
        [[ $IPCLAB_DIR == / ]] || [[ -z $(ls -A "$IPCLAB_DIR") ]] || fail "something was created: $(ls -A "$IPCLAB_DIR")"
    done
    [[ $IPCLAB_DIR == / ]] || { chown "$EUID" "$IPCLAB_DIR" && chmod 700 "$IPCLAB_DIR"; }
}

@test "faults: SIGINT or SIGTERM to either side of each System V pair while data streams at full speed: it ends within 2 s, cleaned up (was: shm_sem_reader ran on; msgq_recv 1 to 3 s)" {
    local n=0 side sig
    for side in o f; do
        sig=$([[ $side == o ]] && echo INT || echo TERM)
        streaming $((++n)) "$BIN/msgq/msgq_recv" -- "$BIN/msgq/msgq_send"
        signal_streaming "$n" "$side" "$sig"
        streaming $((++n)) "$BIN/shm/shm_reader" -- "$BIN/shm/shm_writer"
        signal_streaming "$n" "$side" "$sig"
        streaming $((++n)) "$BIN/shm/shm_sem_reader" -- "$BIN/shm/shm_sem_writer"
        signal_streaming "$n" "$side" "$sig"
        READER_IN=/dev/zero streaming $((++n)) "$BIN/msgq/msgq_chat" 1 2 -- "$BIN/msgq/msgq_chat" 2 1
        signal_streaming "$n" "$side" "$sig"
    done
}
