#!/usr/bin/env bats
# tests/doctor.bats - scripts/doctor.sh (make doctor): each check passes on a machine that has
# what it looks for, and on one that lacks it says so, with what it breaks and the fix; exit 1
# only when a check fails.  The bad machines are real where root can make them (a small tmpfs, a
# file system without FIFOs or sockets, an IPC namespace with no room for a queue, another
# user); elsewhere the check's input is pointed at a file of the test's (a /proc/sys of its
# own, a logind.conf).  It calls msgget, so it runs with the System V check (scripts/test.sh).
# shellcheck disable=SC2154 # $stderr is set by bats' run --separate-stderr

load test_helper
bats_require_minimum_version 1.5.0

setup() {
    ipclab_setup
}

teardown() {
    ipclab_teardown
}

# doctor CHECK... / doctor_as_nobody CHECK...: run those checks (as uid 65534).
doctor() { run --separate-stderr timeout 30 "$ROOT/scripts/doctor.sh" "$@"; }
doctor_as_nobody() { run --separate-stderr timeout 30 "${AS_NOBODY[@]}" "$ROOT/scripts/doctor.sh" "$@"; }

# verdict LEVEL CHECK TEXT: the check's line is LEVEL, and names TEXT.
verdict() {
    local line
    line=$(grep -E "^[A-Z]+ +$2 " <<<"$output") || fail "no line for $2 in: $output"
    [[ $line == "$1 "* ]] || fail "$2: not $1: $line"
    [[ $line == *"$3"* ]] || fail "$2: does not say '$3': $line"
}

# advised: the lines under the verdict say what it breaks and how to fix it.
advised() {
    assert_line --regexp '^      breaks: .'
    assert_line --regexp '^      fix: .'
}

needs_root() { (( EUID == 0 )) || skip "needs root (mounts, namespaces or a second user; CI runs as root)"; }

# in_mounts COMMAND...: COMMAND in a mount namespace of its own (what it mounts goes with it).
in_mounts() { timeout 30 unshare --mount --propagation private "$@"; }

# fake_proc_sys DIR [NAME=VALUE...]: a /proc/sys in DIR with Linux's defaults, then the changes.
fake_proc_sys() {
    local dir=$1 pair
    shift
    mkdir -p "$dir/kernel/yama" "$dir/fs/mqueue"
    for pair in kernel/msgmax=8192 kernel/msgmnb=16384 kernel/msgmni=32000 fs/mqueue/msg_max=10 \
        fs/mqueue/msgsize_max=8192 fs/mqueue/queues_max=256 kernel/yama/ptrace_scope=1 "$@"; do
        echo "${pair#*=}" >"$dir/${pair%%=*}"
    done
    chmod -R a+rX "$dir"
}

@test "doctor: -h is its usage; an unknown check is a usage error; one line per check and a count" {
    doctor -h
    assert_success
    [[ $output == "usage: scripts/doctor.sh [CHECK...]"* ]]
    doctor no-such-check
    assert_equal "$status" 2
    [[ $stderr == *"no check 'no-such-check'"* ]]
    fake_proc_sys "$BATS_TEST_TMPDIR/sys"
    IPCLAB_DOCTOR_PROC_SYS=$BATS_TEST_TMPDIR/sys doctor bats sysv-limits
    assert_equal "${#lines[@]}" 3
    assert_line --index 2 --regexp '^doctor: [0-9] OK, [0-9] WARN, [0-9] FAIL$'
}

@test "doctor compiler: builds with \$CC; a missing compiler fails, with the package to install" {
    command -v cc >/dev/null || skip "no cc here"
    CC=cc doctor compiler
    assert_success
    verdict OK compiler "cc builds and runs a C11 program"
    CC=no-such-cc doctor compiler
    assert_failure 1
    verdict FAIL compiler "'no-such-cc' is not installed"
    advised
    assert_line --partial "apt-get install build-essential"
}

@test "doctor bats: bats and its libraries found; missing ones warn (exit 0) and name make test's bootstrap" {
    command -v bats >/dev/null || skip "no bats in PATH"
    doctor bats
    assert_success
    verdict OK bats "are installed"
    mkdir "$BATS_TEST_TMPDIR/empty"
    BATS=no-such-bats BATS_LIB_PATH=$BATS_TEST_TMPDIR/empty doctor bats
    assert_success # a warning
    verdict WARN bats "not installed: bats bats-support bats-assert"
    advised
    assert_line --partial "scripts/bootstrap.sh"
}

