#!/usr/bin/env bats
# tests/inetsock.bats - tcp_server/tcp_client and udp_server/udp_client on real TCP and UDP
# sockets over the loopback addresses 127.0.0.1 and ::1.  Every server takes -P 0, so the
# kernel picks a free port and no two tests (or a student's server) ever meet.

# shellcheck disable=SC2154 # $stderr is set by bats' run --separate-stderr
# shellcheck disable=SC2018,SC2019 # tr a-z A-Z under LC_ALL=C: ASCII letters, on purpose
load test_helper
bats_require_minimum_version 1.5.0

# Each test runs over both loopback addresses.  (A machine with IPv6 switched off, as in some
# containers, fails the ::1 half: the first test says why.)
HOSTS=(127.0.0.1 ::1)

setup() {
    ipclab_setup
    I=$BIN/inetsock
    declare -gA PORT=()
}

teardown() {
    exec 8>&-
    ipclab_teardown
}

# serve NAME PROG HOST [ARGS...]: start PROG (tcp_server or udp_server) on HOST with -P 0, wait
# for its ready line, and set PORT[NAME] to the port it names there.
serve() {
    local name=$1 prog=$2 host=$3
    shift 3
    start_side "$name" /dev/null "$I/$prog" -H "$host" -P 0 "$@"
    wait_ready "$name"
    PORT[$name]=$(sed -n 's/.*: ready (pid [0-9]*): [a-z]* on [^ ]* port \([0-9]*\);.*/\1/p' \
        "$LOG/$name.err")
    [[ -n ${PORT[$name]} ]] || fail "$name named no port: $(cat "$LOG/$name.err")"
}

# side_of HOST: a name fragment for side names, 4 or 6.
side_of() {
    [[ $1 == *:* ]] && echo 6 || echo 4
}

# ss_addr HOST PORT: how ss(8) prints that local address.
ss_addr() {
    [[ $1 == *:* ]] && echo "[$1]:$2" || echo "$1:$2"
}

