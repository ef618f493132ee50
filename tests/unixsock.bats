#!/usr/bin/env bats
# tests/unixsock.bats - unix_stream_server and unix_stream_client on a real UNIX-domain socket.

# shellcheck disable=SC2154 # $stderr is set by bats' run --separate-stderr
# shellcheck disable=SC2018,SC2019 # tr a-z A-Z under LC_ALL=C: ASCII letters, on purpose
load test_helper
bats_require_minimum_version 1.5.0

setup() {
    ipclab_setup
    U=$BIN/unixsock
}

teardown() {
    exec 8>&- # the relay tests' third client
    ipclab_teardown
}

start_server() {
    start_side server /dev/null "$U/unix_stream_server"
    wait_ready server
}

@test "unix_stream: 1 MiB of random binary comes back upper-cased, every other byte as it was (seed: toupper on a signed char)" {
    random_file "$LOG/in.bin" 1048576
    start_server
    start_side client "$LOG/in.bin" "$U/unix_stream_client"
    assert_exit client 0
    cmp <(LC_ALL=C tr a-z A-Z <"$LOG/in.bin") "$LOG/client.out"
    cmp "$LOG/in.bin" "$LOG/server.out" # the server prints what it receives
    run cat "$LOG/client.err"
    assert_line 'unix_stream_client: the server closed the connection: 1048576 bytes sent, 1048576 received'
}

@test "unix_stream: 20 clients at once each get exactly their own data back (seed: one client, then exit)" {
    local i
    start_server
    for i in {1..20}; do
        random_file "$LOG/in$i.bin" 65536
        start_side "c$i" "$LOG/in$i.bin" "$U/unix_stream_client"
    done
    for i in {1..20}; do
        assert_exit "c$i" 0
        cmp <(LC_ALL=C tr a-z A-Z <"$LOG/in$i.bin") "$LOG/c$i.out"
    done
    run grep -c 'finished after 65536 bytes' "$LOG/server.err"
    assert_output 20
    is_alive "${PID[server]}" # and it serves on
}

@test "unix_stream: in a terminal-like session each line's reply comes back before the next is sent (seed: one read() per reply)" {
    start_server
    start_fed client "$U/unix_stream_client"
    printf 'first line\n' >&5
    wait_output client '^FIRST LINE$'
    printf 'second line\n' >&5
    wait_output client '^SECOND LINE$'
    exec 5>&-
    assert_exit client 0
}

@test "unix_stream: the server names each client's pid and uid (SO_PEERCRED; seed: stat() of a bound path)" {
    start_server
    printf 'who am I\n' >"$LOG/in.txt"
    start_side client "$LOG/in.txt" "$U/unix_stream_client"
    assert_exit client 0
    run cat "$LOG/server.err"
    assert_line --regexp "^unix_stream_server: client 1 connected: pid [0-9]+, uid $EUID\$"
}

@test "unix_stream: the socket is mode 0600 in the run directory (seed: relative foo.socket); the client binds nothing (seed: /var/tmp/<pid>)" {
    start_server
    assert_equal "$(stat -c %a "$IPCLAB_DIR/unix_stream")" 600
    start_fed client "$U/unix_stream_client"
    printf 'x\n' >&5
    wait_output client '^X$'
    assert_equal "$(ls -A "$IPCLAB_DIR")" unix_stream
    exec 5>&-
    assert_exit client 0
}

@test "unix_stream: a second server on a live one's path is refused; the first keeps serving (seed: unlink() stole it)" {
    start_server
    run --separate-stderr timeout 5 "$U/unix_stream_server"
    assert_failure 1
    [[ $stderr == *"is already in use by a running server; refusing"* ]] || fail "$stderr"
    [[ -S $IPCLAB_DIR/unix_stream ]]
    printf 'still here\n' >"$LOG/in.txt"
    start_side client "$LOG/in.txt" "$U/unix_stream_client"
    assert_exit client 0
    assert_equal "$(cat "$LOG/client.out")" 'STILL HERE'
}

@test "unix_stream: a stale socket left by a killed server is reclaimed" {
    start_server
    kill_side server KILL
    [[ -S $IPCLAB_DIR/unix_stream ]]
    start_side server2 /dev/null "$U/unix_stream_server"
    wait_ready server2
    run cat "$LOG/server2.err"
    assert_line --partial 'removed the stale socket'
    printf 'new server\n' >"$LOG/in.txt"
    start_side client "$LOG/in.txt" "$U/unix_stream_client"
    assert_exit client 0
    assert_equal "$(cat "$LOG/client.out")" 'NEW SERVER'
}

@test "unix_stream: standard tools as the client, nc -N -U and socat UNIX-CONNECT, get their bytes back upper-cased" {
    random_file "$LOG/in.bin" 262144
    start_server
    # -N: nc half-closes at the end of its input, as our client does (without it, it waits on)
    timeout 5 nc -N -U "$IPCLAB_DIR/unix_stream" <"$LOG/in.bin" >"$LOG/nc.out"
    cmp <(LC_ALL=C tr a-z A-Z <"$LOG/in.bin") "$LOG/nc.out"
    # -t 5: socat waits that long for the replies after its end of input (0.5 s by default)
    timeout 5 socat -t 5 - "UNIX-CONNECT:$IPCLAB_DIR/unix_stream" <"$LOG/in.bin" >"$LOG/socat.out"
    cmp <(LC_ALL=C tr a-z A-Z <"$LOG/in.bin") "$LOG/socat.out"
    cmp <(cat "$LOG/in.bin" "$LOG/in.bin") "$LOG/server.out" # the server printed both, whole
    run grep -c 'finished after 262144 bytes$' "$LOG/server.err"
    assert_output 2
}

