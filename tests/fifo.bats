#!/usr/bin/env bats
# tests/fifo.bats - fifo_writer, fifo_reader and fifo_chat as real processes on real FIFOs.

# shellcheck disable=SC2154 # $stderr is set by bats' run --separate-stderr
load test_helper
bats_require_minimum_version 1.5.0

setup() {
    ipclab_setup
    W=$BIN/fifo/fifo_writer
    R=$BIN/fifo/fifo_reader
    C=$BIN/fifo/fifo_chat
}

teardown() {
    ipclab_teardown
}

# 1 MiB of random bytes through the FIFO; SHA-256 of what arrived equals what was sent.
transfer_1mib() {
    local first=$1 second=$2
    random_file "$LOG/in.bin" 1048576
    if [[ $first == reader ]]; then
        start_side reader /dev/null "$R"
        wait_ready reader
        start_side writer "$LOG/in.bin" "$W"
    else
        start_side writer "$LOG/in.bin" "$W"
        wait_ready writer
        start_side reader /dev/null "$R"
    fi
    wait_exit "$first"
    assert_equal "$SIDE_STATUS" 0
    wait_exit "$second"
    assert_equal "$SIDE_STATUS" 0
    assert_equal "$(sha256sum <"$LOG/reader.out")" "$(sha256sum <"$LOG/in.bin")"
    run cat "$LOG/reader.err"
    assert_line --partial 'the writer closed'
    assert_line --partial '1048576 bytes received'
    assert_run_dir_empty
}

@test "fifo: 1 MiB of random binary, NUL bytes included, arrives intact (reader started first)" {
    transfer_1mib reader writer
}

@test "fifo: 1 MiB of random binary arrives intact (writer started first)" {
    transfer_1mib writer reader
}

@test "fifo: lines with spaces and longer than 100 bytes arrive exactly, not padded (seed: scanf %s, write sizeof buf)" {
    { printf 'a line with spaces\n'; head -c 300 /dev/zero | tr '\0' x; printf '\nend\n'; } >"$LOG/in.txt"
    start_side reader /dev/null "$R"
    wait_ready reader
    start_side writer "$LOG/in.txt" "$W"
    wait_exit reader
    assert_equal "$SIDE_STATUS" 0
    run cmp "$LOG/in.txt" "$LOG/reader.out"
    assert_success
}

@test "fifo: the FIFO is made mode 0600 in the run directory, not in the working directory (seed: ./fifo1)" {
    mkdir "$LOG/cwd"
    cd "$LOG/cwd"
    start_side reader /dev/null "$R"
    wait_ready reader
    [[ -p $IPCLAB_DIR/fifo ]]
    assert_equal "$(stat -c %a "$IPCLAB_DIR/fifo")" 600
    assert_equal "$(ls -A "$LOG/cwd")" ''
}

@test "fifo: -p PATH puts the FIFO where asked" {
    printf 'over a custom path\n' >"$LOG/in.txt"
    start_side reader /dev/null "$R" -p "$LOG/custom"
    wait_ready reader
    [[ -p $LOG/custom ]]
    start_side writer "$LOG/in.txt" "$W" -p "$LOG/custom"
    wait_exit reader
    assert_equal "$SIDE_STATUS" 0
    assert_equal "$(cat "$LOG/reader.out")" 'over a custom path'
    [[ ! -e $LOG/custom ]]
}

@test "fifo: the writer SIGKILLed mid-transfer -> the reader says so and ends within 2 s (seed: busy loop on EOF)" {
    start_side reader /dev/null "$R"
    wait_ready reader
    start_fed writer "$W"
    printf 'first part\n' >&5
    wait_output reader '^first part$'
    kill_side writer KILL
    wait_exit reader 2
    assert_equal "$SIDE_STATUS" 0
    run cat "$LOG/reader.err"
    assert_line --partial 'the writer closed'
    assert_run_dir_empty
}

@test "fifo: the reader killed while the writer waits for input -> the writer says so at once, exit 1" {
    start_fed writer "$W"
    wait_ready writer
    start_side reader /dev/null "$R"
    printf 'first part\n' >&5
    wait_output reader '^first part$'
    kill_side reader KILL
    wait_exit writer 2
    assert_equal "$SIDE_STATUS" 1
    run cat "$LOG/writer.err"
    assert_line --partial 'the reader closed'
    assert_run_dir_empty
}

