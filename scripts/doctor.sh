#!/usr/bin/env bash
# scripts/doctor.sh - check this machine for what ipclab needs (make doctor).
#
#   usage: scripts/doctor.sh [CHECK...]      (none: every check, in this order)
#   checks: compiler bats rundir testdir shm mqueue sysv sysv-limits mqueue-limits removeipc ptrace
#
# Each check prints one line, OK, WARN or FAIL, with what it found; under a WARN or a FAIL, what
# it breaks and how to fix it.  Each tries the real thing where that is cheap: it builds a
# program, makes a FIFO, binds a UNIX socket and takes a record lock where the programs would,
# creates and removes a System V queue, segment and semaphore set, and a POSIX queue, and runs
# strace.  Whatever it makes it removes.  Exit status: 0 if no check failed (warnings allowed),
# 1 if one did, 2 on a usage error.
#
# What each check reads, and the variable that points it elsewhere (the tests use them to
# play a machine that has the problem):
#   compiler       $CC (cc)                  bats       $BATS (bats), $BATS_LIB_PATH (/usr/lib/bats)
#   rundir         the run directory, as the programs find it: $IPCLAB_DIR, else
#                  $XDG_RUNTIME_DIR/ipclab, else /tmp/ipclab-<uid>
#   testdir        where make test keeps its files: $TMPDIR, else /dev/shm (scripts/test.sh)
#   shm            $IPCLAB_DOCTOR_SHM (/dev/shm)
#   mqueue         $IPCLAB_DOCTOR_MQUEUE (/dev/mqueue)
#   sysv           the kernel itself (perl's built-in msgget, shmget, semget)
#   sysv-limits, mqueue-limits, ptrace   $IPCLAB_DOCTOR_PROC_SYS (/proc/sys)
#   removeipc      $IPCLAB_DOCTOR_LOGIND_CONF: that file and its .d/*.conf; unset, loginctl,
#                  else /etc/systemd/logind.conf where systemd runs
#   ptrace         also strace, from $PATH
set -uo pipefail
shopt -s extglob nullglob
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh" # ipclab_run_dir_path_refused

CHECKS=(compiler bats rundir testdir shm mqueue sysv sysv-limits mqueue-limits removeipc ptrace)
usage="usage: scripts/doctor.sh [CHECK...]      (make doctor; CHECK: ${CHECKS[*]})"
for arg in "$@"; do
    case $arg in
    -h | --help) echo "$usage"; exit 0 ;;
    esac
    [[ " ${CHECKS[*]} " == *" $arg "* ]] || { echo "doctor: no check '$arg'" >&2; echo "$usage" >&2; exit 2; }
done
(( $# > 0 )) && CHECKS=("$@")

PROC_SYS=${IPCLAB_DOCTOR_PROC_SYS:-/proc/sys}
SHM=${IPCLAB_DOCTOR_SHM:-/dev/shm}
MQUEUE=${IPCLAB_DOCTOR_MQUEUE:-/dev/mqueue}
MIB=$((1024 * 1024))
# The system's python3 first: a version manager's shim in PATH can take a second to start.
PYTHON=/usr/bin/python3
[[ -x $PYTHON ]] || PYTHON=$(command -v python3)

oks=0 warns=0 fails=0
# verdict OK|WARN|FAIL CHECK FINDING [ADVICE...]: the check's line, then each line of advice.
verdict() {
    local level=$1 name=$2 line
    printf '%-4s  %-13s %s\n' "$level" "$name" "$3"
    shift 3
    for line in "$@"; do
        printf '      %s\n' "$line"
    done
    case $level in
    OK) oks=$((oks + 1)) ;;
    WARN) warns=$((warns + 1)) ;;
    FAIL) fails=$((fails + 1)) ;;
    esac
}

# read_limit NAME: the number in $PROC_SYS/NAME, or nothing if it cannot be read.
read_limit() {
    local value
    { read -r value <"$PROC_SYS/$1"; } 2>/dev/null && [[ $value =~ ^[0-9]+$ ]] && echo "$value"
}

