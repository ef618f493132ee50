#!/usr/bin/env bats
# tests/fuzz.bats - the fuzz harnesses (fuzz/) as regression tests: built without libFuzzer
# they replay inputs (fuzz/harness.h), so every seed and every crash libFuzzer ever found runs
# on each make test, and under make sanitize with AddressSanitizer too.  The fuzzing itself is
# make fuzz: bounded in time, it does not belong in the suite.
# shellcheck disable=SC2154 # $stderr is set by bats' run --separate-stderr

load test_helper
bats_require_minimum_version 1.5.0

setup() {
    ipclab_setup
}

teardown() {
    ipclab_teardown
}

@test "fuzz: relay_frames replays its seeds and every crash found, without a failure" {
    run --separate-stderr timeout 60 "$BIN/fuzz/relay_frames" "$ROOT/fuzz/corpus/relay_frames" \
        "$ROOT/fuzz/regressions/relay_frames"
    (( status == 0 )) || fail "exit $status: $stderr"
    assert_output --regexp '^.*/fuzz/relay_frames: [1-9][0-9]* inputs replayed, no failure$'
    # the seeds reach the server's every refusal (fuzz/README.md lists them)
    local why
    for why in 'joined' 'the name alice is taken' 'the first frame must be a hello' \
        'malformed frame (unknown frame type)' 'malformed frame (bad name)' \
        'malformed frame (name length over the limit)' 'malformed frame (body length over the limit)' \
        'is not reading its messages: disconnected'; do
        [[ $stderr == *"$why"* ]] || fail "no seed makes the server say '$why'"
    done
}

@test "fuzz: fd_cmsg replays its seeds and the two crashes it found, without a failure" {
    run --separate-stderr timeout 60 "$BIN/fuzz/fd_cmsg" "$ROOT/fuzz/corpus/fd_cmsg" \
        "$ROOT/fuzz/regressions/fd_cmsg"
    (( status == 0 )) || fail "exit $status: $stderr"
    assert_output --regexp '^.*/fuzz/fd_cmsg: [1-9][0-9]* inputs replayed, no failure$'
    [[ -f $ROOT/fuzz/regressions/fd_cmsg/cmsg-len-past-the-buffer &&
        -f $ROOT/fuzz/regressions/fd_cmsg/one-descriptor-cut-off-by-the-buffer ]]
}

# fd_receiver.c as it was before the fuzzer: the count of descriptors from cmsg_len alone.
old_take_fd() {
    local tree=$BATS_TEST_TMPDIR/old
    mkdir -p "$tree/fuzz" "$tree/fdpass" "$tree/common"
    cp "$ROOT/fuzz/fd_cmsg.c" "$ROOT/fuzz/harness.h" "$tree/fuzz/"
    cp "$ROOT"/common/*.h "$tree/common/"
    cp "$ROOT"/fdpass/*.h "$tree/fdpass/"
    sed 's|^    return (len < room ? len : room) / sizeof(int);|    (void)room; return len / sizeof(int);|' \
        "$ROOT/fdpass/fd_receiver.c" >"$tree/fdpass/fd_receiver.c"
    ! cmp -s "$ROOT/fdpass/fd_receiver.c" "$tree/fdpass/fd_receiver.c" ||
        fail "the mutation no longer applies to fd_receiver.c"
    cc -o "$tree/fd_cmsg" "$tree/fuzz/fd_cmsg.c"
    echo "$tree/fd_cmsg"
}

@test "fuzz: each fd_cmsg regression input fails the receiver as it was before the fix" {
    # The regressions must be able to fail: against the old take_fd() each one breaks a check
    # of the harness (no sanitizer needed: the harness counts what take_fd() closed and took).
    local old input
    old=$(old_take_fd)
    for input in "$ROOT"/fuzz/regressions/fd_cmsg/*; do
        run --separate-stderr timeout 10 "$old" "$input"
        assert_failure 134 # abort()
        [[ $stderr == *"fd_cmsg.c:"*": broken: "* ]] || fail "no broken check on $input: $stderr"
    done
}
