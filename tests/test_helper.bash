# shellcheck shell=bash
# shellcheck disable=SC2034 # BIN, PID, SIDE_STATUS, LOG, PYTHON, NO_LSAN, STAT, AS_NOBODY are for
# the .bats files
# tests/test_helper.bash - loaded by every tests/*.bats: run the two sides of a pair as real
# processes, safely.
#
#   ipclab_setup / ipclab_teardown       call from setup() and teardown() (ipclab_setup
#                                        sysv_private: see ipc_left)
#   start_side NAME STDIN PROG [ARGS]    PROG in the background; stdout/stderr in $LOG/NAME.out/.err
#   start_fed NAME PROG [ARGS]           the same, its stdin a FIFO the test types into on fd 5
#   wait_ready NAME                      wait for NAME's "ready" line; PID[NAME] = its pid
#   wait_line NAME REGEX [SECONDS]       wait for a line of NAME's stderr matching REGEX
#   wait_output NAME REGEX [SECONDS]     the same on NAME's stdout
#   parent_pid NAME, child_pid NAME      the pids a fork demo announces on stderr
#   wait_exit NAME [SECONDS]             wait for NAME to end; SIDE_STATUS = its exit status
#   assert_exit NAME STATUS [SECONDS]    wait_exit, then the status must be STATUS
#   wait_gone PID / wait_blocked_in PID RE  wait for a process to end / to sleep in a kernel wait
#   wait_until SECONDS COMMAND...        wait until COMMAND succeeds (lines_matching FILE RE N: one)
#   kill_side NAME SIGNAL                SIGNAL to NAME (KILL: to its whole process group)
#   assert_run_dir_empty                 nothing of ours left in the run directory (teardown
#                                        checks it after every test, once the sides are gone)
#   random_file PATH BYTES               BYTES of random binary (NULs included) in PATH
#   $POSIX                               a POSIX name prefix of the test's own (/ipclab-t...):
#                                        teardown checks /dev/shm and /dev/mqueue for it
#   ipc_now, assert_nothing_left         System V objects and POSIX names the test left behind
#                                        (teardown checks them after every test)
#   without COMMAND                      a PATH directory with every command but COMMAND
#   ready_or_ended NAME                  NAME has printed its ready line, or has ended
#   users_file_left_alone PROG [ARGS]    a file of the user's given as -p is refused, left intact
#   other_dir [MODE]                     OTHER_DIR in /tmp, for a test's other user; removed after
#   limited NAME LIMIT PROG [ARGS]       side NAME with at most LIMIT descriptors (ulimit -n)
#   crowd_waits SERVER JOINED KIND ADDR  70 clients at once on a server short of descriptors