@test "unix_stream: socat as the server (tr a-z A-Z behind it): our client's bytes come back upper-cased" {
    random_file "$LOG/in.bin" 262144
    start_side socat /dev/null env LC_ALL=C socat -d -d \
        "UNIX-LISTEN:$IPCLAB_DIR/unix_stream,mode=600" EXEC:'tr a-z A-Z'
    wait_line socat ' listening on '
    start_side client "$LOG/in.bin" "$U/unix_stream_client"
    assert_exit client 0
    cmp <(LC_ALL=C tr a-z A-Z <"$LOG/in.bin") "$LOG/client.out"
    run cat "$LOG/client.err"
    assert_line 'unix_stream_client: the server closed the connection: 262144 bytes sent, 262144 received'
    assert_exit socat 0 # one connection, then socat ends and removes its socket
}

# attacker NAME TYPE: side NAME, uid 65534, binds a TYPE (stream or dgram) socket at
# $OTHER_DIR/sock, open to all, and prints everything that comes to it: a stream's bytes until
# EOF, datagrams until one says END.  (A name of its own each time: wait_ready must not find an
# earlier attacker's ready line.)
attacker() {
    start_side "$1" /dev/null "${AS_NOBODY[@]}" \
        "$PYTHON" -c '
import os, socket, sys
kind = socket.SOCK_STREAM if sys.argv[2] == "stream" else socket.SOCK_DGRAM
s = socket.socket(socket.AF_UNIX, kind)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o666)
if kind == socket.SOCK_STREAM:
    s.listen(1)
print("attacker: ready (pid %d)" % os.getpid(), file=sys.stderr, flush=True)
if kind == socket.SOCK_STREAM:
    c, _ = s.accept()
    while (data := c.recv(4096)):
        sys.stdout.write(data.decode(errors="replace"))
else:
    while (data := s.recv(65536)) != b"END":
        sys.stdout.write(data.decode(errors="replace"))
' "$OTHER_DIR/sock" "$2"
    wait_ready "$1"
}

@test "unixsock: a client told to use another user's server refuses to send it anything (stream, relay: SO_PEERCRED; datagram: the socket file's owner)" {
    (( EUID == 0 )) || skip "needs root to run the server as another user (CI runs as root)"
    printf 'secret\n' >"$LOG/in.txt"
    local client
    for client in unix_stream_client relay_client unix_dgram_client; do
        other_dir
        if [[ $client == unix_dgram_client ]]; then attacker "at-$client" dgram; else attacker "at-$client" stream; fi
        local args=(-p "$OTHER_DIR/sock")
        [[ $client == relay_client ]] && args+=(alice)
        run --separate-stderr timeout 5 "$U/$client" "${args[@]}" <"$LOG/in.txt"
        assert_failure 1
        [[ $stderr == *"on $OTHER_DIR/sock is uid 65534's, not yours (uid 0); refusing to "* ]] ||
            fail "$client: stderr: $stderr"
        if [[ $client == unix_dgram_client ]]; then
            "$PYTHON" -c 'import socket, sys
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"END", sys.argv[1])' "$OTHER_DIR/sock"
        fi
        wait_exit "at-$client"
        refute [ -s "$LOG/at-$client.out" ] # the attacker got nothing: not even a hello
        rm -rf "$OTHER_DIR"
    done
}

@test "unixsock: another user's stale socket at -p PATH is neither removed nor used by a server" {
    (( EUID == 0 )) || skip "needs root to make the socket as another user (CI runs as root)"
    other_dir
    # a socket nobody listens on any more, as a server killed by kill -9 leaves it -- but not ours
    "${AS_NOBODY[@]}" "$PYTHON" -c '
import socket, sys
socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).bind(sys.argv[1])' "$OTHER_DIR/sock"
    local prog
    for prog in unix_stream_server relay_server unix_dgram_server; do
        run --separate-stderr timeout 5 "$U/$prog" -p "$OTHER_DIR/sock" </dev/null
        assert_failure 1
        [[ $stderr == *"$OTHER_DIR/sock is a socket of uid 65534's, not yours (uid 0); refusing to use or remove it"* ]] ||
            fail "$prog: stderr: $stderr"
        assert_equal "$(stat -c %u "$OTHER_DIR/sock")" 65534
    done
}

@test "unixsock: a server whose socket was removed by hand leaves the socket a second server then bound there when it ends; that one serves on (was: removed by name)" {
    local prog sock
    local -A client=([unix_stream_server]=unix_stream_client [relay_server]="relay_client alice"
        [unix_dgram_server]=unix_dgram_client)
    printf 'x\n' >"$LOG/in.txt"
    for prog in unix_stream_server relay_server unix_dgram_server; do
        sock=$IPCLAB_DIR/$prog
        start_side "a-$prog" /dev/null "$U/$prog" -p "$sock"
        wait_ready "a-$prog"
        rm "$sock"
        start_side "b-$prog" /dev/null "$U/$prog" -p "$sock"
        wait_ready "b-$prog"
        kill -TERM "${PID[a-$prog]}"
        assert_exit "a-$prog" $((128 + 15)) 2
        [[ -S $sock ]] || fail "$prog: the second server's socket is gone"
        # shellcheck disable=SC2086 # the client and its arguments
        run --separate-stderr timeout 5 $U/${client[$prog]} -p "$sock" <"$LOG/in.txt"
        assert_success
    done
}

@test "unix_dgram: a client whose socket was removed by hand leaves the socket bound there since when it ends (was: removed by name)" {
    start_dgram_server
    start_fed client "$U/unix_dgram_client"
    wait_line client 'bound to '
    local own
    own=$(sed -n 's/^unix_dgram_client: bound to \(.*\); server .*/\1/p' "$LOG/client.err")
    rm "$own"
    "$PYTHON" -c 'import socket, sys
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).bind(sys.argv[1])' "$own"
    kill -TERM "$(pgrep -o -P "$(pgid_of client)")"
    assert_exit client $((128 + 15)) 2
    [[ -S $own ]] || fail "the client removed the socket bound after its own"
    rm "$own"
}

@test "unix_stream: a path too long for sun_path is an error that says so, for server and client" {
    local long
    long=$LOG/$(printf 's%.0s' {1..120})
    run --separate-stderr timeout 5 "$U/unix_stream_server" -p "$long"
    assert_failure 1
    [[ $stderr == *"a UNIX socket's path holds at most 107"* ]] || fail "$stderr"
    run --separate-stderr timeout 5 "$U/unix_stream_client" -p "$long" </dev/null
    assert_failure 1
    [[ $stderr == *"a UNIX socket's path holds at most 107"* ]] || fail "$stderr"
}

