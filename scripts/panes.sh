#!/usr/bin/env bash
# scripts/panes.sh - two terminals in one: a pair's two sides side by side in tmux.
#
#   scripts/panes.sh MECHANISM        the pair its README runs first (make demo-MECHANISM PANES=1)
#   scripts/panes.sh 'CMD1' 'CMD2'    any two commands, e.g. './fifo/fifo_chat a' './fifo/fifo_chat b'
#
# Each side gets a pane with your shell, at the top of the tree, and its command typed into it
# as the README says to type it; then the panes are yours: type lines, press Ctrl-D or Ctrl-C,
# run the command again (up arrow).  A socket server's client is typed in once the server's
# ready line shows (a client needs a listening server).  For pipe and socketpair, whose two
# sides are one program's parent and child, the right pane gets a command that lists both
# processes' descriptors, parent then child, typed but not run: press Enter once the left side
# is running.
#
# Outside tmux it opens a session named ipclab-MECHANISM and attaches to it (detach: Ctrl-b d;
# close: exit both shells, or `tmux kill-session -t ipclab-MECHANISM`).  Run without a terminal,
# it leaves the session detached and says how to attach.  Inside tmux it splits the pane you
# typed it in: your pane stays on top, the two sides go side by side below it.  Either way the
# panes get your IPCLAB_DIR and XDG_RUNTIME_DIR, so that they meet in your run directory.  Without tmux it says
# how to get it, and what to type into two terminals instead.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

usage="usage: scripts/panes.sh MECHANISM | scripts/panes.sh 'COMMAND 1' 'COMMAND 2'"

# fds_of PROGRAM TTY: a command that lists the descriptors of PROGRAM, parent then child, as
# run on the terminal TTY (the left pane's): the oldest process there whose command line runs
# PROGRAM is the parent (pgrep -o), its child is the one the parent forked (pgrep -P).  By
# command line (-f), not by name: the kernel keeps only 15 bytes of a process's name
# (/proc/PID/comm, "socketpair_dupl"), and pgrep -x matches nothing longer.  On that terminal
# only (-t): another pipe_oneway of yours, elsewhere, is not this one.
fds_of() {
    # shellcheck disable=SC2016 # expanded by the pane's shell, not here
    printf 'p=$(pgrep -o -t %s -f "(^|/)%s( |$)") && c=$(pgrep -P $p) && echo "parent $p:" && ls -l /proc/$p/fd && echo "child $c:" && ls -l /proc/$c/fd || echo "no %s running in the left pane"' "$2" "$1" "$1"
}

# The first pair each README runs in two terminals; "wait" marks a client that needs its
# server's ready line, "fds" a program whose descriptors the right pane is to list (fds_of:
# typed, not run).
declare -A LEFT=(
    [pipe]=./pipe/pipe_oneway
    [socketpair]=./socketpair/socketpair_duplex
    [fifo]=./fifo/fifo_reader
    [msgq]=./msgq/msgq_recv
    [shm]=./shm/shm_reader
    [unixsock]=./unixsock/unix_stream_server
    [inetsock]=./inetsock/tcp_server
    [fdpass]=./fdpass/fd_receiver
)
declare -A RIGHT=(
    [pipe]="fds pipe_oneway"
    [socketpair]="fds socketpair_duplex"
    [fifo]="run ./fifo/fifo_writer"
    [msgq]="run ./msgq/msgq_send"
    [shm]="run ./shm/shm_writer"
    [unixsock]="wait ./unixsock/unix_stream_client"
    [inetsock]="wait ./inetsock/tcp_client"
    [fdpass]="wait ./fdpass/fd_sender -n 20 README.md"
)

case $# in
1)
    [[ $1 == -h || $1 == --help ]] && { echo "$usage"; exit 0; }
    mech=$1
    [[ -n ${LEFT[$mech]:-} ]] || { echo "panes: no pair for '$mech'" >&2; echo "$usage" >&2; exit 2; }
    left=${LEFT[$mech]}
    right_how=${RIGHT[$mech]%% *}
    right=${RIGHT[$mech]#* }
    name=ipclab-$mech
    ;;
2)
    left=$1 right=$2 right_how=run name=ipclab-pair
    ;;
