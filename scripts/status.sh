#!/usr/bin/env bash
# scripts/status.sh - what of ipclab's is alive on this machine, for this user (make status).
#
#   scripts/status.sh            list
#   scripts/status.sh --remove   list, and remove what no process uses (make clean-ipc,
#                                scripts/clean-ipc.sh): what you would otherwise do by hand
#                                with rm and ipcrm after a kill -9
#
# It looks at:
#   - the run directory (the programs' rule: $IPCLAB_DIR, else $XDG_RUNTIME_DIR/ipclab, else
#     /tmp/ipclab-<uid>; refused, as they refuse it, if it is a symbolic link, however spelled,
#     if its name has a ".." component, or if its path passes through another user's symbolic
#     link: scripts/lib.sh, ipclab_run_dir_path_refused)
#     and what in it is provably ipclab's: key files (the line "ipclab key file" and nothing
#     else), mmap_writer's files (their mark), and FIFOs and sockets by the names the programs
#     use (fifo, chat.a2b, chat.b2a, shm.fifo, KEYFILE.fifo; unix_stream, unix_dgram,
#     unix_dgram_client.PID, relay, fdpass); each yours, with no group or other access.
#     Anything else is named "not ipclab's" and left alone;
#   - System V message queues, shared memory segments and semaphore sets you made whose key is
#     one ftok(3) makes from a key file above with a project id of the programs' ('a' msgq,
#     'b' shm, 's' shm_sem) (/proc/sysvipc/*);
#   - POSIX message queues (/dev/mqueue), shared memory objects and named semaphores (/dev/shm,
#     a semaphore as sem.NAME) of yours whose names begin with /ipclab- (IPCLAB_STATUS_PREFIX
#     to narrow it; the tests do).
# For each it says who uses it: the process holding it open (/proc/PID/fd), listening or bound
# on a socket (/proc/net/unix), attached to a segment (nattch), or nobody.  Files are matched by
# device and inode, never by how a path is spelled.  --remove never touches what a process
# uses: stop that program (Ctrl-C), and it removes its own.
#
# Exit status: 0; 1 if something could not be removed or the run directory is not usable.
set -euo pipefail