@test "unix_stream: no server -> the client says how to start one, exit 1" {
    run --separate-stderr timeout 5 "$U/unix_stream_client" </dev/null
    assert_failure 1
    assert_equal "$stderr" "unix_stream_client: no server at $IPCLAB_DIR/unix_stream; start it with ./unixsock/unix_stream_server"
}

@test "unix_stream: SIGTERM to the server removes its socket; a connected client is told, exit 1" {
    start_server
    start_fed client "$U/unix_stream_client"
    printf 'before\n' >&5
    wait_output client '^BEFORE$'
    kill -TERM "${PID[server]}"
    assert_exit server $((128 + 15)) 2
    assert_exit client 1 2
    run cat "$LOG/client.err"
    assert_line 'unix_stream_client: the server closed the connection before our end of input'
    [[ ! -e $IPCLAB_DIR/unix_stream ]]
}

@test "unix_stream: SIGTERM while the server's stdout is blocked (a paused pager) ends it at once, socket removed (was: alive until SIGKILL, socket left)" {
    random_file "$LOG/in.bin" 300000
    mkfifo "$LOG/server.out" # the server's stdout: held open here, never read
    exec 7<>"$LOG/server.out"
    start_server
    start_side client "$LOG/in.bin" "$U/unix_stream_client"
    # the pipe is full: the server waits in write(), part of its chunk written
    wait_blocked_in "${PID[server]}" 'pipe_write|pipe_wait'
    kill -TERM "${PID[server]}"
    assert_exit server $((128 + 15)) 2
    [[ ! -e $IPCLAB_DIR/unix_stream ]] || fail "the socket file is left"
    run cat "$LOG/server.err"
    assert_line 'unix_stream_server: SIGTERM: cleaned up, leaving'
    assert_exit client 1 2
    exec 7<&-
}

# ready_on_fd7 NAME: read lines from the FIFO the test holds on fd 7 (NAME's stderr) until
# NAME's ready line; PID[NAME] = its pid.
ready_on_fd7() {
    local line
    while read -r -t 5 -u 7 line; do
        [[ $line =~ ^[^:]*:\ ready\ \(pid\ ([0-9]+)\) ]] && { PID[$1]=${BASH_REMATCH[1]}; return 0; }
    done
    fail "$1: no ready line on its stderr within 5 s"
}

@test "unix_stream: SIGTERM, or SIGTERM and SIGINT, while stdout and stderr both go to a stalled pipe (2>&1 | a paused pager) end the server, socket removed (was: stuck writing its last words, every signal blocked)" {
    local sigs
    random_file "$LOG/in.bin" 300000
    for sigs in TERM TERM,INT; do
        rm -f "$LOG/server.out" "$LOG/server.err" "$LOG/server.status" "$LOG/client.status"
        mkfifo "$LOG/server.out" # stdout and stderr: held open here, read up to the ready line
        exec 7<>"$LOG/server.out"
        # shellcheck disable=SC2016 # $0 is the inner shell's: the server
        start_side server /dev/null bash -c 'exec "$0" 2>&1' "$U/unix_stream_server"
        ready_on_fd7 server
        start_side client "$LOG/in.bin" "$U/unix_stream_client"
        # the pipe is full: the server waits in write(), part of its chunk written
        wait_blocked_in "${PID[server]}" 'pipe_write|pipe_wait'
        kill -TERM "${PID[server]}"
        [[ $sigs == TERM ]] || kill -INT "${PID[server]}" 2>/dev/null || true
        wait_exit server 2
        [[ $SIDE_STATUS == $((128 + 15)) || $SIDE_STATUS == $((128 + 2)) ]] ||
            fail "$sigs: the server ended with status $SIDE_STATUS"
        [[ ! -e $IPCLAB_DIR/unix_stream ]] || fail "$sigs: the socket file is left"
        assert_exit client 1 2
        exec 7<&-
    done
}

@test "unix_stream: SIGHUP with nobody left to read the server's stderr -> it dies of SIGHUP, socket removed (was: exit 129, a status of its own)" {
    mkfifo "$LOG/server.fifo"
    exec 7<>"$LOG/server.fifo"
    # python reports how the server ended: a negative returncode is the signal that killed it
    start_side server /dev/null "$PYTHON" -c '
import subprocess, sys
print(subprocess.run(sys.argv[2:], stderr=open(sys.argv[1], "w")).returncode)' \
        "$LOG/server.fifo" "$U/unix_stream_server"
    ready_on_fd7 server
    exec 7<&- # the reader of its stderr goes: a write() there fails (EPIPE)
    kill -HUP "${PID[server]}"
    assert_exit server 0 2
    assert_equal "$(cat "$LOG/server.out")" -1
    [[ ! -e $IPCLAB_DIR/unix_stream ]] || fail "the socket file is left"
}

@test "unix_stream: the server SIGKILLed mid-conversation -> the client ends within 2 s, exit 1, not killed by SIGPIPE" {
    start_server
    start_fed client "$U/unix_stream_client"
    printf 'before\n' >&5
    wait_output client '^BEFORE$'
    kill_side server KILL
    assert_exit client 1 2
    run cat "$LOG/client.err"
    assert_line 'unix_stream_client: the server closed the connection before our end of input'
    exec 5>&-
    rm "$IPCLAB_DIR/unix_stream" # what SIGKILL left (the stale-socket test shows it reclaimed)
}

