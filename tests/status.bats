#!/usr/bin/env bats
# tests/status.bats - scripts/status.sh (make status) and scripts/clean-ipc.sh (make clean-ipc):
# they name every live object of ours and who uses it, and remove only what nobody uses.

load test_helper

setup() {
    ipclab_setup
    # Only the test's own POSIX names: other ipclab names of this user are not the test's.
    export IPCLAB_STATUS_PREFIX=$POSIX
}

teardown() {
    ipclab_teardown
}

status() { run timeout 10 "$ROOT/scripts/status.sh" "$@"; }
clean() { run timeout 10 "$ROOT/scripts/clean-ipc.sh"; }

# start_all: one side of each kind of object, each waiting for its peer: a System V queue and
# its key file, a FIFO (its reader asleep in open()), a listening socket, a System V segment,
# a POSIX queue and a POSIX shared memory object.
start_all() {
    start_side recv /dev/null "$BIN/msgq/msgq_recv"
    start_side reader /dev/null "$BIN/fifo/fifo_reader"
    start_side server /dev/null "$BIN/unixsock/unix_stream_server"
    start_side shm /dev/null "$BIN/shm/shm_reader"
    start_side precv /dev/null "$BIN/msgq/pmq_recv" -p "$POSIX-q"
    start_side pshm /dev/null "$BIN/shm/pshm_reader" -p "$POSIX-s"
    local side
    for side in recv reader server shm precv pshm; do
        wait_ready "$side"
    done
    wait_blocked_in "${PID[reader]}" 'fifo|partner'
}

@test "status: with nothing of ours it says so" {
    status
    assert_success
    assert_line "run directory $RUN_DIR:"
    assert_line "  empty"
    assert_line "nothing of ipclab's here."
}

@test "status: names every live object and who uses it; clean-ipc leaves them all, and they still work" {
    start_all
    status
    assert_success
    assert_line --regexp "^  key file +msgq +in use: open in msgq_recv \(pid ${PID[recv]}\)$"
    assert_line --regexp "^  fifo +fifo +perhaps in use: .*fifo_reader \(pid ${PID[reader]}\).* waiting in open\(\) of a FIFO$"
    assert_line --regexp "^  socket +unix_stream +in use: bound by unix_stream_server \(pid ${PID[server]}\)$"
    assert_line --regexp "^  queue +id [0-9]+ \(key from msgq\) +in use \(holds 0 message\(s\), 0 bytes\): its key file is open in msgq_recv \(pid ${PID[recv]}\)$"
    assert_line --regexp "^  segment +id [0-9]+ \(key from shm\) +in use: [0-9]+ bytes, 1 process\(es\) attached$"
    assert_line --regexp "^  queue +$POSIX-q +in use \(holds 0 bytes of messages\): open in pmq_recv \(pid ${PID[precv]}\)$"
    assert_line --regexp "^  shm +$POSIX-s +in use: open in pshm_reader \(pid ${PID[pshm]}\)$"
    refute_line --partial "stale"

    clean
    assert_success
    refute_line --regexp ' removed$'
    # each still works: a writer reaches the reader, a sender the receiver, a client the server
    printf 'still here\n' | timeout 5 "$BIN/fifo/fifo_writer" 2>/dev/null
    wait_output reader '^still here$'
    printf 'queued\n' | timeout 5 "$BIN/msgq/msgq_send" 2>/dev/null
    wait_output recv '^queued$'
    run timeout 5 "$BIN/unixsock/unix_stream_client" <<<"up"
    assert_output --partial "UP"
    printf 'mapped\n' | timeout 5 "$BIN/shm/pshm_writer" -p "$POSIX-s" 2>/dev/null
    wait_output pshm '^mapped$'
    printf 'posix\n' | timeout 5 "$BIN/msgq/pmq_send" -p "$POSIX-q" 2>/dev/null
    wait_output precv '^posix$'
    printf 'segment\n' | timeout 5 "$BIN/shm/shm_writer" 2>/dev/null
    wait_output shm '^segment$'
    kill_side server INT
    assert_exit server 130
    status
    assert_line "nothing of ipclab's here."
}

