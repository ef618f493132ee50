#!/usr/bin/env bats
# tests/demo.bats - the teaching front end: the guided tour and the single demos
# (scripts/demo.sh), the traces (scripts/demo.sh --trace), the tmux panes (scripts/panes.sh).

load test_helper

setup() {
    ipclab_setup
    # tmux: a server of the test's own (its socket lives in TMUX_TMPDIR), never the student's.
    export TMUX_TMPDIR=$BATS_TEST_TMPDIR/tmux
    mkdir -m 700 "$TMUX_TMPDIR"
    unset TMUX
}

teardown() {
    if [[ -S $TMUX_TMPDIR/tmux-$(id -u)/default ]]; then
        tmux kill-server 2>/dev/null || true
        # The panes' programs get SIGHUP and clean up; wait for them before the checks.
        wait_until 5 run_dir_is_empty || true
    fi
    ipclab_teardown
}

run_dir_is_empty() { [[ -z $(ls -A "$RUN_DIR") ]]; }

# without COMMAND: a directory for PATH that has every command of /usr/bin and /bin but COMMAND
# (a machine where it is not installed).
without() {
    local dir=$BATS_TEST_TMPDIR/without-$1
    mkdir -p "$dir"
    find /usr/bin /bin -maxdepth 1 ! -type d ! -name "$1" -exec ln -sf -t "$dir" {} + 2>/dev/null || true
    echo "$dir"
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

@test "demo: every mechanism's demo ends by itself, labels every line, exits 0 and leaves nothing" {
    local mech
    for mech in $(make -s --no-print-directory -C "$ROOT" print-mechanisms); do
        run timeout 20 "$ROOT/scripts/demo.sh" "$mech"
        assert_success
        assert_line "######## $mech"
        assert_line --partial "=> crossed: "
        assert_line "== $mech: done, nothing left behind"
        assert_labelled
    done
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
declare -gA TRACE_SHOWS=(
    [pipe]='^\[pipe_oneway\] [0-9]+ pipe2\(\[[0-9]+<pipe:\[[0-9]+\]>, [0-9]+<pipe:@@^\[pipe_oneway\] [0-9]+ clone\(@@^\[pipe_oneway\] [0-9]+ read\([0-9]+<pipe:\[[0-9]+\]>, "hello 1\\nhello 2\\nhello 3\\n"'
    [socketpair]='^\[stream\] [0-9]+ socketpair\(AF_UNIX, SOCK_STREAM@@^\[dgram\] [0-9]+ socketpair\(AF_UNIX, SOCK_DGRAM'
    [fifo]='^\[reader\] [0-9]+ mknodat\(.*S_IFIFO\|0600\) = 0@@^\[writer\] [0-9]+ openat\(.*/fifo", O_WRONLY@@^\[reader\] [0-9]+ read\([0-9]+<.*/fifo>'
    [msgq]='^\[send\] [0-9]+ msgsnd\(@@^\[recv\] [0-9]+ msgrcv\(@@^\[recv\] [0-9]+ msgctl\([0-9]+, IPC_RMID@@^\[psend\] [0-9]+ mq_timedsend\('
    [shm]='^\[reader\] [0-9]+ shmget\(@@^\[writer\] [0-9]+ kill\([0-9]+, SIGUSR1\)@@^\[reader\] [0-9]+ rt_sigsuspend\(@@^\[reader\] [0-9]+ --- SIGUSR1 @@^\[preader\] [0-9]+ mmap\(.*MAP_SHARED, [0-9]+</dev/shm/'
    [unixsock]='^\[server\] [0-9]+ listen\(@@^\[server\] [0-9]+ accept4\(@@^\[one\] [0-9]+ connect\(.*AF_UNIX@@^\[dserver\] [0-9]+ recvfrom\('
    [inetsock]='^\[server\] [0-9]+ bind\(.*AF_INET6@@^\[client\] [0-9]+ connect\(.*AF_INET6@@^\[uclient\] [0-9]+ sendto\('
    [fdpass]='^\[sender\] [0-9]+ sendmsg\(.*cmsg_type=SCM_RIGHTS, cmsg_data=\[[0-9]+<.*/file.txt>\]@@^\[receiver\] [0-9]+ recvmsg\(.*cmsg_type=SCM_RIGHTS, cmsg_data=\[[0-9]+<.*/file.txt>\]'
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
        refute_line --regexp '^\[[a-z_]+\] [0-9]+ write\(2<'
    done
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

# pane TARGET: the text tmux shows in pane TARGET (session:window.pane).
pane() { tmux capture-pane -p -J -t "$1"; }

# wait_pane TARGET REGEX: wait (5 s at most) until pane TARGET shows a line matching REGEX.
wait_pane() {
    local tries=250
    while (( tries-- > 0 )); do
        pane "$1" | grep -Eq -- "$2" && return 0
        sleep 0.02
    done
    fail "pane $1 never showed /$2/; it shows:
$(pane "$1")"
}

@test "panes: PANES=1 opens the pair side by side in tmux, typed as the README says, and it works" {
    run timeout 20 make -s --no-print-directory -C "$ROOT" demo-fifo PANES=1 </dev/null 3>&-
    assert_success
    assert_output --partial "tmux session ipclab-fifo is ready; attach with: tmux attach -t ipclab-fifo"
    [[ $(tmux list-panes -t ipclab-fifo | wc -l) == 2 ]]
    wait_pane ipclab-fifo:0.0 '\./fifo/fifo_reader$'
    wait_pane ipclab-fifo:0.1 '\./fifo/fifo_writer$'
    wait_pane ipclab-fifo:0.0 '^fifo_reader: a writer has opened '
    wait_pane ipclab-fifo:0.1 '^fifo_writer: a reader has opened '
    # the student types into the writer's pane; the reader's pane prints it
    tmux send-keys -t ipclab-fifo:0.1 -l 'typed in pane 2'
    tmux send-keys -t ipclab-fifo:0.1 Enter
    wait_pane ipclab-fifo:0.0 '^typed in pane 2$'
    tmux send-keys -t ipclab-fifo:0.1 C-d
    wait_pane ipclab-fifo:0.0 '^fifo_reader: the writer closed .*: 16 bytes received$'
    wait_until 5 run_dir_is_empty

    # a second one while the first is open is refused, with what to do
    run timeout 10 "$ROOT/scripts/panes.sh" fifo </dev/null 3>&-
    assert_failure 1
    assert_output --partial "a tmux session ipclab-fifo is already open: tmux attach -t ipclab-fifo"
}

@test "panes: a socket client is started once its server is ready; Ctrl-C in the server's pane ends both" {
    run timeout 20 "$ROOT/scripts/panes.sh" unixsock </dev/null 3>&-
    assert_success
    wait_pane ipclab-unixsock:0.0 '^unix_stream_server: ready '
    wait_pane ipclab-unixsock:0.1 '^unix_stream_client: connected to '
    tmux send-keys -t ipclab-unixsock:0.1 -l 'hello server'
    tmux send-keys -t ipclab-unixsock:0.1 Enter
    wait_pane ipclab-unixsock:0.1 '^HELLO SERVER$'
    tmux send-keys -t ipclab-unixsock:0.0 C-c
    wait_pane ipclab-unixsock:0.0 'SIGINT: cleaned up, leaving'
    wait_pane ipclab-unixsock:0.1 'unix_stream_client: the server'
    wait_until 5 run_dir_is_empty
}

@test "panes: pipe's second pane gets the command that lists both processes' descriptors" {
    run timeout 20 "$ROOT/scripts/panes.sh" pipe </dev/null 3>&-
    assert_success
    wait_pane ipclab-pipe:0.0 '^pipe_oneway: parent [0-9]+ writes, child [0-9]+ reads'
    # shellcheck disable=SC2016 # a command line, not to expand
    wait_pane ipclab-pipe:0.1 'for p in \$\(pgrep -u "\$\(id -u\)" -x pipe_oneway\); do ls -l /proc/\$p/fd; done$'
    # typed, not run: the student presses Enter; then both ends of one pipe show
    tmux send-keys -t ipclab-pipe:0.1 Enter
    # The parent writes on 4, the child reads on 3: one pipe, and the pane shows it twice.
    local parent child pipe
    read -r parent child < <(pane ipclab-pipe:0.0 | sed -n 's/.*parent \([0-9]*\) writes, child \([0-9]*\) reads/\1 \2/p')
    pipe=$(readlink "/proc/$parent/fd/4")
    [[ $pipe == pipe:* && $(readlink "/proc/$child/fd/3") == "$pipe" ]]
    wait_pane ipclab-pipe:0.1 " 4 -> '?${pipe//[/\\[}"
    wait_pane ipclab-pipe:0.1 " 3 -> '?${pipe//[/\\[}"
    tmux send-keys -t ipclab-pipe:0.0 C-d
    wait_pane ipclab-pipe:0.0 'child: end of data'
}

@test "panes: inside tmux it splits the current window, the student's pane kept above the two sides" {
    tmux new-session -d -s outer -x 200 -y 50 -c "$ROOT" 3>&-
    tmux send-keys -t outer -l "scripts/panes.sh msgq; echo panes-status=\$?"
    tmux send-keys -t outer Enter
    wait_pane outer:0.0 '^panes-status=0$'
    [[ $(tmux list-panes -t outer | wc -l) == 3 ]]
    wait_pane outer:0.1 '^msgq_recv: ready '
    wait_pane outer:0.2 '^msgq_send: ready '
    # side by side: the two sides share a top edge, below the student's pane
    run tmux list-panes -t outer -F '#{pane_index} #{pane_top} #{pane_left}'
    local top1 top2 left2
    read -r _ top1 _ < <(sed -n 2p <<<"$output")
    read -r _ top2 left2 < <(sed -n 3p <<<"$output")
    (( top1 > 0 && top1 == top2 && left2 > 0 ))
    tmux send-keys -t outer:0.2 -l 'one message'
    tmux send-keys -t outer:0.2 Enter C-d
    wait_pane outer:0.1 '^one message$'
    wait_pane outer:0.1 'msgq_recv: end message'
    wait_until 5 run_dir_is_empty
}

@test "panes: without tmux it says how to get it and what to type into two terminals" {
    PATH=$(without tmux) run timeout 10 "$ROOT/scripts/panes.sh" fifo
    assert_failure 1
    assert_output --partial "this needs tmux, which is not installed here: sudo apt-get install tmux"
    assert_output --partial "terminal 1:  ./fifo/fifo_reader"
    assert_output --partial "terminal 2:  ./fifo/fifo_writer"
    run timeout 5 "$ROOT/scripts/panes.sh" nosuch
    assert_failure 2
}