usage="usage: scripts/status.sh [--remove]      (make status; --remove: make clean-ipc)"
remove=0
case ${1:-} in
'') ;;
--remove) remove=1 ;;
-h | --help) echo "$usage"; sed -n '4,6p' "$0" | sed 's/^# *//'; exit 0 ;;
*) echo "$usage" >&2; exit 2 ;;
esac
(( $# <= 1 )) || { echo "$usage" >&2; exit 2; }

# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh" # ipclab_run_dir_path_refused

uid=$(id -u)
prefix=${IPCLAB_STATUS_PREFIX:-/ipclab-}
status=0
found=0

# run_dir_from IPCLAB_DIR XDG_RUNTIME_DIR: the run directory these values give, by the
# programs' rule.
run_dir_from() {
    if [[ -n $1 ]]; then
        echo "$1"
    elif [[ -n $2 ]]; then
        echo "$2/ipclab"
    else
        echo "/tmp/ipclab-$uid"
    fi
}
run=$(run_dir_from "${IPCLAB_DIR:-}" "${XDG_RUNTIME_DIR:-}")
# As the programs do (ipclab_run_dir): no trailing "/" or "/.", since a test of "link/" follows
# the link; and a relative name led by ./, so that no command takes it for an option (-rf).
while (( ${#run} > 1 )) && [[ $run == */ || $run == */. ]]; do
    run=${run%?}
done
[[ $run == /* || $run == ./* ]] || run=./$run
run_id="" real_run="" # the run directory's device:inode and resolved path, once usable
run_path_refused=$(ipclab_run_dir_path_refused "$run") || true # why its path is refused

# file_id PATH: "device:inode" of the file PATH names (symbolic links followed).
file_id() {
    stat -L -c '%d:%i' -- "$1" 2>/dev/null
}

# uses_our_run_dir PID: the run directory of the process PID, from its environment (a relative
# one from its working directory), is ours: the same device and inode.  True if the
# environment cannot be read; false if the process has ended meanwhile.
uses_our_run_dir() {
    local env dir
    if ! env=$(tr '\0' '\n' 2>/dev/null <"/proc/$1/environ"); then
        [[ -d /proc/$1 ]] || return 1
        return 0
    fi
    dir=$(run_dir_from "$(sed -n 's/^IPCLAB_DIR=//p' <<<"$env")" "$(sed -n 's/^XDG_RUNTIME_DIR=//p' <<<"$env")")
    [[ $dir == /* ]] || dir=/proc/$1/cwd/$dir
    [[ $(file_id "$dir") == "$run_id" ]]
}

# The run directory, if the programs would use it: its device and inode, and its path with no
# symbolic link (realpath), as /proc/PID/maps shows the files in it.
if [[ -z $run_path_refused && -d $run && ! -L $run && $(stat -c %u -- "$run") == "$uid" ]]; then
    run_id=$(file_id "$run")
    real_run=$(realpath -e -- "$run")
fi

# holder[DEVICE:INODE] = the pids of the processes that hold that file open (/proc/PID/fd),
# separated by spaces (shm_writer and shm_reader both hold the key file shm), and
# holder[socket:[INODE]] the same for sockets; run_pids: the processes that hold a file of the
# run directory open (filled in as its files are listed); fifo_waiters: processes of this run
# directory (by their environment) asleep in open() of a FIFO, waiting for the other end: the
# kernel shows no path for that wait, so any FIFO here might be theirs.
declare -A holder=() run_pids=() holding=()
# One stat for every descriptor of every process: "/proc/PID/fd/N<TAB>device:inode<TAB>type"
# of the open file (stat -L: the file, not the link).
while IFS=$'\t' read -r fd id type; do
    [[ $type == socket ]] && id=socket:[${id#*:}]
    pid=${fd#/proc/}
    pid=${pid%%/*}
    # each pid once, though it may hold the file on several descriptors (looked up in holding:
    # a search of holder's string would take time in the square of /dev/null's holders)
    [[ -n ${holding[$id $pid]:-} ]] && continue
    holding[$id $pid]=1
    holder[$id]+="${holder[$id]:+ }$pid"
done < <(find /proc/[0-9]*/fd -mindepth 1 -maxdepth 1 -type l -print0 2>/dev/null |
    xargs -0 -r stat -L --printf '%n\t%d:%i\t%F\n' 2>/dev/null || true)
# who PID: "program (pid PID)": the name it was run by (argv[0]); /proc/PID/comm would cut it
# at 15 characters (unix_dgram_serv).
who() {
    local argv0
    argv0=$(tr '\0' '\n' 2>/dev/null <"/proc/$1/cmdline" | head -n 1)
    [[ -n $argv0 ]] || argv0=$(cat "/proc/$1/comm" 2>/dev/null) || argv0='?'
    echo "${argv0##*/} (pid $1)"
}
# who_all PIDS: who PID for each of the space-separated PIDS, joined by ", ".
who_all() {
    local pid all=""
    for pid in $1; do
        all+="${all:+, }$(who "$pid")"
    done
    echo "$all"
}
fifo_waiters=""
while read -r wchan; do
    pid=${wchan#/proc/}
    pid=${pid%/wchan}
    [[ $(stat -c %u -- "/proc/$pid" 2>/dev/null) == "$uid" ]] || continue
    uses_our_run_dir "$pid" || continue
    fifo_waiters+="${fifo_waiters:+, }$(who "$pid")"
done < <(grep -l -x wait_for_partner /proc/[0-9]*/wchan 2>/dev/null || true)
# The names the programs give their FIFOs and sockets in the run directory (and KEYFILE.fifo:
# shm_writer's and shm_reader's FIFO beside a key file given with -p).
fifo_names='^(fifo|chat\.a2b|chat\.b2a|shm\.fifo)$'
socket_names='^(unix_stream|unix_dgram|unix_dgram_client\.[0-9]+|relay|fdpass)$'

# bound[DEVICE:INODE] = the inode of the socket bound to that socket file, for each socket
# bound under one of those names (/proc/net/unix: the path as bind() was given it, relative to
# the binder's working directory if relative; a path may hold spaces).
declare -A bound=()
while read -r _ _ _ _ _ _ sock path; do
    [[ -n $path && $path != @* && ${path##*/} =~ $socket_names ]] || continue
    if [[ $path != /* ]]; then
        pid=${holder[socket:[$sock]]:-}
        [[ -n $pid ]] || continue
        path=/proc/${pid%% *}/cwd/$path
    fi
    id=$(file_id "$path") && bound[$id]=$sock
done < <(tail -n +2 /proc/net/unix 2>/dev/null || true)

# ours PATH: the file PATH (not a symbolic link) is yours, with no group or other access, as
# the programs make what they make.
ours() {
    local owner mode
    [[ ! -L $1 ]] && read -r owner mode < <(stat -c '%u %a' -- "$1" 2>/dev/null) &&
        [[ $owner == "$uid" ]] && (( (8#$mode & 8#077) == 0 ))
}

# key_file PATH: PATH is a key file of the programs' (common/sysv.h): a regular file of ours
# that holds the line "ipclab key file" and nothing else.
key_file() {
    [[ -f $1 ]] && ours "$1" && cmp -s -- "$1" - <<<'ipclab key file'
}

# item KIND NAME STATE: one line of the listing.
item() {
    printf '  %-10s %-34s %s\n' "$1" "$2" "$3"
    found=$((found + 1))
}

# gone WHAT COMMAND...: with --remove, run COMMAND to remove WHAT, and say so.
gone() {
    local what=$1
    shift
    (( remove )) || return 0
    if "$@"; then
        printf '  %-10s %-34s removed\n' '' "$what"
    else
        printf '  %-10s %-34s could not be removed\n' '' "$what"
        status=1
    fi
}

# gone_file PATH: with --remove, remove the file PATH of the run directory, unless the run
# directory is one the programs refuse (keep_run): someone else may have put it there.
gone_file() {
    (( keep_run )) || gone "${1##*/}" rm -f -- "$1"
}

# mapped_by PATH: the /proc/PID/maps files that name PATH (a path with no symbolic link, as
# the maps show it).  grep says 2 when some maps file could not be read (a process that ended,
# another user's), matches or not: that is no answer, so only the list counts.
mapped_by() {
    grep -l -s -F -- "$1" /proc/[0-9]*/maps || true
}

# ---------------------------------------------------------------- the run directory
keep_run=0
declare -A keyfile=() # a System V key ftok() makes from a key file -> the file's name
declare -a stale_keyfiles=()
echo "run directory $run:"
if [[ -n $run_path_refused ]]; then
    echo "  $run_path_refused: the programs refuse it; leaving it alone"
    status=1
elif [[ ! -e $run && ! -L $run ]]; then
    echo "  (not there yet: the first program to run creates it)"
elif [[ -L $run || ! -d $run ]]; then
    echo "  not a directory: the programs refuse it; look at it and remove it yourself"
    status=1
elif [[ $(stat -c %u -- "$run") != "$uid" ]]; then
    echo "  belongs to uid $(stat -c %u -- "$run"), not to you: the programs refuse it; leaving it alone"
    status=1
else
    mode=$(stat -c %a -- "$run")
    if (( (8#$mode & 8#077) != 0 )); then
        echo "  mode $mode lets others in: the programs refuse it (chmod 700 $run);" \
            "someone else may have put what follows there, so none of it is touched"
        status=1
        keep_run=1
    fi
    run_found=$found
    for path in "$run"/* "$run"/.[!.]*; do
        [[ -e $path || -L $path ]] || continue
        name=${path##*/}
        id=$(file_id "$path") || id=none
        for pid in ${holder[$id]:-}; do
            run_pids[$pid]=1
        done
        if [[ -S $path && $name =~ $socket_names ]] && ours "$path"; then
            inode=${bound[$id]:-}
            if [[ -n $inode ]]; then
                pid=${holder[socket:[$inode]]:-}
                item socket "$name" "in use: bound${pid:+ by $(who_all "$pid")}"
            else
                item socket "$name" "stale: no socket is bound to it"
                gone_file "$path"
            fi
        elif [[ -p $path ]] && { [[ $name =~ $fifo_names ]] || { [[ $name == ?*.fifo ]] && key_file "${path%.fifo}"; }; } &&
            ours "$path"; then
            if [[ -n ${holder[$id]:-} ]]; then
                item fifo "$name" "in use: open in $(who_all "${holder[$id]}")"
            elif [[ -n $fifo_waiters ]]; then
                item fifo "$name" "perhaps in use: $fifo_waiters waiting in open() of a FIFO"
            else
                item fifo "$name" "stale: no process has it open"
                gone_file "$path"
            fi
        elif [[ -f $path ]] && ours "$path" && [[ $(head -c 15 -- "$path" 2>/dev/null) == "ipclab mmap v1" ]]; then
            # mmap_writer's file (shm/mmap.h: the mark, then the size, the length and the
            # state as native 32-bit numbers): the pair's product, kept when both have gone.
            read -r size len state < <(od -An -tu4 -j16 -N12 -- "$path")
            case $state in 0) state="not done" ;; 1) state="done" ;; *) state="done, input did not fit" ;; esac
            if [[ -n ${holder[$id]:-} ]]; then
                item mapped "$name" "in use: open in $(who_all "${holder[$id]}")"
            elif maps=$(mapped_by "$real_run/$name") && [[ -n $maps ]]; then
                pid=${maps%%$'\n'*}
                pid=${pid#/proc/}
                item mapped "$name" "in use: mapped by $(who "${pid%/maps}")"
            else
                item mapped "$name" "no process maps it; $len of $size bytes written, $state"
                gone_file "$path"
            fi
        elif key_file "$path"; then
            # ftok(3) as glibc makes it: the project id's low 8 bits, the device's low 8
            # bits, the inode's low 16 bits; one key for each project id of the programs'.
            read -r dev ino < <(stat -c '%d %i' -- "$path")
            for proj in 0x61 0x62 0x73; do # 'a' msgq/msgq.h, 'b' shm/shm.h, 's' shm/shm_sem.h
                keyfile[$(( proj << 24 | (dev & 0xff) << 16 | (ino & 0xffff) ))]=$name
            done
            if [[ -n ${holder[$id]:-} ]]; then
                item 'key file' "$name" "in use: open in $(who_all "${holder[$id]}")"
            else
                item 'key file' "$name" "no process has it open"
                stale_keyfiles+=("$path")
            fi
        else
            item other "$name" "not ipclab's (leaving it alone)"
        fi
    done
    (( found > run_found )) || echo "  empty"
fi

# ---------------------------------------------------------------- System V
# key_of_ours KEY: the key file KEY was made from, if it was made from one in the run directory.
key_of_ours() {
    local key=$(( $1 & 0xffffffff ))
    (( key != 0 )) || return 1
    local name=${keyfile[$key]:-}
    [[ -n $name ]] && echo "$name"
}

# by_key_file KIND ID NAME STATE IPCRM-OPTION: a queue or a semaphore set, whose key came from
# the key file NAME; in use while a process holds that file open (the programs do, for their
# record locks).
by_key_file() {
    local id user
    id=$(file_id "$run/$3") || id=none
    user=${holder[$id]:-}
    if [[ -n $user ]]; then
        item "$1" "id $2 (key from $3)" "in use ($4): its key file is open in $(who_all "$user")"
    else
        item "$1" "id $2 (key from $3)" "no process has its key file open; $4"
        gone "$1 id $2" ipcrm "$5" "$2"
    fi
}

echo "System V (ipcs; keys made by ftok() from the files above):"
sysv_found=$found
# key msqid perms cbytes qnum lspid lrpid uid gid cuid ...
while read -r key id _ cbytes qnum _ _ owner _ cuid _; do
    [[ $owner == "$uid" && $cuid == "$uid" ]] || continue
    name=$(key_of_ours "$key") || continue
    by_key_file queue "$id" "$name" "holds $qnum message(s), $cbytes bytes" -q
done < <(tail -n +2 /proc/sysvipc/msg)
# key shmid perms size cpid lpid nattch uid gid cuid ...
while read -r key id _ size cpid _ nattch owner _ cuid _; do
    [[ $owner == "$uid" && $cuid == "$uid" ]] || continue
    if (( key == 0 && nattch > 0 )) && [[ -n ${run_pids[$cpid]:-} ]]; then
        # Removed (IPC_RMID) while attached, as shm_writer does: the key is gone, the segment
        # stays until the last process detaches.
        item segment "id $id (key gone)" "in use: marked for removal, $nattch process(es) attached, made by $(who "$cpid")"
        continue
    fi
    name=$(key_of_ours "$key") || continue
    if (( nattch > 0 )); then
        item segment "id $id (key from $name)" "in use: $size bytes, $nattch process(es) attached"
    else
        item segment "id $id (key from $name)" "nobody attached; $size bytes"
        gone "segment id $id" ipcrm -m "$id"
    fi
done < <(tail -n +2 /proc/sysvipc/shm)
# key semid perms nsems uid gid cuid ...
while read -r key id _ nsems owner _ cuid _; do
    [[ $owner == "$uid" && $cuid == "$uid" ]] || continue
    name=$(key_of_ours "$key") || continue
    by_key_file 'sem set' "$id" "$name" "$nsems semaphores" -s
done < <(tail -n +2 /proc/sysvipc/sem)
(( found > sysv_found )) || echo "  none"

# Key files go after their objects: a queue's key is known only while its file is there.
for path in "${stale_keyfiles[@]}"; do
    gone_file "$path"
done

# ---------------------------------------------------------------- POSIX

# mapped_by_inode PATH: the same, for a file of /dev/shm mapped under another name: sem_open(3)
# maps a temporary file and then link()s it to the semaphore's name, so the maps name that
# temporary, "(deleted)"; the inode is the semaphore's.
mapped_by_inode() {
    local inode
    inode=$(stat -c %i -- "$1") || return 0
    grep -l -s -E -- " $inode +/dev/shm/" /proc/[0-9]*/maps || true
}

echo "POSIX (names beginning $prefix, in /dev/mqueue and /dev/shm):"
posix_found=$found
for path in /dev/mqueue/"${prefix#/}"* /dev/shm/"${prefix#/}"* /dev/shm/sem."${prefix#/}"*; do
    [[ -e $path && $(stat -c %u -- "$path") == "$uid" ]] || continue
    name=/${path##*/}
    name=${name#/sem.}
    name=/${name#/}
    held=""
    id=$(file_id "$path") || id=none
    user=${holder[$id]:-}
    case $path in
    /dev/mqueue/*)
        kind=queue
        # The file reads "QSIZE:12 NOTIFY:0 ...": the bytes of all messages queued (mq_overview(7));
        # the number of messages is mq_getattr(3)'s, which no shell tool asks for.
        held=$(sed -n 's/^QSIZE:\([0-9]*\).*/\1/p' -- "$path" 2>/dev/null || true)
        held=${held:+holds $held bytes of messages}
        ;;
    /dev/shm/sem.*)
        # sem_open(3) maps the file and closes it: a semaphore in use is mapped, not open.
        kind=semaphore
        ;;
    *) kind=shm ;;
    esac
    if [[ -n $user ]]; then
        item "$kind" "$name" "in use${held:+ ($held)}: open in $(who_all "$user")"
    elif { [[ $kind == shm ]] && maps=$(mapped_by "$path") && [[ -n $maps ]]; } ||
        { [[ $kind == semaphore ]] && maps=$(mapped_by_inode "$path") && [[ -n $maps ]]; }; then
        # Mapped, but no longer open: /proc/PID/maps shows it.
        pid=${maps%%$'\n'*}
        pid=${pid#/proc/}
        item "$kind" "$name" "in use: mapped by $(who "${pid%/maps}")"
    else
        item "$kind" "$name" "no process has it open${held:+; $held}"
        gone "$name" rm -f -- "$path"
    fi
done
(( found > posix_found )) || echo "  none"

if (( found == 0 )); then
    echo "nothing of ipclab's here."
elif (( ! remove )); then
    echo "(make clean-ipc removes what no process uses; a program in use removes its own when you stop it)"
fi
exit "$status"