@test "status: after kill -9 it shows what was left and nobody uses; clean-ipc removes it all" {
    start_all
    local side
    for side in recv reader server shm precv pshm; do
        kill_side "$side" KILL
        assert_exit "$side" 137
    done
    status
    assert_success
    assert_line --regexp "^  key file +msgq +no process has it open$"
    assert_line --regexp "^  fifo +fifo +stale: no process has it open$"
    assert_line --regexp "^  socket +unix_stream +stale: no socket is bound to it$"
    assert_line --regexp "^  queue +id [0-9]+ \(key from msgq\) +no process has its key file open; holds 0 message\(s\), 0 bytes$"
    assert_line --regexp "^  segment +id [0-9]+ \(key from shm\) +nobody attached; [0-9]+ bytes$"
    assert_line --regexp "^  queue +$POSIX-q +no process has it open; holds 0 bytes of messages$"
    assert_line --regexp "^  shm +$POSIX-s +no process has it open$"
    assert_line --partial "make clean-ipc removes what no process uses"
    [[ -n $(ls -A "$RUN_DIR") ]]

    clean
    assert_success
    assert_line --regexp "^ +msgq +removed$"
    assert_line --regexp "^ +fifo +removed$"
    assert_line --regexp "^ +unix_stream +removed$"
    assert_line --regexp "^ +queue id [0-9]+ +removed$"
    assert_line --regexp "^ +segment id [0-9]+ +removed$"
    assert_line --regexp "^ +$POSIX-q +removed$"
    assert_line --regexp "^ +$POSIX-s +removed$"
    status
    assert_line "nothing of ipclab's here."
    # teardown: the run directory empty, no System V object, no POSIX name of the test's
}

@test "status: a queue that holds messages nobody has read yet says so; clean-ipc drops them" {
    printf 'one\n' | timeout 5 "$BIN/msgq/msgq_send" 2>/dev/null
    status
    assert_line --regexp "^  queue +id [0-9]+ \(key from msgq\) +no process has its key file open; holds 2 message\(s\), 4 bytes$"
    clean
    assert_line --regexp "^ +queue id [0-9]+ +removed$"
    status
    assert_line "nothing of ipclab's here."
}

@test "status: a POSIX queue says how many bytes of messages it holds (QSIZE), like a System V one" {
    printf 'hello\nworld\n' | timeout 5 "$BIN/msgq/pmq_send" -p "$POSIX-q" 2>/dev/null
    status
    assert_line --regexp "^  queue +$POSIX-q +no process has it open; holds 12 bytes of messages$"
    clean
    assert_line --regexp "^ +$POSIX-q +removed$"
}

@test "status: a file two processes hold open names both of them" {
    # shm_reader and shm_writer both hold the key file (their record locks) and the FIFO
    start_side reader /dev/null "$BIN/shm/shm_reader"
    wait_ready reader
    start_fed writer "$BIN/shm/shm_writer"
    wait_ready writer
    wait_line writer 'marked for removal'
    status
    local both="(shm_reader \(pid ${PID[reader]}\), shm_writer \(pid ${PID[writer]}\)|shm_writer \(pid ${PID[writer]}\), shm_reader \(pid ${PID[reader]}\))"
    assert_line --regexp "^  key file +shm +in use: open in $both$"
    assert_line --regexp "^  fifo +shm.fifo +in use: open in $both$"
    exec 5>&-
    assert_exit writer 0
    assert_exit reader 0
}

@test "status: make status and make clean-ipc on a refused run directory: the explanation, no make error" {
    chmod 755 "$RUN_DIR"
    local target
    for target in status clean-ipc; do
        run timeout 10 make -s --no-print-directory -C "$ROOT" "$target"
        assert_success
        assert_line --partial "mode 755 lets others in: the programs refuse it"
        refute_output --partial "Error"
    done
    chmod 700 "$RUN_DIR"
}

