#!/usr/bin/env bats
# tests/msgq.bats - msgq_send, msgq_recv and msgq_chat on real System V queues, and pmq_send and
# pmq_recv on real POSIX queues.  Teardown checks after every test that no queue is left.

# shellcheck disable=SC2154 # $stderr is set by bats' run --separate-stderr
load test_helper
bats_require_minimum_version 1.5.0

setup() {
    ipclab_setup
    M=$BIN/msgq
    FOREIGN_Q=()
}

teardown() {
    local id
    for id in "${FOREIGN_Q[@]}"; do # queues a test made as another user (it removes them itself
        ipcrm -q "$id" 2>/dev/null || true # unless it failed first)
    done
    ipclab_teardown
}

# queue_holds BYTES MESSAGES: a queue of mode 600 holds that many bytes in that many messages.
queue_holds() {
    ipcs -q | grep -Eq " 600 +$1 +$2 *\$"
}

# transfer KIND FIRST: 1 MiB of random binary from KIND_send to KIND_recv (KIND: msgq or pmq),
# the side FIRST started first; both end by themselves, the bytes arrive intact.
transfer() {
    local kind=$1 first=$2 opts=()
    [[ $kind == pmq ]] && opts=(-p "$POSIX-q")
    random_file "$LOG/in.bin" 1048576
    if [[ $first == recv ]]; then
        start_side recv /dev/null "$M/${kind}_recv" "${opts[@]}"
        wait_ready recv
        start_side send "$LOG/in.bin" "$M/${kind}_send" "${opts[@]}"
    else
        start_side send "$LOG/in.bin" "$M/${kind}_send" "${opts[@]}"
        wait_ready send
        start_side recv /dev/null "$M/${kind}_recv" "${opts[@]}"
    fi
    assert_exit send 0
    assert_exit recv 0
    assert_equal "$(sha256sum <"$LOG/recv.out")" "$(sha256sum <"$LOG/in.bin")"
    # each message as large as the sender may make it: pmq_send's queue takes 8192 bytes, a
    # System V one kernel.msgmax (at most the queue's kernel.msgmnb)
    local size=8192 msgmax msgmnb
    read -r msgmax </proc/sys/kernel/msgmax
    read -r msgmnb </proc/sys/kernel/msgmnb
    [[ $kind == msgq ]] && size=$(( msgmax < msgmnb ? msgmax : msgmnb ))
    run cat "$LOG/recv.err"
    assert_line --partial "end message: 1048576 bytes in $(( 1048576 / size )) message(s)"
}

@test "msgq: 1 MiB of random binary arrives intact, NUL bytes included (receiver first) (seed: printf %s)" {
    transfer msgq recv
}

@test "msgq: 1 MiB of random binary arrives intact (sender first: it waits while the queue is full)" {
    transfer msgq send
}

@test "pmq: 1 MiB of random binary arrives intact (receiver first)" {
    transfer pmq recv
}

@test "pmq: 1 MiB of random binary arrives intact (sender first)" {
    transfer pmq send
}

@test "msgq: each read of stdin is one message of at most -s bytes, sent whole (seed: always MSG_SIZE bytes)" {
    head -c 1000 /dev/zero | tr '\0' y >"$LOG/in.txt"
    start_side recv /dev/null "$M/msgq_recv"
    wait_ready recv
    start_side send "$LOG/in.txt" "$M/msgq_send" -s 300
    assert_exit recv 0
    run cmp "$LOG/in.txt" "$LOG/recv.out"
    assert_success
    run cat "$LOG/recv.err"
    assert_line --partial 'end message: 1000 bytes in 4 message(s)'
}

@test "msgq: a sender that finishes before any receiver leaves its messages waiting in the queue" {
    printf 'sent before anyone listened\n' >"$LOG/in.txt"
    start_side send "$LOG/in.txt" "$M/msgq_send"
    assert_exit send 0
    queue_holds 28 2 # the line and the empty end message
    start_side recv /dev/null "$M/msgq_recv"
    assert_exit recv 0
    assert_equal "$(cat "$LOG/recv.out")" 'sent before anyone listened'
}

@test "msgq: -t picks the type: a receiver of type 2 gets the type-2 sender's messages" {
    printf 'for type two\n' >"$LOG/in.txt"
    start_side recv /dev/null "$M/msgq_recv" -t 2
    wait_ready recv
    start_side send "$LOG/in.txt" "$M/msgq_send" -t 2
    assert_exit recv 0
    assert_equal "$(cat "$LOG/recv.out")" 'for type two'
}

@test "msgq: a receiver of type 1 takes none of type 2, and says so once the sender has left" {
    printf 'for type two\n' >"$LOG/in.txt"
    start_side recv /dev/null "$M/msgq_recv" -t 1
    wait_ready recv
    start_side send "$LOG/in.txt" "$M/msgq_send" -t 2
    assert_exit send 0
    assert_exit recv 1 2
    assert_equal "$(cat "$LOG/recv.out")" ''
    run cat "$LOG/recv.err"
    assert_line --partial 'none of the 2 message(s) it left in the queue has type 1'
}

@test "msgq: the key file and the queue are mode 0600, in the run directory (seed: 0664, ./msgfile)" {
    mkdir "$LOG/cwd"
    cd "$LOG/cwd"
    start_side recv /dev/null "$M/msgq_recv"
    wait_ready recv
    assert_equal "$(stat -c %a "$IPCLAB_DIR/msgq")" 600
    local id
    id=$(sed -n 's/.*: queue \([0-9]*\) .*/\1/p' "$LOG/recv.err")
    run ipcs -q -i "$id"
    assert_output --regexp 'mode=0?600'
    assert_equal "$(ls -A "$LOG/cwd")" ''
}