*)
    echo "$usage" >&2
    exit 2
    ;;
esac

if ! command -v tmux >/dev/null; then
    echo "panes: this needs tmux, which is not installed here: sudo apt-get install tmux" >&2
    echo "panes: or open two terminals at $ROOT and type" >&2
    echo "    terminal 1:  $left" >&2
    if [[ $right_how == fds ]]; then
        echo "    terminal 2:  ls -l /proc/PARENT/fd /proc/CHILD/fd   (the pids $left prints)" >&2
    else
        echo "    terminal 2:  $right" >&2
    fi
    exit 1
fi

make -s --no-print-directory -C "$ROOT" all

# A new pane's shell gets the environment of the tmux server, which is the one of whoever
# started it, perhaps days ago -- not yours.  Both sides must agree on the run directory
# (README.md, "The run directory"), so the variables that choose it are passed on from here.
env=(-e "IPCLAB_DIR=${IPCLAB_DIR:-}" -e "XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-}")

# The two panes: inside tmux, below the pane this was typed in ($TMUX_PANE; without -t, tmux
# would split whichever window of the session is current); else in a new session of their own.
if [[ -n ${TMUX:-} ]]; then
    here=()
    [[ -n ${TMUX_PANE:-} ]] && here=(-t "$TMUX_PANE")
    lpane=$(tmux split-window -v -l 70% "${here[@]}" "${env[@]}" -c "$ROOT" -P -F '#{pane_id}')
    rpane=$(tmux split-window -h -t "$lpane" "${env[@]}" -c "$ROOT" -P -F '#{pane_id}')
else
    if tmux has-session -t "=$name" 2>/dev/null; then
        echo "panes: a tmux session $name is already open: tmux attach -t $name" \
            "(or end it: tmux kill-session -t $name)" >&2
        exit 1
    fi
    lpane=$(tmux new-session -d -s "$name" -x 200 -y 50 "${env[@]}" -c "$ROOT" -P -F '#{pane_id}')
    rpane=$(tmux split-window -h -t "$lpane" "${env[@]}" -c "$ROOT" -P -F '#{pane_id}')
    tmux set-option -t "$name" pane-border-status top >/dev/null
fi
tmux select-pane -t "$lpane" -T "1: $left"
if [[ $right_how == fds ]]; then
    tmux select-pane -t "$rpane" -T "2: the descriptors of $right's two processes"
    tty=$(tmux display-message -p -t "$lpane" '#{pane_tty}')
    right=$(fds_of "$right" "${tty#/dev/}")
else
    tmux select-pane -t "$rpane" -T "2: $right"
fi

# pane_shows PANE REGEX: the text in PANE matches REGEX now.
# (-J: a line the pane is too narrow for comes back whole, not cut where it wrapped.)
pane_shows() { tmux capture-pane -p -J -t "$1" | grep -Eq -- "$2"; }

# type_into PANE COMMAND [Enter]: type COMMAND at the shell's prompt (once the shell has drawn
# it, 5 s at most, so that the command shows after the prompt, as if typed there).
type_into() {
    ipclab_poll 5 pane_shows "$1" '[^[:space:]]' || true
    tmux send-keys -t "$1" -l "$2"
    if [[ -n ${3:-} ]]; then
        tmux send-keys -t "$1" Enter
    fi
}

type_into "$lpane" "$left" Enter
case $right_how in
run) type_into "$rpane" "$right" Enter ;;
wait)
    # A client needs its server: run it once the server's ready line shows, else only type it.
    if ipclab_poll 5 pane_shows "$lpane" ': ready'; then
        type_into "$rpane" "$right" Enter
    else
        type_into "$rpane" "$right"
    fi
    ;;
fds) type_into "$rpane" "$right" ;;
esac
tmux select-pane -t "$rpane"

if [[ -n ${TMUX:-} ]]; then
    exit 0
fi
if [[ -t 0 && -t 1 ]]; then
    exec tmux attach -t "=$name"
fi
echo "panes: tmux session $name is ready; attach with: tmux attach -t $name"
