#!/usr/bin/env bash
# scripts/sanitize.sh - the whole bats suite against a sanitizer build, as `make sanitize` runs it.
#
#   usage: scripts/sanitize.sh BIN [BATS-OPTIONS...]
#
# BIN is the top of a tree of programs built with -fsanitize=address,undefined (make sanitize
# builds build/sanitize).  The tests find their programs through IPCLAB_BIN, so every side every
# test starts, and every side of the demos and traces, is a sanitized binary.
#
# A sanitizer report must not hide in a test's expected failure: a program that exits 1 on
# purpose looks, by its status alone, like one that ASan stopped.  So every report goes to a file
# of its own (log_path) in a fresh directory, whatever the test does with the program's stderr,
# and the run fails if that directory is not empty at the end, even when every test passed.
# LeakSanitizer runs at every normal exit (its reports are ASan's, in the same place); UBSan
# stops at its first report (halt_on_error; the programs are built with -fno-sanitize-recover).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

usage="usage: scripts/sanitize.sh BIN [BATS-OPTIONS...]"
[[ ${1:-} == -h || ${1:-} == --help ]] && { echo "$usage"; exit 0; }
(( $# >= 1 )) || { echo "$usage" >&2; exit 2; }
bin=$1
shift
[[ -x $bin/pipe/pipe_oneway ]] || { echo "sanitize: no sanitizer build in $bin (make sanitize makes it)" >&2; exit 2; }

reports=$(mktemp -d -- "${TMPDIR:-/tmp}/ipclab-sanitize.XXXXXX")
trap 'rm -rf "$reports"' EXIT
chmod 1777 "$reports" # some tests run a side as another user (setpriv): it must be able to report
export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1"

IPCLAB_BIN=$bin scripts/test.sh "$@"
status=$?

found=("$reports"/*)
if [[ -e ${found[0]} ]]; then
    echo "sanitize: ${#found[@]} sanitizer report(s):" >&2
    for file in "${found[@]}"; do
        echo "==== ${file##*/}" >&2
        cat "$file" >&2
    done
    exit 1
fi
echo "sanitize: sanitizer reports: 0 (AddressSanitizer, LeakSanitizer, UndefinedBehaviorSanitizer)"
exit "$status"