check_compiler() {
    local cc=${CC:-cc} tmp out
    if ! command -v "$cc" >/dev/null; then
        verdict FAIL compiler "no C compiler: '$cc' is not installed" \
            "breaks: everything (make, make demo, make test build the programs first)" \
            "fix: sudo apt-get install build-essential (or name yours: make CC=clang)"
        return
    fi
    tmp=$(mktemp -d) || return
    printf '#include <stdio.h>\nint main(void) { return puts("") == EOF; }\n' >"$tmp/probe.c"
    if out=$("$cc" -std=c11 -Wall -o "$tmp/probe" "$tmp/probe.c" 2>&1) && "$tmp/probe" >/dev/null; then
        verdict OK compiler "$cc builds and runs a C11 program"
    else
        verdict FAIL compiler "$cc cannot build a C11 program: $(head -n 1 <<<"$out")" \
            "breaks: everything (make, make demo, make test build the programs first)" \
            "fix: sudo apt-get install build-essential (the C library's headers: libc6-dev)"
    fi
    rm -rf "$tmp"
}

check_bats() {
    local bats=${BATS:-bats} dirs dir lib missing=()
    command -v "$bats" >/dev/null || missing+=(bats)
    IFS=: read -ra dirs <<<"${BATS_LIB_PATH:-/usr/lib/bats}"
    for lib in bats-support bats-assert; do
        for dir in "${dirs[@]}"; do
            [[ -f $dir/$lib/load.bash ]] && continue 2
        done
        missing+=("$lib")
    done
    if (( ${#missing[@]} == 0 )); then
        verdict OK bats "bats, bats-support and bats-assert are installed"
    else
        verdict WARN bats "not installed: ${missing[*]}" \
            "breaks: make test, make lab-check-NAME (the tests are bats files)" \
            "fix: make test installs them (scripts/bootstrap.sh); or sudo apt-get install ${missing[*]}"
    fi
}

# probe_dir CHECK DIR WHO: make a FIFO, bind a UNIX socket and take a record lock in a new
# directory in DIR, then remove it; a verdict on CHECK.  WHO: what uses DIR, for the advice.
probe_dir() {
    local name=$1 dir=$2 who=$3 tmp out fstype took
    fstype=$(stat -f -c %T "$dir" 2>/dev/null)
    if ! tmp=$(mktemp -d "$dir/doctor.XXXXXX" 2>&1); then
        verdict FAIL "$name" "cannot create a directory in $dir: ${tmp##*: }" \
            "breaks: $who" "fix: make $dir writable by you, or choose another (IPCLAB_DIR, TMPDIR)"
        return
    fi
    if ! out=$(mkfifo -m 600 "$tmp/fifo" 2>&1); then
        verdict FAIL "$name" "$dir (a $fstype file system) refuses FIFOs: ${out##*: }" \
            "breaks: $who: the fifo programs, shm_writer and shm_reader (their FIFO), and their tests" \
            "fix: point it at a local file system: IPCLAB_DIR=/tmp/ipclab-$EUID for the run directory, TMPDIR=/tmp for make test" \
            "(shared folders of VirtualBox (vboxsf), 9p, some FUSE file systems have no FIFOs)"
    # Socket: in perl-base, which Debian always has.
    elif command -v perl >/dev/null && ! out=$(perl -MSocket -e 'socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die "socket: $!\n";
            bind($s, pack_sockaddr_un($ARGV[0])) or die "bind: $!\n"' "$tmp/socket" 2>&1); then
        verdict FAIL "$name" "$dir (a $fstype file system) refuses UNIX sockets: $out" \
            "breaks: $who: the unixsock and fdpass programs, and their tests" \
            "fix: point it at a local file system: IPCLAB_DIR=/tmp/ipclab-$EUID for the run directory, TMPDIR=/tmp for make test" \
            "(shared folders of VirtualBox (vboxsf), 9p, some FUSE file systems have no sockets)"
    # The record locks on key files and FIFOs (common/peers.h): fcntl(F_SETLK), as lockf() takes.
    elif [[ -n $PYTHON ]] && ! out=$("$PYTHON" -c 'import fcntl, sys
with open(sys.argv[1], "w") as f:
    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 0)' "$tmp/key" 2>&1); then
        verdict FAIL "$name" "$dir (a $fstype file system) refuses record locks: $(tail -n 1 <<<"$out")" \
            "breaks: $who: the pairs that tell by a lock whether the peer is there (fifo, msgq, shm)" \
            "fix: point it at a local file system: IPCLAB_DIR=/tmp/ipclab-$EUID for the run directory, TMPDIR=/tmp for make test"
    else
        took="FIFOs, UNIX sockets and record locks"
        command -v perl >/dev/null || took="FIFOs (UNIX sockets not tried: no perl)"
        [[ -n $PYTHON ]] || took+=" (record locks not tried: no python3)"
        verdict OK "$name" "$who: $dir ($fstype) takes $took"
    fi
    rm -f "$tmp/fifo" "$tmp/socket" "$tmp/key"
    rmdir "$tmp"
}

# The run directory, found as common/ipclab.h's ipclab_run_dir finds it.
check_rundir() {
    local dir name why owner mode parent longest
    if [[ -n ${IPCLAB_DIR:-} ]]; then
        dir=$IPCLAB_DIR
    elif [[ -n ${XDG_RUNTIME_DIR:-} ]]; then
        dir=$XDG_RUNTIME_DIR/ipclab
    else
        dir=/tmp/ipclab-$EUID
    fi
    # The longest socket path a program makes: unix_dgram_client's own, with a 7-digit pid.
    longest=$dir/unix_dgram_client.4194304
    if (( ${#longest} > 107 )); then
        verdict FAIL rundir "the run directory $dir is too long for socket paths (${#longest} bytes, at most 107)" \
            "breaks: unixsock, fdpass: a socket path lives in sun_path, 108 bytes with its NUL" \
            "fix: a shorter run directory: IPCLAB_DIR=/tmp/ipclab-$EUID"
        return
    fi
    # As the programs do: no trailing "/" or "/." (a test of "link/" follows the link).
    name=$dir
    while (( ${#name} > 1 )) && [[ $name == */ || $name == */. ]]; do
        name=${name%?}
    done
    if [[ -L $name ]]; then
        verdict FAIL rundir "the run directory $dir is a symbolic link: the programs refuse it" \
            "breaks: every program that meets its peer by a name there (fifo, msgq, shm, unixsock, fdpass)" \
            "fix: rm $name (a program makes the directory itself), or set IPCLAB_DIR to a directory of yours"
        return
    fi
    if why=$(ipclab_run_dir_path_refused "$name"); then
        verdict FAIL rundir "the run directory $dir: $why: the programs refuse it" \
            "breaks: every program that meets its peer by a name there (fifo, msgq, shm, unixsock, fdpass)" \
            "fix: set IPCLAB_DIR to a path with no \"..\" and no other user's symbolic link in it"
        return
    fi
    if [[ -e $dir ]]; then
        owner=$(stat -c %u "$dir") mode=$(stat -c %a "$dir")
        if [[ ! -d $dir ]]; then
            verdict FAIL rundir "the run directory $dir is not a directory: the programs refuse it" \
                "breaks: every program that meets its peer by a name there (fifo, msgq, shm, unixsock, fdpass)" \
                "fix: remove $dir, or set IPCLAB_DIR to a directory of yours"
            return
        elif [[ $owner != "$EUID" ]]; then
            verdict FAIL rundir "the run directory $dir belongs to uid $owner, not to you (uid $EUID): the programs refuse it" \
                "breaks: every program that meets its peer by a name there (fifo, msgq, shm, unixsock, fdpass)" \
                "fix: set IPCLAB_DIR to a directory of yours (a program makes it, mode 700)"
            return
        elif (( 8#$mode & 8#077 )); then
            verdict FAIL rundir "the run directory $dir has mode $mode: others can get in, and the programs refuse it" \
                "breaks: every program that meets its peer by a name there (fifo, msgq, shm, unixsock, fdpass)" \
                "fix: chmod 700 $dir"
            return
        fi
        probe_dir rundir "$dir" "the run directory $dir"
        return
    fi
    # Not there yet: a program makes it (mkdir, mode 700) in its parent.
    parent=$(dirname "$dir")
    if [[ ! -d $parent ]]; then
        verdict FAIL rundir "the run directory $dir cannot be made: $parent does not exist" \
            "breaks: every program that meets its peer by a name there (fifo, msgq, shm, unixsock, fdpass)" \
            "fix: set IPCLAB_DIR to a directory of yours (or unset it, or XDG_RUNTIME_DIR)"
        return
    fi
    probe_dir rundir "$parent" "the run directory $dir (not made yet)"
}

# Where make test keeps the tests' files (their run directories among them): scripts/test.sh
# puts them on /dev/shm when TMPDIR is not set and that is a writable tmpfs.
check_testdir() {
    local dir=${TMPDIR:-}
    if [[ -z $dir ]]; then
        dir=/tmp
        [[ $(stat -f -c %T /dev/shm 2>/dev/null) == tmpfs && -w /dev/shm ]] && dir=/dev/shm
    fi
    probe_dir testdir "$dir" "make test's files"
}

check_shm() {
    local fstype bsize blocks avail size free out
    if [[ ! -d $SHM ]]; then
        verdict FAIL shm "$SHM does not exist" \
            "breaks: shm's pshm_writer and pshm_reader, shm_counter -l posix, make bench (POSIX shared memory and semaphores live there)" \
            "fix: sudo mkdir -m 1777 $SHM && sudo mount -t tmpfs -o mode=1777 tmpfs $SHM"
        return
    fi
    if ! out=$(mktemp "$SHM/doctor.XXXXXX" 2>&1); then
        verdict FAIL shm "cannot create a file in $SHM: ${out##*: }" \
            "breaks: shm's pshm_writer and pshm_reader, shm_counter -l posix, make bench (POSIX shared memory and semaphores live there)" \
            "fix: sudo chmod 1777 $SHM"
        return
    fi
    rm -f "$out"
    read -r fstype bsize blocks avail < <(stat -f -c '%T %S %b %a' "$SHM")
    size=$((bsize * blocks)) free=$((bsize * avail))
    if [[ $fstype != tmpfs ]]; then
        verdict WARN shm "$SHM is a $fstype file system, not tmpfs" \
            "breaks: POSIX shared memory then goes to a disk, slower, and some C libraries refuse it" \
            "fix: sudo mount -t tmpfs -o mode=1777 tmpfs $SHM"
    elif (( size < 256 * MIB || free < 64 * MIB )); then
        verdict WARN shm "$SHM holds $((size / MIB)) MiB, $((free / MIB)) MiB of it free (Docker gives 64 MiB)" \
            "breaks: make test (its files go there) and make bench; a process that touches a page of a mapping the full tmpfs cannot supply dies of SIGBUS" \
            "fix: docker run --shm-size=512m (compose: shm_size: 512m); elsewhere sudo mount -o remount,size=512M $SHM; or TMPDIR=/tmp make test"
    else
        verdict OK shm "$SHM is tmpfs, $((size / MIB)) MiB, $((free / MIB)) MiB free"
    fi
}

check_mqueue() {
    local queue out
    if ! grep -qw mqueue /proc/filesystems; then
        verdict FAIL mqueue "this kernel has no POSIX message queues (no mqueue in /proc/filesystems)" \
            "breaks: msgq's pmq_send and pmq_recv, make bench's POSIX queue figures" \
            "fix: a kernel built with CONFIG_POSIX_MQUEUE (WSL1 has none: move to WSL 2)"
        return
    fi
    if [[ $(stat -f -c %T "$MQUEUE" 2>/dev/null) != mqueue ]]; then
        verdict FAIL mqueue "$MQUEUE is not an mqueue mount" \
            "breaks: make test (it looks there for queues left behind), make status and make clean-ipc (they list POSIX queues there); pmq_send and pmq_recv still work" \
            "fix: sudo mkdir -p $MQUEUE && sudo mount -t mqueue mqueue $MQUEUE (make test does it as root or through sudo -n)"
        return
    fi
    # A file created in the mqueue file system is a queue (mq_overview(7)).
    queue=$MQUEUE/doctor-probe-$$
    if out=$(touch "$queue" 2>&1); then
        rm -f "$queue"
        verdict OK mqueue "$MQUEUE is mounted; a POSIX queue was made and removed there"
    else
        verdict FAIL mqueue "cannot make a POSIX queue in $MQUEUE: ${out##*: }" \
            "breaks: msgq's pmq_send and pmq_recv, make bench's POSIX queue figures" \
            "fix: see the reason; queues of yours left behind: make clean-ipc; the limits: the mqueue-limits check"
    fi
}

check_sysv() {
    local out
    if ! command -v perl >/dev/null; then
        verdict WARN sysv "not tried: no perl here to call msgget" "fix: sudo apt-get install perl-base"
        return
    fi
    # Perl's built-in msgget, shmget, semget and their *ctl; 0 is both IPC_PRIVATE and IPC_RMID
    # on Linux (IPC::SysV, which names them, is not always installed).  Mode 0600.
    if out=$(perl -e 'defined(my $q = msgget(0, 0600)) or die "msgget: $!\n";
        msgctl($q, 0, 0) or die "msgctl IPC_RMID: $!\n";
        defined(my $m = shmget(0, 4096, 0600)) or die "shmget: $!\n";
        shmctl($m, 0, 0) or die "shmctl IPC_RMID: $!\n";
        defined(my $s = semget(0, 1, 0600)) or die "semget: $!\n";
        semctl($s, 0, 0, 0) or die "semctl IPC_RMID: $!\n"' 2>&1); then
        verdict OK sysv "a System V queue, segment and semaphore set were made and removed"
    elif [[ $out == *"not implemented"* ]]; then
        verdict FAIL sysv "$out (WSL1 has no System V message queues; or a kernel without CONFIG_SYSVIPC)" \
            "breaks: msgq's msgq_send, msgq_recv, msgq_chat; shm's shm_* programs; their tests and demos" \
            "fix: on WSL1 move to WSL 2 (wsl --set-version DISTRO 2, in Windows' PowerShell)"
    elif [[ $out == *"No space left"* ]]; then
        verdict FAIL sysv "$out: the kernel's count of such objects (msgmni, shmmni, semmni) is reached" \
            "breaks: msgq's msgq_send, msgq_recv, msgq_chat; shm's shm_* programs; their tests and demos" \
            "fix: ipcs shows what is there, make clean-ipc removes ipclab's; ipcs -l shows the limits"
    else
        verdict FAIL sysv "$out" \
            "breaks: msgq's msgq_send, msgq_recv, msgq_chat; shm's shm_* programs; their tests and demos" \
            "fix: ipcs -l shows the limits; in a container, System V IPC may be turned off (docker run --ipc=private)"
    fi
}

check_sysv_limits() {
    local msgmax msgmnb msgmni
    msgmax=$(read_limit kernel/msgmax) msgmnb=$(read_limit kernel/msgmnb) msgmni=$(read_limit kernel/msgmni)
    if [[ -z $msgmax || -z $msgmnb || -z $msgmni ]]; then
        verdict WARN sysv-limits "cannot read $PROC_SYS/kernel/msgmax, msgmnb, msgmni" \
            "breaks: nothing by itself; the programs then assume Linux's defaults (8192, 16384)"
    elif (( msgmax < 1024 || msgmnb < 1024 )); then
        verdict FAIL sysv-limits "kernel.msgmax $msgmax, msgmnb $msgmnb: under the 1024 bytes of msgq_chat's message" \
            "breaks: msgq_chat (msgsnd() refuses its longer lines); msgq_send's messages shrink to $(( msgmax < msgmnb ? msgmax : msgmnb )) bytes" \
            "fix: sudo sysctl kernel.msgmax=8192 kernel.msgmnb=16384 (Linux's defaults)"
    elif (( msgmni < 8 )); then
        verdict WARN sysv-limits "kernel.msgmni $msgmni: at most $msgmni queues on the machine" \
            "breaks: a second pair, or the tests side by side, find no queue left (msgget: No space left on device)" \
            "fix: sudo sysctl kernel.msgmni=32000 (Linux's default)"
    else
        verdict OK sysv-limits "kernel.msgmax $msgmax, msgmnb $msgmnb, msgmni $msgmni"
    fi
}

check_mqueue_limits() {
    local msg_max msgsize_max queues_max level=FAIL note=""
    msg_max=$(read_limit fs/mqueue/msg_max) msgsize_max=$(read_limit fs/mqueue/msgsize_max)
    queues_max=$(read_limit fs/mqueue/queues_max)
    # Root (CAP_SYS_RESOURCE) is exempt from these limits (mq_overview(7)).
    if (( EUID == 0 )); then
        level=WARN note=" (root is exempt; every other user is not)"
    fi
    if [[ -z $msg_max || -z $msgsize_max || -z $queues_max ]]; then
        verdict WARN mqueue-limits "cannot read $PROC_SYS/fs/mqueue/msg_max, msgsize_max, queues_max" \
            "breaks: nothing by itself"
    elif (( msg_max < 10 || msgsize_max < 8192 )); then
        verdict "$level" mqueue-limits "fs.mqueue.msg_max $msg_max, msgsize_max $msgsize_max: under the 10 messages of 8192 bytes pmq_send makes its queue with$note" \
            "breaks: msgq's pmq_send and pmq_recv (mq_open: Invalid argument), their tests and demo" \
            "fix: sudo sysctl fs.mqueue.msg_max=10 fs.mqueue.msgsize_max=8192 (Linux's defaults)"
    elif (( queues_max < 8 )); then
        verdict "$level" mqueue-limits "fs.mqueue.queues_max $queues_max: at most $queues_max POSIX queues on the machine$note" \
            "breaks: a second pair, or the tests side by side, find no queue left (mq_open: No space left on device)" \
            "fix: sudo sysctl fs.mqueue.queues_max=256 (Linux's default)"
    else
        verdict OK mqueue-limits "fs.mqueue.msg_max $msg_max, msgsize_max $msgsize_max, queues_max $queues_max"
    fi
}

# logind's RemoveIPC (logind.conf(5)): the last setting in the file and its drop-ins, in order.
remove_ipc_in() {
    local value=yes file
    for file in "$@"; do
        [[ -r $file ]] || continue
        value=$(awk -F= -v v="$value" '/^[ \t]*RemoveIPC[ \t]*=/ { v = $2; gsub(/[ \t]/, "", v) } END { print v }' "$file")
    done
    echo "$value"
}

check_removeipc() {
    local conf value where user
    user=$(id -un 2>/dev/null || echo "$EUID")
    if [[ -n ${IPCLAB_DOCTOR_LOGIND_CONF:-} ]]; then
        conf=$IPCLAB_DOCTOR_LOGIND_CONF
        value=$(remove_ipc_in "$conf" "$conf".d/*.conf) where=$conf
    elif value=$(loginctl show-session -p RemoveIPC --value 2>/dev/null) && [[ -n $value ]]; then
        where="systemd-logind (loginctl)"
    elif [[ -d /run/systemd/system ]]; then
        conf=/etc/systemd/logind.conf
        value=$(remove_ipc_in "$conf" /usr/lib/systemd/logind.conf.d/*.conf "$conf".d/*.conf \
            /run/systemd/logind.conf.d/*.conf) where=$conf
    else
        verdict OK removeipc "no systemd-logind here: nothing removes your objects when you log out"
        return
    fi
    if [[ $value != yes ]]; then
        verdict OK removeipc "RemoveIPC=$value ($where): your objects outlive your sessions"
    elif (( EUID < 1000 )); then
        verdict OK removeipc "RemoveIPC=yes ($where), but uid $EUID is a system user's, which it spares"
    elif [[ -e /var/lib/systemd/linger/$user ]]; then
        verdict OK removeipc "RemoveIPC=yes ($where), but $user lingers (loginctl enable-linger): never logged out"
    else
        verdict WARN removeipc "RemoveIPC=yes ($where): when your last session ends, logind removes your System V and POSIX objects" \
            "breaks: a pair left running while you log out (or your last ssh session closes): its queue or segment is gone (msgrcv: Identifier removed), make status shows nothing" \
            "fix: loginctl enable-linger $user; or RemoveIPC=no in /etc/systemd/logind.conf, then sudo systemctl restart systemd-logind"
    fi
}

check_ptrace() {
    local scope="" why
    { read -r scope <"$PROC_SYS/kernel/yama/ptrace_scope"; } 2>/dev/null
    if [[ $scope == 3 ]] || { [[ $scope == 2 ]] && (( EUID != 0 )); }; then
        verdict FAIL ptrace "kernel.yama.ptrace_scope is $scope: $([[ $scope == 3 ]] && echo "no process may trace another" || echo "only root may trace")" \
            "breaks: make trace-MECHANISM (it skips), the tests that run a program under strace" \
            "fix: sudo sysctl kernel.yama.ptrace_scope=1 (3 holds until the next boot)"
        return
    fi
    if ! command -v strace >/dev/null; then
        verdict WARN ptrace "strace is not installed" \
            "breaks: make trace-MECHANISM (it skips); the tests that need it skip" \
            "fix: sudo apt-get install strace (make test installs it)"
        return
    fi
    if why=$(strace -f -qq -e trace=none true 2>&1); then
        verdict OK ptrace "strace can trace a program it starts${scope:+ (ptrace_scope $scope)}"
    else
        verdict FAIL ptrace "strace cannot trace here: $(head -n 1 <<<"$why")" \
            "breaks: make trace-MECHANISM (it skips), the tests that run a program under strace" \
            "fix: in a container, docker run --cap-add=SYS_PTRACE (and --security-opt seccomp=unconfined on old Docker); elsewhere kernel.yama.ptrace_scope"
    fi
}

for name in "${CHECKS[@]}"; do
    "check_${name//-/_}"
done
echo "doctor: $oks OK, $warns WARN, $fails FAIL"
(( fails == 0 ))