# py HOST PYTHON-CODE [ARGS...]: the python3 command line of a hand-made peer.  The code gets
# os, socket, struct, sys and time, `host` and its `family`, and sys.argv[2:] (ARGS).  Use it
# as "${PY[@]}" after py has set it.
py() {
    local host=$1 code=$2
    shift 2
    PY=("$PYTHON" -c "import os, socket, struct, sys, time
host = sys.argv[1]
family = socket.AF_INET6 if ':' in host else socket.AF_INET
$code" "$host" "$@")
}

@test "inetsock: this machine has both loopback addresses, 127.0.0.1 and ::1" {
    local host
    for host in "${HOSTS[@]}"; do
        py "$host" "socket.socket(family, socket.SOCK_STREAM).bind((host, 0))"
        run "${PY[@]}"
        assert_success "cannot bind $host: is IPv6 switched off? ($output)"
    done
}

# ---------------------------------------------------------------- tcp

@test "tcp: 1 MiB of random binary comes back upper-cased, every other byte as it was, over IPv4 and IPv6" {
    local host f
    random_file "$LOG/in.bin" 1048576
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        serve "server$f" tcp_server "$host"
        start_side "client$f" "$LOG/in.bin" "$I/tcp_client" -H "$host" -P "${PORT[server$f]}"
    done
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        assert_exit "client$f" 0
        cmp <(LC_ALL=C tr a-z A-Z <"$LOG/in.bin") "$LOG/client$f.out"
        cmp "$LOG/in.bin" "$LOG/server$f.out" # the server prints what it receives
        run cat "$LOG/client$f.err"
        assert_line 'tcp_client: the server closed the connection: 1048576 bytes sent, 1048576 received'
    done
}

@test "tcp: 20 clients at once each get exactly their own data back, on each address (seed: one request, one client at a time)" {
    local host f i
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        serve "server$f" tcp_server "$host"
        for i in {1..20}; do
            random_file "$LOG/in$f.$i.bin" 32768
            start_side "c$f.$i" "$LOG/in$f.$i.bin" "$I/tcp_client" -H "$host" -P "${PORT[server$f]}"
        done
    done
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        for i in {1..20}; do
            assert_exit "c$f.$i" 0
            cmp <(LC_ALL=C tr a-z A-Z <"$LOG/in$f.$i.bin") "$LOG/c$f.$i.out"
        done
        run grep -c 'finished after 32768 bytes' "$LOG/server$f.err"
        assert_output 20
        is_alive "${PID[server$f]}" # and it serves on
    done
}

@test "tcp: the server listens on exactly the port it names, -P 0 or -P PORT: the port is in network byte order (seed: no htons)" {
    local host f port try
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        # A port whose two bytes differ, so that a missing htons() would show (seed 000
        # listened on the byte-swapped port): the kernel picks one of 256 that do not.
        for try in 1 2 3; do
            serve "any$f.$try" tcp_server "$host"
            port=${PORT[any$f.$try]}
            run ss -Hltn "sport = :$port"
            assert_output --partial " $(ss_addr "$host" "$port") "
            kill -TERM "${PID[any$f.$try]}"
            assert_exit "any$f.$try" $((128 + 15)) 2
            (( (port >> 8) != (port & 255) )) && break
        done
        # The same port asked for by number.
        start_side "fixed$f" /dev/null "$I/tcp_server" -H "$host" -P "$port"
        wait_ready "fixed$f"
        run ss -Hltn "sport = :$port"
        assert_output --partial " $(ss_addr "$host" "$port") "
        printf 'by number\n' >"$LOG/in.txt"
        start_side "client$f" "$LOG/in.txt" "$I/tcp_client" -H "$host" -P "$port"
        assert_exit "client$f" 0
        assert_equal "$(cat "$LOG/client$f.out")" 'BY NUMBER'
    done
}

@test "tcp: the server names each client's address and port, and the client its own (seed: the peer read into a sockaddr_un)" {
    local host f from
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        serve "server$f" tcp_server "$host"
        printf 'who am I\n' >"$LOG/in.txt"
        start_side "client$f" "$LOG/in.txt" "$I/tcp_client" -H "$host" -P "${PORT[server$f]}"
        assert_exit "client$f" 0
        from=$(sed -n "s/^tcp_client: connected to $host port ${PORT[server$f]} from \\(.* port [0-9]*\\)\$/\\1/p" \
            "$LOG/client$f.err")
        [[ $from == "$host port "* ]] || fail "client's own address: $(cat "$LOG/client$f.err")"
        run cat "$LOG/server$f.err"
        assert_line "tcp_server: client 1 connected from $from"
        assert_line "tcp_server: client 1 ($from) finished after 9 bytes"
    done
}

@test "tcp: host names work as well as addresses: -H localhost" {
    serve server tcp_server localhost
    printf 'by name\n' >"$LOG/in.txt"
    start_side client "$LOG/in.txt" "$I/tcp_client" -H localhost -P "${PORT[server]}"
    assert_exit client 0
    assert_equal "$(cat "$LOG/client.out")" 'BY NAME'
}

@test "tcp: a second server on a port in use is refused with a reason; the first keeps serving" {
    local host f
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        serve "server$f" tcp_server "$host"
        run --separate-stderr timeout 5 "$I/tcp_server" -H "$host" -P "${PORT[server$f]}"
        assert_failure 1
        assert_equal "$stderr" "tcp_server: $host port ${PORT[server$f]} is already in use (another server?); name another port with -P, or -P 0 for any free one"
        printf 'still here\n' >"$LOG/in.txt"
        start_side "client$f" "$LOG/in.txt" "$I/tcp_client" -H "$host" -P "${PORT[server$f]}"
        assert_exit "client$f" 0
        assert_equal "$(cat "$LOG/client$f.out")" 'STILL HERE'
    done
}

@test "tcp: SIGTERM to a server with a client connected: the client is told; a new server takes the port at once despite TIME_WAIT (SO_REUSEADDR)" {
    local host f port
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        serve "server$f" tcp_server "$host"
        port=${PORT[server$f]}
        start_fed "client$f" "$I/tcp_client" -H "$host" -P "$port"
        printf 'before\n' >&5
        wait_output "client$f" '^BEFORE$'
        kill -TERM "${PID[server$f]}"
        assert_exit "server$f" $((128 + 15)) 2
        assert_exit "client$f" 1 2
        run cat "$LOG/client$f.err"
        assert_line 'tcp_client: the server closed the connection before our end of input'
        exec 5>&-
        # The server closed first, so its end of the connection waits out TIME_WAIT on the
        # port; without SO_REUSEADDR a new bind() would fail with "Address already in use".
        run ss -Htan state time-wait "sport = :$port"
        assert_output --partial "$(ss_addr "$host" "$port")"
        start_side "again$f" /dev/null "$I/tcp_server" -H "$host" -P "$port"
        wait_ready "again$f"
    done
}

@test "tcp: SIGTERM while the server's stdout is blocked (a paused pager) ends it at once (was: alive until SIGKILL)" {
    local host f
    random_file "$LOG/in.bin" 300000
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        mkfifo "$LOG/server$f.out" # the server's stdout: held open here, never read
        exec 7<>"$LOG/server$f.out"
        serve "server$f" tcp_server "$host"
        start_side "client$f" "$LOG/in.bin" "$I/tcp_client" -H "$host" -P "${PORT[server$f]}"
        # the pipe is full: the server waits in write(), part of its chunk written
        wait_blocked_in "${PID[server$f]}" 'pipe_write|pipe_wait'
        kill -TERM "${PID[server$f]}"
        assert_exit "server$f" $((128 + 15)) 2
        run cat "$LOG/server$f.err"
        assert_line 'tcp_server: SIGTERM: cleaned up, leaving'
        assert_exit "client$f" 1 2
        exec 7<&-
    done
}

@test "tcp: the server SIGKILLed mid-conversation -> the client ends within 2 s, exit 1, not killed by SIGPIPE" {
    local host f
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        serve "server$f" tcp_server "$host"
        start_fed "client$f" "$I/tcp_client" -H "$host" -P "${PORT[server$f]}"
        printf 'before\n' >&5
        wait_output "client$f" '^BEFORE$'
        kill_side "server$f" KILL
        wait_exit "server$f"
        assert_exit "client$f" 1 2
        run cat "$LOG/client$f.err"
        assert_line 'tcp_client: the server closed the connection before our end of input'
        exec 5>&-
    done
}

@test "tcp: a client that stops reading its replies stalls only itself" {
    local host f
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        serve "server$f" tcp_server "$host"
        # A peer that sends without end and reads nothing, with a small receive buffer: once
        # its replies fill the connection, the server stops reading from it, and its send()
        # blocks (wchan sk_stream_wait_memory, or wait_woken inside it: the peer never reads,
        # so that is the one place it can wait).  A server that wrote with blocking calls would
        # now be stuck in that peer's write.
        py "$host" "
s = socket.socket(family)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((host, int(sys.argv[2])))
print(os.getpid(), file=sys.stderr, flush=True)
while True:
    s.sendall(b'x' * 65536)" "${PORT[server$f]}"
        start_side "hog$f" /dev/null "${PY[@]}"
        wait_line "hog$f" '^[0-9]+$'
        wait_blocked_in "$(head -n 1 "$LOG/hog$f.err")" 'sk_stream_wait_memory|wait_woken'
        printf 'am I served?\n' >"$LOG/in.txt"
        start_side "quick$f" "$LOG/in.txt" "$I/tcp_client" -H "$host" -P "${PORT[server$f]}"
        assert_exit "quick$f" 0 5
        assert_equal "$(cat "$LOG/quick$f.out")" 'AM I SERVED?'
        kill_side "hog$f" KILL
        wait_exit "hog$f"
    done
}

@test "tcp: no server -> the client names the address it tried, exit 1" {
    local host f port
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        serve "gone$f" tcp_server "$host" # a port that was free a moment ago ...
        port=${PORT[gone$f]}
        kill -TERM "${PID[gone$f]}"
        assert_exit "gone$f" $((128 + 15)) 2 # ... and is again
        run --separate-stderr timeout 5 "$I/tcp_client" -H "$host" -P "$port" </dev/null
        assert_failure 1
        assert_equal "$stderr" "tcp_client: no server at $host port $port (connection refused); start it with ./inetsock/tcp_server"
    done
}

# fd_count PID: how many descriptors process PID has open.
fd_count() {
    local fds=("/proc/$1/fd/"*)
    echo "${#fds[@]}"
}

@test "tcp: clients that reset their connections cost the server no descriptor (seed: continue without close)" {
    local host f before
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        serve "server$f" tcp_server "$host"
        before=$(fd_count "${PID[server$f]}")
        # 20 clients that send a byte and close with SO_LINGER 0: a reset (RST), not an end.
        py "$host" "
for i in range(20):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.connect((host, int(sys.argv[2])))
    s.send(b'x')
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    s.close()" "${PORT[server$f]}"
        timeout 10 "${PY[@]}"
        wait_until 5 lines_matching "$LOG/server$f.err" ') .* after [0-9]* bytes$' 20
        assert_equal "$(fd_count "${PID[server$f]}")" "$before"
    done
}

@test "tcp: more clients than descriptors (ulimit -n 66, then 40) wait their turn: said once, no spin (was, as in its UNIX twin: 100% CPU; poll: Invalid argument)" {
    local limit port
    for limit in 66 40; do
        limited "server$limit" "$limit" "$I/tcp_server" -H 127.0.0.1 -P 0
        port=$(sed -n 's/.*: ready (pid [0-9]*): [a-z]* on [^ ]* port \([0-9]*\);.*/\1/p' \
            "$LOG/server$limit.err")
        crowd_waits "server$limit" 'client [0-9]* connected from' tcp 127.0.0.1 "$port"
    done
}

# assert_sockets_closed TRACE: every socket that strace saw made was closed again.
assert_sockets_closed() {
    local fd made
    made=$(sed -n 's/.*socket(.*) = \([0-9][0-9]*\)$/\1/p' "$1")
    [[ -n $made ]] || fail "no socket in the trace: $(cat "$1")"
    for fd in $made; do
        grep -q "close($fd) *= 0" "$1" || fail "socket $fd was never closed: $(cat "$1")"
    done
}

@test "tcp: a failed listen or connect closes its socket (seed: leaked on every error path)" {
    local host f
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        serve "server$f" tcp_server "$host"
        run env "$NO_LSAN" timeout 10 strace -qq -e trace=socket,close -o "$LOG/listen$f.trace" \
            "$I/tcp_server" -H "$host" -P "${PORT[server$f]}"
        assert_failure 1
        assert_sockets_closed "$LOG/listen$f.trace"
        kill -TERM "${PID[server$f]}"
        assert_exit "server$f" $((128 + 15)) 2
        run env "$NO_LSAN" timeout 10 strace -qq -e trace=socket,close -o "$LOG/connect$f.trace" \
            "$I/tcp_client" -H "$host" -P "${PORT[server$f]}" </dev/null
        assert_failure 1
        assert_sockets_closed "$LOG/connect$f.trace"
    done
}

@test "tcp: Ctrl-C while connect() waits (a full listen queue) ends the client at once, by SIGINT" {
    local host f pid
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        # A listener that never accepts, with a queue of one, filled: the kernel drops further
        # SYNs, and a blocking connect() would wait out minutes of retransmissions.
        py "$host" "
l = socket.socket(family)
l.bind((host, 0))
l.listen(0)
waiting = [socket.socket(family) for i in range(3)]
for s in waiting:
    s.setblocking(False)
    s.connect_ex((host, l.getsockname()[1]))
print(l.getsockname()[1], file=sys.stderr, flush=True)
time.sleep(60)"
        start_side "full$f" /dev/null "${PY[@]}"
        wait_line "full$f" '^[0-9]+$'
        start_side "client$f" /dev/null "$I/tcp_client" -H "$host" -P "$(head -n 1 "$LOG/full$f.err")"
        wait_until 5 pgrep -g "$(pgid_of "client$f")" -x tcp_client
        pid=$(pgrep -g "$(pgid_of "client$f")" -x tcp_client)
        wait_blocked_in "$pid" 'poll|wait_woken' # ppoll(), or a blocking connect()
        kill -INT "$pid"
        assert_exit "client$f" $((128 + 2)) 2
        assert_equal "$(cat "$LOG/client$f.err")" 'tcp_client: SIGINT: cleaned up, leaving'
        kill_side "full$f" KILL
        wait_exit "full$f"
    done
}

@test "tcp: standard tools as the client, nc -N and socat, get their bytes back upper-cased, over IPv4 and IPv6" {
    local host f addr
    random_file "$LOG/in.bin" 262144
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        serve "server$f" tcp_server "$host"
        # -N: nc half-closes at the end of its input, as our client does (without it, it waits on)
        timeout 5 nc -N "$host" "${PORT[server$f]}" <"$LOG/in.bin" >"$LOG/nc$f.out"
        cmp <(LC_ALL=C tr a-z A-Z <"$LOG/in.bin") "$LOG/nc$f.out"
        # -t 5: socat waits that long for the replies after its end of input (0.5 s by default)
        addr=$host
        [[ $host == *:* ]] && addr="[$host]"
        timeout 5 socat -t 5 - "TCP:$addr:${PORT[server$f]}" <"$LOG/in.bin" >"$LOG/socat$f.out"
        cmp <(LC_ALL=C tr a-z A-Z <"$LOG/in.bin") "$LOG/socat$f.out"
        run grep -c 'finished after 262144 bytes$' "$LOG/server$f.err"
        assert_output 2
    done
}

@test "tcp: socat as the server (tr a-z A-Z behind it): our client's bytes come back upper-cased, over IPv4 and IPv6" {
    local host f listen port
    random_file "$LOG/in.bin" 262144
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        listen="TCP4-LISTEN:0,bind=$host"
        [[ $host == *:* ]] && listen="TCP6-LISTEN:0,bind=[$host]"
        start_side "socat$f" /dev/null env LC_ALL=C socat -d -d "$listen" EXEC:'tr a-z A-Z'
        wait_line "socat$f" ' listening on '
        port=$(sed -n 's/.* listening on .*:\([0-9]*\)$/\1/p' "$LOG/socat$f.err")
        start_side "client$f" "$LOG/in.bin" "$I/tcp_client" -H "$host" -P "$port"
        assert_exit "client$f" 0
        cmp <(LC_ALL=C tr a-z A-Z <"$LOG/in.bin") "$LOG/client$f.out"
        run cat "$LOG/client$f.err"
        assert_line 'tcp_client: the server closed the connection: 262144 bytes sent, 262144 received'
        assert_exit "socat$f" 0
    done
}

# ---------------------------------------------------------------- udp

@test "udp: 1 MiB of random binary, 256 datagrams, each answered upper-cased, over IPv4 and IPv6" {
    local host f
    random_file "$LOG/in.bin" 1048576
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        serve "server$f" udp_server "$host"
        start_side "client$f" "$LOG/in.bin" "$I/udp_client" -H "$host" -P "${PORT[server$f]}"
    done
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        assert_exit "client$f" 0
        cmp <(LC_ALL=C tr a-z A-Z <"$LOG/in.bin") "$LOG/client$f.out"
        cmp "$LOG/in.bin" "$LOG/server$f.out"
        run cat "$LOG/server$f.err"
        assert_line --regexp "^udp_server: end of data from $host port [0-9]+: 1048576 bytes in 256 datagram\\(s\\)\$"
    done
}

@test "udp: each line typed is one datagram, answered before the next; the server names the client's address and port" {
    local host f self
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        serve "server$f" udp_server "$host"
        start_fed "client$f" "$I/udp_client" -H "$host" -P "${PORT[server$f]}"
        printf 'one\n' >&5
        wait_output "client$f" '^ONE$'
        printf 'two\n' >&5
        wait_output "client$f" '^TWO$'
        exec 5>&-
        assert_exit "client$f" 0
        self=$(sed -n "s/^udp_client: bound to \\($host port [0-9]*\\); server $host port ${PORT[server$f]}\$/\\1/p" \
            "$LOG/client$f.err")
        [[ -n $self ]] || fail "client's own address: $(cat "$LOG/client$f.err")"
        run cat "$LOG/server$f.err"
        assert_line "udp_server: end of data from $self: 8 bytes in 2 datagram(s)"
    done
}

@test "udp: two clients whose datagrams interleave are each counted apart" {
    local host f
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        serve "server$f" udp_server "$host"
        start_fed "one$f" "$I/udp_client" -H "$host" -P "${PORT[server$f]}"
        mkfifo "$LOG/two$f.in"
        start_side "two$f" "$LOG/two$f.in" "$I/udp_client" -H "$host" -P "${PORT[server$f]}"
        exec 6>"$LOG/two$f.in"
        printf 'one a\n' >&5
        wait_output "one$f" '^ONE A$'
        printf 'two a\n' >&6
        wait_output "two$f" '^TWO A$'
        printf 'one b\n' >&5
        wait_output "one$f" '^ONE B$'
        exec 5>&-
        assert_exit "one$f" 0
        printf 'two b\n' >&6
        wait_output "two$f" '^TWO B$'
        exec 6>&-
        assert_exit "two$f" 0
        run grep -c ': 12 bytes in 2 datagram(s)$' "$LOG/server$f.err"
        assert_output 2
    done
}

# raw_udp NAME HOST PYTHON-CODE [ARGS...]: a hand-made UDP peer (see py) as side NAME.
raw_udp() {
    local name=$1
    shift
    py "$@"
    start_side "$name" /dev/null "${PY[@]}"
}

@test "udp: a datagram over the limit is reported and dropped, never printed cut short (seed: MSG_TRUNC unchecked)" {
    local host f
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        serve "server$f" udp_server "$host"
        raw_udp "raw$f" "$host" "
s = socket.socket(family, socket.SOCK_DGRAM)
s.sendto(b'y' * 5000, (host, int(sys.argv[2])))
print(s.getsockname()[1], file=sys.stderr)" "${PORT[server$f]}"
        assert_exit "raw$f" 0
        wait_line "server$f" "dropped a datagram of 5000 bytes from $host port $(cat "$LOG/raw$f.err"): more than the 4096"
        assert_equal "$(wc -c <"$LOG/server$f.out")" 0
        printf 'still serving\n' >"$LOG/in.txt"
        start_side "client$f" "$LOG/in.txt" "$I/udp_client" -H "$host" -P "${PORT[server$f]}"
        assert_exit "client$f" 0
        assert_equal "$(cat "$LOG/client$f.out")" 'STILL SERVING'
    done
}

@test "udp: a datagram from the server's own address, or from port 0, is not answered: no echo to itself for ever" {
    (( EUID == 0 )) || skip "needs root: a raw socket writes the UDP header, source port included"
    local host f port
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        serve "server$f" udp_server "$host"
        port=${PORT[server$f]}
        # A raw UDP socket writes the UDP header itself: sent to the server's address, the
        # kernel gives the packet that address as its source, and the header says the source
        # port is the server's own (then 0).  No spoofing is needed: on loopback, a datagram
        # "from the server itself" is one any root can send.  The same socket sees every UDP
        # packet that arrives, so it counts those from the server's port to itself: its own,
        # and whatever the server would answer to it.
        py "$host" "
port = int(sys.argv[2])
raw = socket.socket(family, socket.SOCK_RAW, socket.IPPROTO_UDP)
if family == socket.AF_INET6:
    raw.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_CHECKSUM, 6) # the kernel computes it
for sport, data in ((port, b'from itself\n'), (0, b'from port 0\n')):
    raw.sendto(struct.pack('!HHHH', sport, port, 8 + len(data), 0) + data, (host, 0))
print('sent', file=sys.stderr, flush=True)
sys.stdin.readline() # the server has answered a client since: it has handled both
raw.setblocking(False)
to_itself = 0
while True:
    try:
        packet = raw.recv(65536)
    except BlockingIOError:
        break
    if family == socket.AF_INET:
        packet = packet[(packet[0] & 15) * 4:] # an IPv4 raw socket gets the IP header too
    to_itself += struct.unpack('!HH', packet[:4]) == (port, port)
print('to itself:', to_itself, file=sys.stderr)" "$port"
        start_fed "raw$f" "${PY[@]}"
        wait_line "raw$f" '^sent$'
        wait_line "server$f" "ignored a datagram of 12 bytes from $host port $port: it comes from this server's own address and port"
        wait_line "server$f" "ignored a datagram of 12 bytes from $host port 0: its source port is 0"
        printf 'still serving\n' >"$LOG/in.txt"
        start_side "client$f" "$LOG/in.txt" "$I/udp_client" -H "$host" -P "$port"
        assert_exit "client$f" 0
        assert_equal "$(cat "$LOG/client$f.out")" 'STILL SERVING'
        printf 'go\n' >&5
        exec 5>&-
        assert_exit "raw$f" 0
        run tail -n 1 "$LOG/raw$f.err"
        assert_output 'to itself: 1' # the one sent, never an answer
        assert_equal "$(cat "$LOG/server$f.out")" 'still serving' # neither printed
    done
}

