#!/usr/bin/env bats
# tests/labs.bats - the labs (scripts/lab.sh, README.md "Labs"): each one both ways -- its start,
# today's program with the seed's bug put back, fails each of its tests, and our program passes
# them -- and the student's loop (make labs, lab-NAME, lab-check, lab-hint, lab-reset, lab-diff).
# The tests of a lab run as bats inside this bats, against a tree of links to the real programs
# with the lab's build in its program's place.  Some labs run shm_counter's tests, whose set is
# IPC_PRIVATE: scripts/test.sh runs this file in group 1, with the other files that make such.

# shellcheck disable=SC2030,SC2031 # each @test runs in a subshell: its variables stay there
load test_helper
bats_require_minimum_version 1.5.0

setup() {
    ipclab_setup
    export LAB_WORK=$BATS_TEST_TMPDIR/work # never the student's labs/work
}

teardown() {
    ipclab_teardown
}

@test "labs: every lab has its task, its tests, three hints, and its mechanism README names it" {
    local dir name mech title
    for dir in "$ROOT"/labs/*/start.patch; do
        dir=${dir%/start.patch} name=${dir##*/}
        [[ -s $dir/task.md && -s $dir/tests && -s $dir/hint1.md && -s $dir/hint2.md && -s $dir/hint3.md ]] ||
            fail "lab $name: task.md, tests or a hint is missing"
        mech=$(sed -n 's|^+++ b/\([^/]*\)/.*|\1|p' "$dir/start.patch")
        title=$(sed -n '1s/^# *//p' "$dir/task.md")
        grep -qF "(../labs/$name/task.md): $title (" "$ROOT/$mech/README.md" ||
            fail "$mech/README.md does not name lab $name with its title, '$title'"
        grep -q "labs/$name/task.md" "$ROOT/README.md" || fail "README.md does not name lab $name"
    done
}

@test "labs: every lab both ways: its start fails each of its tests, our programs pass them" {
    # make test (scripts/test.sh, which sets IPCLAB_WHOLE_SUITE=1) runs every tests/*.bats on
    # our programs, each lab's tests among them.  There, verify runs only the starts, and those
    # files' own results are the other half; run alone, this test makes both.
    local patch name verify=(verify) ours="our program passes them"
    if [[ ${IPCLAB_WHOLE_SUITE:-0} == 1 ]]; then
        verify+=(--starts-only) ours="our program's run left to make test"
    fi
    run "$ROOT/scripts/lab.sh" "${verify[@]}"
    assert_success
    for patch in "$ROOT"/labs/*/start.patch; do
        name=${patch%/start.patch} name=${name##*/}
        assert_line --regexp "^lab $name: the start fails each of its [0-9]+ tests; $ours\$"
    done
}

@test "labs: a lab whose patch no longer applies, or whose start passes a test, fails its verify" {
    export LAB_DIR=$BATS_TEST_TMPDIR/labs
    mkdir -p "$LAB_DIR"
    cp -r "$ROOT/labs/pipe-sigpipe" "$LAB_DIR/stale"
    sed -i 's/signal(SIGPIPE, SIG_IGN)/signal(SIGPIPE, SIG_DFL)/' "$LAB_DIR/stale/start.patch"
    run "$ROOT/scripts/lab.sh" verify --starts-only stale
    assert_failure
    assert_output --partial 'labs/stale/start.patch no longer applies to pipe/pipe_oneway.c: remake it'
    # A start that passes a test named for it: pipe-sigpipe's bug does not change the output of -n 3.
    cp -r "$ROOT/labs/pipe-sigpipe" "$LAB_DIR/harmless"
    grep '^@test "pipe_oneway: -n 3 ' "$ROOT/tests/pipe.bats" | sed 's/^@test "\(.*\)" {$/pipe.bats: \1/' \
        >>"$LAB_DIR/harmless/tests"
    run "$ROOT/scripts/lab.sh" verify --starts-only harmless
    assert_failure
    assert_line --regexp '^lab harmless: the start does not fail: pipe.bats: pipe_oneway: -n 3 '
}

