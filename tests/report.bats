#!/usr/bin/env bats
# tests/report.bats - the failure report of a test that uses tests/test_helper.bash: it names
# the test's own line that failed, whether the failure is in the test's body, in a helper the
# .bats file defines, or in one of test_helper.bash's.  (test_helper.bash lets bats' DEBUG trap
# record only the test's own commands, for speed -- ipclab_trace_test_lines -- and a trap
# written over two lines once moved every reported line one down.)

load test_helper

setup() {
    ipclab_setup
}

teardown() {
    ipclab_teardown
}

@test "report: a failure is reported at the test's own line, with the helper's message" {
    # A suite of its own: tests/probe.bats beside links to the real helper and scripts/lib.sh.
    local top=$BATS_TEST_TMPDIR/top
    mkdir -p "$top/tests" "$top/scripts"
    ln -s "$ROOT/tests/test_helper.bash" "$top/tests/test_helper.bash"
    ln -s "$ROOT/scripts/lib.sh" "$top/scripts/lib.sh"
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