@test "udp: a second server on a port in use is refused; the first keeps serving (no SO_REUSEADDR for UDP)" {
    local host f
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        serve "server$f" udp_server "$host"
        run --separate-stderr timeout 5 "$I/udp_server" -H "$host" -P "${PORT[server$f]}"
        assert_failure 1
        assert_equal "$stderr" "udp_server: $host port ${PORT[server$f]} is already in use (another server?); name another port with -P, or -P 0 for any free one"
        printf 'still here\n' >"$LOG/in.txt"
        start_side "client$f" "$LOG/in.txt" "$I/udp_client" -H "$host" -P "${PORT[server$f]}"
        assert_exit "client$f" 0
        assert_equal "$(cat "$LOG/client$f.out")" 'STILL HERE'
    done
}

@test "udp: a reply that never comes -> the client gives up after -w MS with a message, exit 1 (UDP resends nothing)" {
    local host f
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        # A server that takes the datagram and never answers: to the client, a lost reply.
        raw_udp "mute$f" "$host" "
s = socket.socket(family, socket.SOCK_DGRAM)
s.bind((host, 0))
print(s.getsockname()[1], file=sys.stderr, flush=True)
s.recvfrom(4096)
print('got it', file=sys.stderr, flush=True)"
        wait_line "mute$f" '^[0-9]+$'
        printf 'anyone?\n' >"$LOG/in.txt"
        start_side "client$f" "$LOG/in.txt" "$I/udp_client" -H "$host" \
            -P "$(head -n 1 "$LOG/mute$f.err")" -w 300
        assert_exit "client$f" 1 5
        run cat "$LOG/client$f.err"
        assert_line "udp_client: no reply from $host port $(head -n 1 "$LOG/mute$f.err") within 300 ms: the datagram or its reply was lost (UDP resends nothing), or the server is not reading"
        assert_exit "mute$f" 0
        wait_line "mute$f" '^got it$' # the datagram went; only the reply never came
    done
}

