#!/usr/bin/env bats
# tests/fdpass.bats - fd_sender and fd_receiver: a real descriptor passed over a real UNIX
# socket, and the one open file description the two processes then share.

# shellcheck disable=SC2154 # $stderr is set by bats' run --separate-stderr
load test_helper
bats_require_minimum_version 1.5.0

setup() {
    ipclab_setup
    F=$BIN/fdpass
}

teardown() {
    ipclab_teardown
}

# pass_file FILE COUNT: the receiver first, then the sender with -n COUNT; both end with 0.
pass_file() {
    start_side receiver /dev/null "$F/fd_receiver"
    wait_ready receiver
    start_side sender /dev/null "$F/fd_sender" -n "$2" "$1"
    assert_exit sender 0
    assert_exit receiver 0
}

@test "fdpass: the offset is shared: the receiver prints exactly the file minus what the sender read (seed: never shown)" {
    random_file "$LOG/file.bin" 3145728
    pass_file "$LOG/file.bin" 1000
    cmp <(head -c 1000 "$LOG/file.bin") "$LOG/sender.out"
    cmp <(tail -c +1001 "$LOG/file.bin") "$LOG/receiver.out"
    run cat "$LOG/receiver.err"
    assert_line --partial 'its offset is already 1000: the sender'
    assert_line --partial 'printed 3144728 bytes, from offset 1000 to the end of the file'
    run cat "$LOG/sender.err"
    assert_line --partial "my descriptor's offset is now 3145728, the end of the file"
}

@test "fdpass: -n 0 and a COUNT past the end say what happened: nothing read by the sender, a file shorter than -n" {
    printf 'twelve bytes' >"$LOG/short.txt"
    pass_file "$LOG/short.txt" 0
    assert_equal "$(cat "$LOG/receiver.out")" "twelve bytes"
    run cat "$LOG/receiver.err"
    assert_line --partial "its offset is 0: the sender read none of it"
    refute_output --partial "the sender's reads moved it"
    start_side receiver2 /dev/null "$F/fd_receiver"
    wait_ready receiver2
    start_side sender2 /dev/null "$F/fd_sender" -n 100000 "$LOG/short.txt"
    assert_exit sender2 0
    assert_exit receiver2 0
    assert_equal "$(cat "$LOG/sender2.out")" "twelve bytes"
    run cat "$LOG/sender2.err"
    assert_line --partial "read 12 bytes of $LOG/short.txt myself (all there was: it is shorter than -n)"
    assert_line --partial "my descriptor's offset is still 12: there was nothing left to read"
}