@test "msgq: a second receiver, or a second sender, on the same queue is refused" {
    start_side recv /dev/null "$M/msgq_recv"
    wait_ready recv
    run --separate-stderr timeout 5 "$M/msgq_recv" </dev/null
    assert_failure 1
    [[ $stderr == *"another msgq_recv (pid ${PID[recv]}) is already receiving"* ]] || fail "$stderr"
    start_fed send "$M/msgq_send"
    wait_ready send
    run --separate-stderr timeout 5 "$M/msgq_send" </dev/null
    assert_failure 1
    [[ $stderr == *"another msgq_send (pid ${PID[send]}) is already sending"* ]] || fail "$stderr"
    exec 5>&-
    assert_exit recv 0
}

@test "msgq: a sender refuses to append to messages an earlier sender left for a receiver" {
    printf 'first\n' >"$LOG/in.txt"
    start_side first "$LOG/in.txt" "$M/msgq_send"
    wait_exit first
    run --separate-stderr timeout 5 "$M/msgq_send" <"$LOG/in.txt"
    assert_failure 1
    [[ $stderr == *"already holds 2 message(s) that no receiver has read"* ]] || fail "$stderr"
    start_side recv /dev/null "$M/msgq_recv"
    wait_exit recv
    assert_equal "$(cat "$LOG/recv.out")" 'first'
}

@test "msgq: a file of the user's given as -p is refused and left intact by msgq_recv and msgq_chat, SIGTERM included (was: removed when they left)" {
    users_file_left_alone "$M/msgq_recv"
    users_file_left_alone "$M/msgq_chat" 1 2
}

