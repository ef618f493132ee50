#!/usr/bin/env bats
# tests/shm_sem.bats - shm_sem_writer and shm_sem_reader on a real System V segment and a real
# set of two System V semaphores.  Teardown checks after every test that no set, segment or
# key file of the test's is left (tests/test_helper.bash, ipc_left).

# shellcheck disable=SC2154 # $stderr is set by bats' run --separate-stderr
load test_helper
bats_require_minimum_version 1.5.0

setup() {
    ipclab_setup
    S=$BIN/shm
    FOREIGN_S=()
}

teardown() {
    local id
    for id in "${FOREIGN_S[@]}"; do # sets a test made as another user (it removes them itself
        ipcrm -s "$id" 2>/dev/null || true # unless it failed first)
    done
    ipclab_teardown
}

# transfer FIRST INPUT: INPUT from shm_sem_writer to shm_sem_reader, the side FIRST started
# first; both end by themselves with status 0 and the bytes arrive intact.
transfer() {
    local first=$1 input=$2 second=writer
    [[ $first == writer ]] && second=reader
    start_side "$first" "$input" "$S/shm_sem_$first"
    wait_ready "$first"
    start_side "$second" "$input" "$S/shm_sem_$second"
    assert_exit writer 0
    assert_exit reader 0
    cmp "$input" "$LOG/reader.out"
}

@test "shm_sem: 1 MiB of random binary arrives intact, a segment-full a turn (reader first)" {
    random_file "$LOG/in.bin" 1048576
    transfer reader "$LOG/in.bin"
    run cat "$LOG/reader.err"
    assert_line --partial 'end of data: 1048576 bytes in 17 buffer(s)' # 65528 bytes a turn
    assert_line --regexp ': ready \(pid [0-9]+\): set [0-9]+ \(made\) and segment'
}

@test "shm_sem: 1 MiB of random binary arrives intact (writer first)" {
    random_file "$LOG/in.bin" 1048576
    transfer writer "$LOG/in.bin"
    run cat "$LOG/writer.err"
    assert_line --partial 'end of input: 1048576 bytes in 17 buffer(s); the reader took the end'
}

# proc_child NAME: the pid of the process side NAME runs under its timeout backstop.
proc_child() {
    pgrep -o -P "$(pgid_of "$1")"
}