# ipclab_load_library NAME: bats_load_library NAME, without its cost.  bats-support's and
# bats-assert's load.bash run dirname(1) for each file they source, and bats loads this helper
# anew for every test: 13 processes a test, some 2 700 a suite run, on a suite that is short of
# CPU.  So their src/*.bash (all that load.bash sources) are sourced here directly, from where
# bats_load_library would look (BATS_LIB_PATH); anything else is left to bats_load_library.
ipclab_load_library() {
    local dir dirs file
    IFS=: read -ra dirs <<<"${BATS_LIB_PATH:-/usr/lib/bats}"
    for dir in "${dirs[@]}"; do
        [[ -f $dir/$1/load.bash ]] || continue
        [[ -d $dir/$1/src ]] || break
        for file in "$dir/$1"/src/*.bash; do
            # shellcheck source=/dev/null
            source "$file"
        done
        return 0
    done
    bats_load_library "$1"
}
ipclab_load_library bats-support
ipclab_load_library bats-assert

ROOT=${BATS_TEST_DIRNAME%/tests} # BATS_TEST_DIRNAME: the absolute path of tests/
# The programs: $IPCLAB_BIN/<mechanism>/<program> (make test sets it; a sanitizer build can too).
BIN=${IPCLAB_BIN:-$ROOT}
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

# A program run under a tracer (strace, gdb) in a sanitizer build (make sanitize) must skip
# LeakSanitizer: it stops the world with ptrace itself, cannot under another tracer, and then
# fails the program.  `env "$NO_LSAN" strace ...` keeps every other check.
NO_LSAN=ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

# The other user of the hostile-user tests: uid 65534 (nobody), by setpriv; they need root.
AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

# Every process a test starts runs under coreutils timeout: a hang fails the test, never the suite.
BACKSTOP=${IPCLAB_BACKSTOP:-20}

# The hostile peers are python3 snippets: the system's python3 if there is one (Debian's, which
# scripts/bootstrap.sh installs), because a version manager's shim first in PATH (pyenv's, say)
# costs a tenth of a second at every start.
PYTHON=/usr/bin/python3
[[ -x $PYTHON ]] || PYTHON=python3

# ipclab_trace_test_lines: bats runs a DEBUG trap before every command, which records a stack
# trace for the failure report; in the helpers' loops and bats' own run and assert functions,
# it was most of the CPU the suite used (measured: half of tests/faults.bats').  From here on
# the trap records only the commands of the test itself (and of the file's setup and
# teardown), 0.45 ms each: a failure inside a helper -- one of this file's, or one a .bats file
# defines for its tests (measured: 3 700 commands in one test of cli.bats) -- is reported at
# the test's line that called it, with the helper's own message, but without the helper's line.
# Left alone if this bats has no bats_debug_trap.
ipclab_trace_test_lines() {
    [[ -n ${BATS_TEST_SOURCE:-} ]] && declare -F bats_debug_trap >/dev/null || return 0
    # shellcheck disable=SC2016 # expanded when the trap runs
    # (On one line: bash counts the trap's own lines into the line numbers it records.  No =~:
    # it would overwrite the test's BASH_REMATCH before each command.)
    trap 'case $BASH_SOURCE:${FUNCNAME[0]} in "$BATS_TEST_SOURCE:$BATS_TEST_NAME" | "$BATS_TEST_SOURCE:setup" | "$BATS_TEST_SOURCE:teardown") bats_debug_trap "$BASH_SOURCE" ;; esac' DEBUG
}

ipclab_setup() {
    ipclab_trace_test_lines
    # A run directory of the test's own: parallel tests never meet, and a
    # student's demo is never touched.  BATS_TEST_TMPDIR keeps the paths short (sun_path).
    export IPCLAB_DIR="$BATS_TEST_TMPDIR/run"
    RUN_DIR=$IPCLAB_DIR # tests may point IPCLAB_DIR elsewhere; teardown checks this one
    unset XDG_RUNTIME_DIR
    mkdir -m 700 "$IPCLAB_DIR"
    LOG=$BATS_TEST_TMPDIR
    declare -gA PID=()
    declare -ga SIDES=()
    # POSIX names are global, not under the run directory: give the test names of its own
    # (led by scripts/test.sh's IPCLAB_TEST_RUN, its pid: it removes what an interrupted run left).
    POSIX="/ipclab-t${IPCLAB_TEST_RUN:+$IPCLAB_TEST_RUN-}$$-${BATS_TEST_NUMBER}"
    # System V objects are the machine's, not the test's: teardown fails the test only for those
    # it can tell are the test's own (ipc_left), never for one that was there before it began.
    ipc_now
    declare -gA IPC_BEFORE=() TEST_KEYS=() TEST_IDS=()
    local obj
    for obj in "${IPC_NOW[@]}"; do
        IPC_BEFORE[${obj% *}]=1 # "q 42"
    done
    SYSV_PRIVATE=0 # 1 if called as "ipclab_setup sysv_private" (see ipc_left)
    [[ ${1:-} == sysv_private ]] && SYSV_PRIVATE=1
    return 0
}

# The ftok(3) project ids of our programs: 'a' (msgq/msgq.h), 'b' (shm/shm.h) and 's'
# (shm/shm_sem.h).  tests/report.bats checks the list against the sources.
SYSV_PROJECTS=(97 98 115)

# ipc_now: IPC_NOW=(every System V object that exists now, "KIND ID KEY" an element: KIND q
# (queue), m (segment) or s (semaphore set), KEY in unsigned decimal), read from /proc/sysvipc
# (what ipcs reads) with no process: setup and teardown look for every test.
ipc_now() {
    local kind file key id rest i
    IPC_NOW=()
    for kind in q:msg m:shm s:sem; do
        file=/proc/sysvipc/${kind#*:}
        if [[ ! -r $file ]]; then # no /proc/sysvipc: ask ipcs
            mapfile -t IPC_NOW < <(ipcs -q -m -s | awk '/^-+ Message Queues/ { t = "q" }
                /^-+ Shared Memory/ { t = "m" } /^-+ Semaphore/ { t = "s" }
                $2 ~ /^[0-9]+$/ { print t, $2, $1 }')
            for i in "${!IPC_NOW[@]}"; do # ipcs writes the key in hexadecimal
                IPC_NOW[i]="${IPC_NOW[i]% *} $(( ${IPC_NOW[i]##* } ))"
            done
            return 0
        fi
        while read -r key id rest; do
            [[ $id =~ ^[0-9]+$ ]] && IPC_NOW+=("${kind%%:*} $id $(( key & 0xffffffff ))")
        done <"$file"
    done
    return 0
}

# ipc_new: IPC_NEW=(the elements of IPC_NOW, read anew, that were not there when the test began).
ipc_new() {
    local obj
    ipc_now
    IPC_NEW=()
    for obj in "${IPC_NOW[@]}"; do
        [[ -n ${IPC_BEFORE[${obj% *}]:-} ]] || IPC_NEW+=("$obj")
    done
}

# The bash-builtins package's stat (scripts/bootstrap.sh installs it), for ipc_learn_keys: a
# file's inode with no process, at every teardown.  Loaded but disabled (enable -n) outside it:
# elsewhere `stat` is coreutils'.
IPCLAB_STAT_BUILTIN=0
enable -f /usr/lib/bash/stat stat 2>/dev/null && enable -n stat && IPCLAB_STAT_BUILTIN=1

# ipc_learn_keys: add to TEST_KEYS the keys ftok(3) makes, with each of SYSV_PROJECTS, of every
# file now in the test's directories: BATS_TEST_TMPDIR (the run directory, the logs, a lab's
# copy: three levels down), OTHER_DIR, and IPCLAB_DIR if the test moved it.  A key file exists
# only while its programs run: teardown calls this before it ends the sides, too.
ipc_learn_keys() {
    local dev ino path extra=() top=$BATS_TEST_TMPDIR
    local -A st
    [[ -n ${OTHER_DIR:-} && -d $OTHER_DIR ]] && extra+=("$OTHER_DIR")
    [[ $IPCLAB_DIR != "$RUN_DIR" && -d $IPCLAB_DIR ]] && extra+=("$IPCLAB_DIR")
    if (( IPCLAB_STAT_BUILTIN )); then
        enable stat
        for path in "$top"/{,*/,*/*/,*/*/*/}{*,.[!.]*} "${extra[@]/%//*}" "${extra[@]/%//.[!.]*}"; do
            stat -A st "$path" 2>/dev/null && ipc_learn_key "${st[device]}" "${st[inode]}"
        done
        enable -n stat
        return 0
    fi
    while read -r dev ino; do
        ipc_learn_key "$dev" "$ino"
    done < <(find "$top" -maxdepth 4 -printf '%D %i\n' 2>/dev/null
        (( ${#extra[@]} == 0 )) || find "${extra[@]}" -maxdepth 1 -printf '%D %i\n' 2>/dev/null)
}

# ipc_learn_key DEVICE INODE: ftok(3)'s keys of that file -- the project id, the low 8 bits of
# its device, the low 16 of its inode -- into TEST_KEYS.
ipc_learn_key() {
    local proj
    for proj in "${SYSV_PROJECTS[@]}"; do
        TEST_KEYS[$(( proj << 24 | ($1 & 0xff) << 16 | ($2 & 0xffff) ))]=1
    done
}

# ipc_left: LEFT=(the System V objects made since the test began that are the test's own), by
# any of: the key of a file of the test's (ipc_learn_keys: its key files, any -p file); the id a
# side of the test named on stderr ("queue 7", "segment 9", "set 3": the ready lines name what
# they use); or, in a .bats file whose setup calls "ipclab_setup sysv_private" because its
# programs make queues or sets of IPC_PRIVATE (shm_counter, ipcbench), which no key or name
# leads to, any queue or set of IPC_PRIVATE -- so scripts/test.sh never runs two such files
# side by side.  Anything else (a
# segment of another program, a pair the student runs meanwhile, another test's) is not the
# test's.
ipc_left() {
    local obj kind id key name num
    LEFT=()
    ipc_new
    (( ${#IPC_NEW[@]} > 0 )) || return 0
    ipc_learn_keys
    while read -r name num; do
        case $name in
        queue) TEST_IDS[q $num]=1 ;;
        segment) TEST_IDS[m $num]=1 ;;
        set) TEST_IDS[s $num]=1 ;;
        esac
    done < <(grep -ohE '\b(queue|segment|set) [0-9]+' "$LOG"/*.err 2>/dev/null)
    for obj in "${IPC_NEW[@]}"; do
        read -r kind id key <<<"$obj"
        if [[ -n ${TEST_IDS[$kind $id]:-} ]] ||
            { (( key != 0 )) && [[ -n ${TEST_KEYS[$key]:-} ]]; } ||
            { (( key == 0 && SYSV_PRIVATE )) && [[ $kind != m ]]; }; then
            LEFT+=("$obj")
        fi
    done
    return 0
}

# ipc_gone OBJECT...: none of the objects ("KIND ID KEY") exists any longer.
ipc_gone() {
    local obj
    ipc_now
    for obj in "$@"; do
        [[ " ${IPC_NOW[*]/%/,} " != *" $obj, "* ]] || return 1
    done
}

# assert_nothing_left: no System V object of the test's own is left (ipc_left), and no POSIX
# queue, shared memory object or named semaphore (Linux keeps one as /dev/shm/sem.NAME) carries
# the test's names.
assert_nothing_left() {
    local left=() path mounted=0 dev dir type rest obj private=()
    ipc_left
    for obj in "${LEFT[@]}"; do
        [[ $obj == *" 0" ]] && private+=("$obj")
    done
    # An object of IPC_PRIVATE may be another test's, about to go: it is left behind if it stays.
    if (( ${#LEFT[@]} > 0 )) &&
        { (( ${#LEFT[@]} > ${#private[@]} )) || ! ipclab_poll 2 ipc_gone "${private[@]}"; }; then
        fail "System V objects left behind (kind id key): ${LEFT[*]/%/;}"$'\n'"$(ipcs -q -m -s)" ||
            return 1
    fi
    while read -r dev dir type rest; do
        [[ $dir == /dev/mqueue && $type == mqueue ]] && mounted=1
    done </proc/mounts
    (( mounted )) || fail "/dev/mqueue is not mounted: scripts/bootstrap.sh mounts it" || return 1
    for path in /dev/shm/"${POSIX#/}"* /dev/shm/sem."${POSIX#/}"* /dev/mqueue/"${POSIX#/}"*; do
        [[ -e $path ]] && left+=("$path")
    done
    (( ${#left[@]} == 0 )) || fail "POSIX objects left behind: ${left[*]}"
}

# After every test: a side still running gets SIGTERM, as a user's Ctrl-C or kill would send,
# and must end within 2 s by itself; one that does not (it is killed, by teardown or by its
# timeout's -k) fails the test.  Then the test's run directory must be empty: every side
# removes what it created (README.md, "The command-line contract": cleanup).
ipclab_teardown() {
    exec 5>&- 6>&- 7<&- # the descriptors tests hold: other sides' stdin, a stalled stdout
    local name pgid status signalled=() stuck=()
    ipc_new # the key files of the sides still running: gone once they end
    (( ${#IPC_NEW[@]} == 0 )) || ipc_learn_keys
    for name in "${SIDES[@]}"; do
        [[ -e $LOG/$name.status ]] && continue
        { read -r pgid <"$LOG/$name.pgid"; } 2>/dev/null || continue
        kill -TERM -- "-$pgid" 2>/dev/null || true
        signalled+=("$name")
    done
    for name in "${signalled[@]}"; do
        if ipclab_wait_file "$LOG/$name.status" 2; then
            read -r status <"$LOG/$name.status"
            [[ $status != $((128 + 9)) ]] && continue
        else
            read -r pgid <"$LOG/$name.pgid"
            kill -KILL -- "-$pgid" 2>/dev/null || true
        fi
        stuck+=("$name")
    done
    [[ -z ${OTHER_DIR:-} ]] || rm -rf "$OTHER_DIR" # see other_dir
    if (( ${#stuck[@]} > 0 )); then
        fail "did not end by itself after SIGTERM, killed: ${stuck[*]}"
        return 1 # bats judges teardown by its status alone: errexit is off here
    fi
    # Each check's failure must be the function's status: bats judges teardown by it alone.
    IPCLAB_DIR=$RUN_DIR assert_run_dir_empty || return 1
    assert_nothing_left
}

# start_side NAME STDIN PROG [ARGS...]: run PROG with stdin from the file or FIFO STDIN, in a
# process group of its own (setsid), under the timeout backstop, with fds 3 to 9 closed: bats
# waits for any child holding fd 3 (4 in setup_file), and a test's own descriptors, such as the
# write end of another side's stdin FIFO, must not leak into a side and keep it open.  A
# wrapper records the group id in $LOG/NAME.pgid and, when PROG has ended, its exit status in
# $LOG/NAME.status.
start_side() {
    local name=$1 stdin=$2
    shift 2
    SIDES+=("$name")
    (
        setsid timeout -k 2 "$BACKSTOP" "$@" <"$stdin" >"$LOG/$name.out" 2>"$LOG/$name.err" &
        echo "$!" >"$LOG/$name.pgid"
        status=0
        wait "$!" || status=$? # bats runs tests under set -e: a failing side must not end us here
        echo "$status" >"$LOG/$name.status"
    ) </dev/null >/dev/null 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
}

# start_fed NAME PROG [ARGS...]: start_side with stdin from a FIFO that the test holds open on
# fd 5, as a terminal would be: `printf 'line\n' >&5` types a line, `exec 5>&-` is Ctrl-D.
start_fed() {
    local name=$1
    shift
    mkfifo "$LOG/$name.in"
    start_side "$name" "$LOG/$name.in" "$@"
    exec 5>"$LOG/$name.in"
}

# wait_output NAME REGEX [SECONDS]: wait until NAME's stdout has a line matching REGEX.
wait_output() {
    local name=$1 regex=$2 secs=${3:-5}
    ipclab_wait_for "$LOG/$name.out" "$regex" "$secs" ||
        fail "$name: no output line matching '$regex' within $secs s; its stdout: $(cat "$LOG/$name.out")"
}

# parent_pid NAME, child_pid NAME: from the line "...: parent P ... child C ..." of a fork demo.
# (Read by bash itself, with no process: the tests call them often.)
fork_pids() {
    local line
    while IFS= read -r line; do
        [[ $line =~ :\ parent\ ([0-9]+)\ .*child\ ([0-9]+) ]] && { echo "${BASH_REMATCH[$1]}"; return 0; }
    done <"$LOG/$2.err"
}
parent_pid() { fork_pids 1 "$1"; }
child_pid() { fork_pids 2 "$1"; }

# wait_line NAME REGEX [SECONDS]: wait until NAME's stderr has a line matching REGEX.
wait_line() {
    local name=$1 regex=$2 secs=${3:-5}
    ipclab_wait_for "$LOG/$name.err" "$regex" "$secs" ||
        fail "$name: no line matching '$regex' within $secs s; its stderr: $(cat "$LOG/$name.err")"
}

# wait_ready NAME: wait for "<program>: ready (pid N)" and set PID[NAME]=N.
wait_ready() {
    local name=$1
    wait_line "$name" ': ready \(pid [0-9]+\)'
    local line
    while IFS= read -r line; do
        [[ $line =~ ^[^:]*:\ ready\ \(pid\ ([0-9]+)\) ]] && { PID[$name]=${BASH_REMATCH[1]}; break; }
    done <"$LOG/$name.err"
}

# wait_exit NAME [SECONDS]: wait at most SECONDS (10) for NAME to end; SIDE_STATUS = its exit status
# (128+N: killed by signal N; 124: the backstop fired).
wait_exit() {
    local name=$1 secs=${2:-10}
    ipclab_wait_file "$LOG/$name.status" "$secs" ||
        fail "$name did not end within $secs s; its stderr: $(cat "$LOG/$name.err")"
    read -r SIDE_STATUS <"$LOG/$name.status"
}

# sides_now: what every side of the test is doing -- its exit status, or its state and the
# kernel function it waits in -- and its last lines of stderr; for failure messages.
sides_now() {
    local name pid
    for name in "${SIDES[@]}"; do
        if [[ -s $LOG/$name.status ]]; then
            printf '\n%s ended, status %s' "$name" "$(cat "$LOG/$name.status")"
        elif pid=$(pgrep -o -P "$(cat "$LOG/$name.pgid")") && proc_stat "$pid"; then
            printf '\n%s (pid %s) state %s, in %s' "$name" "$pid" "${STAT[0]}" "$(cat "/proc/$pid/wchan")"
        else
            printf '\n%s ending' "$name"
        fi
        printf '; stderr:\n%s' "$(tail -n 5 "$LOG/$name.err")"
    done
}

# lines_matching FILE REGEX COUNT: FILE has exactly COUNT lines matching REGEX, counted anew at
# each call.  (For wait_until: `wait_until 5 test "$(grep -c ...)" = N` would count once, before
# the wait, and then wait for a figure that cannot change.)
lines_matching() {
    [[ $(grep -c -- "$2" "$1") == "$3" ]]
}

# wait_until SECONDS COMMAND...: run COMMAND every 20 ms until it succeeds, at most SECONDS.
# COMMAND is run anew each time; an argument like "$(...)" is not: it was expanded once, at the
# call.
wait_until() {
    ipclab_poll "$@" || fail "never true within the time allowed: ${*:2}"
}

# kill_side NAME SIGNAL: KILL goes to NAME's whole process group (as kill -9 of everything it
# runs), any other signal to the program itself (wait_ready set PID[NAME]), as kill(1) would.
# After KILL it returns once NAME's wrapper has recorded the death (status 137): teardown
# signals every side with no status yet and would take a killed one for a side that ignored
# SIGTERM.
kill_side() {
    if [[ $2 == KILL ]]; then
        kill -KILL -- "-$(pgid_of "$1")"
        assert_exit "$1" $((128 + 9)) 2
    else
        kill -"$2" "${PID[$1]}"
    fi
}

# assert_exit NAME STATUS [SECONDS]: NAME ends within SECONDS (10) with exit status STATUS; if
# not, the failure shows NAME's stderr.
assert_exit() {
    wait_exit "$1" "${3:-10}"
    [[ $SIDE_STATUS == "$2" ]] ||
        fail "$1 ended with status $SIDE_STATUS, not $2; its stderr: $(cat "$LOG/$1.err")"
}

# pgid_of NAME: the process group of NAME (the group leader is the timeout backstop).
pgid_of() {
    local pgid
    ipclab_wait_file "$LOG/$1.pgid" 5 || fail "$1 was never started"
    read -r pgid <"$LOG/$1.pgid"
    echo "$pgid"
}

assert_run_dir_empty() { # with no process: teardown and cli.bats call it hundreds of times
    local path left=()
    [[ -d $IPCLAB_DIR ]] || fail "the run directory $IPCLAB_DIR is gone"
    for path in "$IPCLAB_DIR"/* "$IPCLAB_DIR"/.*; do
        [[ ${path##*/} == . || ${path##*/} == .. ]] && continue
        [[ -e $path || -L $path ]] && left+=("${path##*/}")
    done
    (( ${#left[@]} == 0 )) || fail "left in the run directory $IPCLAB_DIR: ${left[*]}"
}

random_file() {
    head -c "$2" /dev/urandom >"$1"
}

# proc_stat PID: STAT=(the fields of /proc/PID/stat after the command name): STAT[0] the state
# (R, S, T, Z ...), STAT[11] and STAT[12] the user and system CPU time in clock ticks.  Fails if
# there is no such process.  No fork: tests poll it every 20 ms.
proc_stat() {
    local line
    { read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
    read -r -a STAT <<<"${line##*) }"
}

# is_alive PID: the process exists and is not a zombie.
is_alive() {
    proc_stat "$1" && [[ ${STAT[0]} != Z ]]
}

# state_is PID STATE: the process is in STATE (S: asleep, T: stopped ...; see proc_stat).
state_is() {
    proc_stat "$1" && [[ ${STAT[0]} == "$2" ]]
}

# wait_gone PID [SECONDS]: wait until process PID has ended.
wait_gone() {
    local pid=$1 tries=$(( ${2:-5} * 50 ))
    while (( tries-- > 0 )); do
        is_alive "$pid" || return 0
        sleep 0.02
    done
    fail "process $pid still runs after ${2:-5} s"
}

# wait_blocked_in PID REGEX [SECONDS]: wait until process PID sleeps in a kernel function
# matching REGEX (/proc/PID/wchan), e.g. poll_schedule for poll/select: a test's way to know
# that a side has reached a given wait, instead of sleeping and hoping.
wait_blocked_in() {
    local pid=$1 regex=$2 tries=$(( ${3:-5} * 50 ))
    while (( tries-- > 0 )); do
        grep -Eq -- "$regex" "/proc/$pid/wchan" 2>/dev/null && return 0
        sleep 0.02
    done
    fail "process $pid never waited in $regex (wchan: $(cat "/proc/$pid/wchan" 2>/dev/null))"
}

# without COMMAND: a directory for PATH with every command of /usr/bin and /bin but COMMAND (a
# machine where it is not installed).  Made once per test file: it is a thousand symlinks.
without() {
    local dir=$BATS_FILE_TMPDIR/without-$1
    if [[ ! -d $dir ]]; then
        mkdir "$dir"
        find /usr/bin /bin -maxdepth 1 ! -type d ! -name "$1" -exec ln -s -t "$dir" {} + 2>/dev/null || true
    fi
    echo "$dir"
}

# limited NAME LIMIT PROG [ARGS...]: side NAME runs PROG with at most LIMIT open descriptors
# (ulimit -n), and is ready.
limited() {
    local name=$1 limit=$2
    shift 2
    # shellcheck disable=SC2016 # $1 and $2 are the inner shell's: the limit and the program
    start_side "$name" /dev/null bash -c 'ulimit -n "$1" && shift && exec "$@"' - "$limit" "$@"
    wait_ready "$name"
}

# crowd_waits SERVER JOINED KIND ADDRESS...: 70 clients at once (tests/crowd.py KIND) on side
# SERVER, started by limited with too few descriptors for them all.  It takes as many as it
# has descriptors for (JOINED: its line for each) and says so once; while the others wait it
# sleeps in poll() and writes nothing; as the first leave, it serves every one of the others.
crowd_waits() {
    local server=$1 joined=$2 kind=$3 most lines before
    shift 3
    start_fed "crowd-$server" "$PYTHON" "$BATS_TEST_DIRNAME/crowd.py" "$kind" 70 "$@"
    wait_line "crowd-$server" '^connected 70$'
    wait_line "$server" 'no descriptor left for another client \(ulimit -n\): [0-9]+ at a time'
    most=$(sed -n 's/.*(ulimit -n): \([0-9]*\) at a time.*/\1/p' "$LOG/$server.err")
    (( most > 0 && most < 64 )) || fail "$server takes $most clients at a time"
    wait_until 5 lines_matching "$LOG/$server.err" "$joined" "$most"
    wait_blocked_in "${PID[$server]}" 'poll'
    # Half a second of the server's CPU time (user + system, clock ticks) while clients wait:
    # a measurement window, not a wait for anything.  A loop that spins uses about 50.
    proc_stat "${PID[$server]}"
    before=$(( STAT[11] + STAT[12] ))
    lines=$(wc -l <"$LOG/$server.err")
    sleep 0.5
    proc_stat "${PID[$server]}"
    (( STAT[11] + STAT[12] - before <= 3 )) ||
        fail "$server used $(( STAT[11] + STAT[12] - before )) ticks in half a second of waiting"
    assert_equal "$(wc -l <"$LOG/$server.err")" "$lines"
    assert_equal "$lines" $(( 1 + most + 1 )) # ready, one line per client taken, the message
    printf 'go\n' >&5
    exec 5>&-
    assert_exit "crowd-$server" 0 15
    wait_until 5 lines_matching "$LOG/$server.err" "$joined" 70
    run grep -c 'no descriptor left' "$LOG/$server.err"
    assert_output 1
    is_alive "${PID[$server]}"
}

# ready_or_ended NAME: NAME has printed its ready line, or has ended.
ready_or_ended() {
    [[ -e $LOG/$1.status ]] || grep -q ': ready (pid' "$LOG/$1.err"
}

# users_file_left_alone PROG [ARGS...]: a file of the user's, with content, given as -p: PROG
# must refuse it (exit 1, saying why) and leave it byte for byte as it was, both mode 0600 (only
# its content tells it from a key file, or from NOT_OURS's kind of file: the refusal of the
# 0600 one must contain "FILE $NOT_OURS", by default "is not an ipclab key file") and 0644 (its
# mode does too).  A PROG that gets as far
# as its ready line (the bug) is ended by SIGTERM, as a user would end it: its cleanup then
# removed the file.
users_file_left_alone() {
    local mode inode side
    for mode in 600 644; do
        side=${1##*/}$mode
        printf 'my notes\n\0and more\n' >"$LOG/notes"
        chmod "$mode" "$LOG/notes"
        cp -p "$LOG/notes" "$LOG/notes.orig"
        inode=$(stat -c %i "$LOG/notes")
        start_side "$side" /dev/null "$1" -p "$LOG/notes" "${@:2}"
        wait_until 5 ready_or_ended "$side"
        if [[ ! -e $LOG/$side.status ]]; then
            wait_ready "$side"
            kill_side "$side" TERM
        fi
        assert_exit "$side" 1
        [[ -f $LOG/notes ]] || fail "$1 removed the user's file (mode $mode)"
        cmp "$LOG/notes" "$LOG/notes.orig"
        assert_equal "$(stat -c '%i %a' "$LOG/notes")" "$inode $mode"
        run cat "$LOG/$side.err"
        if [[ $mode == 600 ]]; then
            assert_line --partial "$LOG/notes ${NOT_OURS:-is not an ipclab key file}"
        else
            assert_line --partial "$LOG/notes has mode 644: other users can use it; refusing"
        fi
        [[ ! -e $LOG/notes.fifo ]] || fail "$1 made $LOG/notes.fifo"
    done
}

# other_dir [MODE]: OTHER_DIR, a new directory in /tmp that a test's other user (uid 65534) can
# reach -- mode 1777 unless MODE says otherwise: anyone may write there, as in /tmp itself, so
# the other user can plant what a victim is then told to use with -p.  Teardown removes it.
other_dir() {
    OTHER_DIR=$(mktemp -d /tmp/ipclab-other.XXXXXX)
    chmod "${1:-1777}" "$OTHER_DIR"
}