@test "udp: a datagram from anyone but the server is not taken for the reply (the client's connect())" {
    local host f
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        # A server that, before it answers, has a second socket send the client a datagram of
        # the reply's length: an unconnected client would print that one as the reply.
        raw_udp "server$f" "$host" "
s = socket.socket(family, socket.SOCK_DGRAM)
s.bind((host, 0))
print(s.getsockname()[1], file=sys.stderr, flush=True)
data, client = s.recvfrom(4096)
socket.socket(family, socket.SOCK_DGRAM).sendto(b'FAKE', client)
s.sendto(data.upper(), client)
data, client = s.recvfrom(4096)
s.sendto(b'', client)"
        wait_line "server$f" '^[0-9]+$'
        printf 'real' >"$LOG/in.txt"
        start_side "client$f" "$LOG/in.txt" "$I/udp_client" -H "$host" \
            -P "$(head -n 1 "$LOG/server$f.err")"
        assert_exit "client$f" 0
        assert_equal "$(cat "$LOG/client$f.out")" 'REAL'
        assert_exit "server$f" 0
    done
}

@test "udp: no server -> the kernel's ICMP port unreachable; the client names the address, exit 1" {
    local host f port
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        serve "gone$f" udp_server "$host"
        port=${PORT[gone$f]}
        kill -TERM "${PID[gone$f]}"
        assert_exit "gone$f" $((128 + 15)) 2
        run --separate-stderr timeout 5 "$I/udp_client" -H "$host" -P "$port" < <(printf 'hello?\n')
        assert_failure 1
        [[ $stderr == *"udp_client: no server at $host port $port (an ICMP port unreachable came back); start it with ./inetsock/udp_server" ]] ||
            fail "$stderr"
    done
}