# planted_queue KEYFILE UID MODE [OWNER]: user UID makes a queue of mode MODE on the key that
# the key file KEYFILE (made here, marked as the programs mark theirs) gives, as an attacker
# can: ftok() of a path is easy to compute.  With OWNER, it then hands the queue's owner (uid;
# the creator, cuid, stays) to OWNER.  QUEUE = its id.
planted_queue() {
    [[ -f $1 ]] || { printf 'ipclab key file\n' >"$1" && chmod 600 "$1"; }
    local key
    key=$(perl -MIPC::SysV=ftok -e 'print ftok($ARGV[0], "a")' "$1")
    # shellcheck disable=SC2016 # perl's $ARGV, not the shell's
    QUEUE=$(setpriv --reuid="$2" --regid="$2" --clear-groups perl -MIPC::SysV=IPC_CREAT -MIPC::Msg -e '
my ($key, $mode, $owner) = @ARGV;
my $q = IPC::Msg->new($key, IPC_CREAT | oct $mode) or die "msgget: $!\n";
if (length $owner) { $q->set(uid => $owner) or die "IPC_SET: $!\n" }
print $q->id, "\n";' "$key" "$3" "${4:-}")
    FOREIGN_Q+=("$QUEUE")
}

# refused_queue WHY PROG [ARGS...]: PROG refuses the queue QUEUE (exit 1, saying WHY) and
# leaves it as it was: still there, nothing sent into it.
refused_queue() {
    local why=$1
    shift
    run --separate-stderr timeout 5 "$@" </dev/null
    assert_failure 1
    [[ $stderr == *"queue $QUEUE (key from $IPCLAB_DIR/msgq) $why"* ]] || fail "$* said: $stderr"
    run awk -v id="$QUEUE" '$2 == id { print "qnum " $5 }' /proc/sysvipc/msg
    assert_output 'qnum 0'
}

@test "msgq: a queue another user made first on our key is refused by msgq_recv, msgq_send and msgq_chat and left alone (was: used, even as root)" {
    (( EUID == 0 )) || skip "needs root: a second user (uid 65534) makes the queue"
    local plant why
    # 65534's, mode 0600 (root's msgget() grants it anyway); 65534's handed to root (its uid
    # says root's, its cuid does not); root's own, but open to the group as the seed made them.
    for plant in '65534 600' '65534 600 0' '0 664'; do
        # shellcheck disable=SC2086 # the words of $plant are the arguments
        planted_queue "$IPCLAB_DIR/msgq" $plant
        why='was made by uid 65534, not by you (uid 0); refusing to use it'
        [[ $plant == '0 664' ]] && why='has mode 664: other users can use it; refusing to use it'
        refused_queue "$why" "$M/msgq_recv" -p "$IPCLAB_DIR/msgq"
        refused_queue "$why" "$M/msgq_send" -p "$IPCLAB_DIR/msgq"
        refused_queue "$why" "$M/msgq_chat" -p "$IPCLAB_DIR/msgq" 1 2
        ipcrm -q "$QUEUE"
    done
    rm "$IPCLAB_DIR/msgq"
}

# ---------------------------------------------------------------- another program on a side

# The start of a perl side (core IPC::SysV and IPC::Msg): the queue of the key file $ARGV[0], as
# msgq/README.md tells any program to find it -- ftok(PATH, 'a'), then msgget() with IPC_CREAT,
# mode 0600 -- in $q.  It holds no record lock on the key file, and knows no other convention.
# shellcheck disable=SC2016 # perl's variables, not the shell's
PERL_QUEUE='use strict; use warnings; use IPC::SysV qw(ftok IPC_CREAT); use IPC::Msg; $| = 1;
my $q = IPC::Msg->new(ftok($ARGV[0], "a"), IPC_CREAT | 0600) or die "msgget: $!\n";
'

@test "msgq: perl's IPC::Msg as the sender, 0.5 s between its messages: msgq_recv prints them all and ends at its empty message (was: 'vanished' after the first, the queue removed under it)" {
    start_side recv /dev/null "$M/msgq_recv"
    wait_ready recv
    # each pause outlasts the receiver's look at its sender (a SIGALRM every 200 ms)
    # shellcheck disable=SC2016 # perl's variables, not the shell's
    start_side perl /dev/null perl -e "$PERL_QUEUE"'
for my $line ("one\n", "two\n") {
    $q->snd(1, $line) or die "msgsnd: $!\n";
    select(undef, undef, undef, 0.5);
}
$q->snd(1, "") or die "msgsnd: $!\n"; # the end' "$IPCLAB_DIR/msgq"
    assert_exit perl 0
    assert_exit recv 0
    assert_equal "$(cat "$LOG/recv.out")" $'one\ntwo'
    run cat "$LOG/recv.err"
    assert_line --partial 'end message: 8 bytes in 2 message(s)'
    refute_line --partial 'vanished'
}

@test "msgq: perl's IPC::Msg as the receiver of msgq_send: 100 kB of binary arrive whole, then the empty end message; it removes the queue, and msgq_send ends 0" {
    random_file "$LOG/in.bin" 100000
    start_fed send "$M/msgq_send"
    wait_ready send
    # shellcheck disable=SC2016 # perl's variables, not the shell's
    start_side perl /dev/null perl -e "$PERL_QUEUE"'
binmode STDOUT;
while (1) {
    defined $q->rcv(my $text, 65536, 1) or die "msgrcv: $!\n";
    last if length $text == 0; # the end
    print $text;
}
$q->remove or die "msgctl IPC_RMID: $!\n";
unlink $ARGV[0] or die "unlink: $!\n"; # the key file' "$IPCLAB_DIR/msgq"
    cat "$LOG/in.bin" >&5
    exec 5>&-
    assert_exit perl 0
    assert_exit send 0
    assert_equal "$(sha256sum <"$LOG/perl.out")" "$(sha256sum <"$LOG/in.bin")"
    run cat "$LOG/send.err"
    refute_line --partial 'gone'
}

@test "msgq: a perl sender SIGKILLed mid-stream and left a zombie by its parent: msgq_recv says it vanished within 2 s (kill(pid, 0) calls a zombie alive; a pidfd does not)" {
    start_side recv /dev/null "$M/msgq_recv"
    wait_ready recv
    # shellcheck disable=SC2016 # perl's variables, not the shell's
    start_side perl /dev/null perl -e "$PERL_QUEUE"'
my $child = fork() // die "fork: $!\n";
if ($child == 0) {
    $q->snd(1, "first part\n") or die "msgsnd: $!\n";
    sleep 60;
    exit 0;
}
print STDERR "child $child\n";
sleep 60; # never reaps it' "$IPCLAB_DIR/msgq"
    wait_output recv '^first part$'
    wait_line perl '^child [0-9]+$'
    local child
    child=$(sed -n 's/^child //p' "$LOG/perl.err")
    kill -KILL "$child"
    wait_until 5 state_is "$child" Z
    assert_exit recv 1 2
    run cat "$LOG/recv.err"
    assert_line --partial 'the sender vanished before its end message (killed?): 11 bytes in 1 message(s)'
}

# kill_mid KIND VICTIM SIGNAL: start a transfer that stays in progress, kill VICTIM (send or recv)
# with SIGNAL; the survivor must say so and end within 2 s.  Sets SURVIVOR.
kill_mid() {
    local kind=$1 victim=$2 sig=$3 opts=()
    [[ $kind == pmq ]] && opts=(-p "$POSIX-q")
    if [[ $victim == send ]]; then
        SURVIVOR=recv
        start_side recv /dev/null "$M/${kind}_recv" "${opts[@]}"
        wait_ready recv
        start_fed send "$M/${kind}_send" "${opts[@]}"
        wait_ready send
        printf 'first part\n' >&5
        wait_output recv '^first part$'
    else
        SURVIVOR=send
        # The receiver's stdout is a FIFO nobody reads: it stalls, the queue fills, and the
        # sender waits in msgsnd() -- mid-transfer.
        random_file "$LOG/in.bin" 1048576
        mkfifo "$LOG/recv.out"
        start_side recv /dev/null "$M/${kind}_recv" "${opts[@]}"
        exec 7<"$LOG/recv.out"
        wait_ready recv
        start_side send "$LOG/in.bin" "$M/${kind}_send" "${opts[@]}"
        wait_ready send
        wait_blocked_in "${PID[recv]}" 'pipe_write|pipe_wait'
    fi
    kill_side "$victim" "$sig"
    assert_exit "$SURVIVOR" 1 2
    exec 5>&- 7<&-
}

# next_run_works KIND: after whatever a killed side left, a new pair still works.
next_run_works() {
    local kind=$1 opts=()
    [[ $kind == pmq ]] && opts=(-p "$POSIX-q")
    printf 'the next run\n' >"$LOG/next.txt"
    start_side recv2 /dev/null "$M/${kind}_recv" "${opts[@]}"
    wait_ready recv2
    start_side send2 "$LOG/next.txt" "$M/${kind}_send" "${opts[@]}"
    assert_exit recv2 0
    assert_equal "$(cat "$LOG/recv2.out")" 'the next run'
}

@test "msgq: the sender SIGKILLed mid-transfer -> the receiver says so within 2 s and removes the queue; the next run works" {
    kill_mid msgq send KILL
    run cat "$LOG/recv.err"
    assert_line --partial 'the sender vanished before its end message (killed?): 11 bytes'
    assert_nothing_left
    next_run_works msgq
}

@test "msgq: the receiver SIGKILLed mid-transfer -> the sender says so within 2 s and removes the queue; the next run works" {
    kill_mid msgq recv KILL
    run cat "$LOG/send.err"
    assert_line --partial 'the receiver is gone before it took everything'
    assert_nothing_left
    next_run_works msgq
}

# receiver_killed_after_the_end KIND [SIGNAL]: the sender has sent all, its end message
# included, while its receiver is stalled on its stdout (a FIFO nobody reads) with the last
# messages still queued; then the receiver gets SIGNAL (KILL).  The sender, waiting for it to
# take everything, must say so, exit 1 and remove the queue.  (The fault tests found the sender
# gone by then, with exit 0, and that rest left behind: the next receiver took it for a transfer
# of its own, an empty one, and left; the next sender then waited for ever in a new queue.)
receiver_killed_after_the_end() {
    local kind=$1 sig=${2:-KILL} opts=()
    [[ $kind == pmq ]] && opts=(-p "$POSIX-q")
    random_file "$LOG/in.bin" 70000 # 64 KiB fill the receiver's stdout; the rest stays queued
    mkfifo "$LOG/recv.out"
    start_side recv /dev/null "$M/${kind}_recv" "${opts[@]}"
    exec 7<"$LOG/recv.out"
    wait_ready recv
    start_side send "$LOG/in.bin" "$M/${kind}_send" "${opts[@]}"
    wait_line send 'end of input: 70000 bytes'
    kill_side recv "$sig"
    [[ $sig == KILL ]] || assert_exit recv $((128 + $(kill -l "$sig")))
    exec 7<&-
    assert_exit send 1 2
    assert_nothing_left
    next_run_works "$kind"
}

# lower_qbytes ID BYTES: msgctl(IPC_SET) lowers queue ID's msg_qbytes to BYTES, as its owner
# may (perl's IPC::Msg; a queue made under a smaller kernel.msgmnb is the same).
lower_qbytes() {
    # shellcheck disable=SC2016 # perl's variables, not the shell's
    perl -MIPC::Msg -e 'my $id = $ARGV[0]; my $q = bless \$id, "IPC::Msg";
$q->set(qbytes => $ARGV[1]) or die "IPC_SET: $!\n";' "$1" "$2"
}

# queue_of NAME: the queue id in side NAME's ready line.
queue_of() {
    sed -n 's/.*: ready (pid [0-9]*): queue \([0-9]*\) .*/\1/p' "$LOG/$1.err"
}

@test "msgq: a queue whose msg_qbytes is below one message: the sender says so and sends messages that fit (was: waited idle for ever)" {
    random_file "$LOG/in.bin" 20000
    start_side recv /dev/null "$M/msgq_recv"
    wait_ready recv
    lower_qbytes "$(queue_of recv)" 100
    start_side send "$LOG/in.bin" "$M/msgq_send"
    assert_exit send 0 10
    assert_exit recv 0
    assert_equal "$(sha256sum <"$LOG/recv.out")" "$(sha256sum <"$LOG/in.bin")"
    grep -q "holds at most 100 bytes (its msg_qbytes), less than [0-9]*: sending messages of up to 100 bytes" "$LOG/send.err" ||
        fail "the sender did not say: $(cat "$LOG/send.err")"
    run cat "$LOG/recv.err"
    assert_line --partial 'end message: 20000 bytes in 200 message(s)'
    # msg_qbytes 0 takes not even the end message: refused at once
    start_side recv2 /dev/null "$M/msgq_recv"
    wait_ready recv2
    lower_qbytes "$(queue_of recv2)" 0
    run --separate-stderr timeout 5 "$M/msgq_send" </dev/null
    assert_failure 1
    [[ $stderr == *"takes no message: its msg_qbytes is 0; refusing to use it"* ]] || fail "stderr: $stderr"
}

@test "msgq: msg_qbytes lowered under a message while the sender waits on a full queue: it says so, gives up, removes the queue" {
    random_file "$LOG/in.bin" 1048576
    mkfifo "$LOG/recv.out" # the receiver's stdout, never read: the queue fills up
    start_side recv /dev/null "$M/msgq_recv"
    exec 7<"$LOG/recv.out"
    wait_ready recv
    start_side send "$LOG/in.bin" "$M/msgq_send"
    wait_ready send
    wait_blocked_in "${PID[send]}" msgsnd
    lower_qbytes "$(queue_of send)" 10
    assert_exit send 1 2
    grep -q "now holds at most 10 bytes (its msg_qbytes, lowered by msgctl IPC_SET): a message of [0-9]* bytes never fits; giving up" "$LOG/send.err" ||
        fail "the sender did not say: $(cat "$LOG/send.err")"
    exec 7<&-
    assert_exit recv 1
}

@test "msgq: the receiver SIGKILLed with the end message still queued -> the sender, still waiting, says so and removes the queue; the next run works" {
    receiver_killed_after_the_end msgq
    run cat "$LOG/send.err"
    assert_line --partial 'the receiver is gone before it took everything'
}

@test "msgq: the receiver SIGTERMed with messages still queued -> the sender says it did not take everything and exits 1 (was: exit 0, the queue's removal taken for all taken)" {
    receiver_killed_after_the_end msgq TERM
    run cat "$LOG/send.err"
    assert_line --regexp '^msgq_send: the receiver is gone before it took everything \([1-9][0-9]* message\(s\) left in the queue; killed\?\)$'
    run cat "$LOG/recv.err"
    assert_line --partial 'leaving the queue to the sender'
}

@test "pmq: the receiver SIGKILLed with the end message still queued -> the sender, still waiting, says so and removes the queue; the next run works" {
    receiver_killed_after_the_end pmq
    run cat "$LOG/send.err"
    assert_line --partial 'the receiver has left (or was killed) before the end'
}

# rest_of_a_stream: a sender that finished before any receiver came (12 000 bytes: they all fit
# in the queue), then a receiver that took part of them and was SIGKILLed: its stdout a FIFO
# of one page (python holds the other end, F_SETPIPE_SZ) that nobody reads.  The rest stays in
# the queue, msg_lrpid set, and nobody is there.  Sets QUEUE to the queue's id.
rest_of_a_stream() {
    random_file "$LOG/in.bin" 12000
    start_side send "$LOG/in.bin" "$M/msgq_send"
    assert_exit send 0
    mkfifo "$LOG/recv.out"
    start_side page /dev/null "$PYTHON" -c '
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)  # read-write: the open waits for nobody
fcntl.fcntl(fd, 1031, 4096)           # F_SETPIPE_SZ: one page
print("ready", file=sys.stderr, flush=True)
time.sleep(60)' "$LOG/recv.out"
    wait_line page '^ready$'
    start_side recv /dev/null "$M/msgq_recv"
    wait_ready recv
    wait_blocked_in "${PID[recv]}" 'pipe_write|pipe_wait'
    kill_side recv KILL
    kill_side page KILL
    QUEUE=$(sed -n 's/.*: ready (pid [0-9]*): queue \([0-9]*\) .*/\1/p' "$LOG/recv.err")
    run awk -v id="$QUEUE" '$2 == id && $5 > 0 && $7 != 0 { print "left" }' /proc/sysvipc/msg
    assert_output left # qnum > 0, lrpid set
}

