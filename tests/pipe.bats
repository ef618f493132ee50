#!/usr/bin/env bats
# tests/pipe.bats - pipe_oneway and pipe_duplex: a parent and its child over anonymous pipes.

# shellcheck disable=SC2154 # $stderr is set by bats' run --separate-stderr
load test_helper
bats_require_minimum_version 1.5.0

setup() {
    ipclab_setup
    ONEWAY=$BIN/pipe/pipe_oneway
    DUPLEX=$BIN/pipe/pipe_duplex
}

teardown() {
    ipclab_teardown
}


@test "pipe_oneway: -n 3 ends by itself; three writes arrive in one read: a pipe keeps bytes, not messages (seed: endless loop, hellohello)" {
    run --separate-stderr timeout 5 "$ONEWAY" -n 3
    assert_success
    assert_output $'hello 1\nhello 2\nhello 3'
    [[ $stderr == *"wrote 3 messages, 24 bytes, in 3 write() calls"* ]] || fail "stderr: $stderr"
    [[ $stderr == *"child: end of data: 24 bytes in 1 read() call(s)"* ]] || fail "stderr: $stderr"
}

@test "pipe_oneway: 1 MiB of random binary, NUL bytes included, goes from stdin to stdout intact (seed: 30-byte buffer printed with %s)" {
    random_file "$LOG/in.bin" 1048576
    timeout 10 "$ONEWAY" <"$LOG/in.bin" >"$LOG/out.bin" 2>"$LOG/err.txt"
    assert_equal "$(sha256sum <"$LOG/out.bin")" "$(sha256sum <"$LOG/in.bin")"
    run cat "$LOG/err.txt"
    assert_line --partial 'child: end of data: 1048576 bytes'
}

@test "pipe_oneway: end of stdin ends the child too: it closed its copy of the write end (seed: close commented out)" {
    run --separate-stderr timeout 5 "$ONEWAY" </dev/null
    assert_success
    assert_output ''
    [[ $stderr == *"child: end of data: 0 bytes"* ]] || fail "stderr: $stderr"
}

@test "pipe_oneway: the child killed mid-transfer -> the parent reports it and exits 1, not killed by SIGPIPE (seed: no wait)" {
    random_file "$LOG/in.bin" 1048576
    mkfifo "$LOG/p.out" # the child's stdout: opened here, never read, so the child stalls
    start_side p "$LOG/in.bin" "$ONEWAY"
    exec 7<"$LOG/p.out"
    wait_line p 'child [0-9]+ reads'
    kill -KILL "$(child_pid p)"
    wait_exit p 2
    assert_equal "$SIDE_STATUS" 1 # 141 would be death by SIGPIPE
    run cat "$LOG/p.err"
    assert_line --partial 'the child stopped reading'
    assert_line --regexp 'child [0-9]+ was killed by signal 9'
}

@test "pipe_oneway: the parent killed -> the child sees end of file and ends within 2 s" {
    start_fed p "$ONEWAY"
    printf 'first\n' >&5
    wait_output p '^first$'
    local child
    child=$(child_pid p)
    kill -KILL "$(parent_pid p)"
    wait_gone "$child" 2
    assert_exit p $((128 + 9)) 2 # the wrapper has seen it (else teardown would SIGTERM p)
}

@test "pipe_duplex: -n 3: the child answers each greeting upper-cased, then both end" {
    run --separate-stderr timeout 5 "$DUPLEX" -n 3
    assert_success
    assert_output $'HELLO 1\nHELLO 2\nHELLO 3'
    [[ $stderr == *"child: end of data: 24 bytes in 1 read() call(s)"* ]] || fail "stderr: $stderr"
}

@test "pipe_duplex: 1 MiB of random binary goes down and comes back upper-cased, without deadlock" {
    random_file "$LOG/in.bin" 1048576
    timeout 10 "$DUPLEX" <"$LOG/in.bin" >"$LOG/out.bin" 2>"$LOG/err.txt"
    assert_equal "$(sha256sum <"$LOG/out.bin")" "$(LC_ALL=C tr "[:lower:]" "[:upper:]" <"$LOG/in.bin" | sha256sum)"
}

@test "pipe_duplex: a terminal-like stdin is answered line by line" {
    start_fed p "$DUPLEX"
    printf 'one\n' >&5
    wait_output p '^ONE$'
    printf 'two\n' >&5
    wait_output p '^TWO$'
    exec 5>&-
    wait_exit p 2
    assert_equal "$SIDE_STATUS" 0
}

@test "pipe_duplex: the child killed mid-conversation -> the parent reports it and exits 1" {
    start_fed p "$DUPLEX"
    printf 'first\n' >&5
    wait_output p '^FIRST$'
    kill -KILL "$(child_pid p)"
    printf 'second\n' >&5
    wait_exit p 2
    assert_equal "$SIDE_STATUS" 1
    run cat "$LOG/p.err"
    assert_line --regexp 'the child (stopped reading|went away)'
    assert_line --regexp 'child [0-9]+ was killed by signal 9'
}

@test "pipe_duplex: the parent killed -> the child ends within 2 s" {
    start_fed p "$DUPLEX"
    printf 'first\n' >&5
    wait_output p '^FIRST$'
    local child
    child=$(child_pid p)
    kill -KILL "$(parent_pid p)"
    wait_gone "$child" 2
    assert_exit p $((128 + 9)) 2 # the wrapper has seen it (else teardown would SIGTERM p)
}
