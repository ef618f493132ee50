#!/usr/bin/env bats
# tests/demo.bats - scripts/demo.sh, the runner behind `make demo-<mechanism>`.

load test_helper

setup() {
    ipclab_setup
}

teardown() {
    ipclab_teardown
}

@test "demo: every mechanism's demo ends by itself, labels every line, exits 0 and leaves nothing" {
    local mech
    for mech in $(make -s --no-print-directory -C "$ROOT" print-mechanisms); do
        run timeout 20 "$ROOT/scripts/demo.sh" "$mech"
        assert_success
        assert_line "== $mech: done, nothing left behind"
        # Every line is a heading, a narration, or a side's output labelled [side].
        run grep -Evc '^(|######## .*|== .*|\[[a-z_]+\] .*)$' <<<"$output"
        assert_output 0
    done
    # teardown checks that the demo used a run directory of its own, not this one
}

@test "demo: an unknown mechanism is a usage error" {
    run timeout 5 "$ROOT/scripts/demo.sh" nosuch
    assert_failure 2
    assert_output --partial "no demo for 'nosuch'"
}