@test "doctor rundir: the programs' run directory takes a FIFO and a socket, and keeps nothing" {
    doctor rundir
    assert_success
    verdict OK rundir "the run directory $IPCLAB_DIR: $IPCLAB_DIR"
    verdict OK rundir "takes FIFOs, UNIX sockets and record locks"
    # found as the programs find it: XDG_RUNTIME_DIR/ipclab when IPCLAB_DIR is not set; one
    # that is not there yet is tried in its parent, and not made
    mkdir -m 700 "$BATS_TEST_TMPDIR/xdg"
    IPCLAB_DIR='' XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/xdg doctor rundir
    assert_success
    verdict OK rundir "the run directory $BATS_TEST_TMPDIR/xdg/ipclab (not made yet): $BATS_TEST_TMPDIR/xdg"
    [[ -z $(ls -A "$BATS_TEST_TMPDIR/xdg") ]] || fail "left: $(ls -A "$BATS_TEST_TMPDIR/xdg")"
}

@test "doctor rundir: one the programs refuse fails: open to others, a symbolic link (slash or not), too long" {
    mkdir -m 755 "$BATS_TEST_TMPDIR/open"
    IPCLAB_DIR=$BATS_TEST_TMPDIR/open doctor rundir
    assert_failure 1
    verdict FAIL rundir "has mode 755: others can get in"
    advised
    assert_line "      fix: chmod 700 $BATS_TEST_TMPDIR/open"

    ln -s "$IPCLAB_DIR" "$BATS_TEST_TMPDIR/link"
    local dir
    for dir in "$BATS_TEST_TMPDIR/link" "$BATS_TEST_TMPDIR/link/"; do
        IPCLAB_DIR=$dir doctor rundir
        assert_failure 1
        verdict FAIL rundir "the run directory $dir is a symbolic link"
    done

    dir=$BATS_TEST_TMPDIR/$(printf 'd%.0s' {1..100})
    IPCLAB_DIR=$dir doctor rundir
    assert_failure 1
    verdict FAIL rundir "is too long for socket paths"
    advised
}

@test "doctor rundir: a path with a .. component, or through another user's symbolic link, fails" {
    mkdir -m 700 "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/a/b"
    IPCLAB_DIR=$BATS_TEST_TMPDIR/a/b/.. doctor rundir
    assert_failure 1
    verdict FAIL rundir "the run directory $BATS_TEST_TMPDIR/a/b/..: its name has a \"..\" component: the programs refuse it"
    advised
    (( EUID == 0 )) || skip "needs root for the rest: uid 65534 plants the link"
    mkdir -m 700 "$BATS_TEST_TMPDIR/private" "$BATS_TEST_TMPDIR/private/run"
    other_dir 777
    "${AS_NOBODY[@]}" ln -s "$BATS_TEST_TMPDIR/private" "$OTHER_DIR/P"
    local dir
    for dir in "$OTHER_DIR/P/run" "$OTHER_DIR/P/new"; do
        IPCLAB_DIR=$dir doctor rundir
        assert_failure 1
        verdict FAIL rundir "the run directory $dir: its path passes through $OTHER_DIR/P, a symbolic link of uid 65534: the programs refuse it"
    done
}

@test "doctor rundir: another user's run directory fails" {
    needs_root
    mkdir -m 700 "$BATS_TEST_TMPDIR/theirs"
    chown 65534 "$BATS_TEST_TMPDIR/theirs"
    IPCLAB_DIR=$BATS_TEST_TMPDIR/theirs doctor rundir
    assert_failure 1
    verdict FAIL rundir "belongs to uid 65534, not to you (uid 0)"
    advised
}

@test "doctor rundir, testdir: a file system with neither FIFOs nor sockets fails, and nothing is left" {
    needs_root
    # A cgroup2 mount, as some FUSE, 9p and vboxsf mounts do, refuses mknod: no FIFO, no socket.
    # Its path is short (sun_path holds 108 bytes): make test's own directories are deep.
    other_dir 700
    local mnt=$OTHER_DIR
    # shellcheck disable=SC2016 # the inner shell's variables
    run --separate-stderr in_mounts bash -c 'mount -t cgroup2 none "$1" || exit 99
        dir=$1/ipclab-doctor-test-$$ && mkdir -m 700 "$dir" || exit 99
        IPCLAB_DIR=$dir "$2" rundir; echo "status $?"
        TMPDIR=$dir "$2" testdir; echo "status $?"
        left=$(find "$dir" -mindepth 1 -type d); rmdir "$dir"; echo "left: $left"' \
        - "$mnt" "$ROOT/scripts/doctor.sh"
    (( status != 99 )) || skip "cannot mount cgroup2 here: $stderr"
    assert_success
    verdict FAIL rundir "(a cgroup2fs file system) refuses FIFOs: Operation not permitted"
    verdict FAIL testdir "(a cgroup2fs file system) refuses FIFOs"
    assert_line "      fix: point it at a local file system: IPCLAB_DIR=/tmp/ipclab-0 for the run directory, TMPDIR=/tmp for make test"
    [[ $(grep -c '^status 1$' <<<"$output") == 2 ]] || fail "not two failures: $output"
    assert_line "left: "
}

