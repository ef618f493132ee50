# shellcheck shell=bash
# tests/faults_helper.bash - loaded by tests/faults.bats and tests/faults-sysv.bats: a 1 MiB
# transfer through a pair, a side killed at a random point of it, and what the other side does.
#
# A pair is a function start_<pair> N that starts run N of it in the test's run directory: the
# side fed on fd 5 (start_fed) is named fN, the other oN.  It sets
#   FPID, OPID   the two processes (for a fork demo, parent and child of one program)
#   OUT          the side whose stdout carries the data (fN for an echo, oN for a one-way pair)
#   ECHO         1 if the data comes back upper-cased (the echo servers, the duplex demos)
#   SERVES       1 if the other side is a server, which outlives a client and goes on serving;
#                2 if it is a datagram server, which has no connection to see end (it only
#                has to go on waiting, asleep)
#   FED          0 if the pair reads no input (fd_sender passes a file): no quiet run
# and, for a stalled run (STALL=1), opens the data's stdout as a FIFO that the test reads on
# fd 7: the side that prints blocks once the test stops reading.
#
# The points where a side is killed:
#   quiet    K bytes fed and printed; the sender waits for input, the receiver for data
#   stalled  all 1 MiB fed; the test has read K bytes of the output and stopped, so every
#            buffer between the two sides is full and both are blocked
# K is random, below 1 MiB - 256 KiB (the test's failure message gives it): what is not yet read
# out is more than all the buffers on the way hold (a pipe or FIFO holds 64 KiB, a System V queue
# 16 KiB ...), so in a stalled run the sender is blocked too, never already done.  After the kill
# the survivor is given what makes it notice (more input; the rest of its output read), and must
# then end within 2 s with a message, or, a server, say so and wait again; while it does, it must
# not spin.

DATA_BYTES=$((1 << 20))

faults_setup() {
    ipclab_setup
    DATA=$BATS_TEST_TMPDIR/data.bin
    random_file "$DATA" "$DATA_BYTES"
    head -c 65536 /dev/urandom >"$BATS_TEST_TMPDIR/more.bin"
}

# child_of PID: PID's child process (a fork demo's child), once there is one; nothing if PID
# ends first.
child_of() {
    local tries=250 pid
    while (( tries-- > 0 )); do
        pid=$(pgrep -o -P "$1") && { echo "$pid"; return 0; }
        is_alive "$1" || return 0
        sleep 0.02
    done
    fail "process $1 had no child process within 5 s"
}

# prog_pid NAME: the program a side runs (the child of its timeout backstop); nothing if the
# side has already ended (an fd_sender whose receiver was quick).
prog_pid() {
    child_of "$(pgid_of "$1")"
}

# random_point BELOW: a random byte count from 4096 to BELOW + 4095.
random_point() {
    echo $(( (RANDOM * 32768 + RANDOM) % $1 + 4096 ))
}

# printed BYTES: the side that prints the data has printed BYTES of it.
printed() {
    (( $(stat -c %s "$LOG/$OUT.out") >= $1 ))
}

# wait_printed BYTES: wait until it has.
wait_printed() {
    ipclab_poll 20 printed "$1" ||
        fail "$(stat -c %s "$LOG/$OUT.out") bytes printed, not $1, in 20 s; the sides:$(sides_now)"
}

# more_lines FILE N: FILE has more than N lines.
more_lines() {
    (( $(wc -l <"$1") > $2 ))
}

# assert_whole N WHAT: run N (its data all fed) ends well -- the fed side with 0, the other
# with 0, or a server by SIGTERM -- and the data printed is the 1 MiB, whole (upper-cased by an
# echo).
assert_whole() {
    local n=$1 what=$2 want
    want=$(if (( ECHO )); then LC_ALL=C tr '[:lower:]' '[:upper:]' <"$DATA"; else cat "$DATA"; fi | cksum)
    wait_printed "$DATA_BYTES"
    assert_exit "f$n" 0 10
    if (( SERVES )); then
        kill -TERM "$OPID"
        assert_exit "o$n" $((128 + 15)) 5
    elif [[ -e $LOG/o$n.pgid ]]; then
        assert_exit "o$n" 0 10
    fi
    [[ $(cksum <"$LOG/$OUT.out") == "$want" ]] || fail "$what: the data arrived damaged"
}