@test "status: a segment already marked for removal (key gone) is shown while both sides use it" {
    start_side reader /dev/null "$BIN/shm/shm_reader"
    wait_ready reader
    start_fed writer "$BIN/shm/shm_writer"
    wait_line writer 'marked for removal'
    status
    assert_line --regexp "^  segment +id [0-9]+ \(key gone\) +in use: marked for removal, 2 process\(es\) attached, made by shm_reader \(pid ${PID[reader]}\)$"
    clean
    refute_line --regexp ' removed$'
    printf 'still shared\n' >&5
    exec 5>&-
    wait_output reader '^still shared$'
    assert_exit writer 0
    assert_exit reader 0
}

@test "status: a semaphore set keyed from a run-directory file: in use while its key file is held, then removed" {
    # A student's program might make one from a key file as ours are made (the mark, mode
    # 0600), with a project id of ours ('s', shm_sem's).  This peer does: ftok(), semget(), and
    # it holds the file open.
    printf 'ipclab key file\n' >"$RUN_DIR/sem"
    chmod 600 "$RUN_DIR/sem"
    start_side peer /dev/null "$PYTHON" -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open(sys.argv[1], os.O_RDWR)
key = libc.ftok(sys.argv[1].encode(), ord("s"))
if key == -1 or libc.semget(key, 2, 0o1600) == -1:
    sys.exit("ftok/semget: " + os.strerror(ctypes.get_errno()))
sys.stderr.write("peer: ready (pid %d)\n" % os.getpid())
import time; time.sleep(60)' "$RUN_DIR/sem"
    wait_ready peer
    status
    assert_line --regexp "^  sem set +id [0-9]+ \(key from sem\) +in use \(2 semaphores\): its key file is open in python3 \(pid ${PID[peer]}\)$"
    kill_side peer KILL
    status
    assert_line --regexp "^  sem set +id [0-9]+ \(key from sem\) +no process has its key file open; 2 semaphores$"
    clean
    assert_line --regexp "^ +sem set id [0-9]+ +removed$"
    assert_line --regexp "^ +sem +removed$"
}

@test "status: a POSIX object that is mapped but no longer open is in use, and kept" {
    local name=$POSIX-m
    start_side peer /dev/null "$PYTHON" -c '
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
fd = os.open("/dev/shm" + sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, 4096)
# mmap(2) itself: Python'"'"'s mmap module keeps a dup of the descriptor open
if libc.mmap(None, 4096, 3, 1, fd, 0) in (None, ctypes.c_void_p(-1).value):
    sys.exit("mmap: " + os.strerror(ctypes.get_errno()))
os.close(fd)
if os.fork() == 0:
    time.sleep(60)   # a second process maps it too (inherited)
sys.stderr.write("peer: ready (pid %d)\n" % os.getpid())
time.sleep(60)' "$name"
    wait_ready peer
    status
    assert_line --regexp "^  shm +$name +in use: mapped by python3 \(pid [0-9]+\)$"
    clean
    refute_line --regexp ' removed$'
    [[ -e /dev/shm$name ]]
    kill_side peer KILL
    clean
    assert_line --regexp "^ +$name +removed$"
}

@test "status: a POSIX named semaphore (/dev/shm/sem.NAME) is in use while mapped, then removed" {
    local name=$POSIX-s
    start_side peer /dev/null "$PYTHON" -c '
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.sem_open.restype = ctypes.c_void_p
libc.sem_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_uint]
if libc.sem_open(sys.argv[1].encode(), os.O_CREAT | os.O_EXCL, 0o600, 1) in (None, 0):
    sys.exit("sem_open: " + os.strerror(ctypes.get_errno()))
