#!/usr/bin/env bats
# tests/socketpair.bats - socketpair_duplex: a parent and its child over one socketpair.

# shellcheck disable=SC2154 # $stderr is set by bats' run --separate-stderr
load test_helper
bats_require_minimum_version 1.5.0

setup() {
    ipclab_setup
    SP=$BIN/socketpair/socketpair_duplex
}

teardown() {
    ipclab_teardown
}


@test "socketpair_duplex: stream: three greetings sent apart are read in one read() call" {
    run --separate-stderr timeout 5 "$SP" -n 3
    assert_success
    assert_output $'HELLO 1\nHELLO 2\nHELLO 3'
    [[ $stderr == *"over a stream socketpair"* ]] || fail "stderr: $stderr"
    [[ $stderr == *"child: end of data: 24 bytes in 1 read() call(s)"* ]] || fail "stderr: $stderr"
}

@test "socketpair_duplex: -d: datagrams keep their boundaries: three greetings, three read() calls" {
    run --separate-stderr timeout 5 "$SP" -d -n 3
    assert_success
    assert_output $'HELLO 1\nHELLO 2\nHELLO 3'
    [[ $stderr == *"over a datagram socketpair"* ]] || fail "stderr: $stderr"
    [[ $stderr == *"child: end of data: 24 bytes in 3 read() call(s)"* ]] || fail "stderr: $stderr"
}

@test "socketpair_duplex: 1 MiB of random binary comes back upper-cased, stream and datagram" {
    random_file "$LOG/in.bin" 1048576
    local expected mode
    expected=$(LC_ALL=C tr "[:lower:]" "[:upper:]" <"$LOG/in.bin" | sha256sum)
    for mode in "" -d; do
        timeout 10 "$SP" $mode <"$LOG/in.bin" >"$LOG/out.bin" 2>"$LOG/err.txt"
        assert_equal "$(sha256sum <"$LOG/out.bin")" "$expected"
    done
}

@test "socketpair_duplex: answers as socat - EXEC:'tr a-z A-Z' does (socat's socketpair to tr), on 1 MiB of random binary" {
    command -v socat >/dev/null || fail "socat is not installed (scripts/bootstrap.sh installs it)"
    random_file "$LOG/in.bin" 1048576
    LC_ALL=C timeout 10 socat - EXEC:'tr a-z A-Z' <"$LOG/in.bin" >"$LOG/socat.bin"
    timeout 10 "$SP" <"$LOG/in.bin" >"$LOG/out.bin" 2>"$LOG/err.txt"
    assert_equal "$(cksum <"$LOG/out.bin")" "$(cksum <"$LOG/socat.bin")"
    assert_equal "$(stat -c %s "$LOG/out.bin")" 1048576
}

@test "socketpair_duplex: each process holds one end and uses it both ways (seed: 'sv[0] reads, sv[1] writes')" {
    start_fed p "$SP"
    printf 'both ways\n' >&5
    wait_output p '^BOTH WAYS$'
    local pid sockets
    for pid in "$(parent_pid p)" "$(child_pid p)"; do
        sockets=$(find "/proc/$pid/fd" -lname 'socket:*' | wc -l)
        assert_equal "$sockets" 1
    done
}

# The child stopped, so the parent waits for a reply that will never come; then the child dies.
kill_child_while_parent_waits() {
    start_fed p "$SP" "$@"
    printf 'first\n' >&5
    wait_output p '^FIRST$'
    local child
    child=$(child_pid p)
    kill -STOP "$child"
    printf 'second\n' >&5
    wait_blocked_in "$(parent_pid p)" 'poll_schedule|select' # sent, now waiting for the reply
    kill -KILL "$child"
    wait_exit p 2
    assert_equal "$SIDE_STATUS" 1
    run cat "$LOG/p.err"
    assert_line --partial 'the child went away before it answered'
    assert_line --regexp 'child [0-9]+ was killed by signal 9'
}

@test "socketpair_duplex: stream: the child killed while the parent waits for its reply -> reported, exit 1" {
    kill_child_while_parent_waits
}

@test "socketpair_duplex: -d: the child killed while the parent waits -> reported, exit 1 (a datagram socket shows no hang-up)" {
    kill_child_while_parent_waits -d
}

parent_killed() {
    start_fed p "$SP" "$@"
    printf 'first\n' >&5
    wait_output p '^FIRST$'
    local child
    child=$(child_pid p)
    kill -KILL "$(parent_pid p)"
    wait_gone "$child" 2
    assert_exit p $((128 + 9)) 2 # the wrapper has seen it (else teardown would SIGTERM p)
}

@test "socketpair_duplex: stream: the parent killed -> the child sees end of file and ends within 2 s" {
    parent_killed
}

@test "socketpair_duplex: -d: the parent killed -> the child ends within 2 s and says so (a peer check: no end of file on datagrams)" {
    parent_killed -d
    run cat "$LOG/p.err"
    assert_line --partial 'child: the parent went away'
}

@test "socketpair_duplex: -d: the parent failing mid-transfer (its stdout gone) still ends the child: no hang" {
    # The parent, alive, waits for its child; the child waits for a datagram: close() sends a
    # datagram peer nothing, so the parent must send the end before it waits.
    # shellcheck disable=SC2016 # $0 and PIPESTATUS are the inner shell's
    run timeout 10 bash -c 'yes hello | head -c 200000 | "$0" -d | head -c 3 >/dev/null
        exit "${PIPESTATUS[2]}"' "$SP"
    assert_failure 1 # not 124: timeout's, for a pair that never ended
    assert_output --partial 'parent: write stdout: Broken pipe'
}

@test "socketpair_duplex: parent and child sharing one stderr never cut each other's lines (20 runs)" {
    local run
    for run in $(seq 20); do
        timeout 5 "$SP" -d -n 3 >"$LOG/both.txt" 2>&1 || fail "run $run failed"
        run grep -Evc '^(HELLO [123]|socketpair_duplex: (parent|child)[ :].*)$' "$LOG/both.txt"
        assert_output 0
    done
}