@test "labs: the student's loop through make: start, check, hint, reset, solve, diff" {
    local copy=$LAB_WORK/pipe-sigpipe/pipe_oneway.c lab=(make -s --no-print-directory -C "$ROOT")
    run "${lab[@]}" labs
    assert_success
    assert_line --regexp '^pipe-sigpipe +pipe +not started +The writer killed without a word$'

    # Start: the task, and a copy with the bug, built.
    run "${lab[@]}" lab-pipe-sigpipe
    assert_success
    assert_line '# The writer killed without a word'
    run grep -c 'signal(SIGPIPE, SIG_IGN)' "$copy"
    assert_output 0 # the bug: SIGPIPE no longer ignored
    [[ -x $LAB_WORK/pipe-sigpipe/bin/pipe/pipe_oneway && -L $LAB_WORK/pipe-sigpipe/bin/pipe/pipe_duplex ]]
    echo '/* my notes */' >>"$copy"
    run "${lab[@]}" lab-pipe-sigpipe # a second start keeps the student's work
    assert_success
    assert_line --partial 'already started'
    grep -q 'my notes' "$copy"

    # Check, with the bug still in: the test fails, and says why, in words.
    run "${lab[@]}" lab-check-pipe-sigpipe
    assert_failure
    assert_line --regexp '^  FAIL  pipe_oneway: the child killed mid-transfer '
    assert_line --regexp 'why: .*141.*killed by signal 13, SIGPIPE'
    assert_line '0 of 1 tests pass: not solved yet.  Stuck? make lab-hint-pipe-sigpipe.'
    run "${lab[@]}" lab-diff-pipe-sigpipe # the solution only once solved, or asked for
    assert_failure
    assert_output --partial 'not solved yet'

    # Hints, one at a time, then no more.
    local i
    for i in 1 2 3; do
        run "${lab[@]}" lab-hint-pipe-sigpipe
        assert_success
        assert_line "lab pipe-sigpipe, hint $i of 3:"
    done
    run "${lab[@]}" lab-hint-pipe-sigpipe
    assert_line --partial 'that was the last hint'

    # Reset asks before it throws work away; without a terminal it refuses, unless FORCE=1.
    run "${lab[@]}" lab-reset-pipe-sigpipe </dev/null
    assert_failure
    assert_output --partial 'has changes: make lab-reset-pipe-sigpipe FORCE=1 throws them away'
    grep -q 'my notes' "$copy"
    run "${lab[@]}" lab-reset-pipe-sigpipe FORCE=1 </dev/null
    assert_success
    run grep -c 'my notes' "$copy"
    assert_output 0

    # Solve it (as hint 3 says), check, and compare with ours.
    sed -i 's/^\(    int pipefd\[2\];\)/    signal(SIGPIPE, SIG_IGN);\n\n\1/' "$copy"
    run "${lab[@]}" lab-check-pipe-sigpipe
    assert_success
    assert_line --regexp '^  PASS  pipe_oneway: the child killed mid-transfer '
    assert_line --partial 'lab pipe-sigpipe solved'
    run "${lab[@]}" labs
    assert_line --regexp '^pipe-sigpipe +pipe +passed '
    echo '/* after */' >>"$copy" # a pass is that of the copy that passed
    run "${lab[@]}" labs
    assert_line --regexp '^pipe-sigpipe +pipe +edited since it passed '
    run "${lab[@]}" lab-diff-pipe-sigpipe
    assert_success
    assert_line --partial "--- our pipe/pipe_oneway.c"
}

@test "labs: a copy that does not build is said so; an unknown lab is a usage error" {
    run "$ROOT/scripts/lab.sh" start fifo-padding
    assert_success
    echo 'this is not C' >>"$LAB_WORK/fifo-padding/fifo_writer.c"
    run "$ROOT/scripts/lab.sh" check fifo-padding
    assert_failure 1
    assert_line 'Your copy does not build: the compiler'"'"'s message is above.'
    run "$ROOT/scripts/lab.sh" check no-such-lab
    assert_failure 2
    assert_output "lab: no lab called 'no-such-lab': make labs lists them"
}

@test "labs: check as root in another user's lab directory refuses, and follows none of its symbolic links" {
    (( EUID == 0 )) || skip "needs root: the directory belongs to uid 65534"
    run "$ROOT/scripts/lab.sh" start pipe-sigpipe
    assert_success
    local state=$LAB_WORK/pipe-sigpipe victim=$BATS_TEST_TMPDIR/victim
    echo "root's own" >"$victim"
    # the student's directory, with the state files pointing at a file of root's
    ln -s "$victim" "$state/report"
    ln -s "$victim" "$state/.hints"
    chown -R -h 65534 "$state"
    run timeout 60 "$ROOT/scripts/lab.sh" check pipe-sigpipe
    assert_failure 1
    assert_output --partial "belongs to uid 65534, not to you"
    run timeout 10 "$ROOT/scripts/lab.sh" hint pipe-sigpipe
    assert_failure 1
    assert_equal "$(cat "$victim")" "root's own"
}

@test "labs: the lab's state files are written anew, never through a symbolic link found in their place" {
    run "$ROOT/scripts/lab.sh" start pipe-sigpipe
    assert_success
    local state=$LAB_WORK/pipe-sigpipe name
    cp "$ROOT/pipe/pipe_oneway.c" "$state/pipe_oneway.c" # solved: our program
    for name in report .passed .hints; do
        echo "mine" >"$BATS_TEST_TMPDIR/$name.target"
        ln -s "$BATS_TEST_TMPDIR/$name.target" "$state/$name"
    done
    run timeout 60 "$ROOT/scripts/lab.sh" check pipe-sigpipe
    assert_success
    assert_line --partial 'lab pipe-sigpipe solved'
    assert_equal "$(cat "$BATS_TEST_TMPDIR/report.target" "$BATS_TEST_TMPDIR/.passed.target")" "mine
mine"
    # .hints holds "mine", no number: taken as none shown, never evaluated
    run timeout 10 "$ROOT/scripts/lab.sh" hint pipe-sigpipe
    assert_success
    assert_line 'lab pipe-sigpipe, hint 1 of 3:'
    for name in report .passed .hints; do
        assert_equal "$(cat "$BATS_TEST_TMPDIR/$name.target")" "mine"
        [[ -f $state/$name && ! -L $state/$name ]] || fail "$name is not a file of its own"
    done
    run "$ROOT/scripts/lab.sh" list
    assert_line --regexp '^pipe-sigpipe +pipe +passed '
}

@test "labs: two checks of one lab at once both build it, and both give the same verdict" {
    run "$ROOT/scripts/lab.sh" start pipe-sigpipe
    assert_success
    local i pids=()
    for i in 1 2; do
        timeout 60 "$ROOT/scripts/lab.sh" check pipe-sigpipe >"$LOG/check$i.out" 2>&1 3>&- &
        pids+=("$!")
    done
    for i in 1 2; do
        wait "${pids[i - 1]}" && fail "check $i passed a lab that is not solved"
        run cat "$LOG/check$i.out"
        refute_output --partial 'does not build'
        assert_line '0 of 1 tests pass: not solved yet.  Stuck? make lab-hint-pipe-sigpipe.'
    done
}