@test "msgq: the rest of a stream whose receiver was killed after its sender had left is dropped by the next receiver" {
    rest_of_a_stream
    printf 'the next run\n' >"$LOG/next.txt"
    start_side recv2 /dev/null "$M/msgq_recv"
    wait_ready recv2
    start_side send2 "$LOG/next.txt" "$M/msgq_send"
    assert_exit send2 0
    assert_exit recv2 0
    assert_equal "$(cat "$LOG/recv2.out")" 'the next run'
    run cat "$LOG/recv2.err"
    assert_line --regexp "^msgq_recv: dropping [0-9]+ message\(s\) left in queue $QUEUE: the rest of a transfer whose receiver \(pid [0-9]+\) was killed after its sender had left$"
}

@test "msgq: ... and by the next sender, which would otherwise refuse them as messages waiting for a receiver" {
    rest_of_a_stream
    printf 'the next run\n' >"$LOG/next.txt"
    start_side send2 "$LOG/next.txt" "$M/msgq_send"
    assert_exit send2 0
    start_side recv2 /dev/null "$M/msgq_recv"
    assert_exit recv2 0
    assert_equal "$(cat "$LOG/recv2.out")" 'the next run'
    run cat "$LOG/send2.err"
    assert_line --partial "dropping"
}

@test "msgq: SIGTERM to the sender mid-transfer removes the queue: the receiver is told at once (seed: EIDRM spin)" {
    kill_mid msgq send TERM
    run cat "$LOG/recv.err"
    assert_line --partial 'the queue was removed before the end message'
    assert_exit send $((128 + 15))
    run cat "$LOG/send.err"
    assert_line 'msgq_send: SIGTERM: cleaned up, leaving'
}