@test "fifo: the reader killed while the writer is blocked writing -> EPIPE reported, exit 1, not killed by SIGPIPE (seed)" {
    random_file "$LOG/in.bin" 1048576
    mkfifo "$LOG/reader.out" # the reader's stdout: opened here, never read, so the reader stalls
    start_side reader /dev/null "$R"
    exec 7<"$LOG/reader.out"
    wait_ready reader
    start_side writer "$LOG/in.bin" "$W"
    wait_line writer 'a reader has opened'
    kill_side reader KILL
    wait_exit writer 2
    assert_equal "$SIDE_STATUS" 1 # 141 would be death by SIGPIPE
    run cat "$LOG/writer.err"
    assert_line --partial 'the reader closed'
    assert_run_dir_empty
}

@test "fifo: head -c 1000 as the reader: the writer counts what write() took, at least the 1000 head read (was: after 0 bytes)" {
    random_file "$LOG/in.bin" 1048576
    start_side writer "$LOG/in.bin" "$W"
    wait_ready writer
    timeout 5 head -c 1000 "$IPCLAB_DIR/fifo" >"$LOG/head.out"
    assert_exit writer 1 5
    (( $(stat -c %s "$LOG/head.out") == 1000 )) || fail "head got $(stat -c %s "$LOG/head.out") bytes"
    local said
    said=$(sed -n 's/.*the reader closed .* after \([0-9]*\) bytes$/\1/p' "$LOG/writer.err")
    [[ -n $said ]] && (( said >= 1000 && said <= 1048576 )) ||
        fail "the writer's count is not what the FIFO took: $(cat "$LOG/writer.err")"
    assert_run_dir_empty
}

# The FIFO is the interface: cat, which knows nothing of ours, takes either side.  A foreign
# side that starts first makes the FIFO itself, mode 0600, as fifo/README.md says.
@test "fifo: cat as the writer (cat >FIFO), after fifo_reader or before it: the reader prints it all, ends 0" {
    random_file "$LOG/in.bin" 262144
    start_side reader /dev/null "$R"
    wait_ready reader
    timeout 5 cat "$LOG/in.bin" >"$IPCLAB_DIR/fifo"
    assert_exit reader 0 5
    cmp "$LOG/in.bin" "$LOG/reader.out"
    grep -q 'the writer closed .*: 262144 bytes received$' "$LOG/reader.err"
    assert_run_dir_empty
    # cat first: it makes the FIFO and waits in open() for the reader
    mkfifo -m 600 "$IPCLAB_DIR/fifo"
    # shellcheck disable=SC2016 # the inner shell's $1
    start_side cat "$LOG/in.bin" sh -c 'exec cat >"$1"' sh "$IPCLAB_DIR/fifo"
    start_side reader2 /dev/null "$R"
    assert_exit cat 0 5
    assert_exit reader2 0 5
    cmp "$LOG/in.bin" "$LOG/reader2.out"
    assert_run_dir_empty
}

@test "fifo: cat as the reader (cat FIFO), after fifo_writer or before it: cat gets it all, the writer ends 0" {
    random_file "$LOG/in.bin" 262144
    start_side writer "$LOG/in.bin" "$W"
    wait_ready writer
    timeout 5 cat "$IPCLAB_DIR/fifo" >"$LOG/cat.out"
    assert_exit writer 0 5
    cmp "$LOG/in.bin" "$LOG/cat.out"
    grep -q 'end of input: sent 262144 bytes$' "$LOG/writer.err"
    assert_run_dir_empty
    # cat first: it makes the FIFO and waits in open() for the writer
    mkfifo -m 600 "$IPCLAB_DIR/fifo"
    start_side cat2 /dev/null cat "$IPCLAB_DIR/fifo"
    start_side writer2 "$LOG/in.bin" "$W"
    assert_exit writer2 0 5
    assert_exit cat2 0 5
    cmp "$LOG/in.bin" "$LOG/cat2.out"
    assert_run_dir_empty
}

@test "fifo: SIGTERM to a reader waiting for a writer removes the FIFO and ends it by SIGTERM" {
    start_side reader /dev/null "$R"
    wait_ready reader
    [[ -p $IPCLAB_DIR/fifo ]]
    kill -TERM "${PID[reader]}"
    wait_exit reader 2
    assert_equal "$SIDE_STATUS" $((128 + 15))
    run cat "$LOG/reader.err"
    assert_line --partial 'fifo_reader: SIGTERM: cleaned up, leaving'
    assert_run_dir_empty
}