sys.stderr.write("peer: ready (pid %d)\n" % os.getpid())
time.sleep(60)' "$name"
    wait_ready peer
    status
    assert_line --regexp "^  semaphore +$name +in use: mapped by python3 \(pid ${PID[peer]}\)$"
    clean
    refute_line --regexp ' removed$'
    kill_side peer KILL
    status
    assert_line --regexp "^  semaphore +$name +no process has it open$"
    clean
    assert_line --regexp "^ +$name +removed$"
    [[ ! -e /dev/shm/sem.${name#/} ]]
}

@test "status: mmap_writer's file is in use while mapped; once both have gone, kept and described; clean-ipc removes it" {
    start_fed writer "$BIN/shm/mmap_writer"
    wait_ready writer
    status
    assert_line --regexp "^  mapped +mmap +in use: (open in|mapped by) mmap_writer \(pid ${PID[writer]}\)$"
    printf 'kept\n' >&5
    exec 5>&-
    assert_exit writer 0
    status
    assert_line --regexp "^  mapped +mmap +no process maps it; 5 of 1048576 bytes written, done$"
    refute_line --partial 'key file'
    clean
    assert_line --regexp "^ +mmap +removed$"
    [[ ! -e $RUN_DIR/mmap ]]
}

@test "status: what is not ipclab's in the run directory is named and left alone" {
    mkdir "$RUN_DIR/mine"
    ln -s /etc/passwd "$RUN_DIR/link"
    clean
    assert_success
    assert_line --regexp "^  other +link +not ipclab's \(leaving it alone\)$"
    assert_line --regexp "^  other +mine +not ipclab's \(leaving it alone\)$"
    [[ -d $RUN_DIR/mine && -L $RUN_DIR/link ]]
    rm -r "$RUN_DIR/mine" "$RUN_DIR/link"
}

@test "status: a run directory the programs would refuse is reported, not cleaned" {
    chmod 755 "$RUN_DIR"
    mkfifo -m 600 "$RUN_DIR/fifo" # as fifo_reader makes it
    clean
    assert_failure 1
    assert_line --partial "mode 755 lets others in: the programs refuse it (chmod 700 $RUN_DIR)"
    assert_line --regexp "^  fifo +fifo +stale: no process has it open$"
    refute_line --regexp ' removed$'
    [[ -p $RUN_DIR/fifo ]]
    chmod 700 "$RUN_DIR"
    rm "$RUN_DIR/fifo"
    IPCLAB_DIR=$BATS_TEST_TMPDIR/not-there status
    assert_success
    assert_line --partial "(not there yet: the first program to run creates it)"
    [[ ! -e $BATS_TEST_TMPDIR/not-there ]]
}

@test "status: usage" {
    status --nosuch
    assert_failure 2
    assert_output --partial "usage: scripts/status.sh [--remove]"
    status -h
    assert_success
}

@test "clean-ipc: only what is provably ipclab's is removed: the user's files, and FIFOs and sockets not ours, stay" {
    # The user's own files, in a run directory that is ours: none carries ipclab's mark.
    echo notes >"$RUN_DIR/notes.txt"
    cp /etc/profile "$RUN_DIR/profile"
    : >"$RUN_DIR/empty"
    printf 'ipclab key file\nand more\n' >"$RUN_DIR/longer"
    printf 'ipclab key file\n' >"$RUN_DIR/open"
    chmod 644 "$RUN_DIR/open" # the mark, but open to others: not made by our programs
    # FIFOs and sockets by names our programs never use, or ours by name but open to others
    mkfifo -m 600 "$RUN_DIR/myfifo" "$RUN_DIR/fifo"
    chmod 644 "$RUN_DIR/fifo"
    "$PYTHON" -c 'import socket, sys
for p in sys.argv[1:]: socket.socket(socket.AF_UNIX).bind(p)' "$RUN_DIR/mysock" "$RUN_DIR/unix_stream"
    chmod 666 "$RUN_DIR/unix_stream"
    local kept=(notes.txt profile empty longer open myfifo fifo mysock unix_stream) name
    clean
    assert_success
    refute_line --regexp ' removed$'
    for name in "${kept[@]}"; do
        assert_line --regexp "^  other +$name +not ipclab's \(leaving it alone\)$"
        [[ -e $RUN_DIR/$name ]] || fail "$name was removed"
    done
    cmp -s /etc/profile "$RUN_DIR/profile"
    # A key file as our programs make it (the mark alone, mode 0600) is ours, and goes.
    printf 'ipclab key file\n' >"$RUN_DIR/msgq"
    chmod 600 "$RUN_DIR/msgq"
    clean
    assert_line --regexp "^ +msgq +removed$"
    refute_line --regexp "^ +(notes.txt|profile|empty|longer|open|myfifo|fifo|mysock|unix_stream) +removed$"
    (cd "$RUN_DIR" && rm -- "${kept[@]}")
}

@test "clean-ipc: as root, a FIFO or socket by our name but another user's is not ours, and stays" {
    (( EUID == 0 )) || skip "needs root: it makes files of uid 65534"
    mkfifo -m 600 "$RUN_DIR/fifo"
    "$PYTHON" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$RUN_DIR/relay"
    chmod 600 "$RUN_DIR/relay"
    printf 'ipclab key file\n' >"$RUN_DIR/msgq"
    chmod 600 "$RUN_DIR/msgq"
    chown 65534 "$RUN_DIR/fifo" "$RUN_DIR/relay" "$RUN_DIR/msgq"
    clean
    refute_line --regexp ' removed$'
    [[ -p $RUN_DIR/fifo && -S $RUN_DIR/relay && -f $RUN_DIR/msgq ]]
    rm "$RUN_DIR/fifo" "$RUN_DIR/relay" "$RUN_DIR/msgq"
}

@test "clean-ipc: objects in use are kept however the run directory is spelled (slash, /., relative, symlinked parent, a space)" {
    local dir="$BATS_TEST_TMPDIR/my run"
    mkdir -m 700 "$dir"
    ln -s "$BATS_TEST_TMPDIR" "$BATS_TEST_TMPDIR/parent"
    cd "$BATS_TEST_TMPDIR"
    # each side started with its own spelling of the one directory
    start_side recv /dev/null env IPCLAB_DIR="$dir/" "$BIN/msgq/msgq_recv"
    start_side reader /dev/null env IPCLAB_DIR="my run" "$BIN/fifo/fifo_reader"
    start_side server /dev/null env IPCLAB_DIR="$BATS_TEST_TMPDIR/parent/my run/." "$BIN/unixsock/unix_stream_server"
    local side spelling
    for side in recv reader server; do
        wait_ready "$side"
    done
    wait_blocked_in "${PID[reader]}" 'fifo|partner'
    for spelling in "$dir" "$dir/" "$dir/." "my run" "./my run/" "$BATS_TEST_TMPDIR/parent/my run"; do
        IPCLAB_DIR=$spelling clean
        assert_success
        refute_line --regexp ' removed$'
        assert_line --regexp '^  key file +msgq +in use: open in msgq_recv'
        assert_line --regexp '^  fifo +fifo +perhaps in use: .*fifo_reader'
        assert_line --regexp '^  socket +unix_stream +in use: bound by unix_stream_server'
    done
    [[ -f $dir/msgq && -p $dir/fifo && -S $dir/unix_stream ]]
    export IPCLAB_DIR=$dir
    printf 'still here\n' | timeout 5 "$BIN/fifo/fifo_writer" 2>/dev/null
    wait_output reader '^still here$'
    printf 'queued\n' | timeout 5 "$BIN/msgq/msgq_send" 2>/dev/null
    wait_output recv '^queued$'
    run timeout 5 "$BIN/unixsock/unix_stream_client" <<<"up"
    assert_output --partial "UP"
    kill_side server INT
    assert_exit server 130
    assert_exit recv 0 # the sender's end of data ends it
    assert_exit reader 0
    [[ -z $(ls -A "$dir") ]] || fail "left in $dir: $(ls -A "$dir")"
}

@test "clean-ipc: a run directory given as a symbolic link and a slash (link/, link/.) is refused: nothing is removed where it points" {
    (( EUID == 0 )) || skip "needs root: uid 65534 plants the link"
    # root's private directory, with what looks like a stale FIFO and key file of ipclab's
    local private=$BATS_TEST_TMPDIR/private
    mkdir -m 700 "$private"
    mkfifo -m 600 "$private/fifo"
    printf 'ipclab key file\n' >"$private/msgq"
    chmod 600 "$private/msgq"
    other_dir
    "${AS_NOBODY[@]}" ln -s "$private" "$OTHER_DIR/run"
    local spelling
    for spelling in "$OTHER_DIR/run/" "$OTHER_DIR/run//" "$OTHER_DIR/run/."; do
        IPCLAB_DIR=$spelling clean
        assert_failure 1
        assert_line --partial "not a directory: the programs refuse it"
        refute_line --regexp ' removed$'
        [[ -p $private/fifo && -f $private/msgq ]]
    done
    rm -r "$private"
}

@test "clean-ipc: a run directory reached through another user's symbolic link (L/.., L/run) is refused: nothing is removed where it points" {
    (( EUID == 0 )) || skip "needs root: uid 65534 plants the links"
    # root's run directory in a private directory, with a stale FIFO and key file of ipclab's
    local private=$BATS_TEST_TMPDIR/private spelling
    mkdir -m 700 "$private" "$private/run" "$private/run/sub"
    mkfifo -m 600 "$private/run/fifo"
    printf 'ipclab key file\n' >"$private/run/msgq"
    chmod 600 "$private/run/msgq"
    other_dir 777
    "${AS_NOBODY[@]}" ln -s "$private/run/sub" "$OTHER_DIR/L"
    "${AS_NOBODY[@]}" ln -s "$private" "$OTHER_DIR/P"
    for spelling in "$OTHER_DIR/L/.." "$OTHER_DIR/P/run"; do
        IPCLAB_DIR=$spelling clean
        assert_failure 1
        assert_line "  its path passes through ${spelling%/*}, a symbolic link of uid 65534: the programs refuse it; leaving it alone"
        refute_line --regexp ' removed$'
        [[ -p $private/run/fifo && -f $private/run/msgq ]]
    done
    rm -r "$private"
}

@test "clean-ipc: a System V object whose key only shares the low 24 bits of ours (another project id) is not claimed" {
    printf 'one\n' | timeout 5 "$BIN/msgq/msgq_send" 2>/dev/null # leaves a queue and its key file
    local dev ino key id
    read -r dev ino < <(stat -c '%d %i' "$RUN_DIR/msgq")
    # ftok(3) of the same file with a project id none of our programs uses ('z')
    key=$(( 0x7a << 24 | (dev & 0xff) << 16 | (ino & 0xffff) ))
    id=$("$PYTHON" -c 'import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
i = libc.shmget(int(sys.argv[1]), 4096, 0o1600)
if i == -1: sys.exit("shmget failed")
print(i)' "$key")
    status
    refute_line --regexp "^  segment +id $id "
    assert_line --regexp "^  queue +id [0-9]+ \(key from msgq\) +no process has its key file open"
    clean
    refute_line --regexp "^ +segment id $id +removed$"
    assert_line --regexp "^ +queue id [0-9]+ +removed$"
    grep -qE "^ *$key +$id " /proc/sysvipc/shm || fail "segment $id was removed"
    ipcrm -m "$id"
}

@test "status: a run directory named like an option (-rf) is a directory, not an option" {
    cd "$BATS_TEST_TMPDIR"
    IPCLAB_DIR=-rf status
    assert_success
    refute_output --partial "invalid option"
    assert_line --partial "(not there yet: the first program to run creates it)"
    mkdir -m 700 ./-rf
    mkfifo -m 600 ./-rf/fifo
    IPCLAB_DIR=-rf clean
    assert_success
    refute_output --partial "invalid option"
    assert_line --regexp "^ +fifo +removed$"
    [[ ! -e ./-rf/fifo ]]
}
