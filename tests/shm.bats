#!/usr/bin/env bats
# tests/shm.bats - shm_writer and shm_reader on a real System V segment with real signals, and
# pshm_writer and pshm_reader on a real POSIX object with real semaphores.  Teardown checks
# after every test that no segment, object, FIFO or key file is left.

# shellcheck disable=SC2154 # $stderr is set by bats' run --separate-stderr
load test_helper
bats_require_minimum_version 1.5.0

setup() {
    ipclab_setup
    S=$BIN/shm
    FOREIGN_M=()
}

teardown() {
    local id
    for id in "${FOREIGN_M[@]}"; do # segments a test made as another user (it removes them
        ipcrm -m "$id" 2>/dev/null || true # itself unless it failed first)
    done
    ipclab_teardown
}

# opts_for KIND: the name option a KIND (shm or pshm) pair is given in these tests.
opts_for() {
    OPTS=()
    [[ $1 == pshm ]] && OPTS=(-p "$POSIX-shm")
    return 0
}

# transfer KIND FIRST INPUT: INPUT from KIND_writer to KIND_reader, the side FIRST started first;
# both end by themselves with status 0 and the bytes arrive intact.
transfer() {
    local kind=$1 first=$2 input=$3
    opts_for "$kind"
    if [[ $first == reader ]]; then
        start_side reader /dev/null "$S/${kind}_reader" "${OPTS[@]}"
        wait_ready reader
        start_side writer "$input" "$S/${kind}_writer" "${OPTS[@]}"
    else
        start_side writer "$input" "$S/${kind}_writer" "${OPTS[@]}"
        wait_ready writer
        start_side reader /dev/null "$S/${kind}_reader" "${OPTS[@]}"
    fi
    assert_exit writer 0
    assert_exit reader 0
    assert_equal "$(sha256sum <"$LOG/reader.out")" "$(sha256sum <"$input")"
}

@test "shm: 1 MiB of random binary arrives intact, in segment-sized chunks (reader first) (seed: one %s string)" {
    random_file "$LOG/in.bin" 1048576
    transfer shm reader "$LOG/in.bin"
    run cat "$LOG/reader.err"
    assert_line --partial 'end of data: 1048576 bytes in 258 buffer(s)'
}

@test "shm: 1 MiB of random binary arrives intact (writer first)" {
    random_file "$LOG/in.bin" 1048576
    transfer shm writer "$LOG/in.bin"
}

@test "pshm: 1 MiB of random binary arrives intact (reader first)" {
    random_file "$LOG/in.bin" 1048576
    transfer pshm reader "$LOG/in.bin"
    run cat "$LOG/reader.err"
    # 256 KiB buffers: each read() of the file fills one
    assert_line --partial 'end of data: 1048576 bytes in 4 buffer(s)'
}

@test "pshm: 1 MiB of random binary arrives intact (writer first)" {
    random_file "$LOG/in.bin" 1048576
    transfer pshm writer "$LOG/in.bin"
}

# many_small KIND: 3000 one-byte writes into the writer's stdin, each sent only once the
# reader has printed the one before, so every byte is a buffer of its own: 3000 notify and
# acknowledge round trips.  The reader's stdout is a FIFO the feeder reads: it blocks until the
# byte arrives, so nobody spins while the pair works (a busy feeder starved the pair on two
# loaded cores).  One lost wake-up (the original's pause()) and the pair hangs; the feeder's
# timeout then fails the test.
many_small() {
    local kind=$1
    opts_for "$kind"
    mkfifo "$LOG/small.in" "$LOG/reader.out"
    start_side reader /dev/null "$S/${kind}_reader" "${OPTS[@]}"
    exec 7<"$LOG/reader.out"
    wait_ready reader
    start_side writer "$LOG/small.in" "$S/${kind}_writer" "${OPTS[@]}"
    run timeout 15 "$PYTHON" -c '
import os, sys
out = os.open(sys.argv[1], os.O_WRONLY)
for i in range(3000):
    os.write(out, b"x")
    got = os.read(0, 2)
    if got != b"x":
        sys.exit("byte %d: the reader printed %r" % (i + 1, got))
os.close(out)
print("3000 bytes, one at a time")
' "$LOG/small.in" <&7
    exec 7<&-
    assert_success
    assert_output '3000 bytes, one at a time'
    assert_exit reader 0
    assert_exit writer 0
    run cat "$LOG/reader.err"
    assert_line --partial 'end of data: 3000 bytes in 3000 buffer(s)'
}