@test "msgq: SIGTERM to the receiver mid-transfer -> the sender is told and ends" {
    kill_mid msgq recv TERM
    run cat "$LOG/send.err"
    assert_line --partial 'the receiver is gone before it took everything'
    assert_exit recv $((128 + 15))
}

@test "pmq: the sender SIGKILLed mid-transfer -> the receiver says so within 2 s; the next run works" {
    kill_mid pmq send KILL
    run cat "$LOG/recv.err"
    assert_line --partial 'the sender vanished before its end message (killed?): 11 bytes'
    assert_nothing_left
    next_run_works pmq
}

@test "pmq: the receiver SIGKILLed mid-transfer -> the sender says so within 2 s; the next run works" {
    kill_mid pmq recv KILL
    run cat "$LOG/send.err"
    assert_line --partial 'the receiver has left (or was killed) before the end'
    assert_nothing_left
    next_run_works pmq
}

@test "pmq: SIGTERM to the sender mid-transfer -> the receiver is told and ends; nothing is left" {
    kill_mid pmq send TERM
    run cat "$LOG/recv.err"
    assert_line --partial 'the sender vanished before its end message'
    assert_exit send $((128 + 15))
}

# woken_since PID N: PID has been switched out voluntarily (woken from a wait, and waiting again)
# at least N times in all, or has ended (the test's next look then fails).
woken_since() {
    local n
    n=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$1/status" 2>/dev/null) || return 0
    [[ -z $n ]] || (( n >= $2 ))
}

