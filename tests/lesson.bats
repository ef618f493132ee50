#!/usr/bin/env bats
# tests/lesson.bats - the lesson is in the file: each program makes the system calls its
# mechanism is about in its own code, where a student reading it top to bottom finds them, and
# common/ (ipclab.h, peers.h, sysv.h, sockets.h), the plumbing the programs share, makes none
# of them.
#
# What counts as a call: NAME followed by "(" in the program's C code, with its comments and
# its string literals removed -- a call named in a comment or a message does not teach it.

# shellcheck disable=SC2154 # $stderr is set by bats' run --separate-stderr
load test_helper
bats_require_minimum_version 1.5.0

setup() {
    ipclab_setup
    cd "$ROOT" || return 1
}

teardown() {
    ipclab_teardown
}

# The lesson of each program: the calls a student should find in it, in the order they would
# be explained.  A|B: either will do (the timed forms, or accept4 for accept).  Adding a program
# means adding its row: the test below fails on a program without one.
declare -gA LESSON=(
    [pipe/pipe_oneway]='pipe fork close'
    [pipe/pipe_duplex]='pipe fork close'
    [socketpair/socketpair_duplex]='socketpair fork close'
    [fifo/fifo_writer]='mkfifo open'
    [fifo/fifo_reader]='mkfifo open'
    [fifo/fifo_chat]='mkfifo open'
    [msgq/msgq_send]='ftok msgget msgsnd msgctl'
    [msgq/msgq_recv]='ftok msgget msgrcv msgctl'
    [msgq/msgq_chat]='ftok msgget msgsnd msgrcv msgctl fork'
    [msgq/pmq_send]='mq_open mq_send|mq_timedsend mq_unlink'
    [msgq/pmq_recv]='mq_open mq_receive|mq_timedreceive mq_unlink'
    [shm/shm_writer]='ftok shmget shmat shmdt shmctl'
    [shm/shm_reader]='ftok shmget shmat shmdt shmctl'
    [shm/shm_sem_writer]='ftok semget semctl semtimedop semop shmget shmat shmdt shmctl'
    [shm/shm_sem_reader]='ftok semget semctl semtimedop semop shmget shmat shmdt shmctl'
    [shm/pshm_writer]='shm_open ftruncate mmap sem_init sem_post sem_wait|sem_timedwait shm_unlink'
    [shm/pshm_reader]='shm_open ftruncate mmap sem_init sem_post sem_wait|sem_timedwait shm_unlink'
    [shm/mmap_fork]='mmap fork pipe munmap'
    [shm/mmap_writer]='open ftruncate mmap msync munmap'
    [shm/mmap_reader]='open mmap munmap'
    [shm/shm_counter]='mmap fork semget semctl semop sem_open sem_wait sem_post sem_unlink pthread_mutexattr_setpshared pthread_mutexattr_setrobust pthread_mutex_lock pthread_mutex_consistent'
    [unixsock/unix_stream_server]='socket bind listen accept|accept4'
    [unixsock/unix_stream_client]='socket connect'
    [unixsock/unix_dgram_server]='socket bind recvfrom sendto'
    [unixsock/unix_dgram_client]='socket bind connect send|sendto recv|recvfrom'
    [unixsock/relay_server]='socket bind listen accept|accept4'
    [unixsock/relay_client]='socket connect'
    [inetsock/tcp_server]='getaddrinfo socket bind listen accept|accept4'
    [inetsock/tcp_client]='getaddrinfo socket connect'
    [inetsock/udp_server]='getaddrinfo socket bind recvfrom sendto'
    [inetsock/udp_client]='getaddrinfo socket connect send|sendto recv|recvfrom'
    [fdpass/fd_receiver]='socket bind listen accept|accept4 recvmsg CMSG_FIRSTHDR CMSG_DATA'
    [fdpass/fd_sender]='socket connect open sendmsg CMSG_FIRSTHDR CMSG_DATA'
)

# code FILE: FILE's C code, comments and string literals removed (character literals too).
code() {
    gcc -fpreprocessed -dD -E -P "$1" |
        sed -E 's/"([^"\\]|\\.)*"/""/g; s/'\''([^'\''\\]|\\.)+'\''/0/g'
}

# calls FILE: every NAME( in FILE's code, one per line.
calls() {
    code "$1" | grep -oE '\b[A-Za-z_][A-Za-z0-9_]*[[:space:]]*\(' | tr -d '( \t' | sort -u
}

# lacking PROG: add to the caller's array missing each call of PROG's row that PROG.c does not
# make.  (The loops are in functions: bats' trap, 0.45 ms a command, runs only in the test's
# own lines -- tests/test_helper.bash, ipclab_trace_test_lines.)
lacking() {
    local prog=$1 call alt found have alts
    have=$(calls "$prog.c")
    for call in ${LESSON[$prog]}; do
        found=0
        IFS='|' read -ra alts <<<"$call"
        for alt in "${alts[@]}"; do
            [[ $'\n'$have$'\n' == *$'\n'$alt$'\n'* ]] && found=1 # grep -qx, with no process
        done
        (( found )) || missing+=("$prog.c: no $call()")
    done
    return 0
}

