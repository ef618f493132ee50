#!/usr/bin/env bash
# scripts/demo.sh - both sides of a mechanism's programs in one terminal, or all of them.
#
#   scripts/demo.sh                    the guided tour: every mechanism in learning order
#   scripts/demo.sh MECHANISM          one mechanism (make demo-MECHANISM)
#   scripts/demo.sh --trace MECHANISM  the same under strace (make trace-MECHANISM)
#   scripts/demo.sh --valgrind [MECH]  the same, every side under valgrind (make valgrind)
#
# For each mechanism: an introduction (what is about to happen, what to watch for), then each
# side started with a scripted conversation, every line it prints labelled with its name
# ("[reader] ..."), each answer waited for before the next line is sent, and a closing line
# (what crossed, through which kernel object).  It works in a run directory of its own (never
# the one your two-terminal sessions use), checks that the programs left nothing in it or in
# /dev/shm and /dev/mqueue, and removes it.  Exits 1 if a side failed or left something behind.
#
# --trace runs every side under `strace -f`, showing only the system calls that carry the
# mechanism (the TRACE_CALLS table below), labelled with the side like its output.  Where
# strace is missing or may not trace (ptrace forbidden), it says so and exits 0 without
# running anything.
#
# --valgrind runs every side (and the children it forks) under valgrind's memcheck with
# --leak-check=full --track-fds=yes --error-exitcode=99, and fails the demo if any process had
# an error, leaked memory, or ended with a descriptor open beyond stdin, stdout and stderr.
# Each side's reports are in $top/<mechanism>/<side>.vg.<pid> (KEEP=1 keeps them).
#
# The programs come from IPCLAB_BIN (the top of a tree built like this one, such as make
# sanitize's) if it is set, else from this tree, built first.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

mapfile -t MECHANISMS < <(make -s --no-print-directory -C "$ROOT" print-mechanisms)
usage="usage: scripts/demo.sh [--trace | --valgrind] [MECHANISM]   (MECHANISM: ${MECHANISMS[*]}; none: the tour)"
trace=0 valgrind=0
while (( $# > 0 )); do
    case $1 in
    -h | --help) echo "$usage"; exit 0 ;;
    --trace) trace=1; shift ;;
    --valgrind) valgrind=1; shift ;;
    -*) echo "demo: unknown option $1" >&2; echo "$usage" >&2; exit 2 ;;
    *) break ;;
    esac