# silent_udp NAME HOST PORT COUNT: side NAME, COUNT clients that each send one datagram,
# "silent I\n", take its answer and never send the empty one, as nc -u does; "answered COUNT"
# on its stderr once all are answered.  Their sockets stay open (no port is taken twice).
silent_udp() {
    local name=$1 host=$2
    py "$host" "
socks = []
for i in range(int(sys.argv[3])):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(b'silent %d\\n' % i, (host, int(sys.argv[2])))
    s.recv(4096)
    socks.append(s)
print('answered', sys.argv[3], file=sys.stderr, flush=True)
time.sleep(30)" "$3" "$4"
    start_side "$name" /dev/null "${PY[@]}"
    wait_line "$name" "^answered $4\$"
}

# one_more NAME HOST PORT: a udp_client sends "one more" and its end; SELF is its address.
one_more() {
    printf 'one more\n' >"$LOG/more.txt"
    start_side "$1" "$LOG/more.txt" "$I/udp_client" -H "$2" -P "$3"
    assert_exit "$1" 0
    assert_equal "$(cat "$LOG/$1.out")" 'ONE MORE'
    SELF=$(sed -n "s/^udp_client: bound to \\($2 port [0-9]*\\); server .*/\\1/p" "$LOG/$1.err")
    [[ -n $SELF ]] || fail "the client's own address: $(cat "$LOG/$1.err")"
}

