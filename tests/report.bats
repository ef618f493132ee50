#!/usr/bin/env bats
# tests/report.bats - the failure report of a test that uses tests/test_helper.bash: it names
# the test's own line that failed, whether the failure is in the test's body, in a helper the
# .bats file defines, or in one of test_helper.bash's.  (test_helper.bash lets bats' DEBUG trap
# record only the test's own commands, for speed -- ipclab_trace_test_lines -- and a trap
# written over two lines once moved every reported line one down.)  And what teardown fails a
# test for: the System V objects it left, never another program's.

load test_helper

setup() {
    ipclab_setup
}

teardown() {
    remove_probes_objects
    ipclab_teardown
}

# remove_probes_objects: the System V objects the probe suite made ("KIND ID" lines in
# $PROBE_IDS), some of them left behind on purpose.
remove_probes_objects() {
    local kind id
    [[ -n ${PROBE_IDS:-} && -f $PROBE_IDS ]] || return 0
    while read -r kind id; do
        ipcrm "-$kind" "$id" 2>/dev/null || true
    done <"$PROBE_IDS"
    rm -f "$PROBE_IDS"
}

# probe_suite: PROBE, a directory holding tests/probe.bats (to be written) beside links to the
# real helper and scripts/lib.sh: a suite of its own, run with bats like the real one.
probe_suite() {
    PROBE=$BATS_TEST_TMPDIR/top
    mkdir -p "$PROBE/tests" "$PROBE/scripts"
    ln -s "$ROOT/tests/test_helper.bash" "$PROBE/tests/test_helper.bash"
    ln -s "$ROOT/scripts/lib.sh" "$PROBE/scripts/lib.sh"
}

@test "report: a failure is reported at the test's own line, with the helper's message" {
    # A suite of its own: tests/probe.bats beside links to the real helper and scripts/lib.sh.
    probe_suite
    local top=$PROBE
    # (%test, made @test below: bats would take an @test line here for one of this file's.)
    cat >"$top/tests/probe.bats" <<'EOF'
load test_helper
setup() { ipclab_setup; }
teardown() { ipclab_teardown; }
own_helper() {
    local x=1
    [[ $x == 2 ]] || fail "own_helper: x is $x"
}
%test "in a helper of the file's own" {
    true
    own_helper
    true
}
%test "in an assertion" {
    run echo hi
    assert_output ho
}
%test "in a plain command, after a regular expression" {
    [[ abc =~ (b) ]]
    [[ ${BASH_REMATCH[1]} == b ]]
    [[ 1 == 2 ]]
}
%test "in a helper of test_helper.bash" {
    true
    wait_until 1 false
}
EOF
    sed -i 's/^%test /@test /' "$top/tests/probe.bats"
    run "${BATS:-bats}" --tap "$top/tests/probe.bats" 3>&-
    assert_failure
    assert_line --index 1 'not ok 1 in a helper of the file'"'"'s own'
    assert_line --index 2 "# (in test file $top/tests/probe.bats, line 10)"
    assert_line --index 3 "#   \`own_helper' failed"
    assert_line --index 4 '# own_helper: x is 1'
    assert_line '# (in test file '"$top"'/tests/probe.bats, line 15)'
    assert_line "#   \`assert_output ho' failed"
    assert_line '# (in test file '"$top"'/tests/probe.bats, line 20)'
    assert_line "#   \`[[ 1 == 2 ]]' failed"
    assert_line '# (in test file '"$top"'/tests/probe.bats, line 24)'
    assert_line "#   \`wait_until 1 false' failed"
}