# cpu_ticks PID: the CPU time PID has used, in clock ticks (utime + stime).
cpu_ticks() {
    proc_stat "$1" && echo $(( STAT[11] + STAT[12] ))
}

# stdout_for NAME: before a stalled run's side NAME starts, make its stdout a FIFO, which the
# test holds on fd 7 (read-write, so that opening it waits for nobody) and reads at its pace.
stdout_for() {
    if (( ${STALL:-0} )); then
        mkfifo "$LOG/$1.out"
        exec 7<>"$LOG/$1.out"
    fi
    return 0
}

# feed_all: the fed side's whole input, in the background.  (Each background helper keeps only
# the descriptor it uses of fd 5, the fed side's input, and fd 7, the stalled output: one more
# holder of fd 5 and the fed side never sees the end of its input.)
feed_all() {
    (timeout 20 cat "$DATA" >&5) 2>/dev/null 3>&- 7<&- &
}

# watch_survivor PID ERR-FILE LINES-BEFORE WHAT: PID (the survivor) must end within 2 s, with a
# new line on ERR-FILE (its message), using at most 0.2 s of CPU from now on (no spinning).
# WHAT names the case in failure messages.
watch_survivor() {
    local pid=$1 err=$2 before=$3 what=$4 t0=-1 last=0 tries=100
    while proc_stat "$pid" && [[ ${STAT[0]} != Z ]]; do
        last=$(( STAT[11] + STAT[12] ))
        (( t0 >= 0 )) || t0=$last
        (( tries-- > 0 )) || fail "$what: the survivor (pid $pid) still runs 2 s later; its stderr: $(cat "$err")"
        sleep 0.02
    done
    (( t0 < 0 || last - t0 <= 20 )) ||
        fail "$what: the survivor used $(( (last - t0) * 10 )) ms of CPU after the kill: it spins"
    more_lines "$err" "$before" ||
        fail "$what: the survivor ended without a word; its stderr: $(cat "$err")"
}

# watch_server PID ERR-FILE LINES-BEFORE WHAT: a server survivor says within 2 s that its client
# has gone (a stream server), then waits in the kernel (asleep) with at most 0.2 s of CPU used
# since the kill; then it must end cleanly on SIGTERM.
watch_server() {
    local pid=$1 err=$2 before=$3 what=$4 t0
    t0=$(cpu_ticks "$pid")
    if (( SERVES == 1 )); then
        ipclab_poll 2 more_lines "$err" "$before" ||
            fail "$what: the server said nothing within 2 s of its client's end; its stderr: $(cat "$err")"
    fi
    wait_until 2 state_is "$pid" S
    (( $(cpu_ticks "$pid") - t0 <= 20 )) ||
        fail "$what: the server used $(( ($(cpu_ticks "$pid") - t0) * 10 )) ms of CPU after its client's end"
    kill -TERM "$pid"
    wait_gone "$pid" 2
}