# queue_exists ID: System V queue ID is there (/proc/sysvipc/msg; ipcs -i says "not found", exit 0).
queue_exists() {
    awk -v id="$1" '$2 == id { found = 1 } END { exit !found }' /proc/sysvipc/msg
}

@test "msgq: a receiver leaving after Ctrl-C waits for the lock on byte 0 of the key file, held by another; a SIGALRM every 200 ms does not end that wait" {
    start_side recv /dev/null "$M/msgq_recv"
    wait_ready recv
    local id
    id=$(sed -n 's/.*: ready (pid [0-9]*): queue \([0-9]*\) .*/\1/p' "$LOG/recv.err")
    # A joining peer holds a write lock on byte 0 of the key file.
    start_fed holder "$PYTHON" -c '
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX, 1, 0)
print("holder: holding byte 0", file=sys.stderr, flush=True)
sys.stdin.read()
' "$IPCLAB_DIR/msgq"
    wait_line holder 'holding byte 0'
    kill -INT "${PID[recv]}"
    wait_blocked_in "${PID[recv]}" 'lock|fcntl'
    # Each SIGALRM (every 0.2 s) wakes the receiver from its wait: one more voluntary context
    # switch.  After three, it must still wait, the queue still there (it used to take the
    # first SIGALRM for the end of its wait, and remove the queue without the lock).
    local woken
    woken=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/${PID[recv]}/status")
    wait_until 5 woken_since "${PID[recv]}" $((woken + 3))
    wait_blocked_in "${PID[recv]}" 'lock|fcntl'
    queue_exists "$id"
    exec 5>&- # the holder lets go
    assert_exit holder 0
    assert_exit recv $((128 + 2)) 5
    run queue_exists "$id"
    assert_failure
}

# stopped_by_tracer PID: PID is in a tracing stop (state t in /proc/PID/stat).
stopped_by_tracer() {
    [[ $(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) == t ]]
}

@test "pmq: a SIGINT that lands between two of the receiver's timed waits is not lost (strace holds a wait's return)" {
    command -v strace >/dev/null || skip "strace is not installed"
    # The receiver waits in mq_timedreceive() 0.2 s at a time.  strace holds the second wait's
    # return for 1 s; the SIGINT sent then is handled only once the wait has returned
    # ETIMEDOUT -- after it, not during it, as a signal can land between two waits.
    start_side recv /dev/null env "$NO_LSAN" strace -qq -f -o /dev/null \
        -e trace=mq_timedreceive -e inject=mq_timedreceive:delay_exit=1000000:when=2 \
        "$M/pmq_recv" -p "$POSIX-q"
    wait_ready recv
    local tracee
    tracee=$(sed -n 's/.*: ready (pid \([0-9]*\)).*/\1/p' "$LOG/recv.err")
    wait_until 5 stopped_by_tracer "$tracee"
    kill -INT "$tracee"
    assert_exit recv $((128 + 2)) 5 # strace ends as its tracee did: by SIGINT
    run cat "$LOG/recv.err"
    assert_line --partial 'pmq_recv: SIGINT: cleaned up, leaving'
}

@test "msgq: a SIGINT during start-up, as the key file is being made, is told as the signal alone (was: 'cannot create the key file ...: Interrupted system call' too)" {
    command -v strace >/dev/null || skip "strace is not installed"
    # strace sends the SIGINT as msgq_recv first looks at its key file's path, before making it
    run --separate-stderr timeout 5 env "$NO_LSAN" strace -qq -f -o /dev/null \
        -P "$IPCLAB_DIR/msgq" -e trace=%%stat -e inject=%%stat:signal=SIGINT:when=1 \
        "$M/msgq_recv" </dev/null
    assert_equal "$status" $((128 + 2)) # strace ends as its tracee did: by SIGINT
    assert_equal "$stderr" 'msgq_recv: SIGINT: cleaned up, leaving'
}

@test "pmq: SIGTERM to the receiver mid-transfer -> the sender is told and ends; nothing is left" {
    kill_mid pmq recv TERM
    run cat "$LOG/send.err"
    assert_line --partial 'the receiver has left (or was killed) before the end'
    assert_exit recv $((128 + 15))
    run cat "$LOG/recv.err"
    assert_line --regexp '^pmq_recv: leaving before the end message: the [0-9]+ message\(s\) still queued are lost$'
}

