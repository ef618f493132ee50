#!/usr/bin/env bats
# tests/demo.bats - the guided tour and the single demos (scripts/demo.sh) and the traces
# (scripts/demo.sh --trace).  The tmux panes are in tests/panes.bats.

load test_helper

setup() {
    ipclab_setup sysv_private # the tour runs shm_counter: its set is IPC_PRIVATE (ipc_left)
}

teardown() {
    ipclab_teardown
}

# assert_labelled: every line of $output is a tour heading (## / ########), an introduction
# (indented), a narration (==), a closing line (=>), blank, or a side's line labelled [side].
assert_labelled() {
    run grep -Evc '^(|## .*|######## .*|== .*|=> .*|   .*|\[[a-z_]+\] .*)$' <<<"$output"
    assert_output 0
}

@test "demo: the tour shows every mechanism in learning order, introduced and closed, and ends by itself" {
    local mechs mech i=0
    mapfile -t mechs < <(make -s --no-print-directory -C "$ROOT" print-mechanisms)
    run timeout 60 "$ROOT/scripts/demo.sh"
    assert_success
    assert_line --index 0 --regexp "^## ipclab guided tour: ${#mechs[@]} mechanisms"
    local headings
    headings=$(grep '^######## ' <<<"$output")
    for mech in "${mechs[@]}"; do
        i=$((i + 1))
        # in order: the i-th heading is the i-th mechanism
        [[ $(sed -n "${i}p" <<<"$headings") == "######## $i/${#mechs[@]} $mech" ]] ||
            fail "heading $i is '$(sed -n "${i}p" <<<"$headings")', not $mech"
        # an introduction right under the heading, a closing line before the done line
        grep -A1 -x "######## $i/${#mechs[@]} $mech" <<<"$output" | tail -n 1 | grep -q '^   [A-Za-z]' ||
            fail "$mech has no introduction"
        grep -B3 -x "== $mech: done, nothing left behind" <<<"$output" | grep -q '^=> crossed: ' ||
            fail "$mech has no closing line"
    done
    (( i == $(grep -c '^######## ' <<<"$output") ))
    assert_line --regexp "^## Tour over: ${#mechs[@]} mechanisms, nothing left behind"
    assert_labelled
    # teardown checks that the tour used a run directory of its own, not this one
}

@test "demo: one mechanism alone (make demo-<mechanism>): its heading, its sides, its closing line" {
    # (the tour above runs every mechanism's demo; this is the single form's frame)
    run timeout 20 "$ROOT/scripts/demo.sh" fifo
    assert_success
    assert_line --index 0 "######## fifo"
    assert_line --regexp '^\[reader\] fifo_reader: ready '
    assert_line --regexp '^=> crossed: '
    assert_line "== fifo: done, nothing left behind"
    refute_line --partial "Tour over"
    assert_labelled
}

@test "demo: an unknown mechanism or option is a usage error" {
    run timeout 5 "$ROOT/scripts/demo.sh" nosuch
    assert_failure 2
    assert_output --partial "no demo for 'nosuch'"
    run timeout 5 "$ROOT/scripts/demo.sh" --nosuch
    assert_failure 2
    run timeout 5 "$ROOT/scripts/demo.sh" --trace
    assert_failure 2
    assert_output --partial "--trace wants one MECHANISM"
}