done
(( $# <= 1 )) || { echo "$usage" >&2; exit 2; }
if (( $# == 1 )); then
    mechs=("$1")
    [[ " ${MECHANISMS[*]} " == *" $1 "* ]] || { echo "demo: no demo for '$1'" >&2; echo "$usage" >&2; exit 2; }
else
    (( trace == 0 )) || { echo "demo: --trace wants one MECHANISM" >&2; echo "$usage" >&2; exit 2; }
    mechs=("${MECHANISMS[@]}")
fi
(( trace + valgrind < 2 )) || { echo "demo: --trace or --valgrind, not both" >&2; echo "$usage" >&2; exit 2; }
if (( valgrind )) && ! command -v valgrind >/dev/null; then
    echo "demo: valgrind is not installed: sudo apt-get install valgrind" >&2
    exit 1
fi

# The system calls that carry each mechanism, for --trace.  Every side also shows its signals
# (shm's notifications are signals), except SIGALRM: the SIGALRM every 200 ms of the queue and
# shm programs, which makes them look at their peer.
# shellcheck disable=SC2054 # the commas are strace's, inside each element
declare -A TRACE_CALLS=(
    [pipe]=pipe,pipe2,clone,clone3,close,read,write,wait4
    [socketpair]=socketpair,clone,clone3,close,read,write,shutdown,sendto,recvfrom
    [fifo]=mknodat,openat,read,write,unlink,unlinkat
    [msgq]=msgget,msgsnd,msgrcv,msgctl,mq_open,mq_timedsend,mq_timedreceive,mq_unlink
    [shm]=mknodat,shmget,shmat,shmdt,shmctl,kill,rt_sigsuspend,openat,mmap,futex,unlink,semget,semop,semtimedop,semctl,link,ftruncate,msync,munmap,pipe2,clone,clone3
    [unixsock]=socket,bind,listen,accept4,connect,read,write,sendmsg,recvmsg,sendto,recvfrom,shutdown,unlink
    [inetsock]=socket,bind,listen,accept4,connect,read,write,sendmsg,recvmsg,sendto,recvfrom,shutdown
    [fdpass]=socket,bind,listen,accept4,connect,openat,read,sendmsg,recvmsg,lseek
)

if (( trace )); then
    if ! command -v strace >/dev/null; then
        echo "trace: strace is not installed, so there is nothing to trace with; skipped." >&2
        echo "trace: install it with: sudo apt-get install strace (make doctor checks this, and the rest)" >&2
        exit 0
    fi
    if ! why=$(strace -f -qq -e trace=none true 2>&1); then
        echo "trace: strace may not trace here (ptrace is not allowed: ${why:-no reason given}); skipped." >&2
        echo "trace: in a container, ptrace needs CAP_SYS_PTRACE (docker run --cap-add=SYS_PTRACE);" \
            "elsewhere see /proc/sys/kernel/yama/ptrace_scope; make doctor checks it." >&2
        exit 0
    fi
fi

BIN=${IPCLAB_BIN:-$ROOT}
[[ -n ${IPCLAB_BIN:-} ]] || make -s --no-print-directory -C "$ROOT" all
# How long a side may take to print what is expected, and to end: valgrind makes every program
# some twenty times slower, and its start alone takes a second.
wait_s=5 end_s=10
(( valgrind )) && wait_s=30 end_s=60

# top: the run directory, and a working directory per mechanism ($work: logs, FIFOs for stdin).
top=$(mktemp -d -- "${TMPDIR:-/tmp}/ipclab-demo.XXXXXX")
export IPCLAB_DIR=$top/run
mkdir -m 700 "$IPCLAB_DIR"
failed=0
trap '[[ -n ${KEEP:-} ]] || rm -rf "$top"' EXIT

say() { printf '\n'; paragraph '== ' '   ' "$*"; }

# side NAME STDIN PROGRAM [ARGS...]: run PROGRAM (under a 30 s backstop) in the background with
# stdin from STDIN; its stdout and stderr, labelled [NAME], go to the terminal and to a log.
# --foreground keeps it in the terminal's process group, so Ctrl-C reaches it.
#
# With --trace, strace runs PROGRAM and writes its lines to a FIFO of their own (so that they
# never cut into the program's), and they are labelled [NAME] too.  Left out: the dynamic
# loader's reads of /etc, /lib and /usr, anonymous mmap()s (libc's own memory), and the writes
# to stderr (the status lines, which the side prints anyway): ipclab_trace_filter in lib.sh.
side() {
    local name=$1 stdin=$2
    shift 2
    : >"$work/$name.log"
    (
        set +e -o pipefail
        local -a tracer=()
        close_inherited
        if (( trace )); then
            mkfifo "$work/$name.sys"
            ipclab_trace_filter "[$name] " <"$work/$name.sys" &
            # A sanitizer build's LeakSanitizer cannot work under ptrace, and would fail the side.
            export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
            tracer=(strace -o "$work/$name.sys" -f -q -yy -s 40 -e "trace=${TRACE_CALLS[$mech]}"
                -e 'signal=!SIGALRM')
        elif (( valgrind )); then
            tracer=(valgrind --leak-check=full --track-fds=yes --error-exitcode=99
                "--log-file=$work/$name.vg.%p")
        fi
        timeout --foreground $((end_s * 3)) "${tracer[@]}" "$@" <"$stdin" 2>&1 | tee -a "$work/$name.log" |
            sed -u "s/^/[$name] /"
        echo "${PIPESTATUS[0]}" >"$work/$name.status"
        wait
    ) &
    labeller[$name]=$!
}
declare -A labeller=()
vg_processes=0 # with --valgrind: how many processes' reports were read

# close_inherited: close every descriptor but stdin, stdout and stderr, so that a side inherits
# nothing else from this script or from whatever started it.
close_inherited() {
    local fd
    for fd in /proc/"$BASHPID"/fd/*; do
        fd=${fd##*/}
        (( fd > 2 )) && exec {fd}>&- 2>/dev/null
    done
    return 0
}

# expect NAME REGEX: wait (at most $wait_s) until NAME has printed a line matching REGEX.
expect() {
    ipclab_wait_for "$work/$1.log" "$2" "$wait_s" || { echo "demo: $1 never printed /$2/" >&2; exit 1; }
}

# valgrind_verdict NAME: with --valgrind, fail NAME if the log of any of its processes shows an
# error, a leak, or a descriptor open at exit beyond stdio (valgrind's own log file aside).
valgrind_verdict() {
    local log bad=0
    (( valgrind )) || return 0
    for log in "$work/$1".vg.*; do
        if [[ ! -e $log ]]; then
            echo "demo: valgrind: $1 left no report: did it run under valgrind?" >&2
            return 1
        fi
        vg_processes=$((vg_processes + 1))
        if grep -Eq 'ERROR SUMMARY: [1-9]' "$log" ||
            grep -E 'Open file descriptor [0-9]+:' "$log" | grep -Ev 'descriptor [012]:|\.vg\.[0-9]+$' | grep -q .; then
            echo "demo: valgrind: $1 (${log##*.vg.}):" >&2
            grep -E 'ERROR SUMMARY|Open file descriptor|definitely|indirectly|possibly|Invalid|uninitialised' "$log" >&2
            bad=1
        fi
    done
    return "$bad"
}

# finish NAME...: wait for each side to end with status 0 (or $expected_status); remember a
# failure.
finish() {
    local name status bad
    for name in "$@"; do
        ipclab_wait_file "$work/$name.status" "$end_s" || { echo "demo: $name did not end" >&2; exit 1; }
        status=$(cat "$work/$name.status")
        wait "${labeller[$name]}" # its labeller, to the last line
        bad=0
        if [[ $status != "${expected_status:-0}" ]]; then
            echo "demo: $name failed (exit status $status)" >&2
            bad=1
        fi
        valgrind_verdict "$name" || bad=1
        failed=$((failed + bad))
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
    side pipe_oneway /dev/null "$BIN/pipe/pipe_oneway" -n 3
    finish pipe_oneway

    say "pipe_duplex: two pipes, one each way. The parent sends its stdin down, the child sends" \
        "it back up upper-cased."
    printf 'one pipe goes down,\nthe other comes back up\n' >"$work/duplex.in"
    side pipe_duplex "$work/duplex.in" "$BIN/pipe/pipe_duplex"
    finish pipe_duplex
}

demo_socketpair() {
    say "socketpair_duplex -n 3: one stream socketpair; each process uses its one end both ways." \
        "Three greetings sent apart, one read(): a stream keeps no boundaries."
    side stream /dev/null "$BIN/socketpair/socketpair_duplex" -n 3
    finish stream

    say "socketpair_duplex -d -n 3: the same over SOCK_DGRAM. Three messages, three read() calls."
    side dgram /dev/null "$BIN/socketpair/socketpair_duplex" -d -n 3
    finish dgram
}

demo_fifo() {
    say "fifo_reader and fifo_writer: one FIFO in the run directory. The reader starts first and" \
        "waits in open() until the writer opens the other end."
    printf 'a FIFO has a name,\nso unrelated processes can meet at it\n' >"$work/writer.in"
    side reader /dev/null "$BIN/fifo/fifo_reader"
    expect reader ': ready'
    side writer "$work/writer.in" "$BIN/fifo/fifo_writer"
    finish writer reader

    say "fifo_chat a and fifo_chat b: two FIFOs, one each way. a says hello, b answers, a leaves" \
        "(end of input), and b is told."
    mkfifo "$work/a.in" "$work/b.in"
    side a "$work/a.in" "$BIN/fifo/fifo_chat" a
    side b "$work/b.in" "$BIN/fifo/fifo_chat" b
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
        "run directory. What the sender reads goes out as messages of type 1 of at most 12" \
        "bytes here (-s 12): the two lines, 42 bytes, make 4 messages, the last one short;" \
        "an empty message ends it. The receiver prints them back to back: the lines come out whole."
    printf 'a message queue keeps\nevery message whole\n' >"$work/send.in"
    side recv /dev/null "$BIN/msgq/msgq_recv"
    expect recv ': ready'
    side send "$work/send.in" "$BIN/msgq/msgq_send" -s 12
    finish send recv

    say "msgq_chat 1 2 and msgq_chat 2 1: one queue, both directions; each side takes only its" \
        "own type. 1 says hello, 2 answers, 1 leaves (end of input), and 2 is told."
    mkfifo "$work/one.in" "$work/two.in"
    side one "$work/one.in" "$BIN/msgq/msgq_chat" 1 2
    side two "$work/two.in" "$BIN/msgq/msgq_chat" 2 1
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
    side precv /dev/null "$BIN/msgq/pmq_recv" -p "$pmq"
    expect precv ': ready'
    side psend "$work/psend.in" "$BIN/msgq/pmq_send" -p "$pmq"
    finish psend precv
}

demo_shm() {
    local pshm=/ipclab-demo-$$-pshm

    say "shm_reader and shm_writer: a System V segment. The reader sends its PID through a FIFO;" \
        "the writer says \"buffer ready\" with SIGUSR1, the reader \"done\" with SIGUSR2."
    printf 'shared memory moves no bytes through the kernel:\nboth sides see the same pages\n' \
        >"$work/writer.in"
    side reader /dev/null "$BIN/shm/shm_reader"
    expect reader ': ready'
    side writer "$work/writer.in" "$BIN/shm/shm_writer"
    finish writer reader

    say "shm_sem_reader and shm_sem_writer: the same segment design, but the turns pass through a" \
        "System V set of two semaphores (the writer's turn, the reader's turn): no signal, no PID."
    printf 'semop() waits for its turn,\nand a turn given early is not lost\n' >"$work/swriter.in"
    side sreader /dev/null "$BIN/shm/shm_sem_reader"
    expect sreader ': ready'
    side swriter "$work/swriter.in" "$BIN/shm/shm_sem_writer"
    finish swriter sreader

    say "pshm_reader and pshm_writer: a POSIX object, $pshm, with two semaphores inside it" \
        "counting a ring of four buffers: the writer fills one while the reader prints another."
    printf 'no signals, no PIDs:\nthe semaphores count\n' >"$work/pwriter.in"
    side preader /dev/null "$BIN/shm/pshm_reader" -p "$pshm"
    expect preader ': ready'
    side pwriter "$work/pwriter.in" "$BIN/shm/pshm_writer" -p "$pshm"
    finish pwriter preader

    say "mmap_fork: one anonymous mapping (MAP_SHARED | MAP_ANONYMOUS) made before fork(): the" \
        "child copies its stdin into it, and the parent, once the child has ended, prints it." \
        "Then mmap_fork -p: MAP_PRIVATE, so fork() gives the child copies, and the parent sees nothing."
    printf 'written by the child,\nread by the parent\n' >"$work/fork.in"
    side fork "$work/fork.in" "$BIN/shm/mmap_fork"
    finish fork
    side private "$work/fork.in" "$BIN/shm/mmap_fork" -p
    finish private

    say "mmap_reader and mmap_writer: one regular file in the run directory, mapped MAP_SHARED by" \
        "both. The reader waits for the file, then prints what the writer adds; the writer marks" \
        "the file done in its header, since a file has no end of file to wait for."
    printf 'a mapped file is not consumed:\nthe bytes stay in it\n' >"$work/mwriter.in"
    side mreader /dev/null "$BIN/shm/mmap_reader"
    expect mreader ': ready'
    side mwriter "$work/mwriter.in" "$BIN/shm/mmap_writer"
    finish mwriter mreader
    say "The file outlives both: its header (the mark, the size, the length, the state), then the" \
        "data. The demo removes it; in your run directory it stays until you remove it."
    od -A x -t x1z -N 80 "$IPCLAB_DIR/mmap" | sed "s/^/[file] /"
    rm "$IPCLAB_DIR/mmap"

    # A fifth of the default adds: on two CPUs adds are still lost, and the System V lock still
    # costs some thirty times the others, in half a second instead of the default's 2 to 3.
    # Under strace, two processes and three adds each: every semop() is a line.
    local counter=(-m 20000)
    (( trace )) && counter=(-n 2 -m 3)
    say "shm_counter ${counter[*]}: processes that each add 1 to one counter in shared memory." \
        "With no lock, adds are lost (two read the same value, both write it plus 1); a System V" \
        "semaphore, a POSIX named semaphore and a process-shared mutex each make it exact, at a" \
        "price: see the seconds."
    side counter /dev/null "$BIN/shm/shm_counter" "${counter[@]}" -p "/ipclab-demo-$$-counter"
    finish counter
}

demo_unixsock() {
    say "unix_stream_server and two unix_stream_clients: one server, one poll() loop, every" \
        "client served at once; each gets its own bytes back upper-cased, and the server knows" \
        "each one's pid and uid (SO_PEERCRED)."
    side server /dev/null "$BIN/unixsock/unix_stream_server"
    expect server ': ready'
    mkfifo "$work/one.in" "$work/two.in"
    side one "$work/one.in" "$BIN/unixsock/unix_stream_client"
    side two "$work/two.in" "$BIN/unixsock/unix_stream_client"
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
    side dserver /dev/null "$BIN/unixsock/unix_dgram_server"
    expect dserver ': ready'
    mkfifo "$work/dclient.in"
    side dclient "$work/dclient.in" "$BIN/unixsock/unix_dgram_client"
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
    side relay /dev/null "$BIN/unixsock/relay_server"
    expect relay ': ready'
    mkfifo "$work/alice.in" "$work/bob.in" "$work/carol.in"
    side alice "$work/alice.in" "$BIN/unixsock/relay_client" alice
    side bob "$work/bob.in" "$BIN/unixsock/relay_client" bob
    side carol "$work/carol.in" "$BIN/unixsock/relay_client" carol
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
    side server /dev/null "$BIN/inetsock/tcp_server" -H ::1 -P 0
    expect server ': ready'
    mkfifo "$work/client.in"
    side client "$work/client.in" "$BIN/inetsock/tcp_client" -H ::1 -P "$(port_of server)"
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
    side userver /dev/null "$BIN/inetsock/udp_server" -P 0
    expect userver ': ready'
    mkfifo "$work/uclient.in"
    side uclient "$work/uclient.in" "$BIN/inetsock/udp_client" -P "$(port_of userver)"
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
    side receiver /dev/null "$BIN/fdpass/fd_receiver"
    expect receiver ': ready'
    side sender /dev/null "$BIN/fdpass/fd_sender" -n 40 "$work/file.txt"
    finish sender receiver
}

# What each mechanism is about to show (said first) and what crossed, through which kernel
# object (said last).
declare -A INTRO=(
    [pipe]="A pipe is a one-way channel of bytes inside the kernel, with no name: only processes
that inherit its two descriptors through fork() can use it. Watch three write() calls arrive
in one read() (a pipe keeps bytes, not messages), and the reader stop at end of file once
every write end is closed."
    [socketpair]="socketpair() makes two connected UNIX-domain sockets at once, again with no
name. Unlike a pipe, each end both reads and writes. Watch the stream run deliver three
greetings in one read, and the datagram run in three: SOCK_DGRAM keeps message boundaries."
    [fifo]="A FIFO is a pipe with a name in the file system, so processes that are not parent
and child can meet at it. Watch the reader wait in open() until a writer arrives, and the
chat tell one side when the other has left (end of file)."
    [msgq]="A message queue keeps messages, not bytes: each has a type and arrives whole, and
the queue outlives its sender until someone removes it. Watch the two msgq_chat sides share
one queue, each taking only its own type; then a POSIX queue, named like a file, do the same."
    [shm]="Shared memory moves nothing through the kernel: both processes map the same pages.
So they need a second channel to say \"your turn\": signals for the System V pair, semaphores
inside the memory for the POSIX pair. Watch the reader's PID travel through a FIFO first; then
a mapping shared across fork() (and one that is not), a file two processes map, and four
processes racing on one counter, with no lock and then with three kinds."
    [unixsock]="A UNIX-domain socket has a path in the file system and takes many clients at
once. Watch the server tell its clients apart by pid and uid (SO_PEERCRED), the datagram
client bind an address of its own so it can be answered, and the relay pass messages between
clients by name."
    [inetsock]="The same echo over TCP and UDP: an IP address and a port instead of a path, and
otherwise the same code (diff the twins). Watch the ready line name the port the kernel
picked, and the server name each client by its address and port."
    [fdpass]="A UNIX socket can carry an open file itself (SCM_RIGHTS), not only bytes. Watch the
receiver read on from where the sender stopped: both processes hold one open file
description, so they share one file offset."
)
declare -A CROSSED=(
    [pipe]="bytes, parent to child (and back up a second pipe), through anonymous pipes: kernel
buffers (64 KiB each) that vanish with their last descriptor."
    [socketpair]="greetings both ways through one pair of connected UNIX sockets that no other
process could find: a stream merged them, a datagram socket kept each one."
    [fifo]="lines through FIFOs in the run directory: pipe buffers with a name (mkfifo), the
names removed by the programs when they ended."
    [msgq]="whole typed messages through a System V queue (its key made by ftok()) and a POSIX
queue (/dev/mqueue); the last side out removed each."
    [shm]="bytes through a System V segment, a POSIX object, an anonymous mapping and a mapped
file, turns taken by signals and by semaphores; adds to one counter, guarded by semaphores and a
mutex. Every one removed."
    [unixsock]="echoes and relayed messages through UNIX stream and datagram sockets bound to
paths in the run directory; each socket file removed by its owner."
    [inetsock]="the same echoes through TCP over ::1 and UDP over 127.0.0.1, kernel sockets
named by address and port, on ports the kernel picked."
    [fdpass]="one open file, as a descriptor in a control message over a UNIX socket: a new
descriptor number in the receiver, the same open file description (and offset)."
)

# left_behind: what the demo's programs left in its run directory or under its POSIX names.
left_behind() {
    ls -A "$IPCLAB_DIR"
    ls -d /dev/shm/ipclab-demo-$$-* /dev/mqueue/ipclab-demo-$$-* 2>/dev/null || true
}

# paragraph FIRST REST TEXT: TEXT (its lines joined) folded to 92 columns, the first line
# prefixed with FIRST, the others with REST.
paragraph() {
    local text
    text=$(tr '\n' ' ' <<<"$1$3" | fold -s -w 92)
    sed "s/ *\$//; 2,\$s/^/$2/" <<<"$text"
}

# A mechanism new to the Makefile needs all of these here before its demo can run.
for mech in "${mechs[@]}"; do
    if ! declare -F "demo_$mech" >/dev/null || [[ -z ${INTRO[$mech]:-} || -z ${CROSSED[$mech]:-} ||
        -z ${TRACE_CALLS[$mech]:-} ]]; then
        echo "demo: scripts/demo.sh lacks demo_$mech, or its INTRO, CROSSED or TRACE_CALLS entry" >&2
        exit 1
    fi
done

total=${#mechs[@]} step=0
if (( total > 1 )); then
    paragraph '## ' '## ' "ipclab guided tour: $total mechanisms in learning order, each with its two
sides in this terminal, every line labelled with the side that printed it. It ends by itself."
fi
for mech in "${mechs[@]}"; do
    step=$((step + 1))
    if (( total > 1 )); then
        printf '\n######## %d/%d %s\n' "$step" "$total" "$mech"
    elif (( trace )); then
        printf '######## %s (under strace: the system calls that carry it)\n' "$mech"
    else
        printf '######## %s\n' "$mech"
    fi
    paragraph '   ' '   ' "${INTRO[$mech]}"
    failed_before=$failed
    work=$top/$mech
    mkdir "$work"
    "demo_$mech"
    leftover=$(left_behind)
    if [[ -n $leftover ]]; then
        echo "demo: left behind: $leftover" >&2
        failed=$((failed + 1))
    fi
    if (( failed != failed_before )); then
        echo "demo: $mech FAILED" >&2
        continue
    fi
    printf '\n'
    paragraph '=> crossed: ' '   ' "${CROSSED[$mech]}"
    printf '== %s: done, nothing left behind\n' "$mech"
done
if (( failed )); then
    exit 1
fi
if (( total > 1 )); then
    printf '\n'
    paragraph '## ' '## ' "Tour over: $total mechanisms, nothing left behind. Next: run a pair in
two terminals (README.md), or 'make demo-<mechanism> PANES=1' to have them side by side in tmux,
or watch the system calls with 'make trace-<mechanism>'."
fi
if (( valgrind )); then
    printf '\nvalgrind: %d processes checked: 0 errors, no leak, no descriptor open at exit beyond stdio\n' \
        "$vg_processes"
fi