@test "pmq: the queue is mode 0600 and carries its name" {
    start_side recv /dev/null "$M/pmq_recv" -p "$POSIX-q"
    wait_ready recv
    assert_equal "$(stat -c %a "/dev/mqueue/${POSIX#/}-q")" 600
}

@test "pmq: another user's queue of the same name, open to all, is refused by either side: nothing is sent or taken" {
    (( EUID == 0 )) || skip "needs root: a second user makes the queue"
    local q=/dev/mqueue/${POSIX#/}-q side
    # what mq_open(O_CREAT) with mode 0666 makes (the mqueue file system makes a queue so)
    "${AS_NOBODY[@]}" sh -c "umask 0; : >'$q'"
    printf 'secret\n' >"$LOG/in"
    for side in send recv; do
        start_side "$side" "$LOG/in" "$M/pmq_$side" -p "$POSIX-q"
        assert_exit "$side" 1
        run cat "$LOG/$side.err"
        assert_output --partial "$POSIX-q belongs to uid 65534, not to you (uid 0); refusing to use it"
    done
    assert_equal "$(stat -c '%u %a' "$q")" '65534 666'
    run cat "$q"
    assert_output --regexp '^QSIZE:0 ' # nothing of ours was sent into it
    rm "$q"
}

@test "pmq: a queue of ours that other users may open (mode 0644) is refused and left alone" {
    local q=/dev/mqueue/${POSIX#/}-q
    (umask 022 && : >"$q")
    start_side recv /dev/null "$M/pmq_recv" -p "$POSIX-q"
    assert_exit recv 1
    run cat "$LOG/recv.err"
    assert_output --partial "$POSIX-q has mode 644: other users can use it; refusing to use it"
    assert_equal "$(stat -c %a "$q")" 644
    rm "$q"
}

# The queue is the interface: python (ctypes on librt's mq_* calls, tests/pmq_peer.py) takes a
# side as msgq/README.md says a foreign peer does, holding no record lock of ours.
PMQ_PEER=("$BATS_TEST_DIRNAME/pmq_peer.py")

@test "pmq: a python sender (ctypes mq_send, no record lock) that pauses 0.3 s between messages is waited for; its empty message ends the stream (was: 'the sender vanished', the queue removed under it)" {
    printf 'one\ntwo\nthree\n' >"$LOG/in.txt"
    start_side recv /dev/null "$M/pmq_recv" -p "$POSIX-q"
    wait_ready recv
    start_side py "$LOG/in.txt" "$PYTHON" "${PMQ_PEER[@]}" send "$POSIX-q" 0.3
    assert_exit py 0
    assert_exit recv 0
    assert_equal "$(cat "$LOG/recv.out")" $'one\ntwo\nthree'
    run cat "$LOG/recv.err"
    assert_line --partial 'end message: 14 bytes in 3 message(s)'
}

@test "pmq: a python receiver (ctypes mq_receive, no record lock) takes pmq_send's stream, then removes the name: the sender ends with 0" {
    random_file "$LOG/in.bin" 100000 # 13 messages: more than the queue holds
    start_side py /dev/null "$PYTHON" "${PMQ_PEER[@]}" recv "$POSIX-q" 0.05
    wait_line py 'pmq_peer: ready'
    start_side send "$LOG/in.bin" "$M/pmq_send" -p "$POSIX-q"
    assert_exit send 0 10
    assert_exit py 0
    assert_equal "$(sha256sum <"$LOG/py.out")" "$(sha256sum <"$LOG/in.bin")"
}

@test "pmq: a python receiver that gives up and removes the name -> pmq_send says so, exits 1 (nothing lost unsaid)" {
    random_file "$LOG/in.bin" 100000
    start_side py /dev/null "$PYTHON" "${PMQ_PEER[@]}" recv "$POSIX-q" 0 1
    wait_line py 'pmq_peer: ready'
    start_side send "$LOG/in.bin" "$M/pmq_send" -p "$POSIX-q"
    assert_exit py 1
    assert_exit send 1
    run cat "$LOG/send.err"
    assert_line 'pmq_send: the receiver has left (or was killed) before the end'
}

@test "pmq: pmq_recv leaving before the end (Ctrl-C) says what it leaves unread and removes the name; a python sender sees the link count 0 (was: it went on sending into the nameless queue)" {
    start_side recv /dev/null "$M/pmq_recv" -p "$POSIX-q"
    wait_ready recv
    start_fed py "$PYTHON" "${PMQ_PEER[@]}" send "$POSIX-q"
    printf 'first\n' >&5
    wait_output recv '^first$'
    kill -INT "${PID[recv]}"
    assert_exit recv $((128 + 2))
    run cat "$LOG/recv.err"
    assert_line 'pmq_recv: SIGINT: cleaned up, leaving'
    printf 'second\n' >&5
    assert_exit py 1
    run cat "$LOG/py.err"
    assert_line 'pmq_peer: the queue has no name any more: the receiver has left'
    exec 5>&-
}

# ---------------------------------------------------------------- msgq_chat

@test "msgq_chat: lines go both ways by type; Ctrl-D on one side tells the other, which ends; the queue goes" {
    start_fed one "$M/msgq_chat" 1 2
    wait_ready one
    mkfifo "$LOG/two.in"
    start_side two "$LOG/two.in" "$M/msgq_chat" 2 1
    exec 6>"$LOG/two.in"
    wait_ready two
    printf 'hello two, one here\n' >&5
    wait_output two '^hello two, one here$'
    printf 'hi one, I read you\n' >&6
    wait_output one '^hi one, I read you$'
    exec 5>&-
    assert_exit one 0
    assert_exit two 0 2
    run cat "$LOG/two.err"
    assert_line 'msgq_chat: 1 has left the chat'
    exec 6>&-
}

@test "msgq_chat: what one side types before the other starts waits in the queue" {
    start_fed one "$M/msgq_chat" 1 2
    wait_ready one
    printf 'are you there?\n' >&5
    start_side two /dev/null "$M/msgq_chat" 2 1 # stdin at its end at once: it reads, then leaves
    assert_exit two 0
    assert_equal "$(cat "$LOG/two.out")" 'are you there?'
    assert_exit one 0 2
    run cat "$LOG/one.err"
    assert_line 'msgq_chat: 2 has left the chat'
}

# chat_kill SIGNAL: two sides chatting; SIGNAL to side one; side two must end within 2 s.
chat_kill() {
    start_fed one "$M/msgq_chat" 1 2
    wait_ready one
    mkfifo "$LOG/two.in"
    start_side two "$LOG/two.in" "$M/msgq_chat" 2 1
    exec 6>"$LOG/two.in"
    wait_line two '1 \(pid [0-9]+\) is here'
    kill_side one "$1"
    wait_exit two 2
    exec 5>&- 6>&-
}

# queued ID: System V queue ID holds a message (qnum, /proc/sysvipc/msg's fifth column).
queued() {
    local key id qnum rest
    while read -r key id _ _ qnum rest; do
        [[ $id == "$1" ]] && (( qnum > 0 )) && return 0
    done </proc/sysvipc/msg
    return 1
}

@test "msgq_chat: SIGTERM to the receiving child while a message waits and its stdout is full ends it within 2 s (was: the flag cleared to print, the child then stuck on stdout for good)" {
    mkfifo "$LOG/one.out" # side one's stdout: held open here, never read, and full
    exec 7<>"$LOG/one.out"
    head -c 65536 /dev/zero >&7
    start_fed one "$M/msgq_chat" 1 2
    wait_ready one
    mkfifo "$LOG/two.in"
    start_side two "$LOG/two.in" "$M/msgq_chat" 2 1
    exec 6>"$LOG/two.in"
    wait_line two '1 \(pid [0-9]+\) is here'
    local child queue
    child=$(pgrep -P "${PID[one]}")
    queue=$(sed -n 's/.* on queue \([0-9]*\) .*/\1/p' "$LOG/one.err")
    # stopped while it waits for a message, so that the one two sends stays in the queue
    kill -STOP "$child"
    wait_until 5 state_is "$child" T
    printf 'sent while it was stopped\n' >&6
    wait_until 5 queued "$queue"
    kill -TERM "$child"
    kill -CONT "$child"
    wait_gone "$child" 2
    exec 5>&- 6>&- 7<&-
}

@test "msgq_chat: SIGTERM to one side -> the other is told and ends; the queue goes (seed: the child lingered)" {
    chat_kill TERM
    assert_equal "$SIDE_STATUS" 0
    run cat "$LOG/two.err"
    assert_line 'msgq_chat: 1 has left the chat'
    assert_exit one $((128 + 15))
}

@test "msgq_chat: SIGINT to one side ends both of its processes (seed: only the parent caught it)" {
    chat_kill INT
    assert_equal "$SIDE_STATUS" 0
    assert_exit one $((128 + 2))
    run pgrep -s "$(pgid_of one)"
    assert_failure # nothing of side one is left in its session
}

@test "msgq_chat: one side SIGKILLed -> the other notices within 2 s, ends and removes the queue" {
    chat_kill KILL
    assert_equal "$SIDE_STATUS" 1
    run cat "$LOG/two.err"
    assert_line 'msgq_chat: 1 vanished without saying goodbye (killed?)'
}

@test "msgq_chat: messages left by a chat that was killed are dropped, not shown to the next one" {
    start_fed one "$M/msgq_chat" 1 2
    wait_ready one
    printf 'stale words\n' >&5
    wait_until 5 queue_holds 12 1
    kill_side one KILL
    exec 5>&-
    start_side two /dev/null "$M/msgq_chat" 2 1
    assert_exit two 0
    assert_equal "$(cat "$LOG/two.out")" ''
    run cat "$LOG/two.err"
    assert_line 'msgq_chat: dropping 1 message(s) left in the queue by a chat that was killed'
}

@test "msgq_chat: perl's IPC::Msg as side 2: each reads the other's line, msgq_chat sees it there and then its empty goodbye" {
    start_fed one "$M/msgq_chat" 1 2
    wait_ready one
    mkfifo "$LOG/perl.in"
    # shellcheck disable=SC2016 # perl's variables, not the shell's
    start_side perl "$LOG/perl.in" perl -e "$PERL_QUEUE"'
defined $q->rcv(my $line, 1024, 2) or die "msgrcv: $!\n"; # side 1 sends as type 2
print $line;
$q->snd(1, "hi one, perl here\n") or die "msgsnd: $!\n";
<STDIN>; # until the test says
$q->snd(1, "") or die "msgsnd: $!\n"; # goodbye' "$IPCLAB_DIR/msgq_chat"
    exec 6>"$LOG/perl.in"
    printf 'hello perl\n' >&5
    wait_output perl '^hello perl$'
    wait_output one '^hi one, perl here$'
    wait_line one '^msgq_chat: 2 \(pid [0-9]+\) is here$' # seen as the queue's last sender
    printf '\n' >&6
    assert_exit perl 0
    assert_exit one 0
    run cat "$LOG/one.err"
    assert_line 'msgq_chat: 2 has left the chat'
    exec 5>&- 6>&-
}

@test "msgq_chat: a type already in use is refused" {
    start_fed one "$M/msgq_chat" 1 2
    wait_ready one
    run --separate-stderr timeout 5 "$M/msgq_chat" 1 3 </dev/null
    assert_failure 1
    [[ $stderr == *"type 1 is taken: another msgq_chat (pid ${PID[one]})"* ]] || fail "$stderr"
    exec 5>&-
    wait_exit one
}