@test "doctor testdir: where make test keeps its files takes FIFOs and sockets" {
    TMPDIR=$BATS_TEST_TMPDIR doctor testdir
    assert_success
    verdict OK testdir "make test's files: $BATS_TEST_TMPDIR"
    [[ -z $(find "$BATS_TEST_TMPDIR" -name 'doctor.*') ]]
}

@test "doctor shm: a big tmpfs passes; Docker's 64 MiB warns of SIGBUS; none fails" {
    needs_root
    local mnt=$BATS_TEST_TMPDIR/shm
    mkdir "$mnt"
    # shellcheck disable=SC2016 # the inner shell's variables
    run --separate-stderr in_mounts bash -c 'mount -t tmpfs -o size=1g,mode=1777 none "$1" || exit 99
        IPCLAB_DOCTOR_SHM=$1 "$2" shm; echo "status $?"
        umount "$1" && mount -t tmpfs -o size=64m,mode=1777 none "$1" || exit 99
        IPCLAB_DOCTOR_SHM=$1 "$2" shm; echo "status $?"; ls -A "$1"' - "$mnt" "$ROOT/scripts/doctor.sh"
    (( status != 99 )) || skip "cannot mount a tmpfs here: $stderr"
    assert_success
    assert_line --index 0 --regexp "^OK +shm +$mnt is tmpfs, 1024 MiB, 1024 MiB free$"
    assert_line --index 2 "status 0"
    assert_line --index 3 --regexp "^WARN +shm +$mnt holds 64 MiB, 64 MiB of it free \(Docker gives 64 MiB\)$"
    assert_line --partial "dies of SIGBUS"
    assert_line --partial "docker run --shm-size=512m"
    assert_line --index 7 "status 0" # a warning: nothing fails for it
    (( ${#lines[@]} == 8 )) || fail "the probe file is left: ${lines[*]:8}"

    IPCLAB_DOCTOR_SHM=$BATS_TEST_TMPDIR/no-shm doctor shm
    assert_failure 1
    verdict FAIL shm "$BATS_TEST_TMPDIR/no-shm does not exist"
    advised
}

@test "doctor shm: one the user cannot write to fails; one on a disk warns" {
    needs_root
    other_dir 755 # root's, in /tmp
    IPCLAB_DOCTOR_SHM=$OTHER_DIR doctor_as_nobody shm
    assert_failure 1
    verdict FAIL shm "cannot create a file in $OTHER_DIR: Permission denied"
    advised
    [[ $(stat -f -c %T "$OTHER_DIR") != tmpfs ]] || skip "/tmp is a tmpfs here"
    IPCLAB_DOCTOR_SHM=$OTHER_DIR doctor shm
    assert_success
    verdict WARN shm "$OTHER_DIR is a $(stat -f -c %T "$OTHER_DIR") file system, not tmpfs"
    [[ -z $(ls -A "$OTHER_DIR") ]]
}

@test "doctor mqueue: a queue made and removed in /dev/mqueue; a directory that is no mqueue mount fails" {
    local before
    before=$(ls /dev/mqueue)
    doctor mqueue
    assert_success
    verdict OK mqueue "/dev/mqueue is mounted; a POSIX queue was made and removed there"
    assert_equal "$(ls /dev/mqueue)" "$before"
    IPCLAB_DOCTOR_MQUEUE=$BATS_TEST_TMPDIR doctor mqueue
    assert_failure 1
    verdict FAIL mqueue "$BATS_TEST_TMPDIR is not an mqueue mount"
    advised
    assert_line --partial "sudo mount -t mqueue mqueue $BATS_TEST_TMPDIR"
}

@test "doctor mqueue: an mqueue mount where the user may not make a queue fails, with the reason" {
    needs_root
    # A new IPC namespace has a file system of queues of its own: closed to others here.
    # shellcheck disable=SC2016 # the inner shell's variables
    run --separate-stderr ipclab_in_namespace timeout 30 bash -c 'chmod 755 /dev/mqueue &&
        "$@" "$0" mqueue' "$ROOT/scripts/doctor.sh" "${AS_NOBODY[@]}"
    assert_failure 1
    verdict FAIL mqueue "cannot make a POSIX queue in /dev/mqueue: Permission denied"
    advised
}

@test "doctor sysv: a queue, a segment and a semaphore set made and removed; none to be had fails" {
    doctor sysv
    assert_success
    verdict OK sysv "a System V queue, segment and semaphore set were made and removed"
    # (teardown: no System V object is left)
    needs_root
    # An IPC namespace whose kernel.msgmni is 0: msgget() finds no room, as it does on a
    # machine whose queues are all taken.
    run --separate-stderr timeout 30 unshare --ipc bash -c 'echo 0 >/proc/sys/kernel/msgmni && exec "$@"' \
        - "$ROOT/scripts/doctor.sh" sysv
    assert_failure 1
    verdict FAIL sysv "msgget: No space left on device"
    advised
    assert_line --partial "make clean-ipc"
}

@test "doctor sysv-limits: Linux's defaults pass; msgmax under msgq_chat's 1024 bytes fails; few queues warn" {
    local sys=$BATS_TEST_TMPDIR/sys
    fake_proc_sys "$sys"
    IPCLAB_DOCTOR_PROC_SYS=$sys doctor sysv-limits
    assert_success
    verdict OK sysv-limits "kernel.msgmax 8192, msgmnb 16384, msgmni 32000"
    fake_proc_sys "$sys" kernel/msgmax=512
    IPCLAB_DOCTOR_PROC_SYS=$sys doctor sysv-limits
    assert_failure 1
    verdict FAIL sysv-limits "kernel.msgmax 512, msgmnb 16384: under the 1024 bytes"
    advised
    assert_line --partial "sudo sysctl kernel.msgmax=8192 kernel.msgmnb=16384"
    fake_proc_sys "$sys" kernel/msgmni=2
    IPCLAB_DOCTOR_PROC_SYS=$sys doctor sysv-limits
    assert_success
    verdict WARN sysv-limits "kernel.msgmni 2: at most 2 queues"
    advised
    rm "$sys/kernel/msgmnb"
    IPCLAB_DOCTOR_PROC_SYS=$sys doctor sysv-limits
    assert_success
    verdict WARN sysv-limits "cannot read $sys/kernel/msgmax, msgmnb, msgmni"
    # and the real ones are read
    doctor sysv-limits
    assert_line --regexp "^(OK|WARN|FAIL) +sysv-limits +kernel.msgmax $(cat /proc/sys/kernel/msgmax), "
}

@test "doctor mqueue-limits: the defaults pass; under pmq_send's 10 x 8192 fails a user, warns root" {
    needs_root
    other_dir 755
    local sys=$OTHER_DIR/sys
    fake_proc_sys "$sys"
    IPCLAB_DOCTOR_PROC_SYS=$sys doctor_as_nobody mqueue-limits
    assert_success
    verdict OK mqueue-limits "fs.mqueue.msg_max 10, msgsize_max 8192, queues_max 256"
    fake_proc_sys "$sys" fs/mqueue/msg_max=5
    IPCLAB_DOCTOR_PROC_SYS=$sys doctor_as_nobody mqueue-limits
    assert_failure 1
    verdict FAIL mqueue-limits "fs.mqueue.msg_max 5, msgsize_max 8192: under the 10 messages of 8192 bytes"
    advised
    assert_line --partial "sudo sysctl fs.mqueue.msg_max=10 fs.mqueue.msgsize_max=8192"
    IPCLAB_DOCTOR_PROC_SYS=$sys doctor mqueue-limits
    assert_success
    verdict WARN mqueue-limits "(root is exempt; every other user is not)"
    fake_proc_sys "$sys" fs/mqueue/queues_max=3
    IPCLAB_DOCTOR_PROC_SYS=$sys doctor_as_nobody mqueue-limits
    assert_failure 1
    verdict FAIL mqueue-limits "fs.mqueue.queues_max 3: at most 3 POSIX queues"
}

@test "doctor removeipc: RemoveIPC=yes (logind's default) warns a regular user; no, a drop-in's no, root pass" {
    needs_root
    other_dir 755
    local conf=$OTHER_DIR/logind.conf
    printf '[Login]\n#RemoveIPC=no\n' >"$conf" # commented out: the default, yes
    chmod 644 "$conf"
    IPCLAB_DOCTOR_LOGIND_CONF=$conf doctor_as_nobody removeipc
    assert_success # a warning
    verdict WARN removeipc "RemoveIPC=yes ($conf): when your last session ends, logind removes your System V and POSIX objects"
    advised
    assert_line --partial "loginctl enable-linger nobody"
    # root and the system users are spared
    IPCLAB_DOCTOR_LOGIND_CONF=$conf doctor removeipc
    verdict OK removeipc "uid 0 is a system user's, which it spares"
    # set to no, in the file or in a drop-in read after it
    mkdir -m 755 "$conf.d"
    printf '[Login]\nRemoveIPC = no\n' >"$conf.d/50-keep.conf"
    chmod 644 "$conf.d/50-keep.conf"
    IPCLAB_DOCTOR_LOGIND_CONF=$conf doctor_as_nobody removeipc
    verdict OK removeipc "RemoveIPC=no ($conf): your objects outlive your sessions"
    printf '[Login]\nRemoveIPC=yes\n' >"$conf.d/60-again.conf"
    chmod 644 "$conf.d/60-again.conf"
    IPCLAB_DOCTOR_LOGIND_CONF=$conf doctor_as_nobody removeipc
    verdict WARN removeipc "RemoveIPC=yes"
}

@test "doctor ptrace: strace traces; ptrace_scope 3 or a refusing strace fails; no strace warns" {
    command -v strace >/dev/null || skip "strace is not installed"
    local sys=$BATS_TEST_TMPDIR/sys
    fake_proc_sys "$sys"
    IPCLAB_DOCTOR_PROC_SYS=$sys doctor ptrace
    assert_success
    verdict OK ptrace "strace can trace a program it starts (ptrace_scope 1)"
    fake_proc_sys "$sys" kernel/yama/ptrace_scope=3
    IPCLAB_DOCTOR_PROC_SYS=$sys doctor ptrace
    assert_failure 1
    verdict FAIL ptrace "kernel.yama.ptrace_scope is 3: no process may trace another"
    advised
    # A strace refused as the kernel refuses it (the message is strace's own).
    local fake=$BATS_TEST_TMPDIR/fake
    mkdir "$fake"
    printf '#!/bin/sh\necho "strace: test_ptrace_get_syscall_info: PTRACE_TRACEME: Operation not permitted" >&2\nexit 1\n' \
        >"$fake/strace"
    chmod +x "$fake/strace"
    PATH=$fake:$PATH IPCLAB_DOCTOR_PROC_SYS=$BATS_TEST_TMPDIR/none doctor ptrace
    assert_failure 1
    verdict FAIL ptrace "strace cannot trace here: strace: test_ptrace_get_syscall_info: PTRACE_TRACEME: Operation not permitted"
    assert_line --partial "docker run --cap-add=SYS_PTRACE"
    fake_proc_sys "$sys"
    PATH=$(without strace) IPCLAB_DOCTOR_PROC_SYS=$sys doctor ptrace
    assert_success
    verdict WARN ptrace "strace is not installed"
    advised
}

@test "make test and make trace-MECHANISM name make doctor when they fail" {
    # scripts/test.sh with a bats that fails every group at once, in a tree of its own with no
    # program (its check of every program's imports would take seconds)
    local tree=$BATS_TEST_TMPDIR/tree
    mkdir -p "$tree/scripts" "$tree/tests"
    cp "$ROOT/scripts/test.sh" "$ROOT/scripts/lib.sh" "$tree/scripts/"
    printf 'print-programs:\n' >"$tree/Makefile"
    run --separate-stderr env BATS=false IPCLAB_BIN="$tree" timeout 30 "$tree/scripts/test.sh"
    assert_failure 1
    assert_line --partial "group 1 FAILED"
    assert_line --regexp '^# if failures mention .*, run make doctor$'
    # the trace, where ptrace is refused
    local fake=$BATS_TEST_TMPDIR/fake
    mkdir "$fake"
    printf '#!/bin/sh\necho "strace: PTRACE_TRACEME: Operation not permitted" >&2\nexit 1\n' >"$fake/strace"
    chmod +x "$fake/strace"
    PATH=$fake:$PATH run timeout 10 "$ROOT/scripts/demo.sh" --trace fifo
    assert_success
    assert_output --partial "strace may not trace here"
    assert_output --partial "make doctor checks it"
    PATH=$(without strace) run timeout 10 "$ROOT/scripts/demo.sh" --trace fifo
    assert_output --partial "make doctor checks this"
}

@test "make doctor runs every check, CC and BATS passed on; make help names it" {
    run --separate-stderr timeout 60 make -s -C "$ROOT" doctor CC=no-such-cc
    assert_failure
    verdict FAIL compiler "'no-such-cc' is not installed"
    local check
    for check in compiler bats rundir testdir shm mqueue sysv sysv-limits mqueue-limits removeipc ptrace; do
        assert_line --regexp "^(OK|WARN|FAIL) +$check "
    done
    run make -s -C "$ROOT" help
    assert_line --regexp '^make doctor +check this machine'
}