@test "shm: 3000 one-byte writes, thousands of signal round trips, finish (seed: pause() lost wake-ups)" {
    many_small shm
}

@test "pshm: 3000 one-byte writes finish" {
    many_small pshm
}

@test "shm: the reader acknowledges every buffer: the writer never overwrites one being printed (seed: no ack)" {
    # The reader's stdout is a FIFO the test holds open but does not read yet: the reader stalls
    # in write() with the first buffers unprinted.  The writer must wait for the acknowledgement
    # instead of copying the next buffer over them.  Then the test reads everything: intact.
    random_file "$LOG/in.bin" 300000
    mkfifo "$LOG/reader.out"
    start_side reader /dev/null "$S/shm_reader"
    exec 7<"$LOG/reader.out"
    wait_ready reader
    start_side writer "$LOG/in.bin" "$S/shm_writer"
    wait_ready writer
    wait_line writer 'attached and marked for removal'
    wait_blocked_in "${PID[reader]}" 'pipe_write|pipe_wait'
    wait_blocked_in "${PID[writer]}" 'sigsuspend|do_sigtimedwait|sys_rt_sigsuspend'
    cat <&7 >"$LOG/got.bin"
    exec 7<&-
    assert_exit reader 0
    assert_exit writer 0
    cmp "$LOG/in.bin" "$LOG/got.bin"
}

@test "shm: the key file, FIFO and segment are mode 0600 in the run directory (seed: 0664, ./shmfile)" {
    mkdir "$LOG/cwd"
    cd "$LOG/cwd"
    start_side reader /dev/null "$S/shm_reader"
    wait_ready reader
    assert_equal "$(stat -c %a "$IPCLAB_DIR/shm")" 600
    assert_equal "$(stat -c %a "$IPCLAB_DIR/shm.fifo")" 600
    [[ -p $IPCLAB_DIR/shm.fifo ]]
    local id
    id=$(sed -n 's/.*: segment \([0-9]*\) attached.*/\1/p' "$LOG/reader.err")
    run ipcs -m -i "$id"
    assert_output --regexp 'mode=0?600'
    assert_equal "$(ls -A "$LOG/cwd")" ''
}