@test "unix_stream: Ctrl-C while connect() waits (a full listen queue) ends the client at once, by SIGINT" {
    local pid
    # A listener that never accepts, with a queue of one, filled: connect() now waits.
    start_side full /dev/null "$PYTHON" -c "
import socket, sys, time
l = socket.socket(socket.AF_UNIX)
l.bind(sys.argv[1])
l.listen(0)
c = socket.socket(socket.AF_UNIX)
c.connect(sys.argv[1])
print('full', file=sys.stderr, flush=True)
time.sleep(60)" "$IPCLAB_DIR/unix_stream"
    wait_line full '^full$'
    start_side client /dev/null "$U/unix_stream_client"
    wait_until 5 pgrep -g "$(pgid_of client)" -x unix_stream_cli
    pid=$(pgrep -g "$(pgid_of client)" -x unix_stream_cli)
    wait_blocked_in "$pid" unix_wait_for_peer
    kill -INT "$pid"
    assert_exit client $((128 + 2)) 2
    assert_equal "$(cat "$LOG/client.err")" 'unix_stream_client: SIGINT: cleaned up, leaving'
    kill_side full KILL
    rm "$IPCLAB_DIR/unix_stream"
}

@test "unix_stream: a client that stops reading its replies does not stall the others" {
    random_file "$LOG/big.bin" 4194304
    mkfifo "$LOG/slow.out" # opened, never read: the slow client's replies back up
    start_server
    start_side slow "$LOG/big.bin" "$U/unix_stream_client"
    exec 7<"$LOG/slow.out"
    wait_line server 'client 1 connected'
    wait_blocked_in "$(sed -n 's/.*client 1 connected: pid \([0-9]*\),.*/\1/p' "$LOG/server.err")" \
        'pipe_write|pipe_wait'
    printf 'am I served?\n' >"$LOG/in.txt"
    start_side quick "$LOG/in.txt" "$U/unix_stream_client"
    assert_exit quick 0 5
    assert_equal "$(cat "$LOG/quick.out")" 'AM I SERVED?'
    exec 7<&-
}

@test "unix_stream: more clients than descriptors (ulimit -n 66, then 40) wait their turn: said once, no spin (was: 100% CPU; poll: Invalid argument)" {
    local limit
    # 66: accept() failed with EMFILE, for ever; 40: poll() of 65 entries was EINVAL at once.
    for limit in 66 40; do
        limited "server$limit" "$limit" "$U/unix_stream_server" -p "$IPCLAB_DIR/s$limit"
        crowd_waits "server$limit" 'client [0-9]* connected: pid' stream "$IPCLAB_DIR/s$limit"
    done
}

# ---------------------------------------------------------------- unix_dgram

start_dgram_server() {
    start_side server /dev/null "$U/unix_dgram_server"
    wait_ready server
}

@test "unix_dgram: 1 MiB of random binary, 256 datagrams, each answered upper-cased" {
    random_file "$LOG/in.bin" 1048576
    start_dgram_server
    start_side client "$LOG/in.bin" "$U/unix_dgram_client"
    assert_exit client 0
    cmp <(LC_ALL=C tr a-z A-Z <"$LOG/in.bin") "$LOG/client.out"
    cmp "$LOG/in.bin" "$LOG/server.out"
    run cat "$LOG/server.err"
    assert_line --regexp 'end of data from .*/unix_dgram_client\.[0-9]+: 1048576 bytes in 256 datagram\(s\)$'
}

@test "unix_dgram: each line typed is one datagram, answered before the next (seed: the client could get no reply)" {
    start_dgram_server
    start_fed client "$U/unix_dgram_client"
    printf 'one\n' >&5
    wait_output client '^ONE$'
    printf 'two\n' >&5
    wait_output client '^TWO$'
    exec 5>&-
    assert_exit client 0
    run cat "$LOG/server.err"
    assert_line --regexp ': 8 bytes in 2 datagram\(s\)$'
}

@test "unix_dgram: two clients whose datagrams interleave are each counted apart" {
    start_dgram_server
    start_fed one "$U/unix_dgram_client"
    mkfifo "$LOG/two.in"
    start_side two "$LOG/two.in" "$U/unix_dgram_client"
    exec 6>"$LOG/two.in"
    printf 'one a\n' >&5
    wait_output one '^ONE A$'
    printf 'two a\n' >&6
    wait_output two '^TWO A$'
    printf 'one b\n' >&5
    wait_output one '^ONE B$'
    exec 5>&-
    assert_exit one 0
    printf 'two b\n' >&6
    wait_output two '^TWO B$'
    exec 6>&-
    assert_exit two 0
    run grep -c ': 12 bytes in 2 datagram(s)$' "$LOG/server.err"
    assert_output 2
}

@test "unix_dgram: the client's own address is a 0600 socket in the run directory, removed when it leaves" {
    start_dgram_server
    start_fed client "$U/unix_dgram_client"
    printf 'x\n' >&5
    wait_output client '^X$'
    local own
    own=$(sed -n 's/.*: bound to \([^;]*\);.*/\1/p' "$LOG/client.err")
    [[ -S $own && $own == "$IPCLAB_DIR"/unix_dgram_client.* ]] || fail "client address: $own"
    assert_equal "$(stat -c %a "$own")" 600
    exec 5>&-
    assert_exit client 0
    [[ ! -e $own ]]
}

# raw_dgram PYTHON-CODE: a hand-made datagram sender `s` (unbound unless the code binds it).
raw_dgram() {
    start_side raw /dev/null "$PYTHON" -c "
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
$1
" "$IPCLAB_DIR/unix_dgram"
}

@test "unix_dgram: a datagram over the limit is reported and dropped, never printed cut short (seed: MSG_TRUNC unchecked)" {
    start_dgram_server
    raw_dgram "s.sendto(b'y' * 5000, sys.argv[1])"
    assert_exit raw 0
    wait_line server 'dropped a datagram of 5000 bytes from an unbound socket: more than the 4096'
    assert_equal "$(wc -c <"$LOG/server.out")" 0
    printf 'still serving\n' >"$LOG/in.txt"
    start_side client "$LOG/in.txt" "$U/unix_dgram_client"
    assert_exit client 0
    assert_equal "$(cat "$LOG/client.out")" 'STILL SERVING'
}

@test "unix_dgram: a datagram from an unbound socket is printed exactly; the server says it cannot reply (seed's client)" {
    start_dgram_server
    raw_dgram "s.sendto(b'Hello, server!', sys.argv[1])"
    assert_exit raw 0
    wait_line server 'a datagram from an unbound socket: no address to reply to'
    assert_equal "$(cat "$LOG/server.out")" 'Hello, server!' # and nothing after it (seed: no NUL)
}

