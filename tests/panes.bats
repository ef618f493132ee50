#!/usr/bin/env bats
# tests/panes.bats - scripts/panes.sh (make demo-<mechanism> PANES=1): a pair's two sides side
# by side in tmux, driven here as a student would, with send-keys, and read with capture-pane.
# Every test has a tmux server of its own (TMUX_TMPDIR), never the student's.

load test_helper

setup() {
    ipclab_setup
    export TMUX_TMPDIR=$BATS_TEST_TMPDIR/tmux
    mkdir -m 700 "$TMUX_TMPDIR"
    unset TMUX
    # tmux's shells read no rc file of the machine's: what the panes show does not depend on it,
    # and on a machine whose ~/.bashrc starts a version manager (pyenv init) each shell took
    # half a second of CPU before its prompt.
    export HOME=$BATS_TEST_TMPDIR
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

# pane TARGET: the text tmux shows in pane TARGET (session:window.pane).
pane() { tmux capture-pane -p -J -t "$1"; }

# pane_shows TARGET REGEX: pane TARGET shows a line matching REGEX now.
pane_shows() { pane "$1" | grep -Eq -- "$2"; }

# wait_pane TARGET REGEX: wait (5 s at most) until pane TARGET shows a line matching REGEX.
wait_pane() {
    ipclab_poll 5 pane_shows "$1" "$2" || fail "pane $1 never showed /$2/; it shows:
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
    # Another pipe_oneway of the same user, older and on no terminal: not the left pane's, so
    # not listed (looked up by user alone, it would be taken for the parent: the oldest).
    start_fed other "$BIN/pipe/pipe_oneway"
    wait_line other 'parent [0-9]+ writes'
    # 5>&-: the tmux server it starts must not keep the other's stdin open (no end of input)
    run timeout 20 "$ROOT/scripts/panes.sh" pipe </dev/null 3>&- 5>&-
    assert_success
    wait_pane ipclab-pipe:0.0 '^pipe_oneway: parent [0-9]+ writes, child [0-9]+ reads'
    # shellcheck disable=SC2016 # a command line, not to expand
    wait_pane ipclab-pipe:0.1 'pgrep -o -t pts/[0-9]+ -f .*pipe_oneway.*ls -l /proc/\$c/fd'
    # typed, not run: the student presses Enter; then both ends of one pipe show
    tmux send-keys -t ipclab-pipe:0.1 Enter
    # The parent writes on 4, the child reads on 3: one pipe, and the pane shows it twice.
    local parent child pipe
    read -r parent child < <(pane ipclab-pipe:0.0 | sed -n 's/.*parent \([0-9]*\) writes, child \([0-9]*\) reads/\1 \2/p')
    pipe=$(readlink "/proc/$parent/fd/4")
    [[ $pipe == pipe:* && $(readlink "/proc/$child/fd/3") == "$pipe" ]]
    wait_pane ipclab-pipe:0.1 "^child $child:$"
    pane_shows ipclab-pipe:0.1 "^parent $parent:$"
    pane_shows ipclab-pipe:0.1 " 4 -> '?${pipe//[/\\[}"
    pane_shows ipclab-pipe:0.1 " 3 -> '?${pipe//[/\\[}"
    # under its heading: the parent's listing holds the write end, the child's the read end
    pane ipclab-pipe:0.1 | sed -n "/^parent $parent:/,/^child /p" | grep -q " 4 -> '\\?pipe:"
    pane ipclab-pipe:0.1 | sed -n "/^child $child:/,\$p" | grep -q " 3 -> '\\?pipe:"
    # nothing of the other pipe_oneway
    local other_parent
    other_parent=$(parent_pid other)
    [[ -n $other_parent ]]
    if pane_shows ipclab-pipe:0.1 "^(parent|child) $other_parent:"; then
        fail "the other pipe_oneway ($other_parent), on no terminal, was listed too: $(pane ipclab-pipe:0.1)"
    fi
    tmux send-keys -t ipclab-pipe:0.0 C-d
    wait_pane ipclab-pipe:0.0 'child: end of data'
    exec 5>&- # Ctrl-D for the other one
    wait_exit other
}

@test "panes: socketpair's descriptors are listed though its name is over the kernel's 15 bytes" {
    # /proc/PID/comm is socketpair_dupl: pgrep -x socketpair_duplex finds nothing (and says so)
    run timeout 20 "$ROOT/scripts/panes.sh" socketpair </dev/null 3>&-
    assert_success
    wait_pane ipclab-socketpair:0.0 '^socketpair_duplex: parent [0-9]+ \(sv\[0\]\) talks to child'
    local parent child
    read -r parent child < <(pane ipclab-socketpair:0.0 | sed -n 's/.*parent \([0-9]*\) (sv\[0\]) talks to child \([0-9]*\).*/\1 \2/p')
    wait_pane ipclab-socketpair:0.1 'socketpair_duplex.*/fd'
    tmux send-keys -t ipclab-socketpair:0.1 Enter
    wait_pane ipclab-socketpair:0.1 "^child $child:$"
    pane_shows ipclab-socketpair:0.1 "^parent $parent:$"
    wait_pane ipclab-socketpair:0.1 " 4 -> '?socket:\[$(stat -L -c %i "/proc/$child/fd/4")\]"
    pane_shows ipclab-socketpair:0.1 " 3 -> '?socket:\[$(stat -L -c %i "/proc/$parent/fd/3")\]"
    if pane_shows ipclab-socketpair:0.1 'pgrep: pattern that searches'; then
        fail "pgrep refused the name: $(pane ipclab-socketpair:0.1)"
    fi
    tmux send-keys -t ipclab-socketpair:0.0 C-d
    wait_pane ipclab-socketpair:0.0 'child: end of data'
}

@test "panes: inside tmux it splits the current window, the student's pane kept above the two sides" {
    tmux new-session -d -s outer -x 200 -y 50 -c "$ROOT" 3>&-
    wait_pane outer:0.0 '[$#] *$' # the shell's prompt: what is typed before it may print after it
    tmux send-keys -t outer -l "scripts/panes.sh fifo; echo panes-status=\$?"
    tmux send-keys -t outer Enter
    wait_pane outer:0.0 '^panes-status=0$'
    [[ $(tmux list-panes -t outer | wc -l) == 3 ]]
    wait_pane outer:0.1 '^fifo_reader: a writer has opened '
    wait_pane outer:0.2 '^fifo_writer: a reader has opened '
    # side by side: the two sides share a top edge, below the student's pane
    run tmux list-panes -t outer -F '#{pane_index} #{pane_top} #{pane_left}'
    local top1 top2 left2
    read -r _ top1 _ < <(sed -n 2p <<<"$output")
    read -r _ top2 left2 < <(sed -n 3p <<<"$output")
    (( top1 > 0 && top1 == top2 && left2 > 0 ))
    tmux send-keys -t outer:0.2 -l 'one line'
    tmux send-keys -t outer:0.2 Enter C-d
    wait_pane outer:0.1 '^one line$'
    wait_pane outer:0.1 'fifo_reader: the writer closed'
    wait_until 5 run_dir_is_empty
}

@test "panes: inside tmux it splits the pane it was typed in, and the panes get the student's IPCLAB_DIR" {
    # The tmux server starts with the test's IPCLAB_DIR; the student's shell then sets another:
    # the panes must meet in the student's, which the server's environment knows nothing of.
    tmux new-session -d -s outer -x 200 -y 50 -c "$ROOT" 3>&-
    tmux new-window -d -t outer:1 -c "$ROOT" # a second window, made current below
    local mine=$LOG/students-run
    wait_pane outer:0.0 '[$#] *$' # the shell's prompt, as above
    tmux send-keys -t outer:0 -l "export IPCLAB_DIR=$mine; scripts/panes.sh fifo; echo panes-status=\$?"
    tmux select-window -t outer:1
    tmux send-keys -t outer:0 Enter
    wait_pane outer:0.0 '^panes-status=0$'
    # split where it was typed (window 0), not in the session's current window (1)
    [[ $(tmux list-panes -t outer:0 | wc -l) == 3 ]]
    [[ $(tmux list-panes -t outer:1 | wc -l) == 1 ]]
    wait_pane outer:0.1 '^fifo_reader: a writer has opened '
    wait_pane outer:0.2 '^fifo_writer: a reader has opened '
    [[ -p $mine/fifo && ! -e $RUN_DIR/fifo ]]
    tmux send-keys -t outer:0.2 C-d
    wait_pane outer:0.1 'fifo_reader: the writer closed'
    wait_until 5 test ! -e "$mine/fifo"
}

@test "panes: outside tmux, with a tmux server already running, the new session gets the student's IPCLAB_DIR" {
    local theirs=$LOG/servers-run mine=$LOG/students-run
    mkdir -m 700 "$theirs"
    IPCLAB_DIR=$theirs tmux new-session -d -s earlier 3>&- # the server keeps this environment
    IPCLAB_DIR=$mine run timeout 20 "$ROOT/scripts/panes.sh" fifo </dev/null 3>&-
    assert_success
    wait_pane ipclab-fifo:0.0 '^fifo_reader: a writer has opened '
    [[ -p $mine/fifo ]]
    [[ -z $(ls -A "$theirs") ]]
    tmux send-keys -t ipclab-fifo:0.1 C-d
    wait_pane ipclab-fifo:0.0 'fifo_reader: the writer closed'
    wait_until 5 test ! -e "$mine/fifo"
}

@test "panes: without tmux it says how to get it and what to type into two terminals" {
    PATH=$(without tmux) run timeout 10 "$ROOT/scripts/panes.sh" fifo
    assert_failure 1
    assert_output --partial "this needs tmux, which is not installed here: sudo apt-get install tmux"
    assert_output --partial "terminal 1:  ./fifo/fifo_reader"
    assert_output --partial "terminal 2:  ./fifo/fifo_writer"
    run timeout 5 "$ROOT/scripts/panes.sh" nosuch
    assert_failure 2
    # every mechanism has its pair
    local mech
    for mech in $(make -s --no-print-directory -C "$ROOT" print-mechanisms); do
        PATH=$(without tmux) run timeout 10 "$ROOT/scripts/panes.sh" "$mech"
        assert_failure 1
        assert_output --regexp "terminal 1:  ./$mech/[a-z_]+"
    done
}