@test "pshm: past ulimit -f the maker's ftruncate fails (EFBIG): said, exit 1, the object removed (was: killed by SIGXFSZ, /dev/shm/NAME left)" {
    local prog
    for prog in pshm_reader pshm_writer; do
        run --separate-stderr timeout 5 bash -c 'ulimit -f 100 && exec "$@"' - "$BIN/shm/$prog" -p "$POSIX-m" </dev/null
        assert_failure 1
        [[ $stderr == *"$prog: ftruncate $POSIX-m: File too large"* ]] || fail "$prog: stderr: $stderr"
        [[ ! -e /dev/shm/${POSIX#/}-m ]] || fail "$prog left /dev/shm/${POSIX#/}-m"
    done
}

@test "pshm: the object is mode 0600 in /dev/shm" {
    start_side reader /dev/null "$S/pshm_reader" -p "$POSIX-shm"
    wait_ready reader
    assert_equal "$(stat -c %a "/dev/shm/${POSIX#/}-shm")" 600
}

# bad_pid BYTES-AS-PRINTF REASON: what a fake reader writes into the FIFO instead of its PID;
# the writer refuses it before any kill(), exit 1, and removes what it made.
bad_pid() {
    start_side writer /dev/null "$S/shm_writer"
    wait_ready writer
    # shellcheck disable=SC2059 # the bytes are a printf format on purpose
    printf "$1" >"$IPCLAB_DIR/shm.fifo"
    assert_exit writer 1
    run cat "$LOG/writer.err"
    assert_line --partial "$2"
}

@test "shm: a PID of -1 from the FIFO is refused, never passed to kill() (seed: kill(-1) signals everyone)" {
    bad_pid '\377\377\377\377' 'refusing the PID -1'
    assert_line --partial 'kill() of it would signal every process we may signal'
}

@test "shm: a PID of 0 is refused (kill(0) would signal the writer's own group)" {
    bad_pid '\0\0\0\0' 'refusing the PID 0'
    assert_line --partial 'kill() of it would signal our whole process group'
}

@test "shm: the FIFO closed without a PID is refused (seed: read() of 0 ignored, uninitialised PID)" {
    bad_pid '' 'closed after 0 of the 4 bytes of a PID'
}

@test "shm: a live PID that does not hold the FIFO is refused" {
    # A bystander: alive, ours, and nowhere near the FIFO.  (Its pid is written little-endian,
    # as a pid_t is on the machines this runs on.)
    start_side bystander /dev/null sleep 30
    local pid pid_bytes
    pid=$(pgid_of bystander)
    pid_bytes=$(printf '%08x' "$pid" | sed 's/\(..\)\(..\)\(..\)\(..\)/\\x\4\\x\3\\x\2\\x\1/')
    bad_pid "$pid_bytes" "refusing the PID $pid from"
    is_alive "$pid" # and it was not signalled
}

@test "shm: out of descriptors (ulimit -n 4 for the writer, 5 for the reader) the side that checks its peer says EMFILE, not that the peer holds no FIFO (was: 'no process of ours with the FIFO')" {
    # the writer: 0-2 and the FIFO; the reader: the key file too.  /proc/PID/fd needs one more.
    limited writer 4 "$S/shm_writer"
    start_side reader /dev/null "$S/shm_reader"
    assert_exit writer 1
    assert_exit reader 1
    run cat "$LOG/writer.err"
    assert_line --regexp '^shm_writer: cannot tell whether pid [0-9]+ holds the FIFO open: /proc/[0-9]+/fd: Too many open files$'
    refute_line --partial 'no process of ours'
    start_side writer2 /dev/null "$S/shm_writer"
    wait_ready writer2
    limited reader2 5 "$S/shm_reader"
    assert_exit reader2 1
    assert_exit writer2 1
    run cat "$LOG/reader2.err"
    assert_line --regexp '^shm_reader: cannot tell whether pid [0-9]+ holds the FIFO open: /proc/[0-9]+/fd: Too many open files$'
    refute_line --partial 'no process of ours'
}

@test "shm: a file of the user's given as -p is refused and left intact by shm_reader, SIGTERM included (was: removed when it left)" {
    users_file_left_alone "$S/shm_reader"
}

# planted_segment KEYFILE UID MODE PID [OWNER]: user UID makes a segment of mode MODE on the
# key that the key file KEYFILE (made here, marked as the programs mark theirs) gives, and
# writes PID into it as the writer's pid, as an attacker can.  With OWNER, it then hands the
# segment's owner (uid; the creator, cuid, stays) to OWNER.  SEGMENT = its id.
planted_segment() {
    [[ -f $1 ]] || { printf 'ipclab key file\n' >"$1" && chmod 600 "$1"; }
    local key
    key=$(perl -MIPC::SysV=ftok -e 'print ftok($ARGV[0], "b")' "$1")
    # shellcheck disable=SC2016 # perl's $ARGV, not the shell's
    SEGMENT=$(setpriv --reuid="$2" --regid="$2" --clear-groups perl -MIPC::SysV=IPC_CREAT,IPC_SET -MIPC::SharedMem -e '
my ($key, $mode, $pid, $owner) = @ARGV;
my $m = IPC::SharedMem->new($key, 4096, IPC_CREAT | oct $mode) or die "shmget: $!\n";
$m->write(pack("l! l!", $pid, 0), 0, 16) or die "shmwrite: $!\n"; # writer_pid, len
if (length $owner) {
    my $st = $m->stat or die "IPC_STAT: $!\n";
    $st->uid($owner);
    shmctl($m->id, IPC_SET, $st->pack) or die "IPC_SET: $!\n";
}
print $m->id, "\n";' "$key" "$3" "$4" "${5:-}")
    FOREIGN_M+=("$SEGMENT")
}

# segment_untouched: the segment SEGMENT is still there, its key intact (IPC_RMID would have
# made it IPC_PRIVATE, 0), nobody attached.
segment_untouched() {
    run awk -v id="$SEGMENT" '$2 == id { print ($1 != 0 ? "keyed" : "key gone"), "nattch " $7 }' /proc/sysvipc/shm
    assert_output 'keyed nattch 0'
}

@test "shm: a segment another user made first on our key is refused by shm_reader and shm_writer and left alone (was: used, even as root)" {
    (( EUID == 0 )) || skip "needs root: a second user (uid 65534) makes the segment"
    start_side bystander /dev/null sleep 300 # the pid the planted segment names
    local plant why pid maker mode owner
    pid=$(pgid_of bystander)
    # 65534's, mode 0600 (root's shmget() grants it anyway); 65534's handed to root (its uid
    # says root's, its cuid does not); root's own, but open to the group as the seed made them.
    for plant in '65534 600' '65534 600 0' '0 664'; do
        read -r maker mode owner <<<"$plant"
        planted_segment "$IPCLAB_DIR/shm" "$maker" "$mode" "$pid" "$owner"
        why='was made by uid 65534, not by you (uid 0); refusing to use it'
        [[ $plant == '0 664' ]] && why='has mode 664: other users can use it; refusing to use it'
        run --separate-stderr timeout 5 "$S/shm_reader" </dev/null
        assert_failure 1
        [[ $stderr == *"segment $SEGMENT (key from $IPCLAB_DIR/shm) $why"* ]] || fail "shm_reader said: $stderr"
        segment_untouched
        # The writer gets that far only once a reader has sent it a pid: a stand-in sends its
        # own, and holds the FIFO open.
        start_side "writer$SEGMENT" /dev/null "$S/shm_writer"
        wait_ready "writer$SEGMENT"
        # shellcheck disable=SC2016 # perl's $ARGV, not the shell's
        start_side "reader$SEGMENT" /dev/null perl -e '
open(my $f, ">", $ARGV[0]) or die "$ARGV[0]: $!\n";
syswrite($f, pack("l", $$)) == 4 or die "write: $!\n";
sleep 30;' "$IPCLAB_DIR/shm.fifo"
        assert_exit "writer$SEGMENT" 1
        run cat "$LOG/writer$SEGMENT.err"
        assert_line --partial "segment $SEGMENT (key from $IPCLAB_DIR/shm) $why"
        segment_untouched
        kill_side "reader$SEGMENT" KILL
        ipcrm -m "$SEGMENT"
    done
    is_alive "$pid" # never signalled
    rm "$IPCLAB_DIR/shm"
}

@test "shm: the reader signals only a writer that holds the FIFO: another pid written into the segment is refused (was: its SIGUSR2 killed that process)" {
    start_side bystander /dev/null sleep 300 # the pid a stand-in writer names
    local pid key
    pid=$(pgid_of bystander)
    start_side reader /dev/null "$S/shm_reader"
    wait_ready reader
    key=$(perl -MIPC::SysV=ftok -e 'print ftok($ARGV[0], "b")' "$IPCLAB_DIR/shm")
    # The stand-in takes the reader's pid from the FIFO as the writer does, and holds the FIFO;
    # but the writer_pid it writes into the segment is the bystander's.
    # shellcheck disable=SC2016 # perl's $ARGV, not the shell's
    start_side writer /dev/null perl -e '
my ($fifo, $key, $victim) = @ARGV;
open(my $f, "<", $fifo) or die "$fifo: $!\n";
sysread($f, my $buf, 4) == 4 or die "read: $!\n";
my $reader = unpack("l", $buf);
my $id = shmget($key, 0, 0) // die "shmget: $!\n";
shmwrite($id, pack("l! l!", $victim, 0), 0, 16) or die "shmwrite: $!\n"; # writer_pid, len 0
kill("USR1", $reader) or die "kill: $!\n";
sleep 30;' "$IPCLAB_DIR/shm.fifo" "$key" "$pid"
    assert_exit reader 1
    run cat "$LOG/reader.err"
    assert_line --partial "refusing to signal the PID $pid the segment names as the writer's"
    is_alive "$pid"
    kill_side writer KILL
}

@test "shm: perl takes the reader's side of shm_writer as shm/README.md says (key file, segment, PID through the FIFO, SIGUSR1 and SIGUSR2), and dawdles 0.5 s on a buffer" {
    random_file "$LOG/in.bin" 10000 # three buffers
    start_side writer "$LOG/in.bin" "$S/shm_writer"
    wait_ready writer
    # shellcheck disable=SC2016 # perl's variables, not the shell's
    start_side reader /dev/null perl -e '
use IPC::SysV qw(ftok IPC_CREAT);
use POSIX ();
my $path = $ARGV[0];
my $got = 0;
$SIG{USR1} = sub { $got = 1 };
my $old = POSIX::SigSet->new;
POSIX::sigprocmask(POSIX::SIG_BLOCK(), POSIX::SigSet->new(POSIX::SIGUSR1()), $old) or die "sigprocmask: $!\n";
umask 077;
open(my $k, ">", $path) or die "$path: $!\n";                  # the key file, marked
print $k "ipclab key file\n" and close $k or die "$path: $!\n";
my $id = shmget(ftok($path, "b"), 4096, IPC_CREAT | 0600) // die "shmget: $!\n";
open(my $fifo, ">", "$path.fifo") or die "$path.fifo: $!\n";
syswrite($fifo, pack("l", $$)) == 4 or die "write: $!\n";   # a pid_t, in one write
binmode STDOUT;
for (my $n = 0;; $n++) {
    POSIX::sigsuspend($old) until $got;
    $got = 0;
    shmread($id, my $head, 0, 16) or die "shmread: $!\n";
    my ($writer, $len) = unpack("l! l!", $head);
    my $data = "";
    $len == 0 or shmread($id, $data, 16, $len) or die "shmread: $!\n";
    print $data;
    select(undef, undef, undef, 0.5) if $n == 0;
    kill("USR2", $writer) or die "kill: $!\n";
    last if $len == 0;
}' "$IPCLAB_DIR/shm"
    assert_exit reader 0
    assert_exit writer 0
    cmp "$LOG/in.bin" "$LOG/reader.out"
    run cat "$LOG/writer.err"
    assert_line --partial 'end of input: 10000 bytes in 3 buffer(s), each acknowledged'
}

# kill_mid KIND VICTIM SIGNAL: a transfer in progress; SIGNAL to VICTIM (writer or reader); the
# survivor must say so and end with status 1 within 2 s.  Sets SURVIVOR.
kill_mid() {
    local kind=$1 victim=$2 sig=$3
    opts_for "$kind"
    if [[ $victim == writer ]]; then
        SURVIVOR=reader
        start_side reader /dev/null "$S/${kind}_reader" "${OPTS[@]}"
        wait_ready reader
        start_fed writer "$S/${kind}_writer" "${OPTS[@]}"
        wait_ready writer
        printf 'first part\n' >&5
        wait_output reader '^first part$'
    else
        SURVIVOR=writer
        random_file "$LOG/in.bin" 1048576
        mkfifo "$LOG/reader.out"
        start_side reader /dev/null "$S/${kind}_reader" "${OPTS[@]}"
        exec 7<"$LOG/reader.out"
        wait_ready reader
        start_side writer "$LOG/in.bin" "$S/${kind}_writer" "${OPTS[@]}"
        wait_ready writer
        wait_blocked_in "${PID[reader]}" 'pipe_write|pipe_wait'
    fi
    kill_side "$victim" "$sig"
    assert_exit "$SURVIVOR" 1 2
    run cat "$LOG/$SURVIVOR.err"
    assert_line --regexp "the $victim has gone"
    exec 5>&- 7<&-
}

# next_run_works KIND: whatever a killed side left, a new pair still works.
next_run_works() {
    opts_for "$1"
    printf 'the next run\n' >"$LOG/next.txt"
    start_side reader2 /dev/null "$S/${1}_reader" "${OPTS[@]}"
    wait_ready reader2
    start_side writer2 "$LOG/next.txt" "$S/${1}_writer" "${OPTS[@]}"
    assert_exit reader2 0
    assert_equal "$(cat "$LOG/reader2.out")" 'the next run'
}

@test "shm: the writer SIGKILLed mid-transfer -> the reader notices within 2 s; the segment is gone; the next run works" {
    kill_mid shm writer KILL
    assert_nothing_left
    next_run_works shm
}

@test "shm: the reader SIGKILLed mid-transfer -> the writer stops signalling it within 2 s (seed: signalled a dead PID forever)" {
    kill_mid shm reader KILL
    assert_nothing_left
    next_run_works shm
}

@test "shm: SIGTERM to the writer mid-transfer -> both end, nothing is left (seed: handler not async-signal-safe)" {
    kill_mid shm writer TERM
    assert_exit writer $((128 + 15))
}

@test "shm: SIGTERM to the reader mid-transfer -> both end, nothing is left" {
    kill_mid shm reader TERM
    assert_exit reader $((128 + 15))
}

@test "shm: a reader SIGKILLed while it waits for a writer leaves a stale segment; the next run still works" {
    start_side reader /dev/null "$S/shm_reader"
    wait_ready reader
    kill_side reader KILL
    [[ -e $IPCLAB_DIR/shm ]] # what it could not clean up: key file, FIFO, segment
    next_run_works shm
}

@test "pshm: the writer SIGKILLed mid-transfer -> the reader notices within 2 s; the next run works" {
    kill_mid pshm writer KILL
    assert_nothing_left
    next_run_works pshm
}

@test "pshm: the reader SIGKILLed mid-transfer -> the writer notices within 2 s; the next run works" {
    kill_mid pshm reader KILL
    assert_nothing_left
    next_run_works pshm
}

@test "pshm: SIGTERM to either side mid-transfer -> both end, nothing is left" {
    kill_mid pshm writer TERM
    assert_exit writer $((128 + 15))
}

@test "pshm: an object left by a pair that was killed is started afresh" {
    start_fed writer "$S/pshm_writer" -p "$POSIX-shm"
    wait_ready writer
    printf 'stale\n' >&5 # fills the buffer and posts "full": the semaphores are mid-exchange
    wait_until 5 test -e "/dev/shm/${POSIX#/}-shm"
    kill_side writer KILL
    exec 5>&-
    next_run_works pshm
    run cat "$LOG/reader2.err"
    assert_line --partial 'was left behind by a pair that was killed; starting it afresh'
}

@test "pshm: another user's object of the same name, open to all, is refused by either side: nothing is written into it" {
    (( EUID == 0 )) || skip "needs root: a second user makes the object"
    local obj=/dev/shm/${POSIX#/}-shm side
    "${AS_NOBODY[@]}" sh -c "umask 0; : >'$obj'" # what shm_open(O_CREAT) would make, mode 0666
    printf 'secret\n' >"$LOG/in"
    for side in writer reader; do
        start_side "$side" "$LOG/in" "$S/pshm_$side" -p "$POSIX-shm"
        assert_exit "$side" 1
        run cat "$LOG/$side.err"
        assert_output --partial "$POSIX-shm belongs to uid 65534, not to you (uid 0); refusing to use it"
    done
    assert_equal "$(stat -c '%u %a %s' "$obj")" '65534 666 0' # never resized, never written
    rm "$obj"
}

@test "pshm: an object of ours that other users may open (mode 0644) is refused and left alone" {
    local obj=/dev/shm/${POSIX#/}-shm
    (umask 022 && : >"$obj")
    start_side reader /dev/null "$S/pshm_reader" -p "$POSIX-shm"
    assert_exit reader 1
    run cat "$LOG/reader.err"
    assert_output --partial "$POSIX-shm has mode 644: other users can use it; refusing to use it"
    assert_equal "$(stat -c '%a %s' "$obj")" '644 0'
    rm "$obj"
}

# python_side PROG SIDE: PROG (pshm_writer or pshm_reader) makes the object; python
# (tests/pshm_peer.py: mmap, and ctypes sem_wait/sem_post on the layout of shm/README.md, no
# record lock of ours) joins it as SIDE, pausing 0.25 s after each buffer, longer than our
# sides wait before they look at their peer; 600 000 bytes, three buffers, arrive intact.
python_side() {
    random_file "$LOG/in.bin" 600000
    local ours_in=/dev/null py_in=$LOG/in.bin out=$LOG/ours.out
    [[ $1 == pshm_writer ]] && ours_in=$LOG/in.bin py_in=/dev/null out=$LOG/py.out
    start_side ours "$ours_in" "$S/$1" -p "$POSIX-shm"
    wait_ready ours
    start_side py "$py_in" "$PYTHON" "$BATS_TEST_DIRNAME/pshm_peer.py" "$2" "$POSIX-shm" 0.25
    assert_exit py 0
    assert_exit ours 0
    assert_equal "$(sha256sum <"$out")" "$(sha256sum <"$LOG/in.bin")"
}

@test "pshm: a python reader (mmap, ctypes sem_wait/sem_post on the documented layout, no record lock), slower than a wait, takes pshm_writer's stream; the writer ends with 0 (was: 'the reader has gone')" {
    python_side pshm_writer read
}

@test "pshm: a python writer (the same, no record lock) feeds pshm_reader; the reader ends with 0 (was: 'the writer has gone')" {
    python_side pshm_reader write
}

@test "pshm: a reader that takes the first buffer and fails at once (stdout closed) -> the writer says so and ends" {
    random_file "$LOG/in.bin" 200000 # four buffers: the writer waits for the reader to hand one back
    start_side writer "$LOG/in.bin" "$S/pshm_writer" -p "$POSIX-shm"
    wait_ready writer
    # shellcheck disable=SC2016 # $0 and $@ are the inner shell's: the reader, stdout closed
    start_side reader /dev/null bash -c 'exec "$0" "$@" >&-' "$S/pshm_reader" -p "$POSIX-shm"
    assert_exit reader 1
    run cat "$LOG/reader.err"
    assert_line 'pshm_reader: write stdout: Bad file descriptor' # not into its own object (fd 1)
    assert_exit writer 1 5
    run cat "$LOG/writer.err"
    assert_output --partial 'the reader has gone (or was killed) before the end'
}

@test "pshm: the reader killed (SIGKILL, or Ctrl-C) after one line, the writer's terminal silent -> the writer says so within 2 s (was: four lines later)" {
    local sig
    for sig in KILL INT; do
        start_side "reader$sig" /dev/null "$S/pshm_reader" -p "$POSIX-shm"
        wait_ready "reader$sig"
        start_fed "writer$sig" "$S/pshm_writer" -p "$POSIX-shm"
        printf 'one line\n' >&5
        wait_output "reader$sig" '^one line$'
        kill_side "reader$sig" "$sig"
        [[ $sig == KILL ]] || assert_exit "reader$sig" $((128 + 2)) 2
        assert_exit "writer$sig" 1 2 # stdin still open, and silent
        run cat "$LOG/writer$sig.err"
        assert_line 'pshm_writer: the reader has gone (or was killed) before the end'
        exec 5>&-
    done
}

@test "pshm: a full /dev/shm is named as the reason, before anything is written; nothing is left (was: 'read stdin: Bad address'; the reader died of SIGBUS)" {
    (( EUID == 0 )) || skip "needs root: a mount namespace with a small tmpfs on /dev/shm"
    local side
    random_file "$LOG/in.bin" 1048576
    for side in writer reader; do
        # 256 KiB, and for the reader none of it free: each side makes the object alone
        # shellcheck disable=SC2016 # $1 and $@ are the inner shell's
        start_side "$side" "$LOG/in.bin" unshare -m sh -c 'mount -t tmpfs -o size=256k none /dev/shm &&
            { [ "$1" = writer ] || head -c 262144 /dev/zero >/dev/shm/full 2>/dev/null; } &&
            shift && exec "$@"' - "$side" "$S/pshm_$side" -p "$POSIX-shm"
        assert_exit "$side" 1
        run cat "$LOG/$side.err"
        assert_output --regexp "^pshm_$side: cannot allocate the [0-9]+ bytes of $POSIX-shm in /dev/shm: No space left on device\$"
    done
}

@test "shm: a reader that answers the last buffer and exits at once is an end, not a reader gone (strace holds the writer's kill)" {
    command -v strace >/dev/null || skip "strace is not installed"
    # strace holds each kill() of the writer's for 0.3 s, longer than its SIGALRM every 0.2 s:
    # the reader answers the end of input and exits meanwhile, so when the writer next looks,
    # the reader's end of the FIFO is closed and its answer waits, blocked, for sigsuspend().
    # The answer counts first (was: "the reader has gone", exit 1, after a complete transfer).
    start_side reader /dev/null "$BIN/shm/shm_reader"
    wait_ready reader
    printf 'last words\n' >"$LOG/in.txt"
    start_side writer "$LOG/in.txt" env "$NO_LSAN" strace -qq -f -o /dev/null \
        -e trace=kill -e inject=kill:delay_exit=300000 "$BIN/shm/shm_writer"
    wait_output reader '^last words$'
    assert_exit reader 0 5
    assert_exit writer 0 5
    run cat "$LOG/writer.err"
    refute_line --partial 'has gone'
}