@test "unix_dgram: a sender bound to a path of the full 108 bytes (no NUL) is named and counted by exactly that path (was: read past sun_path)" {
    start_dgram_server
    # sun_path holds 108 bytes and the kernel adds no NUL to a path that fills it: only the
    # address length recvfrom() returns says where it ends.  (Python's bind() refuses a path
    # of 108 bytes, so the C library's is called with the address made by hand.)
    raw_dgram "
import ctypes, os, struct
path = os.path.dirname(sys.argv[1]).encode() + b'/'
path += b'L' * (108 - len(path))
addr = struct.pack('H', socket.AF_UNIX) + path
if ctypes.CDLL(None, use_errno=True).bind(s.fileno(), addr, len(addr)) != 0:
    sys.exit('bind: ' + os.strerror(ctypes.get_errno()))
try:
    s.settimeout(5)
    for data in (b'long name', b''):
        s.sendto(data, sys.argv[1])
        print(repr(s.recv(4096)), flush=True)
finally:
    os.unlink(path)
print(path.decode(), file=sys.stderr)"
    assert_exit raw 0
    local path
    path=$(cat "$LOG/raw.err")
    (( ${#path} == 108 )) || fail "not a 108-byte path: $path"
    assert_equal "$(cat "$LOG/raw.out")" "b'LONG NAME'"$'\n'"b''"
    run cat "$LOG/server.err"
    assert_line "unix_dgram_server: end of data from $path: 9 bytes in 1 datagram(s)"
}

@test "unix_dgram: an abstract sender is answered and named @NAME, its odd bytes escaped (was: 'an unbound socket', no reply)" {
    start_dgram_server
    # An abstract address: sun_path[0] is NUL, the name is the bytes after it (unix(7)).  This
    # one has an ESC in it, which must not reach the terminal as it is.
    raw_dgram "
import os
s.bind(b'\\0ipclab-test\\x1b[31m' + str(os.getpid()).encode())
s.settimeout(5)
for data in (b'hi', b''):
    s.sendto(data, sys.argv[1])
    print(repr(s.recv(4096)), flush=True)
print(os.getpid(), file=sys.stderr)"
    assert_exit raw 0
    assert_equal "$(cat "$LOG/raw.out")" "b'HI'"$'\n'"b''"
    run cat "$LOG/server.err"
    assert_line "unix_dgram_server: end of data from @ipclab-test\\x1b[31m$(cat "$LOG/raw.err"): 2 bytes in 1 datagram(s)"
    refute_output --partial $'\e'
}

# silent_dgram COUNT: side silent, COUNT clients (abstract names @ipclab-silent-PID-I) that
# each send one datagram, "silent I\n", take its answer and never send the empty one, as socat
# does; "answered COUNT" on its stderr once all are answered.
silent_dgram() {
    start_side silent /dev/null "$PYTHON" -c "
import os, socket, sys
for i in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(b'\\0ipclab-silent-%d-%d' % (os.getpid(), i))
    s.settimeout(5)
    s.sendto(b'silent %d\\n' % i, sys.argv[1])
    s.recv(4096)
print('answered', sys.argv[2], file=sys.stderr)" "$IPCLAB_DIR/unix_dgram" "$1"
    wait_line silent "^answered $1\$"
}

# one_more: a unix_dgram_client sends "one more" and its end; SELF is its address.
one_more() {
    printf 'one more\n' >"$LOG/more.txt"
    start_side more "$LOG/more.txt" "$U/unix_dgram_client"
    assert_exit more 0
    assert_equal "$(cat "$LOG/more.out")" 'ONE MORE'
    SELF=$(sed -n 's/^unix_dgram_client: bound to \(.*\); server .*/\1/p' "$LOG/more.err")
    [[ -n $SELF ]] || fail "the client's own address: $(cat "$LOG/more.err")"
}

@test "unix_dgram: 64 clients that never send the empty datagram fill the table: the next is told so, and its end is still reported (was: no 'end of data' line, no word)" {
    start_dgram_server
    silent_dgram 64
    one_more
    run cat "$LOG/server.err"
    assert_line "unix_dgram_server: the table of clients is full (64 counted): $SELF and any other new one are answered but not counted until a client ends (with an empty datagram, or 30 s of silence)"
    assert_line "unix_dgram_server: end of data from $SELF: not counted, the table of clients was full"
}

@test "unix_dgram: a client first answered uncounted (table full), then counted, is said to be counted only since then (was: its partial counts as whole)" {
    start_dgram_server
    # 64 clients fill the table; @ipclab-late-PID sends "a" (not counted); client 0 ends, which
    # frees a place; the late one sends "b" and its end: only "b" was counted.
    start_side late /dev/null "$PYTHON" -c "
import os, socket, sys
def client(name):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(b'\\0ipclab-%s-%d' % (name, os.getpid()))
    s.settimeout(5)
    return s
def send(s, data):
    s.sendto(data, sys.argv[1])
    s.recv(4096)
full = [client(b'full%d' % i) for i in range(64)]
for s in full:
    send(s, b'x')
late = client(b'late')
send(late, b'a\\n')
send(full[0], b'')
send(late, b'b\\n')
send(late, b'')
print('done', file=sys.stderr)" "$IPCLAB_DIR/unix_dgram"
    wait_line late '^done$'
    run cat "$LOG/server.err"
    assert_line --partial ': the table of clients is full (64 counted): @ipclab-late-'
    assert_line --regexp '^unix_dgram_server: end of data from @ipclab-full0-[0-9]+: 1 bytes in 1 datagram\(s\)$'
    assert_line --regexp '^unix_dgram_server: end of data from @ipclab-late-[0-9]+: 2 bytes in 1 datagram\(s\) since it was first counted \(the table of clients was full before\)$'
}

@test "unix_dgram: a client silent for -i SECONDS is reported as ended, and leaves its place in the table to the next (was: kept for ever)" {
    start_side server /dev/null "$U/unix_dgram_server" -i 1
    wait_ready server
    silent_dgram 64
    wait_until 5 lines_matching "$LOG/server.err" ' for 1 s, taken as its end (no empty one yet; a later datagram starts a new count): ' 64
    one_more
    run cat "$LOG/server.err"
    assert_line --regexp '^unix_dgram_server: no datagram from @ipclab-silent-[0-9]+-0 for 1 s, taken as its end \(no empty one yet; a later datagram starts a new count\): 9 bytes in 1 datagram\(s\)$'
    assert_line --regexp '^unix_dgram_server: no datagram from @ipclab-silent-[0-9]+-63 for 1 s, taken as its end \(no empty one yet; a later datagram starts a new count\): 10 bytes in 1 datagram\(s\)$'
    assert_line "unix_dgram_server: end of data from $SELF: 9 bytes in 1 datagram(s)"
    refute_line --partial 'full'
}

@test "unix_dgram: the server SIGKILLed while the client waits -> the client says so within 2 s, exit 1, its socket removed" {
    start_dgram_server
    start_fed client "$U/unix_dgram_client"
    printf 'before\n' >&5
    wait_output client '^BEFORE$'
    kill_side server KILL
    printf 'after\n' >&5
    assert_exit client 1 2
    run cat "$LOG/client.err"
    assert_line --regexp 'the server at .* has gone'
    exec 5>&-
    rm "$IPCLAB_DIR/unix_dgram" # what SIGKILL left of the server
}

@test "unix_dgram: a path too long for sun_path is an error that says so, for server and client (seed: strncpy() cut it)" {
    local long
    long=$LOG/$(printf 's%.0s' {1..120})
    run --separate-stderr timeout 5 "$U/unix_dgram_server" -p "$long"
    assert_failure 1
    [[ $stderr == *"a UNIX socket's path holds at most 107"* ]] || fail "$stderr"
    run --separate-stderr timeout 5 "$U/unix_dgram_client" -p "$long" </dev/null
    assert_failure 1
    [[ $stderr == *"a UNIX socket's path holds at most 107"* ]] || fail "$stderr"
    assert_run_dir_empty # the client's own socket, bound before, removed
}

@test "unix_dgram: no server -> the client says how to start one, exit 1, and leaves no socket" {
    run --separate-stderr timeout 5 "$U/unix_dgram_client" </dev/null
    assert_failure 1
    [[ $stderr == *"no server at $IPCLAB_DIR/unix_dgram; start it with ./unixsock/unix_dgram_server"* ]] ||
        fail "$stderr"
}

@test "unix_dgram: SIGTERM to the server removes its socket (seed: unlink() unreachable after while(true))" {
    start_dgram_server
    kill -TERM "${PID[server]}"
    assert_exit server $((128 + 15)) 2
    [[ ! -e $IPCLAB_DIR/unix_dgram ]]
}

# Standard tools take a side of the datagram pair: the socket is the interface (README, "A
# foreign peer").

@test "unix_dgram: socat and nc -uU take the client's side: UNIX-SENDTO with bind= is answered, its silence taken as its end; without bind= it is printed, not answered" {
    start_side server /dev/null "$U/unix_dgram_server" -i 1
    wait_ready server
    run --separate-stderr timeout 5 socat - "UNIX-SENDTO:$IPCLAB_DIR/unix_dgram,bind=$IPCLAB_DIR/socat" \
        < <(printf 'from socat\n')
    assert_success
    assert_output 'FROM SOCAT'
    [[ ! -e $IPCLAB_DIR/socat ]] # socat removes the address it bound
    wait_line server "no datagram from $IPCLAB_DIR/socat for 1 s, taken as its end"
    run cat "$LOG/server.err"
    assert_line "unix_dgram_server: no datagram from $IPCLAB_DIR/socat for 1 s, taken as its end (no empty one yet; a later datagram starts a new count): 11 bytes in 1 datagram(s)"
    # no bind=: socat's socket has no address, so the server has nowhere to send the reply
    run --separate-stderr timeout 5 socat - "UNIX-SENDTO:$IPCLAB_DIR/unix_dgram" < <(printf 'unbound\n')
    assert_success
    assert_output ''
    wait_line server 'a datagram from an unbound socket: no address to reply to'
    # nc binds a socket file of its own in a directory it makes (and removes) under /tmp
    run --separate-stderr timeout 5 nc -uU -W 1 "$IPCLAB_DIR/unix_dgram" < <(printf 'from nc\n')
    assert_success
    assert_output 'FROM NC'
    wait_line server 'no datagram from /tmp/nc-[^/]*/recv.sock for 1 s, taken as its end .*: 8 bytes in 1 datagram'
    assert_equal "$(cat "$LOG/server.out")" $'from socat\nunbound\nfrom nc'
}

@test "unix_dgram: socat takes the server's side (UNIX-RECVFROM, fork): each line answered; the empty datagram at the end, unanswered, is said and costs nothing" {
    start_side server /dev/null socat "UNIX-RECVFROM:$IPCLAB_DIR/unix_dgram,fork" SYSTEM:'tr a-z A-Z'
    wait_until 5 test -S "$IPCLAB_DIR/unix_dgram" # bound: datagrams can come
    start_fed client "$U/unix_dgram_client"
    printf 'one\n' >&5
    wait_output client '^ONE$'
    printf 'two\n' >&5
    wait_output client '^TWO$'
    exec 5>&-
    assert_exit client 0 5
    run cat "$LOG/client.err"
    assert_line 'unix_dgram_client: our empty datagram, the end, got no answer in 1 s (socat answers none)'
    assert_line 'unix_dgram_client: end of input: 8 bytes in 2 datagram(s), each answered'
    kill -TERM -- "-$(pgid_of server)"
    wait_exit server
}

@test "unix_dgram: a python echo server (recvfrom, sendto to the sender) takes the server's side: every datagram answered, the empty end too" {
    start_side server /dev/null "$PYTHON" -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("python: ready (pid %d)" % os.getpid(), file=sys.stderr, flush=True)
try:
    data = None
    while data != b"":
        data, sender = s.recvfrom(4096)
        s.sendto(data.upper(), sender)
finally:
    os.unlink(sys.argv[1])' "$IPCLAB_DIR/unix_dgram"
    wait_ready server
    random_file "$LOG/in.bin" 20000
    start_side client "$LOG/in.bin" "$U/unix_dgram_client"
    assert_exit client 0
    cmp <(LC_ALL=C tr a-z A-Z <"$LOG/in.bin") "$LOG/client.out"
    run cat "$LOG/client.err"
    assert_line 'unix_dgram_client: end of input: 20000 bytes in 5 datagram(s), each answered'
    refute_line --partial 'no answer'
    assert_exit server 0
}

# ---------------------------------------------------------------- relay

start_relay() {
    start_side server /dev/null "$U/relay_server"
    wait_ready server
}

# join NAME: a relay client named NAME whose stdin the test types into on the next free fd
# (alice: 5, bob: 6, carol: 8).
declare -gA RELAY_FD=([alice]=5 [bob]=6 [carol]=8)
join() {
    local name=$1 fd=${RELAY_FD[$1]}
    mkfifo "$LOG/$name.in"
    start_side "$name" "$LOG/$name.in" "$U/relay_client" "$name"
    eval "exec $fd>\"\$LOG/\$name.in\""
    wait_line "$name" "you are $name"
}

# say NAME LINE: NAME types LINE.
say() {
    printf '%s\n' "$2" >&"${RELAY_FD[$1]}"
}

@test "relay: three clients, messages in every direction, each printed as 'sender: text' (seed: two clients, one byte each)" {
    start_relay
    join alice
    join bob
    join carol
    say alice 'bob hello bob, from alice'
    say bob 'carol hello carol, from bob'
    say carol 'alice hello alice, from carol'
    say alice 'carol and hello carol'
    say carol 'bob and hello bob'
    say bob 'alice and hello alice'
    wait_output bob '^alice: hello bob, from alice$'
    wait_output carol '^bob: hello carol, from bob$'
    wait_output alice '^carol: hello alice, from carol$'
    wait_output carol '^alice: and hello carol$'
    wait_output bob '^carol: and hello bob$'
    wait_output alice '^bob: and hello alice$'
    exec 5>&- 6>&- 8>&-
    assert_exit alice 0
    assert_exit bob 0
    assert_exit carol 0
}

@test "relay: a client leaving mid-conversation is removed at once; the others talk on; a message to it is refused" {
    start_relay
    join alice
    join bob
    join carol
    say carol 'alice bye for now'
    wait_output alice '^carol: bye for now$'
    exec 8>&- # carol leaves
    assert_exit carol 0
    wait_line server 'carol \(pid [0-9]+\) left'
    say alice 'carol are you there?'
    wait_line alice 'server: no client named carol'
    say alice 'bob still here?'
    wait_output bob '^alice: still here\?$'
    exec 5>&- 6>&-
}

@test "relay: an unknown destination is an error back to the sender, who stays connected (seed: write(-1), lost silently)" {
    start_relay
    join alice
    say alice 'nobody anyone there?'
    wait_line alice 'relay_client: server: no client named nobody'
    join bob
    say alice 'bob yes, still connected'
    wait_output bob '^alice: yes, still connected$'
    exec 5>&- 6>&-
}

@test "relay: a duplicate name is refused; the first keeps its name (seed: names by first letter collided)" {
    start_relay
    join alice
    mkfifo "$LOG/alice2.in"
    start_side alice2 "$LOG/alice2.in" "$U/relay_client" alice
    exec 7>"$LOG/alice2.in"
    assert_exit alice2 1
    run cat "$LOG/alice2.err"
    assert_line 'relay_client: server: the name alice is taken'
    exec 7>&-
    join bob
    say bob 'alice the real one?'
    wait_output alice '^bob: the real one\?$'
    exec 5>&- 6>&-
}

# raw_relay PYTHON-CODE: a hand-made client `s`, connected to the relay (then waits for the close).
raw_relay() {
    start_side raw /dev/null "$PYTHON" -c "
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
$1
while s.recv(4096): pass
" "$IPCLAB_DIR/relay"
}

@test "relay: garbage and an oversized length field disconnect only their sender; the others keep talking" {
    start_relay
    join alice
    join bob
    raw_relay "s.sendall(b'garbage that is no frame at all')"
    assert_exit raw 0
    wait_line server 'malformed frame \(unknown frame type\): disconnected'
    raw_relay "s.sendall(b'H\\x03\\x00\\x00eve' + b'S\\x03\\xff\\xffbob')" # hello, then a 65535-byte body
    assert_exit raw 0
    wait_line server 'eve \(pid [0-9]+\) is refused: malformed frame \(body length over the limit\): disconnected'
    say alice 'bob we are fine'
    wait_output bob '^alice: we are fine$'
    is_alive "${PID[server]}"
    exec 5>&- 6>&-
}

@test "relay: a line too long for one message is refused whole; no part of it is sent" {
    start_relay
    join alice
    join bob
    # A line for bob that fills the client's 1058-byte line buffer exactly, and whose tail
    # after that point again reads "bob ...": a client that dropped only the first part would
    # send the tail.
    { printf 'bob '; printf 'x%.0s' {1..1054}; printf 'bob tail\n'; } >&5
    wait_line alice 'a line longer than [0-9]+ bytes: not sent'
    say alice 'bob after the long line'
    wait_output bob '^alice: after the long line$'
    assert_equal "$(cat "$LOG/bob.out")" 'alice: after the long line'
    exec 5>&- 6>&-
}

@test "relay: a frame before the hello, and a bad name, are refused" {
    start_relay
    raw_relay "s.sendall(b'S\\x03\\x00\\x02bobhi')"
    assert_exit raw 0
    wait_line server 'the first frame must be a hello'
    raw_relay "s.sendall(b'H\\x03\\x00\\x00a/b')"
    assert_exit raw 0
    wait_line server 'malformed frame \(bad name\)'
}

@test "relay: a second relay_server asking whether the first is live is no client to it (was: 'a client (pid N) left', N the second server)" {
    start_relay
    run --separate-stderr timeout 5 "$U/relay_server" </dev/null
    assert_failure 1
    assert_equal "$stderr" "relay_server: $IPCLAB_DIR/relay is already in use by a running server; refusing to take it over"
    join alice # joined after the probe's connection closed: its end was read first
    run cat "$LOG/server.err"
    assert_line --regexp '^relay_server: alice \(pid [0-9]+\) joined$'
    refute_line --partial 'left'
    exec 5>&-
    assert_exit alice 0
}

@test "relay: a name with a letter outside ASCII is refused in words that say so: ASCII letters (was: 'letters', which é is)" {
    run --separate-stderr timeout 5 "$U/relay_client" élodie </dev/null
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "relay_client: a name is 1 to 32 ASCII letters, digits, - or _, not 'élodie'"
    start_relay
    join alice
    say alice 'élodie bonjour'
    wait_line alice 'type "NAME message": a name \(1 to 32 ASCII letters, digits, - or _\), a space, then the message'
    exec 5>&-
    assert_exit alice 0
}

@test "relay: after a client vanishes the server's CPU stays idle (seed: 100% busy loop on a closed socket)" {
    start_relay
    join alice
    join bob
    kill_side bob KILL
    wait_line server 'bob \(pid [0-9]+\) (left|went away)'
    # CPU time (utime + stime, in clock ticks) over one second of idling: a busy loop would
    # use about 100 ticks.  The second is a measurement window, not a wait for anything.
    local before after
    before=$(awk '{ print $14 + $15 }' "/proc/${PID[server]}/stat")
    sleep 1
    after=$(awk '{ print $14 + $15 }' "/proc/${PID[server]}/stat")
    (( after - before <= 5 )) || fail "the server used $((after - before)) ticks in one idle second"
    exec 5>&- 6>&-
}

@test "relay: a client that stops reading is disconnected, not waited for; the others are served (memory bounded)" {
    start_relay
    join alice
    join bob
    mkfifo "$LOG/carol.out" # carol's stdout, never read: carol stops reading the server
    mkfifo "$LOG/carol.in"
    start_side carol "$LOG/carol.in" "$U/relay_client" carol
    exec 8>"$LOG/carol.in" 7<"$LOG/carol.out" # in this order: the side opens its stdin first
    wait_line carol 'you are carol'
    local body
    body=$(printf 'z%.0s' {1..1000})
    # 2000 lines in one printf (a loop of the test's own would run bats' trap at each step)
    printf "carol $body\\n%.0s" {1..2000} >"$LOG/flood.txt"
    cat "$LOG/flood.txt" >&5
    wait_line server 'carol \(pid [0-9]+\) is not reading its messages: disconnected' 10
    say alice 'bob are you still served?'
    wait_output bob '^alice: are you still served\?$'
    exec 5>&- 6>&- 7<&- 8>&-
}

@test "relay: more clients than descriptors (ulimit -n 66, then 40) wait their turn: said once, no spin (was: 100% CPU; poll: Invalid argument)" {
    local limit
    for limit in 66 40; do
        limited "server$limit" "$limit" "$U/relay_server" -p "$IPCLAB_DIR/r$limit"
        crowd_waits "server$limit" ' joined$' relay "$IPCLAB_DIR/r$limit"
    done
}

# frame TYPE NAME BODY: one relay frame as unixsock/README.md lays it out -- byte 0 the type,
# byte 1 the name's length, bytes 2-3 the body's length (big-endian), the name, the body -- made
# with printf, as a client of your own would.
frame() {
    printf '%s' "$1"
    printf '%b' "$(printf '\\0%03o\\0%03o\\0%03o' "${#2}" $((${#3} >> 8)) $((${#3} & 255)))"
    printf '%s%s' "$2" "$3"
}

# size_is FILE BYTES: FILE holds BYTES bytes.
size_is() {
    [[ $(stat -c %s "$1") == "$2" ]]
}

@test "relay: nc -U and socat take a client's side: frames written with printf, the relay's read back byte for byte" {
    start_relay
    join alice
    # carol is nc: her hello, a message for alice, then end of input (-N: a shutdown, as Ctrl-D)
    { frame H carol ''; frame S alice 'hi from nc'; } >"$LOG/carol.frames"
    timeout 5 nc -N -U "$IPCLAB_DIR/relay" <"$LOG/carol.frames" >"$LOG/carol.got"
    wait_output alice '^carol: hi from nc$'
    cmp "$LOG/carol.got" <(frame W '' '') # the welcome, then the server's close
    wait_line server 'carol \(pid [0-9]+\) left'
    # dave is socat, and stays: alice writes to him
    mkfifo "$LOG/dave.in"
    start_side dave "$LOG/dave.in" socat - "UNIX-CONNECT:$IPCLAB_DIR/relay"
    exec 6>"$LOG/dave.in"
    frame H dave '' >&6
    wait_line server 'dave \(pid [0-9]+\) joined'
    say alice 'dave hello socat'
    { frame W '' ''; frame D alice 'hello socat'; } >"$LOG/dave.want"
    ipclab_poll 5 size_is "$LOG/dave.out" "$(stat -c %s "$LOG/dave.want")" ||
        fail "socat got $(od -c "$LOG/dave.out")"
    cmp "$LOG/dave.out" "$LOG/dave.want"
    exec 6>&- 5>&-
    assert_exit dave 0
    assert_exit alice 0
    wait_line server 'dave \(pid [0-9]+\) left'
}

@test "relay: no server -> the client says how to start one; SIGTERM removes the server's socket" {
    run --separate-stderr timeout 5 "$U/relay_client" alice </dev/null
    assert_failure 1
    assert_equal "$stderr" "relay_client: no server at $IPCLAB_DIR/relay; start it with ./unixsock/relay_server"
    start_relay
    kill -TERM "${PID[server]}"
    assert_exit server $((128 + 15)) 2
    [[ ! -e $IPCLAB_DIR/relay ]]
}