# killed_run PAIR N SIDE MODE: run N of PAIR, MODE quiet or stalled; SIGKILL SIDE (f or o) at a
# random point; check the survivor.
killed_run() {
    local pair=$1 n=$2 side=$3 mode=$4 k what victim survivor err before
    STALL=0
    [[ $mode == stalled ]] && STALL=1
    k=$(random_point $((DATA_BYTES - 262144)))
    what="$pair run $n: $mode, SIGKILL to the $([[ $side == f ]] && echo fed || echo other) side after $k bytes"
    "start_$pair" "$n"
    if (( STALL )); then
        (( FED )) && feed_all
        head -c "$k" <&7 >/dev/null
        # every buffer is full: the side that prints is blocked writing it
        wait_until 5 state_is "$FPID" S
    else
        (( FED )) || fail "$pair has no input to feed: no quiet run"
        head -c "$k" "$DATA" >&5
        wait_printed "$k"
    fi
    if [[ $side == f ]]; then victim=$FPID survivor=$OPID; else victim=$OPID survivor=$FPID; fi
    # the survivor's stderr: the other side's, unless the survivor is the fed side or both are
    # one program (a fork demo)
    err=$LOG/f$n.err
    [[ $survivor == "$OPID" && -e $LOG/o$n.err ]] && err=$LOG/o$n.err
    before=$(wc -l <"$err")
    kill -KILL "$victim"
    # What makes the survivor notice: its output read on (a stalled run), more input (a quiet
    # run whose fed side survives), or the end of its input.
    local drain=
    if (( STALL )); then
        (timeout 10 cat <&7 >/dev/null) 3>&- 5>&- &
        drain=$!
        exec 7<&-
    elif [[ $survivor == "$FPID" ]]; then
        (timeout 10 cat "$BATS_TEST_TMPDIR/more.bin" >&5) 2>/dev/null 3>&- 7<&- &
    fi
    exec 5>&-
    if [[ $survivor == "$OPID" ]] && (( SERVES )); then
        watch_server "$survivor" "$err" "$before" "$what"
    else
        watch_survivor "$survivor" "$err" "$before" "$what"
    fi
    # both sides' wrappers have their status (a fork demo's other process too: it is gone)
    local name
    for name in "f$n" "o$n"; do
        [[ -e $LOG/$name.pgid ]] && wait_exit "$name" 5
    done
    # the drain holds the FIFO open for writing too (fd 7 was read-write): it never sees EOF
    [[ -z $drain ]] || kill "$drain" 2>/dev/null || true
    return 0
}

# full_run PAIR N: the whole 1 MiB through PAIR, after the killed runs (in the same run
# directory): both sides end well, the data arrives intact.
full_run() {
    local pair=$1 n=$2
    STALL=0
    "start_$pair" "$n"
    if (( FED )); then
        feed_all
        exec 5>&-
    fi
    assert_whole "$n" "$pair run $n, after the kills"
}

# faults PAIR [stalled-only]: four killed runs (each side, quiet and stalled), then a whole
# run; only the stalled ones for a pair that reads no input.
faults() {
    local n=0
    if [[ ${2:-} != stalled-only ]]; then
        killed_run "$1" $((++n)) f quiet
        killed_run "$1" $((++n)) o quiet
    fi
    killed_run "$1" $((++n)) f stalled
    killed_run "$1" $((++n)) o stalled
    full_run "$1" $((++n))
}

# stopped_run PAIR N SIDE: SIGSTOP SIDE (f or o) after a random part of the 1 MiB; while it is
# stopped the other side must wait asleep in the kernel and use no CPU (measured over 0.2 s: a
# measurement, not a wait for anything); after SIGCONT both finish, and the data is whole.
# SYSV_QUEUE_FULL=1 (msgq): the sender must block on the full queue, which holds msgmnb bytes.
stopped_run() {
    local pair=$1 n=$2 side=$3 k victim other t0 t1 what
    STALL=0
    "start_$pair" "$n"
    k=$(random_point $((DATA_BYTES / 2)))
    what="$pair run $n: SIGSTOP to the $([[ $side == f ]] && echo fed || echo other) side after $k bytes"
    head -c "$k" "$DATA" >&5
    wait_printed "$k"
    if [[ $side == f ]]; then victim=$FPID other=$OPID; else victim=$OPID other=$FPID; fi
    kill -STOP "$victim"
    (tail -c +$((k + 1)) "$DATA" | timeout 20 cat >&5) 2>/dev/null 3>&- 7<&- &
    exec 5>&-
    # the other side runs out of data, or of room, and sleeps in the kernel
    wait_until 5 state_is "$other" S
    if (( ${SYSV_QUEUE_FULL:-0} )); then
        wait_blocked_in "$other" '^do_msgsnd$'
        local mnb bytes
        mnb=$(cat /proc/sys/kernel/msgmnb)
        bytes=$(awk -v id="$QUEUE_ID" '$2 == id { print $4 }' /proc/sysvipc/msg) # cbytes
        (( bytes > mnb - 8192 )) || fail "$what: the sender waits, but the queue holds $bytes bytes of $mnb"
    fi
    t0=$(cpu_ticks "$other")
    sleep 0.2
    t1=$(cpu_ticks "$other")
    (( t1 - t0 <= 3 )) || fail "$what: the other side used $(( (t1 - t0) * 10 )) ms of CPU in 0.2 s while it waited"
    state_is "$victim" T || fail "$what: the stopped side is not stopped"
    kill -CONT "$victim"
    assert_whole "$n" "$what"
}

