#!/usr/bin/env bats
# tests/faults.bats - what the paired programs do when the other side is killed (SIGKILL at a
# random point of a 1 MiB transfer) or stopped (SIGSTOP).  The pairs that make System V objects,
# the full queue and the run-directory refusals are in tests/faults-sysv.bats.  How a run goes:
# faults_helper.bash.

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

# The pairs: start_<pair> N (see faults_helper.bash for what each sets).

start_pipe_oneway() {
    stdout_for "f$1"
    start_fed "f$1" "$BIN/pipe/pipe_oneway"
    FPID=$(prog_pid "f$1") OPID=$(child_of "$FPID")
    OUT=f$1 ECHO=0 SERVES=0 FED=1
}

start_pipe_duplex() {
    stdout_for "f$1"
    start_fed "f$1" "$BIN/pipe/pipe_duplex"
    FPID=$(prog_pid "f$1") OPID=$(child_of "$FPID")
    OUT=f$1 ECHO=1 SERVES=0 FED=1
}

start_socketpair() {
    stdout_for "f$1"
    start_fed "f$1" "$BIN/socketpair/socketpair_duplex"
    FPID=$(prog_pid "f$1") OPID=$(child_of "$FPID")
    OUT=f$1 ECHO=1 SERVES=0 FED=1
}

start_fifo() {
    stdout_for "o$1"
    start_side "o$1" /dev/null "$BIN/fifo/fifo_reader"
    wait_ready "o$1"
    start_fed "f$1" "$BIN/fifo/fifo_writer"
    FPID=$(prog_pid "f$1") OPID=${PID[o$1]}
    OUT=o$1 ECHO=0 SERVES=0 FED=1
}

start_pmq() {
    stdout_for "o$1"
    start_side "o$1" /dev/null "$BIN/msgq/pmq_recv" -p "$POSIX-q"
    wait_ready "o$1"
    start_fed "f$1" "$BIN/msgq/pmq_send" -p "$POSIX-q"
    wait_ready "f$1"
    FPID=${PID[f$1]} OPID=${PID[o$1]}
    OUT=o$1 ECHO=0 SERVES=0 FED=1
}

start_pshm() {
    stdout_for "o$1"
    start_side "o$1" /dev/null "$BIN/shm/pshm_reader" -p "$POSIX-m"
    wait_ready "o$1"
    start_fed "f$1" "$BIN/shm/pshm_writer" -p "$POSIX-m"
    wait_ready "f$1"
    FPID=${PID[f$1]} OPID=${PID[o$1]}
    OUT=o$1 ECHO=0 SERVES=0 FED=1
}

start_unix_stream() {
    start_side "o$1" /dev/null "$BIN/unixsock/unix_stream_server"
    wait_ready "o$1"
    stdout_for "f$1"
    start_fed "f$1" "$BIN/unixsock/unix_stream_client"
    FPID=$(prog_pid "f$1") OPID=${PID[o$1]}
    OUT=f$1 ECHO=1 SERVES=1 FED=1
}

start_unix_dgram() {
    start_side "o$1" /dev/null "$BIN/unixsock/unix_dgram_server"
    wait_ready "o$1"
    stdout_for "f$1"
    start_fed "f$1" "$BIN/unixsock/unix_dgram_client"
    FPID=$(prog_pid "f$1") OPID=${PID[o$1]}
    OUT=f$1 ECHO=1 SERVES=2 FED=1
}

# inet_server N PROGRAM: start it on 127.0.0.1, a port of the kernel's; PORT = that port.
inet_server() {
    start_side "o$1" /dev/null "$BIN/inetsock/$2" -P 0
    wait_ready "o$1"
    PORT=$(sed -n 's/.*: ready (pid [0-9]*): [a-z]* on [^ ]* port \([0-9]*\);.*/\1/p' "$LOG/o$1.err")
    [[ -n $PORT ]] || fail "$2 named no port: $(cat "$LOG/o$1.err")"
}

start_tcp() {
    inet_server "$1" tcp_server
    stdout_for "f$1"
    start_fed "f$1" "$BIN/inetsock/tcp_client" -P "$PORT"
    FPID=$(prog_pid "f$1") OPID=${PID[o$1]}
    OUT=f$1 ECHO=1 SERVES=1 FED=1
}

start_udp() {
    inet_server "$1" udp_server
    stdout_for "f$1"
    start_fed "f$1" "$BIN/inetsock/udp_client" -P "$PORT" -w 1000
    FPID=$(prog_pid "f$1") OPID=${PID[o$1]}
    OUT=f$1 ECHO=1 SERVES=2 FED=1
}

