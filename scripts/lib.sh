# scripts/lib.sh - shell helpers shared by the scripts and the test suite (source it).
# shellcheck shell=bash

# Where Debian's bash-builtins is installed (scripts/bootstrap.sh installs it), sleep is loaded
# as a builtin: the polls below, 50 a second, then fork no process for their waits.
enable -f /usr/lib/bash/sleep sleep 2>/dev/null || true

# ipclab_poll SECONDS COMMAND...: run COMMAND (output discarded) every 20 ms until it succeeds,
# at most SECONDS (a whole number).  A bounded poll, never a fixed sleep: it returns 0 as soon
# as COMMAND succeeds, and 1 if it never did.
ipclab_poll() {
    local tries=$(( $1 * 50 ))
    shift
    while (( tries-- > 0 )); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.02
    done
    return 1
}

# ipclab_wait_for FILE REGEX [SECONDS]: wait until a line of FILE matches the extended regular
# expression REGEX (5 s at most by default).  Returns 1 if it never did.
ipclab_wait_for() {
    ipclab_poll "${3:-5}" ipclab_file_has "$1" "$2"
}

# ipclab_file_has FILE REGEX: a line of FILE matches REGEX, as grep -Eq would say.  A file of
# up to 8 KiB (a side's stderr, mostly) is read and matched by bash itself, with no process:
# the waits above ask 50 times a second.  A larger one goes to grep.
ipclab_file_has() {
    local buf line
    [[ -r $1 ]] || return 1
    IFS= read -r -d '' -N 8193 buf <"$1" 2>/dev/null || true # 1 at the end of the file
    if ((${#buf} > 8192)); then
        grep -Eq -- "$2" "$1"
        return
    fi
    while IFS= read -r line; do
        [[ $line =~ $2 ]] && return 0
    done <<<"$buf"
    return 1
}

# ipclab_wait_file FILE [SECONDS]: wait until FILE exists and is not empty.  Returns 1 if not.
ipclab_wait_file() {
    ipclab_poll "${2:-5}" test -s "$1"
}

# ipclab_trace_filter LABEL: the lines of `strace -f -yy` on stdin that show the mechanism, each
# led by LABEL, on stdout as they come: left out are the dynamic loader's reads of /etc, /lib
# and /usr, private anonymous mmap()s (libc's own memory; a shared one is a lesson), and the writes to stderr (the status lines,
# which the side prints anyway).  strace -f cuts a call in two when another process's line
# comes in between: "PID write(2<...>, "...", 50 <unfinished ...>", later "PID <... write
# resumed>) = 50".  The second half of a call left out is left out too.
ipclab_trace_filter() {
    awk -v drop='<(/etc|/lib|/usr)/|MAP_PRIVATE[|A-Z_]*MAP_ANONYMOUS|write\\(2<' -v label="$1" '
        $0 ~ drop { if (/<unfinished \.\.\.>$/) { split($2, call, "("); cut[$1] = call[1] }; next }
        $2 == "<..." && cut[$1] != "" && $3 == cut[$1] { cut[$1] = ""; next }
        { print label $0; fflush() }'
}

# ipclab_in_namespace COMMAND...: COMMAND in new IPC and mount namespaces (unshare(1); root
# only), with /dev/mqueue mounted anew: System V objects and POSIX queues of its own, so that a
# test's check "no System V object appeared" sees only what COMMAND made.  Fails without root.
# (bash, not sh: dash drops the functions bats exports, and a bats inside bats needs them.)
ipclab_in_namespace() {
    unshare --ipc --mount --propagation private \
        bash -c 'mount -t mqueue ipclab-test /dev/mqueue && exec "$@"' ipclab_in_namespace "$@"
}

# ipclab_run_dir_path_refused DIR: why the programs refuse the run directory DIR for the path
# to it (common/ipclab.h, ipclab_guard_path_has_no_foreign_link): a ".." component, or a
# symbolic link before the last component owned by neither root nor you, which its owner
# could point anywhere.  Prints the reason and succeeds; fails, printing nothing, if neither.
# The last component is the caller's to check (it must not be a link at all).
ipclab_run_dir_path_refused() {
    local rest=$1 prefix="" part owner
    while [[ $rest == */* ]]; do
        part=${rest%%/*}
        rest=${rest#*/}
        prefix+=$part
        if [[ $part == .. ]]; then
            echo 'its name has a ".." component'
            return 0
        fi
        if [[ -n $part && -L $prefix ]]; then
            owner=$(stat -c %u -- "$prefix")
            if [[ $owner != 0 && $owner != "$EUID" ]]; then
                echo "its path passes through $prefix, a symbolic link of uid $owner"
                return 0
            fi
        fi
        prefix+=/
    done
    if [[ $rest == .. ]]; then
        echo 'its name has a ".." component'
        return 0
    fi
    return 1
}