# stops PAIR: SIGSTOP each side in turn (two runs, numbered on from the last: several pairs
# can share a test).
stops() {
    stopped_run "$1" $((++RUNS)) f
    stopped_run "$1" $((++RUNS)) o
}
RUNS=0

# streaming N READER [ARGS] -- WRITER [ARGS]: run N of a pair at full speed: the reader (or
# server, oN) started and ready, then the writer (or client, fN) with stdin /dev/zero, both
# printing into /dev/null -- so no read() or write() of theirs waits, and none fails with EINTR.
# (READER_IN=/dev/zero: the reader's stdin too, for the chats, where both sides type.)
# Returns once data flows (the reader has used 50 ms of CPU); OPID and FPID are the two.
streaming() {
    local n=$1 reader=()
    shift
    while [[ $1 != -- ]]; do
        reader+=("$1")
        shift
    done
    shift
    ln -s /dev/null "$LOG/o$n.out"
    ln -s /dev/null "$LOG/f$n.out"
    start_side "o$n" "${READER_IN:-/dev/null}" "${reader[@]}"
    wait_ready "o$n"
    start_side "f$n" /dev/zero "$@"
    # shellcheck disable=SC2153 # PID is test_helper.bash's
    OPID=${PID[o$n]} FPID=$(prog_pid "f$n")
    wait_until 5 cpu_at_least "$OPID" 5
}

# cpu_at_least PID TICKS: PID has used at least TICKS clock ticks of CPU.
cpu_at_least() {
    (( $(cpu_ticks "$1") >= $2 ))
}

# signal_streaming N SIDE SIGNAL: SIGNAL (INT, TERM or HUP) to side SIDE (f or o) of run N
# while data streams: it must die of SIGNAL within 2 s (DESIGN: 0.5 s; the rest is for a loaded
# machine), saying it cleaned up; the other side then ends within 2 s too, unless it is a
# server (SERVES=1), which goes on and ends on SIGTERM.  Teardown checks that nothing is left.
signal_streaming() {
    local n=$1 side=$2 sig=$3 other=o
    [[ $side == o ]] && other=f
    kill -"$sig" "$([[ $side == o ]] && echo "$OPID" || echo "$FPID")"
    ipclab_wait_file "$LOG/$side$n.status" 2 ||
        fail "run $n: SIG$sig to side $side: still running 2 s later;$(sides_now)"
    assert_exit "$side$n" $((128 + $(kill -l "$sig")))
    run cat "$LOG/$side$n.err"
    assert_line --partial ": SIG$sig: cleaned up, leaving"
    if [[ $other == o ]] && (( ${SERVES:-0} )); then
        kill -TERM "$OPID"
        assert_exit "o$n" $((128 + 15)) 2
    else
        wait_exit "$other$n" 2
    fi
}

# past_fsize PAIR N: run N of PAIR with both sides started under `ulimit -S -f 64` (64 KiB, in
# bash's blocks of 1024 bytes); the side that prints the 1 MiB passes the limit.  SIGXFSZ
# would kill it without a word (and leave what it made): it must say "File too large" and exit
# 1; the other side must end or, a server, end on SIGTERM; then nothing of the pair is left.
past_fsize() {
    local pair=$1 n=$2 name
    ulimit -S -f 64
    "start_$pair" "$n"
    ulimit -S -f unlimited
    if (( FED )); then
        feed_all
    fi
    exec 5>&-
    assert_exit "$OUT" 1 10
    grep -q 'File too large' "$LOG/$OUT.err" ||
        fail "$pair: $OUT exited 1 without naming the limit; its stderr: $(cat "$LOG/$OUT.err")"
    for name in "f$n" "o$n"; do
        [[ -e $LOG/$name.pgid && ! -e $LOG/$name.status ]] && (( SERVES )) &&
            kill -TERM -- "-$(pgid_of "$name")"
        [[ -e $LOG/$name.pgid ]] && wait_exit "$name" 5
    done
    assert_run_dir_empty
    assert_nothing_left
}