# fdpass: the data is the file whose descriptor passes (the receiver prints it all: -n 0).
start_fdpass() {
    stdout_for "o$1"
    start_side "o$1" /dev/null "$BIN/fdpass/fd_receiver"
    wait_ready "o$1"
    start_side "f$1" /dev/null "$BIN/fdpass/fd_sender" -n 0 "$DATA"
    FPID=$(prog_pid "f$1") OPID=${PID[o$1]}
    OUT=o$1 ECHO=0 SERVES=0 FED=0
}

@test "faults: pipe_oneway, parent or child SIGKILLed mid-transfer: the other ends with a message, no spin" {
    faults pipe_oneway
}

@test "faults: pipe_duplex, parent or child SIGKILLed mid-transfer: the other ends with a message, no spin" {
    faults pipe_duplex
}

@test "faults: socketpair_duplex, parent or child SIGKILLed mid-transfer: the other ends with a message" {
    faults socketpair
}

@test "faults: fifo_writer / fifo_reader SIGKILLed mid-transfer: the other ends with a message; next run works" {
    faults fifo
}

@test "faults: pmq_send / pmq_recv SIGKILLed mid-transfer: the other ends with a message; next run works" {
    faults pmq
}

@test "faults: pshm_writer / pshm_reader SIGKILLed mid-transfer: the other ends with a message; next run works" {
    faults pshm
}

@test "faults: unix_stream client or server SIGKILLed mid-transfer: client ends, server serves on; next run works" {
    faults unix_stream
}

@test "faults: unix_dgram client or server SIGKILLed mid-transfer: client ends, server serves on; next run works" {
    faults unix_dgram
}

@test "faults: tcp client or server SIGKILLed mid-transfer: client ends, server serves on; next run works" {
    faults tcp
}

@test "faults: udp client or server SIGKILLed mid-transfer: client ends, server serves on; next run works" {
    faults udp
}

@test "faults: fd_sender / fd_receiver SIGKILLed while the receiver prints: the other ends; next run works" {
    faults fdpass stalled-only
}

@test "faults: stdout past ulimit -f (SIGXFSZ): the side that prints says File too large, exits 1; nothing left (was: killed without a word, socket left)" {
    local pair n=0
    for pair in pipe_oneway pipe_duplex socketpair fifo pmq unix_stream unix_dgram tcp udp fdpass; do
        past_fsize "$pair" $((++n))
    done
}

@test "faults: SIGSTOP either side of each pair: the other waits asleep, no CPU; after SIGCONT the 1 MiB is whole" {
    local pair
    for pair in pipe_oneway socketpair fifo pmq pshm unix_stream unix_dgram tcp udp; do
        stops "$pair"
        # the next pair in a run directory of its own
        rm -rf "$IPCLAB_DIR" && mkdir -m 700 "$IPCLAB_DIR"
    done
}

@test "faults: SIGINT or SIGTERM to either side of each pair while data streams at full speed: it ends within 2 s, cleaned up (was: pmq_send, pshm_reader, pshm_writer ran on)" {
    local n=0 side sig
    for side in o f; do
        sig=$([[ $side == o ]] && echo INT || echo TERM)
        SERVES=0
        streaming $((++n)) "$BIN/fifo/fifo_reader" -- "$BIN/fifo/fifo_writer"
        signal_streaming "$n" "$side" "$sig"
        streaming $((++n)) "$BIN/msgq/pmq_recv" -p "$POSIX-q" -- "$BIN/msgq/pmq_send" -p "$POSIX-q"
        signal_streaming "$n" "$side" "$sig"
        streaming $((++n)) "$BIN/shm/pshm_reader" -p "$POSIX-m" -- "$BIN/shm/pshm_writer" -p "$POSIX-m"
        signal_streaming "$n" "$side" "$sig"
        READER_IN=/dev/zero streaming $((++n)) "$BIN/fifo/fifo_chat" a -- "$BIN/fifo/fifo_chat" b
        signal_streaming "$n" "$side" "$sig"
        SERVES=1
        streaming $((++n)) "$BIN/unixsock/unix_stream_server" -- "$BIN/unixsock/unix_stream_client"
        signal_streaming "$n" "$side" "$sig"
        streaming $((++n)) "$BIN/unixsock/unix_dgram_server" -- "$BIN/unixsock/unix_dgram_client"
        signal_streaming "$n" "$side" "$sig"
    done
    # the receiver reads the file passed, /dev/zero, for ever: only it can be stopped
    SERVES=0
    streaming $((++n)) "$BIN/fdpass/fd_receiver" -- "$BIN/fdpass/fd_sender" -n 0 /dev/zero
    signal_streaming "$n" o INT
}