@test "lesson: every program makes its mechanism's system calls in its own file" {
    local prog missing=()
    mapfile -t progs < <(make -s --no-print-directory print-programs)
    (( ${#progs[@]} == ${#LESSON[@]} )) ||
        fail "${#progs[@]} programs, ${#LESSON[@]} rows: give every program its row"
    for prog in "${progs[@]}"; do
        [[ -n ${LESSON[$prog]:-} ]] || { missing+=("$prog: no row"); continue; }
        lacking "$prog"
    done
    (( ${#missing[@]} == 0 )) || fail "$(printf '%s\n' "${missing[@]}")"
}

# PROBES: the hardening in common/sockets.h that may make a socket of its own to ask a question
# (whether a server answers on a path), and so calls
# socket(), connect() or bind() on it.  Their bodies are left out of the check below.
PROBES='ipclab_sun_answers'

# without_probes FILE: FILE's code without the bodies of the PROBES functions.
without_probes() {
    code "$1" | awk -v probes=" $PROBES " '
        !skip && match($0, /[A-Za-z_][A-Za-z0-9_]*\(/) && /^static/ {
            name = substr($0, RSTART, RLENGTH - 1)
            if (index(probes, " " name " ")) skip = 1
        }
        skip { if ($0 ~ /^}/) skip = 0; next }
        { print }'
}

# banned_calls: every call of every LESSON row (both of A|B), once each, one a line -- but open()
# and close(), which are every file's, not a lesson of their own (the headers open the key
# files and the run directory) -- and the cleanup calls that go with them.
banned_calls() {
    local row call alt calls alts
    for row in "${LESSON[@]}"; do
        read -ra calls <<<"$row"
        for call in "${calls[@]}"; do
            IFS='|' read -ra alts <<<"$call"
            for alt in "${alts[@]}"; do
                case $alt in open | close) ;; *) echo "$alt" ;; esac
            done
        done
    done | cat - <(printf '%s\n' shm_unlink munmap sem_destroy mq_close) | sort -u
}

# banned_in HEADER: add to the caller's array found "HEADER: CALL" for each call of the
# caller's array banned that HEADER makes, outside the PROBES.
banned_in() {
    local have call
    have=$(without_probes "$1" | grep -oE '\b[A-Za-z_][A-Za-z0-9_]*[[:space:]]*\(' | tr -d '( \t' | sort -u)
    for call in "${banned[@]}"; do
        [[ $'\n'$have$'\n' == *$'\n'$call$'\n'* ]] && found+=("$1: $call")
    done
    return 0
}

@test "lesson: the headers in common/ make none of the lesson's calls (they hold the plumbing)" {
    local banned found=() header headers=(common/*.h)
    mapfile -t banned < <(banned_calls)
    (( ${#banned[@]} > 20 )) || fail "only ${#banned[@]} calls to look for: ${banned[*]}"
    (( ${#headers[@]} >= 4 )) || fail "only ${headers[*]} in common/"
    for header in "${headers[@]}"; do
        banned_in "$header"
    done
    (( ${#found[@]} == 0 )) || fail "calls in common/: ${found[*]}"
    # and the probes are still there to leave out: a renamed one would hide nothing
    local probe
    for probe in $PROBES; do
        grep -qE "^static inline [^(]*\b$probe\(" common/sockets.h || fail "no probe $probe"
    done
}

@test "lesson: the check sees a call, and does not see one in a comment or a string" {
    printf '%s\n' '/* socket( bind( */ int f(void) { puts("listen("); return accept (3, 0, 0); }' \
        >"$LOG/t.c"
    run calls "$LOG/t.c"
    assert_output $'accept\nf\nputs'
}

@test "lesson: ipclab.h's state is one program's: a second file that includes it fails to link" {
    # ipclab_signal and its like are defined in the header, not static (see its comment): a
    # second copy would never see the signal the first file's handler recorded.
    printf '%s\n' '#define _GNU_SOURCE' '#include "common/ipclab.h"' \
        'int other(void) { return ipclab_signal; }' >"$LOG/second.c"
    run gcc -std=c11 -I . -o "$LOG/two" pipe/pipe_oneway.c "$LOG/second.c"
    assert_failure
    assert_output --partial 'multiple definition of `ipclab_signal'"'"
}

@test "lesson: every program keeps the limits of a program that teaches (make lesson-report)" {
    # README.md, "How a program reads": lines, lesson share, the first lesson call within 15
    # lines of main(), at most 6 helpers from the headers in main(), common/*.h <= 900 lines.
    run "$PYTHON" scripts/lesson-report.py --check
    assert_success
    refute_output --partial 'over a limit'
}

@test "lesson: the report counts what a model program does, and fails one over its limits" {
    # A pipe program in the shape of the classic teaching examples: every line its lesson.
    mkdir -p "$LOG/pipe"
    cat >"$LOG/pipe/model.c" <<'C'
#include <err.h>
#include <unistd.h>

int main(void)
{
    int fd[2];
    if (pipe(fd) == -1)
        err(1, "pipe");
    if (write(fd[1], "hi\n", 3) != 3)
        err(1, "write");
    close(fd[1]);
    return 0;
}
C
    run "$PYTHON" scripts/lesson-report.py "$LOG/pipe/model.c"
    assert_success
    assert_line --regexp "model\.c +13 +12 +5 +0\.42 +0 +3$"
    # the same with 200 lines of padding: over the one-side limit, and its share too low
    { cat "$LOG/pipe/model.c"; for _ in $(seq 200); do echo 'static int pad;'; done; } >"$LOG/pipe/long.c"
    run --separate-stderr "$PYTHON" scripts/lesson-report.py --check "$LOG/pipe/long.c"
    assert_failure
    [[ $stderr == *"long.c: 213 lines, the limit is 130"* && $stderr == *"long.c: lesson share 0.02, below 0.40"* ]] ||
        fail "stderr: $stderr"
}