@test "udp: 64 clients that never send the empty datagram fill the table: the next is told so, and its end is still reported (was: no 'end of data' line, no word)" {
    local host f
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        serve "server$f" udp_server "$host"
        silent_udp "silent$f" "$host" "${PORT[server$f]}" 64
        one_more "more$f" "$host" "${PORT[server$f]}"
        run cat "$LOG/server$f.err"
        assert_line "udp_server: the table of clients is full (64 counted): $SELF and any other new one are answered but not counted until a client ends (with an empty datagram, or 30 s of silence)"
        assert_line "udp_server: end of data from $SELF: not counted, the table of clients was full"
    done
}

@test "udp: a client first answered uncounted (table full), then counted, is said to be counted only since then (was: its partial counts as whole)" {
    local host f late
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        serve "server$f" udp_server "$host"
        # 64 clients fill the table; the late one sends "a" (not counted) and says its port;
        # client 0 ends, which frees a place; the late one sends "b" and its end.
        py "$host" "
def client():
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(5)
    return s
def send(s, data):
    s.sendto(data, (host, int(sys.argv[2])))
    s.recv(4096)
full = [client() for i in range(64)]
for s in full:
    send(s, b'x')
late = client()
send(late, b'a\\n')
print('late', late.getsockname()[1], file=sys.stderr)
send(full[0], b'')
send(late, b'b\\n')
send(late, b'')
print('done', file=sys.stderr)" "${PORT[server$f]}"
        start_side "late$f" /dev/null "${PY[@]}"
        wait_line "late$f" '^done$'
        late="$host port $(sed -n 's/^late //p' "$LOG/late$f.err")"
        run cat "$LOG/server$f.err"
        assert_line --partial ": the table of clients is full (64 counted): $late and any other"
        assert_line "udp_server: end of data from $late: 2 bytes in 1 datagram(s) since it was first counted (the table of clients was full before)"
    done
}