@test "fifo: a SIGTERM that lands just before open() blocks is not lost (gdb puts it there)" {
    # A signal that lands just before open() blocks is too narrow a window to hit from outside.
    # gdb stops the reader at a breakpoint on open() and resumes it with SIGTERM, so the handler
    # runs exactly there.  Ours removes the FIFO and dies of the signal on the spot.  A handler
    # that only recorded the signal would return into open(), which would then block anyway
    # (gdb deletes the breakpoint and continues): the reader would wait for a writer forever.
    start_side gdb /dev/null env "$NO_LSAN" gdb -q -batch -ex 'set breakpoint pending on' \
        -ex 'handle SIGTERM nostop noprint pass' -ex 'break open' -ex run -ex 'signal SIGTERM' \
        -ex delete -ex continue "$R"
    wait_exit gdb 15
    run cat "$LOG/gdb.err"
    assert_line --partial 'fifo_reader: SIGTERM: cleaned up, leaving'
    run cat "$LOG/gdb.out"
    assert_line --partial 'Breakpoint 1'
    assert_line --partial 'Program terminated with signal SIGTERM'
    assert_run_dir_empty
}

@test "fifo: SIGINT and SIGHUP to a waiting writer remove the FIFO too" {
    local sig
    for sig in INT HUP; do
        start_side "writer$sig" /dev/null "$W"
        wait_ready "writer$sig"
        kill -"$sig" "${PID[writer$sig]}"
        wait_exit "writer$sig" 2
        assert_equal "$SIDE_STATUS" $((128 + $(kill -l "$sig")))
        assert_run_dir_empty
    done
}

# A writer and a reader in mid-conversation.
connected_pair() {
    start_side reader /dev/null "$R"
    wait_ready reader
    start_fed writer "$W"
    wait_ready writer
    printf 'some data\n' >&5
    wait_output reader '^some data$'
}

@test "fifo: SIGTERM to the writer mid-transfer: it cleans up and dies of SIGTERM; the reader ends with 0" {
    connected_pair
    kill -TERM "${PID[writer]}"
    wait_exit writer 2
    assert_equal "$SIDE_STATUS" $((128 + 15))
    run cat "$LOG/writer.err"
    assert_line --partial 'fifo_writer: SIGTERM: cleaned up, leaving'
    wait_exit reader 2
    assert_equal "$SIDE_STATUS" 0
    run cat "$LOG/reader.err"
    assert_line --partial 'the writer closed'
    assert_run_dir_empty
}

@test "fifo: SIGTERM to the reader mid-transfer: it cleans up and dies of SIGTERM; the writer reports it, exit 1" {
    connected_pair
    kill -TERM "${PID[reader]}"
    wait_exit reader 2
    assert_equal "$SIDE_STATUS" $((128 + 15))
    wait_exit writer 2
    assert_equal "$SIDE_STATUS" 1
    run cat "$LOG/writer.err"
    assert_line --partial 'the reader closed'
    assert_run_dir_empty
}

@test "fifo: a regular file where the FIFO should be is refused with a clear error and left alone (seed)" {
    printf 'precious\n' >"$IPCLAB_DIR/fifo"
    for prog in "$R" "$W"; do
        run --separate-stderr timeout 5 "$prog" </dev/null
        assert_failure 1
        [[ $stderr == *"$IPCLAB_DIR/fifo exists and is not a FIFO"* ]] || fail "stderr: $stderr"
    done
    assert_equal "$(cat "$IPCLAB_DIR/fifo")" precious
    rm "$IPCLAB_DIR/fifo" # the test's own file, not the programs'
}

# A directory where another user (uid 65534) can make a FIFO, as in a shared /tmp.
other_users_dir() {
    other_dir
}

@test "fifo: another user's FIFO at -p PATH is refused, never written, read or removed" {
    (( EUID == 0 )) || skip "needs root to make a FIFO as another user (CI runs as root)"
    other_users_dir
    "${AS_NOBODY[@]}" sh -c "umask 0; mkfifo '$OTHER_DIR/f'"
    for prog in "$W" "$R"; do
        # A reader of the attacker's would take our data, or feed us its own: if the program
        # opened the FIFO, this peer makes its open() return and shows what crossed.
        setsid timeout 5 "${AS_NOBODY[@]}" \
            sh -c "exec 3<>'$OTHER_DIR/f'; printf 'injected\n' >&3; cat <&3" \
            >"$LOG/attacker.out" 2>&1 3>&- &
        printf 'secret\n' >"$LOG/in.txt"
        run --separate-stderr timeout 5 "$prog" -p "$OTHER_DIR/f" <"$LOG/in.txt"
        kill -TERM -- -$! 2>/dev/null || true
        wait $! || true
        assert_failure 1
        [[ $stderr == *"$OTHER_DIR/f belongs to uid 65534, not to you (uid 0); refusing to use it"* ]] ||
            fail "$prog: stderr: $stderr"
        [[ $output != *injected* ]] || fail "$prog printed the attacker's data: $output"
        run cat "$LOG/attacker.out"
        refute_output --partial secret
        [[ -p $OTHER_DIR/f ]] || fail "$prog removed the other user's FIFO"
    done
}