@test "shm_sem: both sides started at the same instant, 50 times: every transfer intact, nothing left (the initialisation race)" {
    # Each round forks both sides; each waits on the read end of one pipe, the gate, until both
    # are blocked there; closing the write end wakes them at once, and each execs its program.
    # Whoever calls semget() first makes the set; the other may find it before it is
    # initialised, and must then wait for sem_otime.  After each round: both exited 0, the
    # bytes are intact, the run directory is empty and the set and segment the two sides named
    # are gone (the machine's others are not this test's business).  (Each side holds the
    # lock on byte 0 of the key file from its first look at the key until it has the set and
    # the segment, so our two never find a set half made: the one that comes second finds it
    # initialised.  A side that takes no lock can come between semget() and semop(): the test
    # after this one makes that case happen every time.)
    random_file "$LOG/in.bin" 200000
    # shellcheck disable=SC2016 # python, not shell
    run "$PYTHON" -c '
import os, re, signal, sys, time
writer, reader, data_file, run_dir, log, rounds = sys.argv[1:]
def sysv():                                     # every set and segment on the machine
    ids = set()
    for kind in ("sem", "shm"):
        with open("/proc/sysvipc/" + kind) as f:
            ids |= {(kind, line.split()[1]) for line in list(f)[1:]}
    return ids
def named(text):                                # the ones a ready line names ("set 7 ...")
    return {("sem", i) for i in re.findall(r"\bset (\d+)", text)} | \
           {("shm", i) for i in re.findall(r"\bsegment (\d+)", text)}
def wchan(pid):
    with open("/proc/%d/wchan" % pid) as f:
        return f.read()
def fail(why):
    sys.exit("round %d: %s" % (n, why))
data = open(data_file, "rb").read()
waited = made_by_writer = 0
cpu = min(os.sched_getaffinity(0))
signal.alarm(60)                                # a hang fails the test
for n in range(1, int(rounds) + 1):
    gate_r, gate_w = os.pipe()
    pids = {}
    for side, prog in (("writer", writer), ("reader", reader)):
        pid = os.fork()
        if pid == 0:
            if n % 2:                           # odd rounds: both on one CPU, where the
                os.sched_setaffinity(0, {cpu})  # maker can be preempted between two calls
            os.close(gate_w)
            os.read(gate_r, 1)                  # end of file: the gate is open
            fds = (os.open(data_file if side == "writer" else "/dev/null", os.O_RDONLY),
                   os.open("%s/%s%d.out" % (log, side, n), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
                   os.open("%s/%s%d.err" % (log, side, n), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
            for i, fd in enumerate(fds):
                os.dup2(fd, i)
            os.execv("/usr/bin/timeout", ["timeout", "-k", "2", "10", prog])
        pids[side] = pid
    os.close(gate_r)
    while not all(wchan(pid).endswith(("pipe_read", "pipe_wait")) for pid in pids.values()):
        time.sleep(0.0002)
    os.close(gate_w)
    for side, pid in pids.items():
        status = os.waitpid(pid, 0)[1]
        if status != 0:
            fail("%s: wait status %d: %s" % (side, status, open("%s/%s%d.err" % (log, side, n)).read()))
    if open("%s/reader%d.out" % (log, n), "rb").read() != data:
        fail("the bytes differ")
    if os.listdir(run_dir):
        fail("left in the run directory: %s" % os.listdir(run_dir))
    errs = open("%s/writer%d.err" % (log, n)).read() + open("%s/reader%d.err" % (log, n)).read()
    if not named(errs):
        fail("no set or segment named on stderr: %s" % errs)
    if named(errs) & sysv():                    # only those of this round, not others
        fail("System V objects left: %s" % (named(errs) & sysv()))
    waited += "found before its maker initialised it; waiting" in errs
    made_by_writer += "(made)" in open("%s/writer%d.err" % (log, n)).read()
print("rounds where one side waited for sem_otime: %d of %s; set made by the writer: %d"
      % (waited, rounds, made_by_writer))
' "$S/shm_sem_writer" "$S/shm_sem_reader" "$LOG/in.bin" "$IPCLAB_DIR" "$LOG" 50
    assert_success
    echo "$output" # shown with bats --show-output-of-passing-tests: it varies from run to run
}

# half_made PEER: a stand-in for side PEER (writer or reader) that takes PEER's role lock on the
# key file and makes the set, but then, as if cut off between semget() and semctl(), leaves it
# uninitialised, with values no maker would give (both 1: "your turn" to either side): what
# POSIX allows a new set to hold.  On a line "go" on its stdin (fd 5) it initialises the set as
# the programs do (SETALL 0 0, then +1 on the writer's), and becomes the real PEER (exec, its
# lock kept).  SET = the set's id.
half_made() {
    printf 'ipclab key file\n' >"$IPCLAB_DIR/shm_sem"
    chmod 600 "$IPCLAB_DIR/shm_sem"
    local byte=1
    [[ $1 == reader ]] && byte=2
    start_fed maker "$PYTHON" -c '
import ctypes, fcntl, os, sys
path, byte, prog = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fd = os.open(path, os.O_RDWR)
os.set_inheritable(fd, True)                   # exec keeps the lock only if fd stays open
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, byte)
libc = ctypes.CDLL(None, use_errno=True)
key = libc.ftok(path.encode(), ord("s"))
semid = libc.semget(key, 2, 0o1000 | 0o2000 | 0o600)  # IPC_CREAT | IPC_EXCL
if semid == -1:
    sys.exit("semget: " + os.strerror(ctypes.get_errno()))
SETALL = 17
libc.semctl(semid, 0, SETALL, (ctypes.c_ushort * 2)(1, 1))
print("made", semid, flush=True)
if os.read(0, 3) != b"go\n":
    sys.exit("no go")
class Sembuf(ctypes.Structure):
    _fields_ = [("num", ctypes.c_ushort), ("op", ctypes.c_short), ("flg", ctypes.c_short)]
libc.semctl(semid, 0, SETALL, (ctypes.c_ushort * 2)(0, 0))
if libc.semop(semid, ctypes.byref(Sembuf(0, 1, 0)), 1) == -1:
    sys.exit("semop: " + os.strerror(ctypes.get_errno()))
os.execv(prog, [prog])
' "$IPCLAB_DIR/shm_sem" "$byte" "$S/shm_sem_$1"
    wait_output maker '^made [0-9]+$'
    SET=$(sed -n 's/^made //p' "$LOG/maker.out")
}

@test "shm_sem: a side that finds the set before its maker initialised it waits for sem_otime, then works (TLPI's bad init)" {
    # The naive finder would take the reader's 1 at once and print a buffer nobody wrote.
    half_made writer
    start_side reader /dev/null "$S/shm_sem_reader"
    wait_line reader "set $SET: found before its maker initialised it; waiting"
    run ipcs -s -i "$SET" # still both 1: the reader took nothing
    assert_output --regexp $'\n0 +1 +[0-9]+ +[0-9]+ +[0-9]+ *\n1 +1 +'
    run cat "$LOG/reader.err"
    refute_line --partial ': ready (pid'
    is_alive "$(proc_child reader)"
    printf 'go\n' >&5
    wait_ready reader
    printf 'after the initialisation\n' >&5
    exec 5>&-
    assert_exit maker 0 # now the real shm_sem_writer
    assert_exit reader 0
    assert_equal "$(cat "$LOG/reader.out")" 'after the initialisation'
}

@test "shm_sem: a set whose maker died before initialising it is removed, and the side goes on" {
    half_made reader
    printf 'on a new set\n' >"$LOG/in.txt"
    start_side writer "$LOG/in.txt" "$S/shm_sem_writer"
    wait_line writer "set $SET: found before its maker initialised it; waiting"
    kill_side maker KILL
    exec 5>&-
    wait_line writer "set $SET: its maker went before initialising it; removing it" 2
    wait_ready writer # on a set of its own
    run ipcs -s -i "$SET"
    assert_output --partial 'not found'
    start_side reader /dev/null "$S/shm_sem_reader"
    assert_exit writer 0
    assert_exit reader 0
    assert_equal "$(cat "$LOG/reader.out")" 'on a new set'
}

# mid_transfer: the reader prints into a FIFO the test holds open but does not read, so the
# transfer of 1 MiB stops part-way with both sides in it: the writer waits for its turn, the
# reader in write().
mid_transfer() {
    random_file "$LOG/in.bin" 1048576
    mkfifo "$LOG/reader.out"
    start_side reader /dev/null "$S/shm_sem_reader"
    exec 7<"$LOG/reader.out"
    wait_ready reader
    start_side writer "$LOG/in.bin" "$S/shm_sem_writer"
    wait_ready writer
    wait_blocked_in "${PID[reader]}" 'pipe_write|pipe_wait'
}

# kill_mid VICTIM SIGNAL: SIGNAL to VICTIM in the middle of a transfer; the other side must say
# that its peer has gone and end with status 1 within 2 s.
kill_mid() {
    local victim=$1 survivor=writer
    [[ $victim == writer ]] && survivor=reader
    mid_transfer
    kill_side "$victim" "$2"
    [[ $victim == reader ]] || cat <&7 >/dev/null 3>&- & # let the reader's write() go on
    assert_exit "$survivor" 1 2
    run cat "$LOG/$survivor.err"
    assert_line "shm_sem_$survivor: the $victim has gone (or was killed) before the end"
    exec 7<&-
}

# next_run_works: a new pair works, whatever was left, and leaves nothing.
next_run_works() {
    printf 'the next run\n' >"$LOG/next.txt"
    start_side reader2 /dev/null "$S/shm_sem_reader"
    wait_ready reader2
    start_side writer2 "$LOG/next.txt" "$S/shm_sem_writer"
    assert_exit writer2 0
    assert_exit reader2 0
    assert_equal "$(cat "$LOG/reader2.out")" 'the next run'
}

@test "shm_sem: the writer SIGKILLed mid-transfer -> the reader says so within 2 s, exit 1; nothing left; the next run works" {
    kill_mid writer KILL
    assert_run_dir_empty
    assert_nothing_left
    next_run_works
}

@test "shm_sem: the reader SIGKILLed mid-transfer -> the writer says so within 2 s, exit 1; nothing left; the next run works" {
    kill_mid reader KILL
    assert_run_dir_empty
    assert_nothing_left
    next_run_works
}

@test "shm_sem: SIGTERM to the writer mid-transfer -> it cleans up and dies of it, the reader ends, nothing is left" {
    kill_mid writer TERM
    assert_exit writer $((128 + 15))
    run cat "$LOG/writer.err"
    assert_line 'shm_sem_writer: SIGTERM: cleaned up, leaving'
}

@test "shm_sem: SIGTERM to the reader mid-transfer -> it cleans up and dies of it, the writer ends, nothing is left" {
    kill_mid reader TERM
    assert_exit reader $((128 + 15))
}

@test "shm_sem: both sides SIGKILLed leave a set and a segment; the next run removes them, works, and leaves nothing" {
    mid_transfer
    local set segment
    set=$(sed -n 's/.*: ready (pid [0-9]*): set \([0-9]*\) .*/\1/p' "$LOG/writer.err")
    segment=$(sed -n 's/.* and segment \([0-9]*\) .*/\1/p' "$LOG/writer.err")
    kill_side writer KILL
    kill_side reader KILL
    exec 7<&-
    ipcs -s -i "$set" >/dev/null # both still there: nobody was left to remove them
    ipcs -m -i "$segment" >/dev/null
    next_run_works
    run cat "$LOG/reader2.err"
    assert_line "shm_sem_reader: set $set was left by a pair that was killed: removed"
    assert_line "shm_sem_reader: segment $segment was left by a pair that was killed: removed"
}

@test "shm_sem: the set removed by ipcrm mid-transfer -> both sides say so, exit 1, and the segment goes too (was: the writer waited on for ever, or said 'semop: Invalid argument')" {
    # The reader waits for its turn in semtimedop(); the writer holds its turn and waits for
    # input in poll(): each must find out that the set has gone, wherever it waits.
    start_side reader /dev/null "$S/shm_sem_reader"
    wait_ready reader
    local set side
    set=$(sed -n 's/.*: ready (pid [0-9]*): set \([0-9]*\) .*/\1/p' "$LOG/reader.err")
    start_fed writer "$S/shm_sem_writer"
    wait_ready writer
    ipcrm -s "$set"
    assert_exit reader 1 2
    assert_exit writer 1 2
    for side in writer reader; do
        run cat "$LOG/$side.err"
        assert_line "shm_sem_$side: set $set was removed (ipcrm?) before the end"
    done
}

@test "shm_sem: a reader that takes the first buffer and fails at once (stdout closed) -> the writer says so and ends" {
    # The reader comes and goes between two of the writer's looks at its lock: the writer knows
    # it was there only because the reader's semaphore holds less than the turns it was given.
    random_file "$LOG/in.bin" 300000
    start_side writer "$LOG/in.bin" "$S/shm_sem_writer"
    wait_ready writer
    # shellcheck disable=SC2016 # $0 is the inner shell's: the reader, stdout closed
    start_side reader /dev/null bash -c 'exec "$0" >&-' "$S/shm_sem_reader"
    assert_exit reader 1
    run cat "$LOG/reader.err"
    assert_line 'shm_sem_reader: write stdout: Bad file descriptor'
    assert_exit writer 1 2
    run cat "$LOG/writer.err"
    assert_line 'shm_sem_writer: the reader has gone (or was killed) before the end'
}

@test "shm_sem: the key file, the set and the segment are mode 0600, in the run directory" {
    start_side reader /dev/null "$S/shm_sem_reader"
    wait_ready reader
    assert_equal "$(ls -A "$IPCLAB_DIR")" shm_sem
    assert_equal "$(stat -c %a "$IPCLAB_DIR/shm_sem")" 600
    local set segment
    set=$(sed -n 's/.*: ready (pid [0-9]*): set \([0-9]*\) .*/\1/p' "$LOG/reader.err")
    segment=$(sed -n 's/.* and segment \([0-9]*\) .*/\1/p' "$LOG/reader.err")
    run ipcs -s -i "$set"
    assert_output --regexp 'mode=0?600'
    assert_output --regexp 'nsems = 2'
    run ipcs -m -i "$segment"
    assert_output --regexp 'mode=0?600'
}

@test "shm_sem: a second shm_sem_writer on the same key file is refused while the first is at work" {
    start_fed writer "$S/shm_sem_writer"
    wait_ready writer
    run --separate-stderr timeout 5 "$S/shm_sem_writer" </dev/null
    assert_failure 1
    [[ $stderr == "shm_sem_writer: another shm_sem_writer (pid ${PID[writer]}) is already using $IPCLAB_DIR/shm_sem" ]] ||
        fail "stderr: $stderr"
}

@test "shm_sem: a file of the user's given as -p is refused and left intact, SIGTERM included" {
    users_file_left_alone "$S/shm_sem_reader"
    users_file_left_alone "$S/shm_sem_writer"
}

# planted_set UID MODE: user UID makes a set of two semaphores, mode MODE, on the key of the
# key file (made here, marked as the programs mark theirs), and initialises it as the programs
# would, so that only its owner or mode tells it from ours.  SET = its id.
planted_set() {
    [[ -f $IPCLAB_DIR/shm_sem ]] || { printf 'ipclab key file\n' >"$IPCLAB_DIR/shm_sem" &&
        chmod 600 "$IPCLAB_DIR/shm_sem"; }
    local key
    key=$(perl -MIPC::SysV=ftok -e 'print ftok($ARGV[0], "s")' "$IPCLAB_DIR/shm_sem")
    # shellcheck disable=SC2016 # perl's $ARGV, not the shell's
    SET=$(setpriv --reuid="$1" --regid="$1" --clear-groups perl -MIPC::SysV=IPC_CREAT -MIPC::Semaphore -e '
my ($key, $mode) = @ARGV;
my $s = IPC::Semaphore->new($key, 2, IPC_CREAT | oct $mode) or die "semget: $!\n";
$s->setall(0, 0) or die "SETALL: $!\n";
$s->op(0, 1, 0) or die "semop: $!\n";
print $s->id, "\n";' "$key" "$2")
    FOREIGN_S+=("$SET")
}

@test "shm_sem: a set another user made first on our key is refused by either side and left alone" {
    (( EUID == 0 )) || skip "needs root: a second user (uid 65534) makes the set"
    local plant uid mode why side
    # nobody's, mode 0600 (root's semget() grants it anyway); root's own, but open to others
    for plant in '65534 600' '0 666'; do
        read -r uid mode <<<"$plant"
        planted_set "$uid" "$mode"
        why="was made by uid 65534, not by you (uid 0); refusing to use it"
        [[ $uid == 0 ]] && why="has mode 666: other users can use it; refusing to use it"
        for side in writer reader; do
            printf 'secret\n' >"$LOG/in"
            run --separate-stderr timeout 5 "$S/shm_sem_$side" <"$LOG/in"
            assert_failure 1
            [[ $stderr == *"set $SET (key from $IPCLAB_DIR/shm_sem) $why"* ]] || fail "shm_sem_$side said: $stderr"
            # left alone: still there, still 0 and 1 (the writer's turn untaken), never operated on by us
            run ipcs -s -i "$SET"
            assert_output --regexp $'\n0 +1 +0 +0 +[0-9]+ *\n1 +0 +0 +0 +'
        done
        ipcrm -s "$SET"
    done
    rm "$IPCLAB_DIR/shm_sem"
}

# A foreign side, written from the man pages alone (perl's core IPC::SysV: ftok, semget, semop,
# shmget, shmread, shmwrite), as shm/README.md's "Stand in for either side" says: it holds no
# lock on the key file, and it dawdles, holding its turn 0.5 s on its first buffer, longer than
# the 0.2 s after which our side looks at its peer.  (A struct sembuf is three shorts, the
# segment's length a native long.)
# shellcheck disable=SC2016 # perl's variables, not the shell's
PERL_READER='
use IPC::SysV qw(ftok);
my $key = ftok($ARGV[0], "s") // die "ftok: $!\n";
my $sem = semget($key, 0, 0) // die "semget: $!\n";
my $shm = shmget($key, 0, 0) // die "shmget: $!\n";
binmode STDOUT;
for (my $n = 0;; $n++) {
    semop($sem, pack("s!3", 1, -1, 0)) or die "semop: $!\n";  # take the reader turn
    shmread($shm, my $len, 0, 8) or die "shmread: $!\n";
    $len = unpack("l!", $len);
    my $data = "";
    $len == 0 or shmread($shm, $data, 8, $len) or die "shmread: $!\n";
    print $data;
    select(undef, undef, undef, 0.5) if $n == 0;
    semop($sem, pack("s!3", 0, 1, 0)) or die "semop: $!\n";   # give the writer its turn
    last if $len == 0;
}'
# shellcheck disable=SC2016 # perl's variables, not the shell's
PERL_WRITER='
use IPC::SysV qw(ftok);
my $key = ftok($ARGV[0], "s") // die "ftok: $!\n";
my $sem = semget($key, 0, 0) // die "semget: $!\n";
my $shm = shmget($key, 0, 0) // die "shmget: $!\n";
binmode STDIN;
for (my $n = 0;; $n++) {
    my $got = sysread(STDIN, my $data, 65528) // die "read: $!\n";
    semop($sem, pack("s!3", 0, -1, 0)) or die "semop: $!\n";  # take the writer turn
    shmwrite($shm, pack("l!", $got) . $data, 0, 8 + $got) or die "shmwrite: $!\n";
    select(undef, undef, undef, 0.5) if $n == 0;
    semop($sem, pack("s!3", 1, 1, 0)) or die "semop: $!\n";   # give the reader its turn
    last if $got == 0;
}
# The reader answers the end with the turn; leaving last, it may have removed the set already.
semop($sem, pack("s!3", 0, -1, 0)) or $!{EIDRM} or $!{EINVAL} or die "semop: $!\n";'

@test "shm_sem: perl's IPC::SysV takes the reader's side; holding its turn 0.5 s, it is waited for, not taken for gone (was: cut off for holding no lock on the key file)" {
    random_file "$LOG/in.bin" 200000 # four turns
    start_side writer "$LOG/in.bin" "$S/shm_sem_writer"
    wait_ready writer
    start_side reader /dev/null perl -e "$PERL_READER" "$IPCLAB_DIR/shm_sem"
    assert_exit reader 0
    assert_exit writer 0
    cmp "$LOG/in.bin" "$LOG/reader.out"
    run cat "$LOG/writer.err"
    assert_line --partial 'end of input: 200000 bytes in 4 buffer(s); the reader took the end'
}

@test "shm_sem: perl's IPC::SysV takes the writer's side; holding its turn 0.5 s, it is waited for, not taken for gone (was: 'the writer has gone')" {
    random_file "$LOG/in.bin" 200000
    start_side reader /dev/null "$S/shm_sem_reader"
    wait_ready reader
    start_side writer "$LOG/in.bin" perl -e "$PERL_WRITER" "$IPCLAB_DIR/shm_sem"
    assert_exit reader 0
    assert_exit writer 0
    cmp "$LOG/in.bin" "$LOG/reader.out"
    run cat "$LOG/reader.err"
    assert_line --partial 'end of data: 200000 bytes in 4 buffer(s)'
}