# The system calls each trace must show, labelled with the side that made them: what carries
# the mechanism (the pipe, the FIFO's creation, the queue's messages, the signals, the sockets,
# the descriptor inside the control message), each a regular expression, @@ between them.
# strace pads a short pid with spaces; and where a side has two processes (pipe_oneway), one's
# call may be cut in two by the other's ("read(3, <unfinished ...>" ... "<... read resumed>").
declare -gA TRACE_SHOWS=(
    [pipe]='^\[pipe_oneway\] [0-9]+ +pipe2\(\[[0-9]+<pipe:\[[0-9]+\]>, [0-9]+<pipe:@@^\[pipe_oneway\] [0-9]+ +clone\(@@^\[pipe_oneway\] [0-9]+ +(read\([0-9]+<pipe:\[[0-9]+\]>, |<\.\.\. read resumed>)"hello 1\\nhello 2\\nhello 3\\n"'
    [socketpair]='^\[stream\] [0-9]+ +socketpair\(AF_UNIX, SOCK_STREAM@@^\[dgram\] [0-9]+ +socketpair\(AF_UNIX, SOCK_DGRAM'
    [fifo]='^\[reader\] [0-9]+ +mknodat\(.*S_IFIFO\|0600\) = 0@@^\[writer\] [0-9]+ +openat\(.*/fifo", O_WRONLY@@^\[reader\] [0-9]+ +read\([0-9]+<.*/fifo>'
    [msgq]='^\[send\] [0-9]+ +msgsnd\(@@^\[recv\] [0-9]+ +msgrcv\(@@^\[recv\] [0-9]+ +msgctl\([0-9]+, IPC_RMID@@^\[psend\] [0-9]+ +mq_timedsend\('
    [shm]='^\[reader\] [0-9]+ +shmget\(@@^\[writer\] [0-9]+ +kill\([0-9]+, SIGUSR1\)@@^\[reader\] [0-9]+ +rt_sigsuspend\(@@^\[reader\] [0-9]+ +--- SIGUSR1 @@^\[preader\] [0-9]+ +mmap\(.*MAP_SHARED, [0-9]+</dev/shm/@@^\[sreader\] [0-9]+ +semget\(0x[0-9a-f]+, 2, IPC_CREAT\|IPC_EXCL\|0600\)@@^\[swriter\] [0-9]+ +semtimedop\(@@^\[counter\] [0-9]+ +semget\(IPC_PRIVATE, 1, IPC_CREAT\|0600\)@@^\[counter\] [0-9]+ +semtimedop\([0-9]+, \[\{sem_num=0, sem_op=-1, sem_flg=SEM_UNDO\}\]@@^\[counter\] [0-9]+ +mmap\(.*MAP_SHARED\|MAP_ANONYMOUS@@^\[fork\] [0-9]+ +mmap\(.*MAP_SHARED\|MAP_ANONYMOUS@@^\[mwriter\] [0-9]+ +ftruncate\([0-9]+<.*/mmap>@@^\[mreader\] [0-9]+ +mmap\(.*PROT_READ, MAP_SHARED, [0-9]+<.*/mmap>@@^\[mwriter\] [0-9]+ +msync\('
    [unixsock]='^\[server\] [0-9]+ +listen\(@@^\[server\] [0-9]+ +accept4\(@@^\[one\] [0-9]+ +connect\(.*AF_UNIX@@^\[dserver\] [0-9]+ +recvfrom\('
    [inetsock]='^\[server\] [0-9]+ +bind\(.*AF_INET6@@^\[client\] [0-9]+ +connect\(.*AF_INET6@@^\[uclient\] [0-9]+ +sendto\('
    [fdpass]='^\[sender\] [0-9]+ +sendmsg\(.*cmsg_type=SCM_RIGHTS, cmsg_data=\[[0-9]+<.*/file.txt>\]@@^\[receiver\] [0-9]+ +recvmsg\(.*cmsg_type=SCM_RIGHTS, cmsg_data=\[[0-9]+<.*/file.txt>\]'
)

@test "trace: every mechanism's trace shows the system calls that carry it, labelled, and leaves nothing" {
    local mech re
    for mech in $(make -s --no-print-directory -C "$ROOT" print-mechanisms); do
        [[ -n ${TRACE_SHOWS[$mech]:-} ]] || fail "tests/demo.bats has no TRACE_SHOWS for $mech"
        run timeout 30 "$ROOT/scripts/demo.sh" --trace "$mech"
        assert_success
        assert_line "######## $mech (under strace: the system calls that carry it)"
        assert_line "== $mech: done, nothing left behind"
        while read -r re; do
            assert_line --regexp "$re"
        done <<<"${TRACE_SHOWS[$mech]//@@/$'\n'}"
        assert_labelled
        # the dynamic loader's files and the status lines' writes are filtered out
        refute_line --regexp '<(/etc|/lib|/usr)/'
        refute_line --regexp '^\[[a-z_]+\] [0-9]+ +write\(2<'
    done
}