@test "fifo: a FIFO of ours that others may open (mode 0644) is refused and left alone" {
    mkfifo -m 644 "$IPCLAB_DIR/fifo"
    for prog in "$W" "$R"; do
        run --separate-stderr timeout 5 "$prog" </dev/null
        assert_failure 1
        [[ $stderr == *"$IPCLAB_DIR/fifo has mode 644: other users can use it; refusing"* ]] ||
            fail "$prog: stderr: $stderr"
        [[ -p $IPCLAB_DIR/fifo ]] || fail "$prog removed the FIFO it refused"
    done
    rm "$IPCLAB_DIR/fifo" # the test's own
}

@test "fifo: a stale FIFO left by a SIGKILLed side is reused by the next run" {
    start_side reader1 /dev/null "$R"
    wait_ready reader1
    kill_side reader1 KILL
    [[ -p $IPCLAB_DIR/fifo ]] # SIGKILL cannot be caught: the FIFO stays
    printf 'second run\n' >"$LOG/in.txt"
    start_side reader2 /dev/null "$R"
    wait_ready reader2
    start_side writer "$LOG/in.txt" "$W"
    wait_exit reader2
    assert_equal "$SIDE_STATUS" 0
    assert_equal "$(cat "$LOG/reader2.out")" 'second run'
    assert_run_dir_empty
}

# The chat: a and b each read a FIFO of the test as their keyboard.
start_chat() {
    local first=$1 second=$2
    mkfifo "$LOG/$first.in" "$LOG/$second.in"
    start_side "$first" "$LOG/$first.in" "$C" "$first"
    start_side "$second" "$LOG/$second.in" "$C" "$second"
    exec 5>"$LOG/a.in" 6>"$LOG/b.in"
    wait_ready a
    wait_ready b
    wait_line a 'b is here'
    wait_line b 'a is here'
}

@test "fifo_chat: a and b exchange lines both ways; when a leaves, b says so and both end cleanly" {
    start_chat a b
    printf 'hello from a\n' >&5
    wait_output b '^hello from a$'
    printf 'hello from b, with spaces and more than a hundred bytes %s\n' "$(head -c 80 /dev/zero | tr '\0' y)" >&6
    wait_output a '^hello from b, with spaces'
    exec 5>&- # a's end of input: Ctrl-D
    wait_exit b 2
    assert_equal "$SIDE_STATUS" 0
    run cat "$LOG/b.err"
    assert_line --partial 'a has left the chat'
    wait_exit a 2
    assert_equal "$SIDE_STATUS" 0
    assert_equal "$(cat "$LOG/a.out")" "hello from b, with spaces and more than a hundred bytes $(head -c 80 /dev/zero | tr '\0' y)"
    assert_run_dir_empty
}

@test "fifo_chat: either side may start first (b before a)" {
    start_chat b a
    printf 'b started first\n' >&6
    wait_output a '^b started first$'
    exec 6>&-
    wait_exit a 2
    assert_equal "$SIDE_STATUS" 0
    wait_exit b 2
    assert_equal "$SIDE_STATUS" 0
    assert_run_dir_empty
}

@test "fifo_chat: b SIGKILLed -> a says b has left and ends within 2 s" {
    start_chat a b
    kill_side b KILL
    wait_exit a 2
    assert_equal "$SIDE_STATUS" 0
    run cat "$LOG/a.err"
    assert_line --partial 'b has left the chat'
    assert_run_dir_empty
}

@test "fifo_chat: Ctrl-C (SIGINT) on a leaves no process and no FIFO behind (seed: the child lingered)" {
    start_chat a b
    local pgid_a
    pgid_a=$(pgid_of a)
    kill -INT "${PID[a]}"
    wait_exit a 2
    assert_equal "$SIDE_STATUS" $((128 + 2))
    wait_exit b 2
    assert_equal "$SIDE_STATUS" 0
    run pgrep -g "$pgid_a"
    assert_failure # nobody left in a's process group
    assert_run_dir_empty
}

