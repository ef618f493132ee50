#!/usr/bin/env bats
# tests/mmap.bats - mmap_fork on a real anonymous mapping shared (or not) across fork().

# shellcheck disable=SC2154 # $stderr is set by bats' run --separate-stderr
load test_helper
bats_require_minimum_version 1.5.0

setup() {
    ipclab_setup
    S=$BIN/shm
}

teardown() {
    ipclab_teardown
}

# ---------------------------------------------------------------- mmap_fork

@test "mmap_fork: MAP_SHARED: the parent prints what the child wrote, and the child saw the parent's note" {
    printf 'hello\nworld\n' >"$LOG/in"
    start_side f "$LOG/in" "$S/mmap_fork"
    assert_exit f 0
    assert_equal "$(cat "$LOG/f.out")" $'hello\nworld'
    local parent child
    parent=$(parent_pid f) child=$(child_pid f)
    [[ -n $parent && -n $child && $parent != "$child" ]] || fail "pids: '$parent' '$child'"
    run cat "$LOG/f.err"
    assert_line --partial "(MAP_SHARED)"
    assert_line "mmap_fork: child: the parent's note, written after fork(): \"parent $parent was here\""
    assert_line 'mmap_fork: child: 12 bytes of stdin copied into the mapping'
    assert_line 'mmap_fork: parent: the child has ended; the mapping holds 12 bytes'
}

@test "mmap_fork -p: MAP_PRIVATE: the child's write is copy-on-write, the parent never sees it (nor the child the parent's)" {
    printf 'hello\nworld\n' >"$LOG/in"
    start_side f "$LOG/in" "$S/mmap_fork" -p
    assert_exit f 0
    assert_equal "$(wc -c <"$LOG/f.out")" 0
    run cat "$LOG/f.err"
    assert_line --partial "(MAP_PRIVATE)"
    assert_line --partial 'child: no note from the parent: its write after fork() went to a copy of its own'
    assert_line 'mmap_fork: child: 12 bytes of stdin copied into the mapping' # it did write
    assert_line --partial 'parent: the child has ended; the mapping holds 0 bytes, as before fork()'
}

@test "mmap_fork: 1 MiB of random binary arrives intact; one byte more is said, exit 1, the first 1 MiB printed" {
    random_file "$LOG/in.bin" 1048576
    start_side f "$LOG/in.bin" "$S/mmap_fork"
    assert_exit f 0
    cmp "$LOG/in.bin" "$LOG/f.out"
    printf 'x' >>"$LOG/in.bin"
    start_side g "$LOG/in.bin" "$S/mmap_fork"
    assert_exit g 1
    cmp <(head -c 1048576 "$LOG/in.bin") "$LOG/g.out"
    run cat "$LOG/g.err"
    assert_line 'mmap_fork: child: input beyond the mapping'"'"'s 1048576 bytes: the rest is not copied'
}

@test "mmap_fork: the parent killed -> the child notices and ends within 2 s" {
    start_fed f "$S/mmap_fork"
    wait_line f 'child: the parent.s note' # the child has had the parent's word: it reads stdin
    local child
    child=$(child_pid f)
    kill -KILL "$(parent_pid f)"
    wait_gone "$child" 2
    assert_exit f $((128 + 9)) 2
    run cat "$LOG/f.err"
    assert_line 'mmap_fork: child: the parent has gone: nobody will print the mapping; stopping'
}