@test "udp: a client silent for -i SECONDS is reported as ended, and leaves its place in the table to the next (was: kept for ever)" {
    local host f
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        serve "server$f" udp_server "$host" -i 1
        silent_udp "silent$f" "$host" "${PORT[server$f]}" 64
    done
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        wait_until 5 lines_matching "$LOG/server$f.err" ' for 1 s, taken as its end (no empty one yet; a later datagram starts a new count): ' 64
        one_more "more$f" "$host" "${PORT[server$f]}"
        run cat "$LOG/server$f.err"
        assert_line --regexp "^udp_server: no datagram from $host port [0-9]+ for 1 s, taken as its end \\(no empty one yet; a later datagram starts a new count\\): 9 bytes in 1 datagram\\(s\\)\$"
        assert_line "udp_server: end of data from $SELF: 9 bytes in 1 datagram(s)"
        refute_line --partial 'full'
    done
}

@test "udp: the server SIGKILLed while a client talks -> the client says so within 2 s, exit 1" {
    local host f
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        serve "server$f" udp_server "$host"
        start_fed "client$f" "$I/udp_client" -H "$host" -P "${PORT[server$f]}"
        printf 'before\n' >&5
        wait_output "client$f" '^BEFORE$'
        kill_side "server$f" KILL
        wait_exit "server$f"
        printf 'after\n' >&5
        assert_exit "client$f" 1 2
        run cat "$LOG/client$f.err"
        assert_line --partial "no server at $host port ${PORT[server$f]} (an ICMP port unreachable came back)"
        exec 5>&-
    done
}

@test "udp: SIGTERM ends the server at once (seed: close() unreachable after while(true))" {
    local host f
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        serve "server$f" udp_server "$host"
        kill -TERM "${PID[server$f]}"
        assert_exit "server$f" $((128 + 15)) 2
        run ss -Huan "sport = :${PORT[server$f]}"
        assert_output ''
    done
}

# Standard tools take a side of the UDP pair: the socket is the interface (README, "A foreign
# peer").

