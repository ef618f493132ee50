#!/usr/bin/env bash
# scripts/demo.sh MECHANISM - both sides of a mechanism's programs in one terminal.
#
# Builds the programs, starts each side with a scripted conversation, labels every line a side
# prints with its name ("[reader] ..."), waits for each answer before the next line is sent,
# and ends by itself.  It works in a run directory of its own (never the one your two-terminal
# sessions use), checks that the programs left nothing in it, and removes it.  Exits 1 if a
# side failed or left something behind.  `make demo-<mechanism>` runs it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

usage="usage: scripts/demo.sh MECHANISM   (one of: $(make -s --no-print-directory -C "$ROOT" print-mechanisms | tr '\n' ' '))"
[[ $# == 1 ]] || { echo "$usage" >&2; exit 2; }
[[ $1 == -h ]] && { echo "$usage"; exit 0; }
mech=$1

make -s --no-print-directory -C "$ROOT" all

work=$(mktemp -d "${TMPDIR:-/tmp}/ipclab-demo.XXXXXX")
export IPCLAB_DIR=$work/run
mkdir -m 700 "$IPCLAB_DIR"
failed=0
trap '[[ -n ${KEEP:-} ]] || rm -rf "$work"' EXIT

say() { printf '\n== %s\n' "$*"; }

# side NAME STDIN PROGRAM [ARGS...]: run PROGRAM (under a 30 s backstop) in the background with
# stdin from STDIN; its stdout and stderr, labelled [NAME], go to the terminal and to a log.
# --foreground keeps it in the terminal's process group, so Ctrl-C reaches it.
side() {
    local name=$1 stdin=$2
    shift 2
    : >"$work/$name.log"
    (
        set +e -o pipefail
        timeout --foreground 30 "$@" <"$stdin" 2>&1 | tee -a "$work/$name.log" | sed -u "s/^/[$name] /"
        echo "${PIPESTATUS[0]}" >"$work/$name.status"
    ) &
    labeller[$name]=$!
}
declare -A labeller=()

# expect NAME REGEX: wait (at most 5 s) until NAME has printed a line matching REGEX.
expect() {
    ipclab_wait_for "$work/$1.log" "$2" 5 || { echo "demo: $1 never printed /$2/" >&2; exit 1; }
}

# finish NAME...: wait for each side to end with status 0 (or $expected_status); remember a
# failure.
finish() {
    local name status
    for name in "$@"; do
        ipclab_wait_file "$work/$name.status" 10 || { echo "demo: $name did not end" >&2; exit 1; }
        status=$(cat "$work/$name.status")
        if [[ $status != "${expected_status:-0}" ]]; then
            echo "demo: $name failed (exit status $status)" >&2
            failed=1
        fi
        wait "${labeller[$name]}" # its labeller, to the last line
    done
}

# stop NAME: end a server as Ctrl-C would (SIGINT to the program itself, whose pid its ready
# line gives), and check that it ended by that signal after cleaning up.
stop() {
    kill -INT "$(sed -n 's/.*: ready (pid \([0-9]*\)).*/\1/p' "$work/$1.log" | head -n 1)"
    expected_status=$((128 + 2)) finish "$1"
}

demo_pipe() {
    say "pipe_oneway -n 3: the parent writes three greetings into a pipe, then forks; the child" \
        "reads them. Three write() calls, one read(): a pipe keeps bytes, not messages."
    side pipe_oneway /dev/null "$ROOT/pipe/pipe_oneway" -n 3
    finish pipe_oneway

    say "pipe_duplex: two pipes, one each way. The parent sends its stdin down, the child sends" \
        "it back up upper-cased."
    printf 'one pipe goes down,\nthe other comes back up\n' >"$work/duplex.in"
    side pipe_duplex "$work/duplex.in" "$ROOT/pipe/pipe_duplex"
    finish pipe_duplex
}

demo_socketpair() {
    say "socketpair_duplex -n 3: one stream socketpair; each process uses its one end both ways." \
        "Three greetings sent apart, one read(): a stream keeps no boundaries."
    side stream /dev/null "$ROOT/socketpair/socketpair_duplex" -n 3
    finish stream

    say "socketpair_duplex -d -n 3: the same over SOCK_DGRAM. Three messages, three read() calls."
    side dgram /dev/null "$ROOT/socketpair/socketpair_duplex" -d -n 3
    finish dgram
}

demo_fifo() {
    say "fifo_reader and fifo_writer: one FIFO in the run directory. The reader starts first and" \
        "waits in open() until the writer opens the other end."
    printf 'a FIFO has a name,\nso unrelated processes can meet at it\n' >"$work/writer.in"
    side reader /dev/null "$ROOT/fifo/fifo_reader"
    expect reader ': ready'
    side writer "$work/writer.in" "$ROOT/fifo/fifo_writer"
    finish writer reader

    say "fifo_chat a and fifo_chat b: two FIFOs, one each way. a says hello, b answers, a leaves" \
        "(end of input), and b is told."
    mkfifo "$work/a.in" "$work/b.in"
    side a "$work/a.in" "$ROOT/fifo/fifo_chat" a
    side b "$work/b.in" "$ROOT/fifo/fifo_chat" b
    exec 5>"$work/a.in" 6>"$work/b.in"
    expect a 'b is here'
    expect b 'a is here'
    printf 'hello b, this is a\n' >&5
    expect b '^hello b, this is a$'
    printf 'hi a, b here: I read you\n' >&6
    expect a '^hi a, b here'
    exec 5>&-
    expect b 'a has left the chat'
    exec 6>&-
    finish a b
}

demo_msgq() {
    # POSIX names are global: give the demo its own, so it never meets a two-terminal session.
    local pmq=/ipclab-demo-$$-pmq

    say "msgq_recv and msgq_send: a System V queue, its key made by ftok() from a file in the" \
        "run directory. Each line is one message of type 1; an empty message ends it."
    printf 'a message queue keeps\nevery message whole\n' >"$work/send.in"
    side recv /dev/null "$ROOT/msgq/msgq_recv"
    expect recv ': ready'
    side send "$work/send.in" "$ROOT/msgq/msgq_send" -s 12
    finish send recv

    say "msgq_chat 1 2 and msgq_chat 2 1: one queue, both directions; each side takes only its" \
        "own type. 1 says hello, 2 answers, 1 leaves (end of input), and 2 is told."
    mkfifo "$work/one.in" "$work/two.in"
    side one "$work/one.in" "$ROOT/msgq/msgq_chat" 1 2
    side two "$work/two.in" "$ROOT/msgq/msgq_chat" 2 1
    exec 5>"$work/one.in" 6>"$work/two.in"
    expect one '2 \(pid [0-9]+\) is here'
    expect two '1 \(pid [0-9]+\) is here'
    printf 'hello 2, this is 1\n' >&5
    expect two '^hello 2, this is 1$'
    printf 'hi 1, 2 here\n' >&6
    expect one '^hi 1, 2 here$'
    exec 5>&-
    expect two '1 has left the chat'
    finish one two
    exec 6>&-

    say "pmq_send and pmq_recv: the same pair over a POSIX queue, named $pmq."
    printf 'the same, the POSIX way\n' >"$work/psend.in"
    side precv /dev/null "$ROOT/msgq/pmq_recv" -p "$pmq"
    expect precv ': ready'
    side psend "$work/psend.in" "$ROOT/msgq/pmq_send" -p "$pmq"
    finish psend precv
}

demo_shm() {
    local pshm=/ipclab-demo-$$-pshm

    say "shm_reader and shm_writer: a System V segment. The reader sends its PID through a FIFO;" \
        "the writer says \"buffer ready\" with SIGUSR1, the reader \"done\" with SIGUSR2."
    printf 'shared memory moves no bytes through the kernel:\nboth sides see the same pages\n' \
        >"$work/writer.in"
    side reader /dev/null "$ROOT/shm/shm_reader"
    expect reader ': ready'
    side writer "$work/writer.in" "$ROOT/shm/shm_writer"
    finish writer reader

    say "pshm_reader and pshm_writer: a POSIX object, $pshm, with two semaphores inside it" \
        "taking turns over one buffer."
    printf 'no signals, no PIDs:\nthe semaphores count\n' >"$work/pwriter.in"
    side preader /dev/null "$ROOT/shm/pshm_reader" -p "$pshm"
    expect preader ': ready'
    side pwriter "$work/pwriter.in" "$ROOT/shm/pshm_writer" -p "$pshm"
    finish pwriter preader
}

demo_unixsock() {
    say "unix_stream_server and two unix_stream_clients: one server, one poll() loop, every" \
        "client served at once; each gets its own bytes back upper-cased, and the server knows" \
        "each one's pid and uid (SO_PEERCRED)."
    side server /dev/null "$ROOT/unixsock/unix_stream_server"
    expect server ': ready'
    mkfifo "$work/one.in" "$work/two.in"
    side one "$work/one.in" "$ROOT/unixsock/unix_stream_client"
    side two "$work/two.in" "$ROOT/unixsock/unix_stream_client"
    exec 5>"$work/one.in" 6>"$work/two.in"
    expect server 'client 2 connected'
    printf 'hello from the first client\n' >&5
    expect one '^HELLO FROM THE FIRST CLIENT$'
    printf 'and from the second\n' >&6
    expect two '^AND FROM THE SECOND$'
    exec 5>&- 6>&-
    finish one two
    expect server 'client 2 .* finished'
    say "Ctrl-C (SIGINT) ends the server, which removes its socket."
    stop server

    say "unix_dgram_server and unix_dgram_client: datagrams keep their boundaries. The client" \
        "binds an address of its own so that the server can answer; two lines, two datagrams."
    side dserver /dev/null "$ROOT/unixsock/unix_dgram_server"
    expect dserver ': ready'
    mkfifo "$work/dclient.in"
    side dclient "$work/dclient.in" "$ROOT/unixsock/unix_dgram_client"
    exec 5>"$work/dclient.in"
    printf 'one datagram\n' >&5
    expect dclient '^ONE DATAGRAM$'
    printf 'and another\n' >&5
    expect dclient '^AND ANOTHER$'
    exec 5>&-
    finish dclient
    expect dserver 'end of data'
    stop dserver

    say "relay_server with alice, bob and carol: each message goes to the client it names;" \
        "one to a client who is not there comes back as an error."
    side relay /dev/null "$ROOT/unixsock/relay_server"
    expect relay ': ready'
    mkfifo "$work/alice.in" "$work/bob.in" "$work/carol.in"
    side alice "$work/alice.in" "$ROOT/unixsock/relay_client" alice
    side bob "$work/bob.in" "$ROOT/unixsock/relay_client" bob
    side carol "$work/carol.in" "$ROOT/unixsock/relay_client" carol
    exec 5>"$work/alice.in" 6>"$work/bob.in" 7>"$work/carol.in"
    expect alice 'you are alice'
    expect bob 'you are bob'
    expect carol 'you are carol'
    printf 'bob hello bob, alice here\n' >&5
    expect bob '^alice: hello bob, alice here$'
    printf 'carol hi carol, bob here\n' >&6
    expect carol '^bob: hi carol, bob here$'
    printf 'alice and hello from carol\n' >&7
    expect alice '^carol: and hello from carol$'
    printf 'dave are you there?\n' >&5
    expect alice 'no client named dave'
    exec 5>&- 6>&- 7>&-
    finish alice bob carol
    stop relay
}

# port_of NAME: the port a server named in its ready line (it was started with -P 0).
port_of() {
    sed -n 's/.*: ready (pid [0-9]*): [a-z]* on [^ ]* port \([0-9]*\);.*/\1/p' "$work/$1.log"
}

demo_inetsock() {
    say "tcp_server and tcp_client over IPv6 (::1): the unix_stream pair's twins, with an IP" \
        "address and a port for a path. -P 0 lets the kernel pick a free port; the ready line" \
        "names it, and the server names each client by its address and port."
    side server /dev/null "$ROOT/inetsock/tcp_server" -H ::1 -P 0
    expect server ': ready'
    mkfifo "$work/client.in"
    side client "$work/client.in" "$ROOT/inetsock/tcp_client" -H ::1 -P "$(port_of server)"
    exec 5>"$work/client.in"
    expect server 'client 1 connected from ::1 port'
    printf 'hello over tcp\n' >&5
    expect client '^HELLO OVER TCP$'
    exec 5>&-
    finish client
    expect server 'client 1 .* finished'
    stop server

    say "udp_server and udp_client over IPv4 (127.0.0.1): datagrams, as with unix_dgram, but" \
        "the kernel gives the client its port, and a lost reply would end in a timeout."
    side userver /dev/null "$ROOT/inetsock/udp_server" -P 0
    expect userver ': ready'
    mkfifo "$work/uclient.in"
    side uclient "$work/uclient.in" "$ROOT/inetsock/udp_client" -P "$(port_of userver)"
    exec 5>"$work/uclient.in"
    printf 'one datagram\n' >&5
    expect uclient '^ONE DATAGRAM$'
    printf 'and another\n' >&5
    expect uclient '^AND ANOTHER$'
    exec 5>&-
    finish uclient
    expect userver 'end of data from 127.0.0.1 port'
    stop userver
}

demo_fdpass() {
    say "fd_receiver and fd_sender: the sender opens a file, reads its first 40 bytes itself," \
        "and passes the open descriptor over a UNIX socket; the receiver reads on from byte 40." \
        "One open file description, one offset, two processes."
    printf 'the sender reads this first line itself\nand the receiver reads on from here,\nnot told where to start\n' \
        >"$work/file.txt"
    side receiver /dev/null "$ROOT/fdpass/fd_receiver"
    expect receiver ': ready'
    side sender /dev/null "$ROOT/fdpass/fd_sender" -n 40 "$work/file.txt"
    finish sender receiver
}

if ! declare -F "demo_$mech" >/dev/null; then
    echo "demo: no demo for '$mech'" >&2
    echo "$usage" >&2
    exit 2
fi
printf '######## %s\n' "$mech"
"demo_$mech"

leftover=$(ls -A "$IPCLAB_DIR"; ls -d /dev/shm/ipclab-demo-$$-* /dev/mqueue/ipclab-demo-$$-* 2>/dev/null || true)
if [[ -n $leftover ]]; then
    echo "demo: left behind: $leftover" >&2
    failed=1
fi
if (( failed )); then
    echo "demo: $mech FAILED" >&2
    exit 1
fi
printf '== %s: done, nothing left behind\n' "$mech"