@test "report: teardown fails a test for the System V objects it left, never for another program's made meanwhile (was: for any on the machine)" {
    probe_suite
    # What the probe's tests make, "KIND ID" a line, for teardown to remove; a file that is not
    # theirs, whose key is not either; and our programs for them.  A queue or set of
    # IPC_PRIVATE counts as its test's in the files that make such (tests/shm_counter.bats ...),
    # which may run meanwhile (scripts/test.sh): the probe makes those only in an IPC namespace
    # of its own (root), where all it made goes with the namespace.
    export PROBE_IDS=$BATS_TEST_TMPDIR/ids PROBE_OTHERS_FILE=$BATS_TEST_TMPDIR/others IPCLAB_BIN=$BIN
    local in=() first=7
    export PROBE_PRIVATE=0
    ipclab_in_namespace true 2>/dev/null && in=(ipclab_in_namespace) PROBE_PRIVATE=1 first=9
    : >"$PROBE_OTHERS_FILE"
    cat >"$PROBE/tests/probe.bats" <<'EOF'
load test_helper
setup() { ipclab_setup; }
teardown() { ipclab_teardown; }
made() { echo "$1 $2" >>"$PROBE_IDS"; }
# perl_made KIND KEY: a queue (q), segment (m) or set (s) of KEY made by perl, its id recorded.
perl_made() {
    local id
    id=$(timeout 5 perl -MIPC::SysV=IPC_CREAT -e '
        my ($kind, $key) = @ARGV;
        my $id = $kind eq "q" ? msgget($key, IPC_CREAT | 0600)
            : $kind eq "m" ? shmget($key, 4096, IPC_CREAT | 0600) : semget($key, 1, IPC_CREAT | 0600);
        defined $id or die "$kind: $!\n";
        print $id' "$1" "$2")
    made "$1" "$id"
}
ftok_of() { perl -MIPC::SysV=ftok -e 'print ftok($ARGV[0], $ARGV[1])' "$1" "$2"; }
%test "other programs' objects" {
    # ipcmk: a segment, a queue and a set, as another program of the user's makes them
    local line
    while read -r line; do
        case $line in
        "Shared memory id: "*) made m "${line##* }" ;;
        "Message queue id: "*) made q "${line##* }" ;;
        "Semaphore id: "*) made s "${line##* }" ;;
        esac
    done < <(timeout 5 ipcmk -M 4096 -Q -S 1)
    # perl: each kind of the key ftok() makes of a file not the test's, as a pair the student
    # runs meanwhile makes them; and a segment, a queue and a set of IPC_PRIVATE
    perl_made q "$(ftok_of "$PROBE_OTHERS_FILE" a)"
    perl_made m "$(ftok_of "$PROBE_OTHERS_FILE" b)"
    perl_made s "$(ftok_of "$PROBE_OTHERS_FILE" s)"
    perl_made m 0
    if (( PROBE_PRIVATE )); then
        perl_made q 0
        perl_made s 0
    fi
    [[ $(wc -l <"$PROBE_IDS") == $(( PROBE_PRIVATE ? 9 : 7 )) ]]
}
%test "a queue its program left, the key file gone" {
    start_side recv /dev/null "$BIN/msgq/msgq_recv"
    wait_ready recv
    made q "$(sed -n 's/.*: ready (pid [0-9]*): queue \([0-9]*\) .*/\1/p' "$LOG/recv.err")"
    kill_side recv KILL
    rm -f "$IPCLAB_DIR"/*
}
%test "a segment of the key of a file of the test's" {
    : >"$LOG/key"
    perl_made m "$(ftok_of "$LOG/key" b)"
}
%test "a set of IPC_PRIVATE, in a file whose programs make such" {
    (( PROBE_PRIVATE )) || skip "no IPC namespace of its own (root)"
    SYSV_PRIVATE=1 # as "ipclab_setup sysv_private" sets it
    perl_made s 0
}
EOF
    sed -i 's/^%test /@test /' "$PROBE/tests/probe.bats"
    run "${in[@]}" "${BATS:-bats}" --tap "$PROBE/tests/probe.bats" 3>&-
    local made
    made=$(cat "$PROBE_IDS")
    if (( PROBE_PRIVATE )); then
        rm "$PROBE_IDS" # the ids were the namespace's, and its objects went with it
    else
        remove_probes_objects
    fi
    assert_line --index 1 "ok 1 other programs' objects"
    assert_line --index 2 "not ok 2 a queue its program left, the key file gone"
    assert_line --regexp "^# System V objects left behind \(kind id key\): q $(sed -n "$((first + 1))p" <<<"$made" | cut -d' ' -f2) [0-9]+;\$"
    assert_line "not ok 3 a segment of the key of a file of the test's"
    assert_line --regexp "^# System V objects left behind \(kind id key\): m $(sed -n "$((first + 2))p" <<<"$made" | cut -d' ' -f2) [1-9][0-9]*;\$"
    if (( PROBE_PRIVATE )); then
        assert_line "not ok 4 a set of IPC_PRIVATE, in a file whose programs make such"
        assert_line --regexp "^# System V objects left behind \(kind id key\): s $(sed -n "$((first + 3))p" <<<"$made" | cut -d' ' -f2) 0;\$"
    else
        assert_line "ok 4 a set of IPC_PRIVATE, in a file whose programs make such # skip no IPC namespace of its own (root)"
    fi
    assert_equal "$(grep -c '^not ok' <<<"$output")" $(( 2 + PROBE_PRIVATE ))
}

@test "report: the helper's ftok project ids are those of the programs" {
    local defined=() proj
    while read -r proj; do
        defined+=("$(printf '%d' "'$proj")")
    done < <(sed -n "s/^#define [A-Z_]*_PROJ '\(.\)'.*/\1/p" "$ROOT"/*/*.h | sort -u)
    assert_equal "$(printf '%s\n' "${defined[@]}" | sort -n)" "$(printf '%s\n' "${SYSV_PROJECTS[@]}" | sort -n)"
}

@test "make test: a run that ends, or is cut short by Ctrl-C, leaves none of its tests' POSIX names (was: sem.ipclab-t... left)" {
    # A bats for scripts/test.sh that makes a named semaphore as a test does, by the name
    # test_helper.bash gives it, and leaves it, as a test cut short never runs its teardown;
    # group 1's, with FAKE_CTRL_C=1, then sends SIGINT to the run's process group, as Ctrl-C does.
    local fake=$BATS_TEST_TMPDIR/bats names=$BATS_TEST_TMPDIR/names how name left=()
    cat >"$fake" <<'FAKE'
#!/usr/bin/env bash
name=/dev/shm/sem.ipclab-t${IPCLAB_TEST_RUN:+$IPCLAB_TEST_RUN-}$$-1
: >"$name" && echo "$name" >>"$FAKE_NAMES"
[[ $FAKE_CTRL_C == 1 && " $* " == *" tests/shm_counter.bats "* ]] && kill -INT 0
exit 0
FAKE
    chmod +x "$fake"
    for how in 0 1; do
        : >"$names"
        FAKE_NAMES=$names FAKE_CTRL_C=$how BATS=$fake run setsid timeout 20 "$ROOT/scripts/test.sh" --tap
        (( $(wc -l <"$names") > 0 )) || fail "the run made no name (Ctrl-C: $how)"
        while read -r name; do
            [[ -e $name ]] && left+=("$name") && rm -f "$name"
        done <"$names"
    done
    (( ${#left[@]} == 0 )) || fail "left: ${left[*]}"
}
