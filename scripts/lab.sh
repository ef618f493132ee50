#!/usr/bin/env bash
# scripts/lab.sh - the labs: one bug of a seed example put back into one of our programs, for
# you to find and fix, graded by the tests that caught it (README.md, "Labs").
#
#   scripts/lab.sh list              every lab: its mechanism, title, and how far you are (make labs)
#   scripts/lab.sh start NAME        your copy of the buggy program, and the task (make lab-NAME)
#   scripts/lab.sh check NAME        build your copy, run the lab's tests on it (make lab-check-NAME)
#   scripts/lab.sh hint NAME         the next hint (make lab-hint-NAME)
#   scripts/lab.sh reset NAME        start over; asks first if you changed your copy
#                                    (make lab-reset-NAME; FORCE=1 does not ask)
#   scripts/lab.sh diff NAME         your copy against our program, once you pass
#                                    (make lab-diff-NAME; FORCE=1 before you pass)
#   scripts/lab.sh verify [--starts-only] [NAME...]
#                                    the labs themselves (all by default): each start fails each
#                                    of its tests, our programs pass them (tests/labs.bats);
#                                    --starts-only leaves out our programs' run, for make test,
#                                    which runs those same tests on them in their own files
#
# A lab is a directory labs/NAME/: task.md (what you will see go wrong, where to look, what
# the fixed program must do), start.patch (the bug, as a patch to our program: so the start is
# always today's program with that one bug, never a copy kept by hand), tests (the tests that
# must fail with the bug and pass without it, one "FILE: TEST NAME" a line) and hint1.md to
# hint3.md, each stronger than the last.
# Your copy lives in labs/work/NAME/ (LAB_WORK overrides labs/work), which git ignores; this
# script never overwrites it without asking.  The tests run against a tree of the real
# programs with yours in its place (IPCLAB_BIN), so build the real ones first (make does).
# A check builds and runs your copy as whoever runs it: it uses labs/work/NAME only if that
# user owns it and other users cannot write in it (root is refused another user's), writes the
# lab's state (report, .passed, .hints) as new files renamed into place, never through a
# symbolic link, and holds a lock on the directory (flock -o), so that two checks of one lab
# take turns.
#
# Exit status: 0; 1 if a check fails (or a verify finds the lab broken); 2 for a usage error.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh" # ipclab_in_namespace
LABS=${LAB_DIR:-$ROOT/labs} # LAB_DIR: for the tests only
WORK=${LAB_WORK:-$LABS/work}
# A relative name led by ./, so that no command takes it for an option.
[[ $LABS == /* ]] || LABS=./$LABS
[[ $WORK == /* ]] || WORK=./$WORK
BATS=${BATS:-bats}

usage="usage: scripts/lab.sh list | start|check|hint|reset|diff NAME [--force] | verify [--starts-only] [NAME...]"
die() { echo "lab: $*" >&2; exit 1; }

# lab_names: every lab, in order (a directory with a start.patch).
lab_names() {
    local dir
    for dir in "$LABS"/*/start.patch; do
        [[ -f $dir ]] && basename "$(dirname "$dir")"
    done
}

# load_lab NAME: PROGRAM (pipe/pipe_oneway.c), MECH, TITLE, COPY (the student's file), STATE.
load_lab() {
    NAME=$1
    [[ $NAME =~ ^[a-z0-9-]+$ && -f $LABS/$NAME/start.patch ]] ||
        { echo "lab: no lab called '$NAME': make labs lists them" >&2; exit 2; }
    PROGRAM=$(sed -n 's|^+++ b/||p' "$LABS/$NAME/start.patch")
    [[ -n $PROGRAM && $PROGRAM != *$'\n'* && -f $ROOT/$PROGRAM ]] ||
        die "labs/$NAME/start.patch must change exactly one program of ours"
    MECH=${PROGRAM%%/*}
    TITLE=$(sed -n '1s/^# *//p' "$LABS/$NAME/task.md")
    STATE=$WORK/$NAME
    COPY=$STATE/${PROGRAM##*/}
}

# state_dir_ours: the lab's directory $STATE, and $WORK around it, are directories of yours
# (not symbolic links) that other users cannot write in: lab state is written there, and a check
# builds and runs what is there, as whoever runs it (root too).  If not, says why and fails.
state_dir_ours() {
    local dir owner mode me
    me=$(id -u)
    for dir in "$WORK" "$STATE"; do
        if [[ -L $dir || ! -d $dir ]]; then
            echo "lab: $dir is not a directory; refusing to use it" >&2
            return 1
        fi
        read -r owner mode < <(stat -c '%u %a' -- "$dir")
        if [[ $owner != "$me" ]]; then
            echo "lab: $dir belongs to uid $owner, not to you (uid $me); refusing to use it (run this as uid $owner)" >&2
            return 1
        fi
        if (((8#$mode & 8#002) != 0)); then
            echo "lab: $dir has mode $mode: other users can write in it; refusing to use it (chmod o-w $dir)" >&2
            return 1
        fi
    done
}

# state_write NAME: stdin into the lab's file $STATE/NAME, written as a new file and renamed
# into place: a symbolic link found at NAME is replaced, never followed.
state_write() {
    local tmp
    tmp=$(mktemp -- "$STATE/.$1.XXXXXX") || return 1
    if ! cat >"$tmp" || ! mv -f -T -- "$tmp" "$STATE/$1"; then
        rm -f -- "$tmp"
        return 1
    fi
}

# lock_lab: run the rest of this command holding a lock on the lab's directory (flock(1)), so
# that two checks of one lab never build in one place at once: the second waits for the first.
# flock -o holds the lock itself and closes it for the script, so that no program the check
# starts (and perhaps leaves running) holds it on.
lock_lab() {
    [[ ${IPCLAB_LAB_LOCKED:-} == "$STATE" ]] && return 0
    flock -n -- "$STATE" true ||
        echo "lab $NAME: another check of it is running here; waiting for it to end"
    IPCLAB_LAB_LOCKED=$STATE exec flock -o -- "$STATE" "$0" "${ARGS[@]}"
}

# make_start DIR: today's program with the lab's bug, in DIR/<its name>.  Fails, saying so, if
# the patch no longer applies (the program changed where the bug goes: remake the patch).
make_start() {
    local tmp
    tmp=$(mktemp -d) || return 1
    if ! mkdir -p "$tmp/$MECH" || ! cp "$ROOT/$PROGRAM" "$tmp/$PROGRAM"; then
        rm -rf "$tmp"
        return 1
    fi
    # git apply outside any repository: the paths are taken from the directory it runs in.
    if ! (cd "$tmp" && GIT_CEILING_DIRECTORIES=$tmp git apply --whitespace=nowarn "$LABS/$NAME/start.patch"); then
        echo "lab: labs/$NAME/start.patch no longer applies to $PROGRAM: remake it" >&2
        rm -rf "$tmp"
        return 1
    fi
    cp "$tmp/$PROGRAM" "$1/" && rm -rf "$tmp"
}

# build SOURCE BIN [-Werror]: a tree BIN/<mechanism>/<program> of links to the real programs,
# with SOURCE compiled, as the Makefile compiles it, in the lab program's place.
build() {
    local source=$1 bin=$2 prog cc libs others=() siblings=()
    shift 2
    rm -rf "$bin"
    while read -r prog; do
        [[ -x $ROOT/$prog ]] || die "$prog is not built: run make first"
        if [[ ${prog%/*} != "$MECH" ]]; then
            [[ " ${others[*]} " == *" $ROOT/${prog%/*} "* ]] || others+=("$ROOT/${prog%/*}")
        elif [[ $prog != "${PROGRAM%.c}" ]]; then
            siblings+=("$ROOT/$prog")
        fi
    done < <(make -s --no-print-directory -C "$ROOT" print-programs)
    # Every other mechanism's directory is a link to ours; the lab's has links to its siblings.
    mkdir -p "$bin/$MECH" && ln -s "${others[@]}" "$bin/" || return 1
    ((${#siblings[@]} == 0)) || ln -s "${siblings[@]}" "$bin/$MECH/" || return 1
    { read -ra cc; read -ra libs; } < <(make -s --no-print-directory -C "$ROOT" print-cc PROGRAM="${PROGRAM%.c}")
    # -iquote: the program's own #include "..." (its mechanism's header, ../common/ipclab.h)
    # are found from its directory in the tree, wherever the copy is.
    "${cc[@]}" "$@" -iquote "$ROOT/$MECH" -o "$bin/${PROGRAM%.c}" "$source" "${libs[@]}"
}

# run_tests BIN REPORT [LIST [WRAPPER...]]: the tests LIST names (one "FILE: TEST NAME" a line;
# the lab's own if LIST is empty or missing), in one bats run under WRAPPER, against the
# programs in BIN; REPORT gets one line per test, "pass NAME" or "fail NAME", then the
# failure's lines, each led by "    ".
run_tests() {
    local bin=$1 report=$2 list=${3:-$LABS/$NAME/tests} line files=() names=() state=""
    shift $(($# < 3 ? $# : 3))
    while IFS= read -r line; do
        [[ -z $line || $line == \#* ]] && continue
        [[ " ${files[*]} " == *" $ROOT/tests/${line%%: *} "* ]] || files+=("$ROOT/tests/${line%%: *}")
        # shellcheck disable=SC2001 # one sed for every character a regular expression treats specially
        names+=("$(sed 's/[][\.^$*+?(){}|]/\\&/g' <<<"${line#*: }")")
    done <"$list"
    # fd 3 closed: a bats run inside a bats test would otherwise keep the outer one waiting.
    IPCLAB_BIN=$bin "$@" "$BATS" --tap --filter "^($(IFS='|'; echo "${names[*]}"))\$" "${files[@]}" 3>&- 2>&1 |
        while IFS= read -r line; do
            case $line in
            "ok "*) echo "pass ${line#ok * }"; state=ok ;;
            "not ok "*) line=${line#not ok }; echo "fail ${line#* }"; state=fail ;;
            "# (in test file"* | "# (from function"* | "#  in test file"*) ;;
            "#   \`"*"' failed") ;;
            "# "*) [[ $state == fail ]] && echo "    ${line#\# }" ;;
            esac
        done >"$report"
}

# status_words LINE: what an exit status in a test's failure line means, in words.
status_words() {
    local n
    [[ $1 =~ (status|actual)[^0-9]*([0-9]+)$ ]] || return 0
    n=${BASH_REMATCH[2]}
    if ((n == 124)); then
        echo "  (124: still running when the test's time ran out)"
    elif ((n > 128 && n < 160)); then
        echo "  ($n: killed by signal $((n - 128)), SIG$(kill -l $((n - 128))))"
    fi
}

cmd_list() {
    local name state
    printf '%-20s %-11s %-22s %s\n' lab mechanism state title
    for name in $(lab_names); do
        load_lab "$name"
        state="not started"
        [[ -f $COPY ]] && state=started
        if [[ -f $STATE/.passed ]]; then # it holds the checksum of the copy that passed
            state=passed
            [[ $(<"$STATE/.passed") == "$(cksum <"$COPY")" ]] || state="edited since it passed"
        fi
        printf '%-20s %-11s %-22s %s\n' "$name" "$MECH" "$state" "$TITLE"
    done
    echo
    echo "make lab-NAME starts one; make lab-check-NAME grades it; README.md, \"Labs\", says more."
}

cmd_start() {
    if [[ -f $COPY ]]; then
        echo "lab $NAME: already started: your copy is ${COPY#"$PWD"/} (left as it is)."
        echo "make lab-check-$NAME grades it; make lab-reset-$NAME starts over."
        return 0
    fi
    mkdir -p -- "$STATE" || die "cannot make $STATE"
    state_dir_ours || exit 1
    lock_lab
    make_start "$STATE" || die "could not make the start in $STATE"
    build "$COPY" "$STATE/bin" || die "the start does not build"
    cat "$LABS/$NAME/task.md"
    echo
    echo "Your copy: ${COPY#"$PWD"/} (the bug is in it; our $PROGRAM is the solution: no peeking)."
    echo "Edit it, then make lab-check-$NAME.  Stuck? make lab-hint-$NAME."
}

cmd_check() {
    [[ -f $COPY ]] || die "$NAME is not started: make lab-$NAME"
    state_dir_ours || exit 1
    lock_lab
    echo "lab $NAME: building ${COPY#"$PWD"/}"
    build "$COPY" "$STATE/bin" || { echo "Your copy does not build: the compiler's message is above."; return 1; }
    echo "lab $NAME: running its tests on your $MECH/${PROGRAM##*/} (the other programs are ours)"
    local report
    report=$(mktemp -- "$STATE/.report.XXXXXX") || die "cannot write in $STATE"
    run_tests "$STATE/bin" "$report"
    mv -f -T -- "$report" "$STATE/report" || die "cannot write $STATE/report"
    local passed failed total
    passed=$(grep -c '^pass ' "$STATE/report")
    failed=$(grep -c '^fail ' "$STATE/report")
    total=$(grep -c -v -e '^$' -e '^#' "$LABS/$NAME/tests")
    local line
    while IFS= read -r line; do
        case $line in
        "pass "*) echo "  PASS  ${line#pass }" ;;
        "fail "*) echo "  FAIL  ${line#fail }" ;;
        *) echo "          why: ${line#    }$(status_words "$line")" ;;
        esac
    done <"$STATE/report"
    if ((passed == total && failed == 0)); then
        cksum <"$COPY" | state_write .passed
        echo "All $total tests pass: lab $NAME solved.  make lab-diff-$NAME compares your fix with ours."
        return 0
    fi
    rm -f -- "$STATE/.passed"
    ((passed + failed == total)) || echo "($((total - passed - failed)) of the tests did not run: see the lines above.)"
    echo "$passed of $total tests pass: not solved yet.  Stuck? make lab-hint-$NAME."
    return 1
}

cmd_hint() {
    local shown=0
    [[ -f $STATE/.hints ]] && shown=$(<"$STATE/.hints")
    [[ $shown =~ ^[0-9]$ ]] || shown=0 # a number, never an expression for $(( ))
    if [[ ! -f $LABS/$NAME/hint$((shown + 1)).md ]]; then
        echo "lab $NAME: that was the last hint ($shown shown).  make lab-diff-$NAME FORCE=1 shows our fix."
        return 0
    fi
    shown=$((shown + 1))
    mkdir -p -- "$STATE" && state_dir_ours || exit 1
    echo "$shown" | state_write .hints
    echo "lab $NAME, hint $shown of 3:"
    cat "$LABS/$NAME/hint$shown.md"
}

cmd_reset() {
    local tmp answer
    if [[ -f $COPY ]] && ((!force)); then
        tmp=$(mktemp -d) || die "mktemp failed"
        make_start "$tmp" || die "could not make the start"
        if ! cmp -s "$COPY" "$tmp/${PROGRAM##*/}"; then
            rm -rf "$tmp"
            [[ -t 0 ]] || die "your copy ${COPY#"$PWD"/} has changes: make lab-reset-$NAME FORCE=1 throws them away"
            read -r -p "Throw away your changes to ${COPY#"$PWD"/}? [y/N] " answer
            [[ $answer == [yY]* ]] || { echo "lab $NAME: left as it was."; return 0; }
        fi
        rm -rf "$tmp"
    fi
    rm -rf -- "$STATE"
    echo "lab $NAME: reset."
    cmd_start
}

cmd_diff() {
    [[ -f $COPY ]] || die "$NAME is not started: make lab-$NAME"
    if [[ ! -f $STATE/.passed ]] && ((!force)); then
        die "not solved yet (make lab-check-$NAME).  To see our fix anyway: make lab-diff-$NAME FORCE=1"
    fi
    diff -u --label "our $PROGRAM" --label "your ${COPY#"$PWD"/}" "$ROOT/$PROGRAM" "$COPY"
    (($? <= 1)) && return 0
    return 1
}

# CPU_CAPPED COMMAND...: COMMAND, each of its processes allowed 1 s of CPU (ulimit -t).  Some
# starts spin (a read() of 0 or an EIDRM retried for ever) until their test gives up: killed
# by SIGXCPU, they still fail, and leave the CPU to the rest of the suite.  Our programs, and
# the bats processes, use a fraction of that.  (A command, not a function: it runs after exec.)
CPU_CAPPED=(bash -c 'ulimit -t 1 && exec "$@"' cpu_capped)

# counts_private: a test of lab NAME is in a file that counts any queue or set of IPC_PRIVATE
# made meanwhile as its test's (tests/test_helper.bash: ipclab_setup sysv_private).
counts_private() {
    local line
    while IFS= read -r line; do
        [[ -z $line || $line == \#* ]] && continue
        grep -q '^ *ipclab_setup sysv_private' "$ROOT/tests/${line%%: *}" && return 0
    done <"$LABS/$NAME/tests"
    return 1
}

# verify NAME...: each lab's start is built (warnings are errors) and fails each of its tests;
# then, unless OURS=0, our programs pass all of them, in one run.  Prints one line per lab; 1
# if one is broken.
verify() {
    local tmp bad=0 line name namespace=() ours_said="our program passes them"
    local -A broken=()
    ipclab_in_namespace true 2>/dev/null && namespace=(ipclab_in_namespace)
    tmp=$(mktemp -d) || return 1
    # shellcheck disable=SC2064 # $tmp is fixed now
    trap "rm -rf '$tmp'" EXIT
    for name in "$@"; do
        load_lab "$name"
        mkdir "$tmp/$NAME"
        cat "$LABS/$NAME/tests" >>"$tmp/all-tests"
        while IFS= read -r line; do
            [[ -z $line || $line == \#* ]] && continue
            grep -qF "@test \"${line#*: }\" {" "$ROOT/tests/${line%%: *}" ||
                { echo "lab $NAME: no test \"${line#*: }\" in tests/${line%%: *}"; bad=1; }
        done <"$LABS/$NAME/tests"
        if ! make_start "$tmp/$NAME" || ! build "$tmp/$NAME/${PROGRAM##*/}" "$tmp/$NAME/bin" -Werror; then
            echo "lab $NAME: its start cannot be made"
            bad=1 broken[$NAME]=1
            continue
        fi
        # Most of a start's time is waiting (for a hang to time out): each runs at once beside
        # the others; its tests' check for System V objects left behind counts only each
        # test's own.  But a test file that makes queues or sets of IPC_PRIVATE counts any
        # such as its test's: with root, each run has an IPC namespace of its own; without,
        # a start whose tests are in such a file runs alone of those, and before our programs'.
        if ((${#namespace[@]} > 0)) || ! counts_private; then
            run_tests "$tmp/$NAME/bin" "$tmp/$NAME/start" "" "${namespace[@]}" "${CPU_CAPPED[@]}" &
        else
            run_tests "$tmp/$NAME/bin" "$tmp/$NAME/start" "" "${CPU_CAPPED[@]}"
        fi
    done
    if ((OURS == 0)); then
        ours_said="our program's run left to make test"
    else
        run_tests "$ROOT" "$tmp/ours" "$tmp/all-tests" "${namespace[@]}" &
    fi
    wait
    for name in "$@"; do
        load_lab "$name"
        [[ -f $tmp/$NAME/start ]] || continue
        while IFS= read -r line; do
            [[ -z $line || $line == \#* ]] && continue
            grep -qxF "fail ${line#*: }" "$tmp/$NAME/start" ||
                { echo "lab $NAME: the start does not fail: $line"; sed 's/^/    /' "$tmp/$NAME/start"; bad=1 broken[$NAME]=1; }
        done <"$LABS/$NAME/tests"
    done
    for name in "$@"; do
        load_lab "$name"
        while IFS= read -r line; do
            [[ -z $line || $line == \#* ]] && continue
            ((OURS == 0)) || grep -qxF "pass ${line#*: }" "$tmp/ours" ||
                { echo "lab $NAME: our program does not pass: $line"; bad=1 broken[$NAME]=1; }
        done <"$LABS/$NAME/tests"
        [[ -z ${broken[$NAME]:-} ]] &&
            echo "lab $NAME: the start fails each of its $(grep -c '^fail ' "$tmp/$NAME/start") tests; $ours_said"
    done
    ((bad == 0))
}

case ${1:-} in
-h | --help) echo "$usage"; sed -n '4,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
list) (($# == 1)) || { echo "$usage" >&2; exit 2; }; cmd_list; exit ;;
verify)
    shift
    OURS=1
    [[ ${1:-} == --starts-only ]] && OURS=0 && shift
    if (($# == 0)); then
        mapfile -t all < <(lab_names)
        set -- "${all[@]}"
    fi
    verify "$@"
    exit
    ;;
start | check | hint | reset | diff) ;;
*) echo "$usage" >&2; exit 2 ;;
esac
command=$1 force=0
ARGS=("$@") # for lock_lab
[[ ${3:-} == --force || ${FORCE:-0} == 1 ]] && force=1
(($# == 2 || ($# == 3 && force))) || { echo "$usage" >&2; exit 2; }
load_lab "$2"
"cmd_$command"