@test "fdpass: mid-read, both processes' descriptors show the same pos in /proc/PID/fdinfo; the receiver's is close-on-exec" {
    random_file "$LOG/file.bin" 3145728
    mkfifo "$LOG/receiver.out" # read by nobody yet: the receiver stalls mid-file
    start_side receiver /dev/null "$F/fd_receiver"
    exec 7<"$LOG/receiver.out"
    wait_ready receiver
    start_side sender /dev/null "$F/fd_sender" -n 1000 "$LOG/file.bin"
    wait_line receiver 'received descriptor [0-9]+'
    wait_blocked_in "${PID[receiver]}" 'pipe_write|pipe_wait'
    local rfd sfd spid rpos spos flags
    rfd=$(sed -n 's/.*received descriptor \([0-9]*\);.*/\1/p' "$LOG/receiver.err")
    sfd=$(sed -n 's/.*passing descriptor \([0-9]*\) .*/\1/p' "$LOG/sender.err")
    spid=$(sed -n 's/.*peer pid \([0-9]*\) .*/\1/p' "$LOG/receiver.err")
    rpos=$(awk '/^pos:/ { print $2 }' "/proc/${PID[receiver]}/fdinfo/$rfd")
    spos=$(awk '/^pos:/ { print $2 }' "/proc/$spid/fdinfo/$sfd")
    (( rpos > 1000 )) || fail "receiver's pos $rpos"
    assert_equal "$spos" "$rpos" # one open file description: one offset
    flags=$(awk '/^flags:/ { print $2 }' "/proc/${PID[receiver]}/fdinfo/$rfd")
    (( (8#$flags & 8#2000000) != 0 )) || fail "the received descriptor is not close-on-exec: flags $flags"
    cat <&7 >"$LOG/got.bin"
    exec 7<&-
    assert_exit receiver 0
    assert_exit sender 0
    cmp <(tail -c +1001 "$LOG/file.bin") "$LOG/got.bin"
}

@test "fdpass: a file of several MiB arrives whole, not 1024 bytes (seed: one read of 1024)" {
    random_file "$LOG/file.bin" 5242880
    pass_file "$LOG/file.bin" 0
    cmp "$LOG/file.bin" "$LOG/receiver.out"
    assert_equal "$(wc -c <"$LOG/sender.out")" 0
}

@test "fdpass: the socket is mode 0600 in the run directory, and removed at the end (seed: /tmp/socket, never unlinked)" {
    start_side receiver /dev/null "$F/fd_receiver"
    wait_ready receiver
    [[ -S $IPCLAB_DIR/fdpass ]]
    assert_equal "$(stat -c %a "$IPCLAB_DIR/fdpass")" 600
    printf 'x\n' >"$LOG/f.txt"
    start_side sender /dev/null "$F/fd_sender" "$LOG/f.txt"
    assert_exit receiver 0
    [[ ! -e $IPCLAB_DIR/fdpass ]]
}

@test "fdpass: no receiver -> the sender says how to start one, exit 1" {
    printf 'x\n' >"$LOG/f.txt"
    run --separate-stderr timeout 5 "$F/fd_sender" "$LOG/f.txt"
    assert_failure 1
    assert_equal "$stderr" "fd_sender: no server at $IPCLAB_DIR/fdpass; start it with ./fdpass/fd_receiver"
    assert_output '' # it reads nothing before it has a receiver
}

@test "fdpass: a second receiver on a live one's path is refused; the first keeps serving" {
    start_side receiver /dev/null "$F/fd_receiver"
    wait_ready receiver
    run --separate-stderr timeout 5 "$F/fd_receiver"
    assert_failure 1
    [[ $stderr == *"is already in use by a running server"* ]] || fail "$stderr"
    printf 'still served\n' >"$LOG/f.txt"
    start_side sender /dev/null "$F/fd_sender" -n 0 "$LOG/f.txt"
    assert_exit receiver 0
    assert_equal "$(cat "$LOG/receiver.out")" 'still served'
}

@test "fdpass: a stale socket left by a killed receiver is reclaimed (seed: bind failed on the second run)" {
    start_side receiver /dev/null "$F/fd_receiver"
    wait_ready receiver
    kill_side receiver KILL
    [[ -S $IPCLAB_DIR/fdpass ]]
    start_side receiver2 /dev/null "$F/fd_receiver"
    wait_ready receiver2
    run cat "$LOG/receiver2.err"
    assert_line --partial "removed the stale socket $IPCLAB_DIR/fdpass"
    printf 'x\n' >"$LOG/f.txt"
    start_side sender /dev/null "$F/fd_sender" "$LOG/f.txt"
    assert_exit receiver2 0
}

@test "fdpass: a path too long for sun_path is an error that says so, not a silent cut" {
    local long
    long=$LOG/$(printf 'd%.0s' {1..120})
    run --separate-stderr timeout 5 "$F/fd_receiver" -p "$long"
    assert_failure 1
    [[ $stderr == *"a UNIX socket's path holds at most 107"* ]] || fail "$stderr"
    [[ ! -e ${long:0:107} ]]
}

@test "fdpass: a regular file at the socket's path is refused and left alone" {
    printf 'precious\n' >"$LOG/not-a-socket"
    run --separate-stderr timeout 5 "$F/fd_receiver" -p "$LOG/not-a-socket"
    assert_failure 1
    [[ $stderr == *"exists and is not a socket; refusing"* ]] || fail "$stderr"
    assert_equal "$(cat "$LOG/not-a-socket")" precious
}

@test "fdpass: SIGTERM to a waiting receiver removes its socket and ends it by SIGTERM" {
    start_side receiver /dev/null "$F/fd_receiver"
    wait_ready receiver
    kill -TERM "${PID[receiver]}"
    assert_exit receiver $((128 + 15)) 2
    run cat "$LOG/receiver.err"
    assert_line 'fd_receiver: SIGTERM: cleaned up, leaving'
}

@test "fdpass: a receiver whose socket was removed by hand leaves the socket a second receiver then bound there when it ends; that one serves on (was: removed by name)" {
    start_side a /dev/null "$F/fd_receiver"
    wait_ready a
    rm "$IPCLAB_DIR/fdpass"
    start_side b /dev/null "$F/fd_receiver"
    wait_ready b
    kill -TERM "${PID[a]}"
    assert_exit a $((128 + 15)) 2
    [[ -S $IPCLAB_DIR/fdpass ]] || fail "the second receiver's socket is gone"
    printf 'x\n' >"$LOG/f.txt"
    start_side sender /dev/null "$F/fd_sender" "$LOG/f.txt"
    assert_exit sender 0
    assert_exit b 0
    assert_equal "$(cat "$LOG/sender.out" "$LOG/b.out")" x # what each printed of the file
}

# raw_peer PYTHON-CODE [ARGS...]: a hand-made sender: connect to the receiver's socket as `s` and
# run the code (what fd_sender would never send), ARGS in sys.argv[2:].
raw_peer() {
    start_side raw /dev/null "$PYTHON" -c "
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
$1
s.recv(1)
" "$IPCLAB_DIR/fdpass" "${@:2}"
}

@test "fdpass: a byte with no descriptor is refused, not dereferenced (seed: CMSG_FIRSTHDR unchecked)" {
    start_side receiver /dev/null "$F/fd_receiver"
    wait_ready receiver
    raw_peer "s.send(b'F')"
    assert_exit receiver 1 5
    run cat "$LOG/receiver.err"
    assert_line 'fd_receiver: a byte came, but no descriptor with it'
}

@test "fdpass: two descriptors where one is expected are refused and closed" {
    start_side receiver /dev/null "$F/fd_receiver"
    wait_ready receiver
    raw_peer "socket.send_fds(s, [b'F'], [0, 1])"
    assert_exit receiver 1 5
    run cat "$LOG/receiver.err"
    assert_line 'fd_receiver: 2 descriptors came where one was expected: refusing them all'
}

@test "fdpass: more descriptors than the control buffer holds: MSG_CTRUNC, refused (seed: unchecked)" {
    start_side receiver /dev/null "$F/fd_receiver"
    wait_ready receiver
    raw_peer "socket.send_fds(s, [b'F'], [0, 1, 2])"
    assert_exit receiver 1 5
    run cat "$LOG/receiver.err"
    assert_line 'fd_receiver: more descriptors came than the control buffer holds (MSG_CTRUNC): refusing them all'
}

@test "fdpass: at its limit of descriptors (ulimit -n 5) the receiver says it has no room for the one passed (was: MSG_CTRUNC's 'more descriptors came')" {
    printf 'a file to pass\n' >"$LOG/file.txt"
    limited receiver 5 "$F/fd_receiver" # 0-2, the listening socket, the connection: full
    start_side sender /dev/null "$F/fd_sender" -n 2 "$LOG/file.txt"
    assert_exit receiver 1 5
    assert_exit sender 1
    run cat "$LOG/receiver.err"
    assert_line "fd_receiver: a descriptor came, but this process has none free to receive it: all 5 that ulimit -n allows are open (EMFILE, MSG_CTRUNC); the kernel dropped the passed descriptor (the sender's stays open)"
    refute_line --partial 'more descriptors came'
}

@test "fdpass: with one descriptor free (ulimit -n 6), two passed: one received, the other dropped, said so and refused (was: 'none free to receive it')" {
    limited receiver 6 "$F/fd_receiver" # 0-2, the listening socket, the connection: one free
    raw_peer "socket.send_fds(s, [b'F'], [0, 1])"
    assert_exit receiver 1 5
    run cat "$LOG/receiver.err"
    assert_line "fd_receiver: 1 descriptor(s) came, and more that this process had none free for: all 6 that ulimit -n allows are open (EMFILE, MSG_CTRUNC); the kernel dropped those (the sender's stay open): refusing them all"
    refute_line --partial 'none free to receive it'
}

@test "fdpass: the receiver names any peer by its pid, not as fd_sender (here python's socket.send_fds)" {
    printf 'passed by python\n' >"$LOG/file.txt"
    start_side receiver /dev/null "$F/fd_receiver"
    wait_ready receiver
    raw_peer "socket.send_fds(s, [b'F'], [os.open(sys.argv[2], os.O_RDONLY)])" "$LOG/file.txt"
    assert_exit raw 0
    assert_exit receiver 0
    assert_equal "$(cat "$LOG/receiver.out")" 'passed by python'
    run cat "$LOG/receiver.err"
    assert_line --regexp "^fd_receiver: peer pid [0-9]+ \\(uid $EUID\\) passed a descriptor\$"
    refute_line --partial 'fd_sender pid'
}

@test "fdpass: a connection that closes without a word is not a sender: the receiver waits on" {
    start_side receiver /dev/null "$F/fd_receiver"
    wait_ready receiver
    raw_peer "s.shutdown(socket.SHUT_WR)"
    assert_exit raw 0
    is_alive "${PID[receiver]}"
    printf 'the real sender\n' >"$LOG/f.txt"
    start_side sender /dev/null "$F/fd_sender" -n 0 "$LOG/f.txt"
    assert_exit receiver 0
    assert_equal "$(cat "$LOG/receiver.out")" 'the real sender'
}

@test "fdpass: a descriptor from another user is refused (SO_PEERCRED)" {
    (( EUID == 0 )) || skip "needs root to run the sender as another user (CI runs as root)"
    # A directory the other user can reach, with its own copy of fd_sender (the tree may sit
    # where nobody else can enter).
    other_dir 755
    cp "$F/fd_sender" "$OTHER_DIR/"
    printf 'from nobody\n' >"$OTHER_DIR/f.txt"
    chmod 644 "$OTHER_DIR/f.txt"
    start_side receiver /dev/null "$F/fd_receiver" -p "$OTHER_DIR/sock"
    wait_ready receiver
    chmod 666 "$OTHER_DIR/sock" # let the other user connect at all
    start_side sender /dev/null "${AS_NOBODY[@]}" \
        "$OTHER_DIR/fd_sender" -p "$OTHER_DIR/sock" "$OTHER_DIR/f.txt"
    assert_exit receiver 1 5
    run cat "$LOG/receiver.err"
    assert_line --partial 'refusing a descriptor from uid 65534'
    assert_equal "$(cat "$LOG/receiver.out")" ''
    assert_exit sender 1 5 # refused is not done
}

@test "fdpass: SIGTERM while the receiver prints /dev/zero ends it within 2 s by SIGTERM, nothing left" {
    # stdout that never blocks (as a file or /dev/null does): no write() fails with EINTR, so
    # only a look at the signal between chunks can stop the copy.
    ln -s /dev/null "$LOG/receiver.out"
    start_side receiver /dev/null "$F/fd_receiver"
    wait_ready receiver
    start_side sender /dev/null "$F/fd_sender" -n 0 /dev/zero
    wait_line receiver 'received descriptor [0-9]+'
    kill -TERM "${PID[receiver]}"
    assert_exit receiver $((128 + 15)) 2
    run cat "$LOG/receiver.err"
    assert_line 'fd_receiver: SIGTERM: cleaned up, leaving'
    [[ ! -e $IPCLAB_DIR/fdpass ]] || fail "the socket is left: $(ls -l "$IPCLAB_DIR")"
    assert_exit sender 1 # it was not done
}

@test "fdpass: after SIGKILL the socket stays (a dead process removes nothing): make status calls it stale, clean-ipc removes it" {
    start_side receiver /dev/null "$F/fd_receiver"
    wait_ready receiver
    kill_side receiver KILL
    [[ -S $IPCLAB_DIR/fdpass ]]
    IPCLAB_STATUS_PREFIX=$POSIX run timeout 10 "$ROOT/scripts/status.sh"
    assert_line --regexp '^  socket +fdpass +stale: no socket is bound to it$'
    IPCLAB_STATUS_PREFIX=$POSIX run timeout 10 "$ROOT/scripts/clean-ipc.sh"
    assert_line --regexp '^ +fdpass +removed$'
    [[ ! -e $IPCLAB_DIR/fdpass ]]
}

@test "fdpass: the receiver SIGKILLed mid-print: the sender says it was not done, exit 1" {
    random_file "$LOG/file.bin" 3145728
    mkfifo "$LOG/receiver.out" # read by nobody: the receiver stalls mid-file
    # a socket outside the run directory: the killed receiver cannot remove it
    start_side receiver /dev/null "$F/fd_receiver" -p "$LOG/sock"
    exec 7<"$LOG/receiver.out"
    wait_ready receiver
    start_side sender /dev/null "$F/fd_sender" -p "$LOG/sock" -n 1000 "$LOG/file.bin"
    wait_line receiver 'received descriptor [0-9]+'
    wait_blocked_in "${PID[receiver]}" 'pipe_write|pipe_wait'
    kill_side receiver KILL
    exec 7<&-
    assert_exit sender 1 5
    run cat "$LOG/sender.err"
    assert_line --partial 'the receiver went away before it was done'
    refute_line --partial 'the receiver is done'
}

@test "fdpass: a receiver that cannot print (stdout full, or a pipe nobody reads) fails, and so does the sender" {
    random_file "$LOG/file.bin" 3145728
    ln -s /dev/full "$LOG/receiver.out" # write(): ENOSPC
    start_side receiver /dev/null "$F/fd_receiver"
    wait_ready receiver
    start_side sender /dev/null "$F/fd_sender" -n 10 "$LOG/file.bin"
    assert_exit receiver 1 5
    assert_exit sender 1 5
    run cat "$LOG/sender.err"
    assert_line --partial 'the receiver went away before it was done'
    # a pipe whose reader leaves mid-file: write(): EPIPE
    mkfifo "$LOG/receiver2.out"
    start_side receiver2 /dev/null "$F/fd_receiver"
    exec 7<"$LOG/receiver2.out"
    wait_ready receiver2
    start_side sender2 /dev/null "$F/fd_sender" -n 10 "$LOG/file.bin"
    wait_line receiver2 'received descriptor [0-9]+'
    wait_blocked_in "${PID[receiver2]}" 'pipe_write|pipe_wait'
    exec 7<&-
    assert_exit receiver2 1 5
    run cat "$LOG/receiver2.err"
    assert_line 'fd_receiver: write stdout: Broken pipe'
    assert_exit sender2 1 5
    run cat "$LOG/sender2.err"
    assert_line --partial 'the receiver went away before it was done'
}

@test "fdpass: a receiver started with stdout closed refuses, rather than print into its own socket" {
    # A new descriptor takes the lowest free number: with 1 closed, the listening socket got it.
    # shellcheck disable=SC2016 # $0 is the inner shell's: the program, run with stdout closed
    run --separate-stderr timeout 5 bash -c 'exec "$0" >&-' "$F/fd_receiver"
    assert_failure 1
    assert_equal "$stderr" 'fd_receiver: stdout (nowhere to print the file): Bad file descriptor'
    [[ ! -e $IPCLAB_DIR/fdpass ]]
}

@test "fdpass: a connection that sends nothing is dropped after 5 s once another waits; the sender behind it is served" {
    start_side receiver /dev/null "$F/fd_receiver"
    wait_ready receiver
    raw_peer "sys.stderr.write('connected\n'); sys.stderr.flush()"
    wait_line raw connected
    printf 'served after all\n' >"$LOG/f.txt"
    start_side sender /dev/null "$F/fd_sender" -n 0 "$LOG/f.txt"
    assert_exit receiver 0 10
    assert_exit sender 0 5
    assert_exit raw 0 5 # the receiver closed the silent connection
    assert_equal "$(cat "$LOG/receiver.out")" 'served after all'
    run cat "$LOG/receiver.err"
    assert_line --regexp '^fd_receiver: pid [0-9]+ has sent nothing for 5 s: dropped as soon as another sender comes$'
    assert_line --regexp '^fd_receiver: dropping pid [0-9]+, silent for 5 s and more: another sender waits$'
}

@test "fdpass: a slow sender alone is not dropped: it is served when its descriptor comes, after the 5 s" {
    printf 'slow but served\n' >"$LOG/f.txt"
    start_side receiver /dev/null "$F/fd_receiver"
    wait_ready receiver
    # a sender that passes its descriptor when the test says so (a line on its stdin)
    start_fed slow "$PYTHON" -c "
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
sys.stdin.readline()
with open(sys.argv[2], 'rb') as f:
    socket.send_fds(s, [b'F'], [f.fileno()])
    sys.exit(0 if s.recv(1) == b'D' else 1)
" "$IPCLAB_DIR/fdpass" "$LOG/f.txt"
    wait_line receiver 'has sent nothing for 5 s' 10
    printf 'go\n' >&5
    assert_exit receiver 0 5
    assert_exit slow 0 5 # it got the receiver's D
    assert_equal "$(cat "$LOG/receiver.out")" 'slow but served'
}

@test "fdpass: a receiver of another user's is refused: the sender passes it no descriptor (SO_PEERCRED)" {
    (( EUID == 0 )) || skip "needs root to run the receiver as another user (CI runs as root)"
    # The attacker (uid 65534) listens where the victim is told to connect, takes whatever
    # descriptor comes and prints what it can read through it.
    other_dir
    printf 'root only\n' >"$LOG/secret"
    chmod 600 "$LOG/secret"
    start_side attacker /dev/null "${AS_NOBODY[@]}" \
        "$PYTHON" -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o666); s.listen(1)
print("attacker: ready (pid %d)" % os.getpid(), file=sys.stderr, flush=True)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 1, 4)
for fd in fds:
    sys.stdout.write(os.read(fd, 100).decode(errors="replace"))
' "$OTHER_DIR/sock"
    wait_ready attacker
    run --separate-stderr timeout 5 "$F/fd_sender" -n 0 -p "$OTHER_DIR/sock" "$LOG/secret"
    assert_failure 1
    [[ $stderr == *"the receiver on $OTHER_DIR/sock is uid 65534's, not yours (uid 0); refusing to pass it a descriptor"* ]] ||
        fail "stderr: $stderr"
    wait_exit attacker
    refute [ -s "$LOG/attacker.out" ]
}

# py_receiver NAME END: python's socket.recv_fds as the receiver, on the default path: it prints
# the file from the offset it got, then sends END back ('D', or nothing at all if END is '').
py_receiver() {
    start_side "$1" /dev/null "$PYTHON" -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(1)
print("py_receiver: ready (pid %d)" % os.getpid(), file=sys.stderr, flush=True)
c, _ = s.accept()
os.unlink(sys.argv[1])
msg, fds, flags, addr = socket.recv_fds(c, 1, 1)
with open(fds[0], "rb") as f:
    sys.stdout.buffer.write(f.read())
sys.stdout.flush()
c.sendall(sys.argv[2].encode())
' "$IPCLAB_DIR/fdpass" "$2"
    wait_ready "$1"
}

@test "fdpass: python's socket.recv_fds takes the receiver's side: it reads on from the sender's offset; its 'D' is the sender's 'done', and without one the sender says so" {
    printf 'first part|and the rest\n' >"$LOG/f.txt"
    py_receiver py D
    start_side sender /dev/null "$F/fd_sender" -n 11 "$LOG/f.txt"
    assert_exit sender 0
    assert_exit py 0
    assert_equal "$(cat "$LOG/sender.out")" 'first part|'
    assert_equal "$(cat "$LOG/py.out")" 'and the rest'
    run cat "$LOG/sender.err"
    assert_line --partial "passing descriptor 3 (offset 11) to the receiver"
    assert_line --partial "my descriptor's offset is now 24, the end of the file"
    # A receiver that knows nothing of the end message: the file is read all the same; the
    # sender cannot tell done from killed, says so, and still shows where its offset stands.
    py_receiver py2 ''
    start_side sender2 /dev/null "$F/fd_sender" -n 11 "$LOG/f.txt"
    assert_exit py2 0
    assert_exit sender2 1
    assert_equal "$(cat "$LOG/py2.out")" 'and the rest'
    run cat "$LOG/sender2.err"
    assert_line --partial "the receiver went away before it was done (no 'D' came)"
    assert_line --partial "my descriptor's offset is now 24"
}
