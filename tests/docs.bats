#!/usr/bin/env bats
# tests/docs.bats - what the READMEs promise: every make target they name exists, every
# mechanism README has the sections README.md's "How the tree is laid out" names, and
# README.zh-CN.md keeps in step
# with README.md.

load test_helper

setup() {
    ipclab_setup
    cd "$ROOT" || return 1
    mapfile -t MECHS < <(make -s --no-print-directory print-mechanisms)
    READMES=(README.md README.zh-CN.md */README.md)
}

teardown() {
    ipclab_teardown
}

# make_commands FILE...: every make command line in FILEs, one per line: from `inline code`
# and from the lines of fenced code blocks (a leading "$ " prompt and a comment dropped).
make_commands() {
    # shellcheck disable=SC2016 # backquotes of Markdown, not of the shell
    grep -ho '`make\( [^`]*\)\?`' "$@" | tr -d '`' # make, not make_file()
    awk '/^```/ { code = !code; next }
        code && /^(\$ )?make( |$)/ { sub(/^\$ /, ""); sub(/ *#.*$/, ""); print }' "$@"
}

# targets_of: read make command lines, print the targets they name (variables, options and
# comments left out; <mechanism> stands for each mechanism).
targets_of() {
    local line word mech
    while read -r line; do
        for word in ${line#make}; do
            case $word in
            '#'* | *';'* | *'&'* | *'|'*) break ;;
            -* | *=*) continue ;;
            esac
            if [[ $word == *'<mechanism>'* ]]; then
                for mech in "${MECHS[@]}"; do echo "${word//<mechanism>/$mech}"; done
            else
                echo "$word"
            fi
        done
    done
}

@test "docs: every make target that any README names exists" {
    local target missing=()
    mapfile -t targets < <(make_commands "${READMES[@]}" | targets_of | sort -u)
    (( ${#targets[@]} > 20 )) || fail "found only ${#targets[@]} targets: ${targets[*]}"
    for target in "${targets[@]}"; do
        make -n "$target" >/dev/null 2>&1 || missing+=("$target")
    done
    (( ${#missing[@]} == 0 )) || fail "named in a README but not in the Makefile: ${missing[*]}"
    # and the check can see a missing one
    run make -n no-such-target
    assert_failure
}

@test "docs: a bare make (the README's first command) builds every program and tool" {
    local prog missing=()
    # -B: as in a fresh clone, where nothing is built yet; -n: only say what it would run.
    run make -nB --no-print-directory
    assert_success
    mapfile -t progs < <(make -s --no-print-directory print-programs)
    progs+=(bench/ipcbench)
    for prog in "${progs[@]}"; do
        [[ $output == *" -o $prog "* ]] || missing+=("$prog")
    done
    (( ${#missing[@]} == 0 )) || fail "a bare make does not build: ${missing[*]}"
}

@test "docs: every mechanism README has the sections every mechanism README has, its trace and its panes" {
    local mech file
    for mech in "${MECHS[@]}"; do
        file=$mech/README.md
        [[ -f $file ]] || fail "$file is missing"
        grep -q '^## Run it' "$file" || fail "$file: no 'Run it' section"
        grep -qx "## make demo-$mech" "$file" || fail "$file: no 'make demo-$mech' section"
        grep -qx "## The original's bugs" "$file" || fail "$file: no bug table"
        grep -qx "## Things to try" "$file" || fail "$file: no things to try"
        grep -qx "## Labs" "$file" || fail "$file: no labs"
        grep -q "make trace-$mech" "$file" || fail "$file: does not show make trace-$mech"
        grep -q "make demo-$mech PANES=1" "$file" || fail "$file: does not show PANES=1"
        grep -q "^| \[$mech\]($file)" README.md || fail "README.md's mechanism table lacks $mech"
    done
}

# code_blocks FILE: the commands and output of FILE: its ```sh and ```console blocks, comments
# (# ...) left out, as they are translated.  (A bare ``` block, such as the tree's layout, is
# prose in columns, and translated.)
code_blocks() {
    awk '/^```/ { code = code ? 0 : ($0 ~ /^```(sh|console)$/ ? 1 : 2); if (code != 2) print; next }
        code == 1' "$1" | sed 's/ *#.*$//'
}

@test "docs: README.zh-CN.md keeps in step with README.md: the same commands, code, links and sections" {
    [[ -f README.zh-CN.md ]]
    diff <(code_blocks README.md) <(code_blocks README.zh-CN.md) ||
        fail "the code blocks differ (comments aside)"
    diff <(make_commands README.md | sort -u) <(make_commands README.zh-CN.md | sort -u) ||
        fail "the make commands differ"
    diff <(grep -o '([a-z-]*/README.md[^)]*)' README.md | sort -u) \
        <(grep -o '([a-z-]*/README.md[^)]*)' README.zh-CN.md | sort -u) ||
        fail "the links to the mechanism READMEs differ"
    [[ $(grep -c '^## ' README.md) == $(grep -c '^## ' README.zh-CN.md) ]] ||
        fail "not the same number of sections"
    [[ $(grep -c '^### ' README.md) == $(grep -c '^### ' README.zh-CN.md) ]] ||
        fail "not the same number of subsections"
    [[ $(grep -c '^|' README.md) == $(grep -c '^|' README.zh-CN.md) ]] ||
        fail "not the same number of table rows"
    # each language links to the other
    grep -q '(README.zh-CN.md)' README.md
    grep -q '(README.md)' README.zh-CN.md
}

@test "docs: nothing in the repo points outside it (a clone is all a student has)" {
    # The project grew from design notes and seed texts kept beside it, not in it; what a
    # reader needs of them is in README.md (the command-line contract, Sources).
    run git grep -n -I -E '\.\./shared|DESIGN\.md|SEED-BUGS|STYLE\.md' -- . ':!tests/docs.bats'
    assert_failure 1 # git grep: 1 when nothing matches
    assert_output ''
}
