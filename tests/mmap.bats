#!/usr/bin/env bats
# tests/mmap.bats - mmap_fork on a real anonymous mapping shared (or not) across fork(), and
# mmap_writer and mmap_reader on a real file both map.  The file is the pair's product and
# stays when they end (shm/README.md, "Decisions"): teardown removes it, and only it, before
# checking that nothing else is left in the run directory.

# shellcheck disable=SC2154 # $stderr is set by bats' run --separate-stderr
load test_helper
bats_require_minimum_version 1.5.0

setup() {
    ipclab_setup
    S=$BIN/shm
    FILE=$IPCLAB_DIR/mmap
}

teardown() {
    rm -f "$RUN_DIR/mmap"
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

# ---------------------------------------------------------------- mmap_writer, mmap_reader

# follow FIRST: a fed writer and a reader, FIRST (reader or writer) started first; each line
# typed reaches the reader's stdout while the writer runs; Ctrl-D (done) ends both, status 0.
follow() {
    if [[ $1 == reader ]]; then
        start_side reader /dev/null "$S/mmap_reader"
        wait_ready reader
        run cat "$LOG/reader.err"
        assert_output --partial "waiting for $FILE to be made"
        start_fed writer "$S/mmap_writer"
        wait_ready writer
    else
        start_fed writer "$S/mmap_writer"
        wait_ready writer
        start_side reader /dev/null "$S/mmap_reader"
        wait_ready reader
    fi
    printf 'one\n' >&5
    wait_output reader '^one$'
    printf 'two\n' >&5
    wait_output reader '^two$'
    [[ ! -e $LOG/reader.status ]] || fail "the reader ended before done: $(cat "$LOG/reader.err")"
    exec 5>&-
    assert_exit writer 0
    assert_exit reader 0
    assert_equal "$(cat "$LOG/reader.out")" $'one\ntwo'
    run cat "$LOG/reader.err"
    assert_line 'mmap_reader: end of data: 8 bytes, and the writer said done (the file keeps them)'
}

@test "mmap: what the writer writes the reader sees, line by line; done ends the reader (reader first)" {
    follow reader
}

@test "mmap: what the writer writes the reader sees, line by line; done ends the reader (writer first)" {
    follow writer
}

@test "mmap: the bytes stay in the file after both have gone, and readers run later see them all again (nothing consumed)" {
    random_file "$LOG/in.bin" 200000
    start_side writer "$LOG/in.bin" "$S/mmap_writer"
    assert_exit writer 0
    start_side reader /dev/null "$S/mmap_reader"
    assert_exit reader 0
    cmp "$LOG/in.bin" "$LOG/reader.out"
    # the file: 0600, the header (mark, size, length, state done), then the data, then zeros
    assert_equal "$(stat -c '%a %s' "$FILE")" "600 $((32 + 1048576))"
    cmp <(printf 'ipclab mmap v1\n\0') <(head -c 16 "$FILE")
    assert_equal "$(od -An -tu4 -j16 -N12 "$FILE" | tr -s ' ')" ' 1048576 200000 1'
    cmp "$LOG/in.bin" <(tail -c +33 "$FILE" | head -c 200000)
    assert_equal "$(tail -c +$((33 + 200000)) "$FILE" | tr -d '\0' | wc -c)" 0
    local again
    for again in reader2 reader3; do
        start_side "$again" /dev/null "$S/mmap_reader"
        assert_exit "$again" 0
        cmp "$LOG/in.bin" "$LOG/$again.out"
    done
}

@test "mmap: input beyond the file's size is said, the writer and the reader exit 1, the file holds what fit" {
    printf '0123456789abcdefTOO MUCH\n' >"$LOG/in"
    start_side writer "$LOG/in" "$S/mmap_writer" -s 16
    assert_exit writer 1
    run cat "$LOG/writer.err"
    assert_line --partial "input beyond $FILE's 16 bytes does not fit: it holds the first 16, the rest is not written"
    start_side reader /dev/null "$S/mmap_reader"
    assert_exit reader 1
    assert_equal "$(cat "$LOG/reader.out")" 0123456789abcdef
    run cat "$LOG/reader.err"
    assert_line 'mmap_reader: end of data: 16 bytes, all the file holds: the writer'"'"'s input did not fit'
    assert_equal "$(stat -c %s "$FILE")" 48
}

@test "mmap: the writer SIGKILLed -> the reader notices within 2 s; a reader later prints what stays and says so" {
    start_fed writer "$S/mmap_writer"
    wait_ready writer
    start_side reader /dev/null "$S/mmap_reader"
    wait_ready reader
    printf 'before the kill\n' >&5
    wait_output reader '^before the kill$'
    kill_side writer KILL
    assert_exit reader 1 2
    run cat "$LOG/reader.err"
    assert_line 'mmap_reader: the writer has gone (or was killed) before it said done: 16 bytes'
    start_side later /dev/null "$S/mmap_reader"
    assert_exit later 1
    assert_equal "$(cat "$LOG/later.out")" 'before the kill'
    run cat "$LOG/later.err"
    assert_line --partial 'the writer has gone (or was killed) before it said done: 16 bytes'
}

@test "mmap: the file truncated under both mappings -> SIGBUS, said clearly, exit 1 (reader and writer)" {
    start_fed writer "$S/mmap_writer"
    wait_ready writer
    start_side reader /dev/null "$S/mmap_reader"
    wait_ready reader
    printf 'one\n' >&5
    wait_output reader '^one$'
    truncate -s 0 "$FILE"
    assert_exit reader 1 2 # its next look at the header
    run cat "$LOG/reader.err"
    assert_line --regexp "^mmap_reader: SIGBUS at byte [0-9]+ of the mapping of $FILE: the file is shorter than its mapping \(truncated under us\?\)"
    exec 5>&- # end of input: the writer marks the header done
    assert_exit writer 1
    run cat "$LOG/writer.err"
    assert_line --regexp "^mmap_writer: SIGBUS at byte [0-9]+ of the mapping of $FILE: the file is shorter"
}

@test "mmap: the file truncated and grown back under the writer: it says the file is damaged, exit 1, not done (was: marked done)" {
    start_fed writer "$S/mmap_writer" -s 4096
    wait_ready writer
    printf 'one\n' >&5
    wait_until 5 grep -q one "$FILE"
    local size
    size=$(stat -c %s "$FILE")
    truncate -s 0 "$FILE"
    truncate -s "$size" "$FILE" # zeros again: mark, length and "one" gone
    printf 'two\n' >&5
    exec 5>&-
    assert_exit writer 1
    run cat "$LOG/writer.err"
    assert_line "mmap_writer: $FILE was truncated or overwritten while we wrote (its size or our mark is gone): it does not hold what we wrote; not marked done"
    refute_line --partial 'marked done, synced'
}

@test "mmap: past ulimit -f the writer's ftruncate fails (EFBIG): said, exit 1, no file left that a reader would wait on (was: killed by SIGXFSZ, empty file left)" {
    run --separate-stderr timeout 5 bash -c 'ulimit -f 100 && exec "$@"' - "$S/mmap_writer" <<<hi
    assert_failure 1
    [[ $stderr == *"mmap_writer: ftruncate $FILE: File too large"* ]] || fail "stderr: $stderr"
    [[ ! -e $FILE ]] || fail "the half-made file was left"
}

@test "mmap: a file of the user's given as -p is refused and left intact by the writer and the reader" {
    # the notes: 19 bytes, and no mark
    # shellcheck disable=SC2034 # read by users_file_left_alone
    local NOT_OURS='is not an ipclab mmap file (it does not begin with the mark "ipclab mmap v1" and a size that matches its 19 bytes); refusing to use it, and leaving it as it is'
    users_file_left_alone "$S/mmap_writer"
    users_file_left_alone "$S/mmap_reader"
}

@test "mmap: a symbolic link given as -p is never followed: the writer makes nothing at its target" {
    ln -s "$LOG/target" "$LOG/link"
    local prog
    for prog in mmap_writer mmap_reader; do
        start_side "$prog" /dev/null "$S/$prog" -p "$LOG/link"
        assert_exit "$prog" 1
        run cat "$LOG/$prog.err"
        assert_line "$prog: $LOG/link is a symbolic link; refusing to follow it"
    done
    [[ ! -e $LOG/target ]] || fail "made $LOG/target through the link"
}

@test "mmap: SIGTERM to the writer mid-transfer: it ends of it, the reader says so, the file keeps what was sent" {
    start_fed writer "$S/mmap_writer"
    wait_ready writer
    start_side reader /dev/null "$S/mmap_reader"
    wait_ready reader
    printf 'kept\n' >&5
    wait_output reader '^kept$'
    kill_side writer TERM
    assert_exit writer $((128 + 15)) 2
    assert_exit reader 1 2
    run cat "$LOG/writer.err"
    assert_line 'mmap_writer: SIGTERM: cleaned up, leaving'
    run cat "$LOG/reader.err"
    assert_line --partial 'the writer has gone (or was killed) before it said done: 5 bytes'
    cmp <(printf 'kept\n') <(tail -c +33 "$FILE" | head -c 5)
    assert_equal "$(ls -A "$IPCLAB_DIR")" mmap # the product, and nothing else
}

@test "mmap: SIGTERM to a reader waiting for the file: it ends of it and has made nothing" {
    start_side reader /dev/null "$S/mmap_reader"
    wait_ready reader
    kill_side reader TERM
    assert_exit reader $((128 + 15)) 2
    run cat "$LOG/reader.err"
    assert_line 'mmap_reader: SIGTERM: cleaned up, leaving'
    [[ ! -e $FILE ]]
}

@test "mmap: a waiting reader sleeps between its looks: no CPU used while nothing comes" {
    start_fed writer "$S/mmap_writer"
    wait_ready writer
    start_side reader /dev/null "$S/mmap_reader"
    wait_ready reader
    wait_blocked_in "${PID[reader]}" 'poll|hrtimer|nanosleep'
    # Half a second of the reader's CPU time (user + system, clock ticks): a measurement
    # window, not a wait for anything.  A reader that spun on the header would use about 50.
    local before
    proc_stat "${PID[reader]}"
    before=$(( STAT[11] + STAT[12] ))
    sleep 0.5
    proc_stat "${PID[reader]}"
    (( STAT[11] + STAT[12] - before <= 3 )) ||
        fail "the reader used $(( STAT[11] + STAT[12] - before )) ticks in half a second of waiting"
    exec 5>&-
    assert_exit writer 0
    assert_exit reader 0
}

@test "mmap: a second writer is refused while one writes; the next one replaces the file, and a reader sees the new" {
    start_fed writer "$S/mmap_writer"
    wait_ready writer
    start_side second /dev/null "$S/mmap_writer"
    assert_exit second 1
    run cat "$LOG/second.err"
    assert_line "mmap_writer: another mmap_writer (pid ${PID[writer]}) is writing $FILE"
    printf 'old\n' >&5
    exec 5>&-
    assert_exit writer 0
    printf 'new\n' >"$LOG/new"
    start_side third "$LOG/new" "$S/mmap_writer" -s 100
    assert_exit third 0
    run cat "$LOG/third.err"
    assert_line "mmap_writer: $FILE: the earlier file ($((32 + 1048576)) bytes) removed, to make a new one"
    start_side reader /dev/null "$S/mmap_reader"
    assert_exit reader 0
    assert_equal "$(cat "$LOG/reader.out")" new
    assert_equal "$(stat -c %s "$FILE")" 132
}
