#!/usr/bin/env bats
# tests/bench-orderings.bats - orderings of bench/ipcbench's figures that held by wide margins in
# every run here (bench/README.md, "Limits"); never a timing.  scripts/test.sh runs this file on
# its own, after the rest of the suite, so that no other test competes for the CPUs while it
# measures.

load test_helper
load bench_helper
bats_require_minimum_version 1.5.0

setup() {
    ipclab_setup sysv_private # ipcbench makes its queue IPC_PRIVATE (test_helper.bash, ipc_left)
}

teardown() {
    ipclab_teardown
}

@test "bench: robust orderings: TCP is not faster than a UNIX stream socket; spin-waiting on two CPUs beats every kernel hand-over" {
    (($(nproc) >= 2)) || skip "one CPU: there is no split placement to measure"
    run timeout 60 "$BIN/bench/ipcbench" -q -k latency -s 64 -o "$LOG/results.csv"
    assert_success
    local tcp unix spin m other
    # Seed 002's claim, on one CPU, where a round trip is all software: TCP's loopback path
    # (segments, acknowledgements, checksums skipped or not) costs more than a UNIX socket's.
    # The fastest round trip is that path alone; the median adds how the scheduler wakes each
    # side, which on some kernels costs a UNIX socket more (bench/README.md, "Limits").
    tcp=$(min_ns same tcp 64)
    unix=$(min_ns same unix_stream 64)
    ((tcp >= unix)) || fail "same CPU, 64 B, fastest round trip: tcp ${tcp} ns < unix_stream ${unix} ns"
    # Spin-waiting has no system call and no wake-up: on two CPUs it hands over in well under
    # a microsecond, where every kernel mechanism has to wake the other CPU's process.
    spin=$(p50 split shm_spin 64)
    for m in "${MECHS[@]}"; do
        [[ $m == shm_spin ]] && continue
        other=$(p50 split "$m" 64)
        ((spin < other)) || fail "split CPUs, 64 B: shm_spin ${spin} ns >= $m ${other} ns"
    done
}
