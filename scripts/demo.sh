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
trap 'rm -rf "$work"' EXIT

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
}

# expect NAME REGEX: wait (at most 5 s) until NAME has printed a line matching REGEX.
expect() {
    ipclab_wait_for "$work/$1.log" "$2" 5 || { echo "demo: $1 never printed /$2/" >&2; exit 1; }
}

# finish NAME...: wait for each side to end; remember a failure.
finish() {
    local name status
    for name in "$@"; do
        ipclab_wait_file "$work/$name.status" 10 || { echo "demo: $name did not end" >&2; exit 1; }
        status=$(cat "$work/$name.status")
        if [[ $status != 0 ]]; then
            echo "demo: $name failed (exit status $status)" >&2
            failed=1
        fi
    done
    wait # the labellers
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

if ! declare -F "demo_$mech" >/dev/null; then
    echo "demo: no demo for '$mech'" >&2
    echo "$usage" >&2
    exit 2
fi
printf '######## %s\n' "$mech"
"demo_$mech"

leftover=$(ls -A "$IPCLAB_DIR")
if [[ -n $leftover ]]; then
    echo "demo: left behind in the run directory: $leftover" >&2
    failed=1
fi
if (( failed )); then
    echo "demo: $mech FAILED" >&2
    exit 1
fi
printf '== %s: done, nothing left behind\n' "$mech"