@test "udp: nc -u takes the client's side: a line answered upper-cased, its silence taken as its end" {
    local host f
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        serve "server$f" udp_server "$host" -i 1
        # -W 1: nc leaves once one datagram has come back
        run --separate-stderr timeout 5 nc -u -W 1 "$host" "${PORT[server$f]}" < <(printf 'from nc\n')
        assert_success
        assert_output 'FROM NC'
    done
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        wait_line "server$f" ' for 1 s, taken as its end '
        run cat "$LOG/server$f.err"
        assert_line --regexp "^udp_server: no datagram from $host port [0-9]+ for 1 s, taken as its end \\(no empty one yet; a later datagram starts a new count\\): 8 bytes in 1 datagram\\(s\\)\$"
        assert_equal "$(cat "$LOG/server$f.out")" 'from nc'
    done
}

# echo_udp NAME HOST [end]: side NAME, a python UDP echo server on HOST (recvfrom, then sendto
# the sender, upper-cased) that says its port; with "end", it answers no empty datagram, as
# socat's UDP-RECVFROM with fork does not.
echo_udp() {
    py "$2" "
s = socket.socket(family, socket.SOCK_DGRAM)
s.bind((host, 0))
print(s.getsockname()[1], file=sys.stderr, flush=True)
while True:
    data, sender = s.recvfrom(4096)
    if data or sys.argv[2] != 'end':
        s.sendto(data.upper(), sender)
    if not data:
        break" "${3:-all}"
    start_side "$1" /dev/null "${PY[@]}"
    wait_line "$1" '^[0-9]+$'
}

@test "udp: a python echo server takes the server's side: every datagram answered; one that answers no empty datagram costs udp_client a line, not a failure" {
    local host f
    random_file "$LOG/in.bin" 20000
    for host in "${HOSTS[@]}"; do
        f=$(side_of "$host")
        echo_udp "py$f" "$host"
        start_side "client$f" "$LOG/in.bin" "$I/udp_client" -H "$host" -P "$(head -n 1 "$LOG/py$f.err")"
        assert_exit "client$f" 0
        cmp <(LC_ALL=C tr a-z A-Z <"$LOG/in.bin") "$LOG/client$f.out"
        run cat "$LOG/client$f.err"
        assert_line 'udp_client: end of input: 20000 bytes in 5 datagram(s), each answered'
        assert_exit "py$f" 0
        echo_udp "mute$f" "$host" end
        start_side "late$f" "$LOG/in.bin" "$I/udp_client" -H "$host" -P "$(head -n 1 "$LOG/mute$f.err")" -w 300
        assert_exit "late$f" 0
        cmp <(LC_ALL=C tr a-z A-Z <"$LOG/in.bin") "$LOG/late$f.out"
        run cat "$LOG/late$f.err"
        assert_line 'udp_client: our empty datagram, the end, got no answer in 300 ms (socat answers none)'
        assert_line 'udp_client: end of input: 20000 bytes in 5 datagram(s), each answered'
        assert_exit "mute$f" 0
    done
}

# ---------------------------------------------------------------- both

@test "inetsock: an unknown host -> every program gives the resolver's reason, exit 1" {
    local prog
    # .invalid never resolves (RFC 6761); the resolver options bound the wait on a machine
    # whose DNS server does not answer.
    for prog in tcp_server tcp_client udp_server udp_client; do
        RES_OPTIONS='timeout:1 attempts:1' run --separate-stderr timeout 10 "$I/$prog" \
            -H no-such-host.invalid </dev/null
        assert_failure 1
        [[ $stderr == "$prog: cannot resolve host 'no-such-host.invalid': "?* ]] || fail "$stderr"
    done
    # Not an IPv4 address, so a name (seed 000 took inet_pton()'s 0 here for success).
    RES_OPTIONS='timeout:1 attempts:1' run --separate-stderr timeout 10 "$I/tcp_client" \
        -H 300.1.2.3 </dev/null
    assert_failure 1
    [[ $stderr == "tcp_client: cannot resolve host '300.1.2.3': "?* ]] || fail "$stderr"
}

# code FILE: FILE's C code without its comments (the compiler's preprocessor strips them).
code() {
    gcc -fpreprocessed -dD -E -P "$1"
}

@test "inetsock: the twins stay twins: each differs from its unixsock twin in few lines of code" {
    # The limits are each pair's diff when written, plus about 10%: a change to one twin that
    # the other does not get fails here, and the README explains what the diffs contain.
    local pair changed
    declare -A limit=([unix_stream_server:tcp_server]=105 [unix_stream_client:tcp_client]=64
        [unix_dgram_server:udp_server]=87 [unix_dgram_client:udp_client]=110)
    for pair in "${!limit[@]}"; do
        changed=$(diff <(code "$ROOT/unixsock/${pair%:*}.c") <(code "$ROOT/inetsock/${pair#*:}.c") |
            grep -c '^[<>]')
        ((changed <= limit[$pair])) ||
            fail "${pair%:*}.c and ${pair#*:}.c differ in $changed lines of code, more than ${limit[$pair]}: $(diff <(code "$ROOT/unixsock/${pair%:*}.c") <(code "$ROOT/inetsock/${pair#*:}.c"))"
    done
}