# refused_side NAME SIDE: `fifo_chat SIDE` started as NAME is refused at once: exit 1, with the
# reason, and it removes nothing (the FIFOs belong to the chat already there).
refused_side() {
    start_side "$1" /dev/null "$C" "$2"
    wait_exit "$1" 2
    assert_equal "$SIDE_STATUS" 1
    run cat "$LOG/$1.err"
    assert_output --partial "fifo_chat: another fifo_chat $2 is in the chat on $IPCLAB_DIR/chat.a2b and .b2a; refusing"
    [[ -p $IPCLAB_DIR/chat.a2b && -p $IPCLAB_DIR/chat.b2a ]]
}

@test "fifo_chat: a second a (or b) is refused, while the first waits and while it chats; the pair goes on undisturbed" {
    mkfifo "$LOG/a.in" "$LOG/b.in"
    start_side a "$LOG/a.in" "$C" a
    exec 5>"$LOG/a.in"
    wait_ready a
    refused_side second_a a # while a waits for b
    start_side b "$LOG/b.in" "$C" b
    exec 6>"$LOG/b.in"
    wait_line a 'b is here'
    wait_line b 'a is here'
    refused_side third_a a # while a and b chat
    refused_side second_b b
    # every line b sends reaches the first a, whole: nobody else reads b2a
    local i
    for i in 1 2 3 4 5; do printf 'line %s from b\n' "$i" >&6; done
    wait_output a '^line 5 from b$'
    assert_equal "$(cat "$LOG/a.out")" "$(printf 'line %s from b\n' 1 2 3 4 5)"
    printf 'and a answers\n' >&5
    wait_output b '^and a answers$'
    exec 5>&- # a leaves: Ctrl-D
    wait_exit b 2
    assert_equal "$SIDE_STATUS" 0
    wait_exit a 2
    assert_equal "$SIDE_STATUS" 0
    assert_run_dir_empty
}

@test "fifo_chat: SIGTERM to a side still waiting for its peer removes both FIFOs" {
    start_side a /dev/null "$C" a
    wait_ready a
    [[ -p $IPCLAB_DIR/chat.a2b && -p $IPCLAB_DIR/chat.b2a ]]
    kill -TERM "${PID[a]}"
    wait_exit a 2
    assert_equal "$SIDE_STATUS" $((128 + 15))
    assert_run_dir_empty
}

@test "fifo_chat: in a terminal the peer's lines are marked 'a: '; into a file the bytes pass unmarked" {
    mkfifo "$LOG/a.in" "$LOG/b.in"
    start_side a "$LOG/a.in" "$C" a
    # script(1) runs b on a pseudo-terminal: its stdout (and stderr) is a tty, copied to b.out.
    start_side b "$LOG/b.in" script -qefc "$C b" /dev/null
    exec 5>"$LOG/a.in" 6>"$LOG/b.in"
    wait_line a 'b is here'
    wait_output b 'a is here'
    printf 'hi b\n' >&5
    wait_output b $'^a: hi b\r?$'
    printf 'hi a\n' >&6
    wait_output a '^hi a$'
    exec 5>&-
    wait_exit b 2
    assert_equal "$SIDE_STATUS" 0
    assert_equal "$(cat "$LOG/a.out")" 'hi a' # a's stdout is a file: no mark
}

@test "fifo_chat: cat takes b's side (cat PREFIX.a2b, cat >PREFIX.b2a): lines cross both ways, b's end of input ends a" {
    mkfifo "$LOG/a.in" "$LOG/b.in"
    start_side a "$LOG/a.in" "$C" a
    exec 5>"$LOG/a.in"
    wait_ready a
    # shellcheck disable=SC2016 # the inner shell's $1
    start_side b "$LOG/b.in" sh -c 'cat "$1.a2b" & exec cat >"$1.b2a"' sh "$IPCLAB_DIR/chat"
    exec 6>"$LOG/b.in"
    wait_line a 'b is here'
    printf 'hello, cat\n' >&5
    wait_output b '^hello, cat$'
    printf 'hello, a\n' >&6
    wait_output a '^hello, a$'
    exec 6>&- # b's end of input: its cat closes b2a, a's end of file
    assert_exit a 0 5
    grep -q 'b has left the chat' "$LOG/a.err"
    assert_exit b 0 5
    assert_run_dir_empty
}