@test "trace: the filter leaves out both halves of a call strace cut in two, and keeps the halves of a kept call" {
    # What strace -f wrote during a real make trace-pipe: the parent's status line to stderr
    # cut in two by the child's read.  Before the fix, "<... write resumed>) = 50" stayed.
    # shellcheck source=scripts/lib.sh
    source "$ROOT/scripts/lib.sh"
    run ipclab_trace_filter '[side] ' <<'EOF'
100 write(2<pipe:[10]>, "pipe_oneway: parent 100 writes, c"..., 50 <unfinished ...>
101 read(3<pipe:[11]>, "hello 1\n", 4096) = 8
100 <... write resumed>)              = 50
101 write(1<pipe:[12]>, "hello 1\n", 8 <unfinished ...>
100 close(4<pipe:[11]>)               = 0
101 <... write resumed>)              = 8
100 openat(AT_FDCWD</w>, "/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY|O_CLOEXEC) = 3</usr/lib/x86_64-linux-gnu/libc.so.6>
EOF
    assert_success
    assert_output '[side] 101 read(3<pipe:[11]>, "hello 1\n", 4096) = 8
[side] 101 write(1<pipe:[12]>, "hello 1\n", 8 <unfinished ...>
[side] 100 close(4<pipe:[11]>)               = 0
[side] 101 <... write resumed>)              = 8'
}

@test "trace: without strace, or where ptrace is refused, it says why and skips" {
    PATH=$(without strace) run timeout 10 "$ROOT/scripts/demo.sh" --trace fifo
    assert_success
    assert_output --partial "strace is not installed"
    assert_output --partial "apt-get install strace"
    refute_line --partial '[reader]'

    # A strace that fails the way ptrace refused by the kernel makes it fail (the message is
    # strace's own): the script must not run the demo untraced.
    local fake=$BATS_TEST_TMPDIR/fake
    mkdir "$fake"
    printf '#!/bin/sh\necho "strace: test_ptrace_get_syscall_info: PTRACE_TRACEME: Operation not permitted" >&2\nexit 1\n' \
        >"$fake/strace"
    chmod +x "$fake/strace"
    PATH=$fake:$PATH run timeout 10 "$ROOT/scripts/demo.sh" --trace fifo
    assert_success
    assert_output --partial "strace may not trace here (ptrace is not allowed: strace: test_ptrace_get_syscall_info: PTRACE_TRACEME: Operation not permitted)"
    assert_output --partial "CAP_SYS_PTRACE"
    refute_line --partial '[reader]'
}

@test "valgrind: a pair under valgrind passes; a leaked descriptor or block fails it, by name" {
    # The real pipe demo is clean under memcheck (make valgrind runs every mechanism so).  The
    # tree's own binaries: valgrind cannot run a sanitizer build (make sanitize's IPCLAB_BIN).
    IPCLAB_BIN=$ROOT run timeout 60 "$ROOT/scripts/demo.sh" --valgrind pipe
    assert_success
    assert_line '== pipe: done, nothing left behind'
    # A tree whose pipe_oneway leaks a block and a descriptor, and still exits 0: the demo must
    # fail, name the side and show the leak.  (The other programs are the real ones.)
    local tree=$BATS_TEST_TMPDIR/tree
    mkdir -p "$tree/pipe"
    ln -s "$ROOT/pipe/pipe_duplex" "$tree/pipe/pipe_duplex"
    printf '%s\n' '#include <fcntl.h>' '#include <stdlib.h>' \
        'int main(void) { static char *volatile p; p = malloc(10); p = 0;' \
        '    return open("/dev/null", O_RDONLY) == -1; }' >"$BATS_TEST_TMPDIR/leaky.c"
    cc -o "$tree/pipe/pipe_oneway" "$BATS_TEST_TMPDIR/leaky.c"
    IPCLAB_BIN=$tree run timeout 60 "$ROOT/scripts/demo.sh" --valgrind pipe
    assert_failure 1
    assert_line --regexp '^demo: valgrind: pipe_oneway \([0-9]+\):$'
    assert_line --regexp 'Open file descriptor [0-9]+: /dev/null$'
    assert_line --regexp 'definitely lost'
    assert_line 'demo: pipe FAILED'
}
