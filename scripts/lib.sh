# scripts/lib.sh - shell helpers shared by the demo runner and the test suite (source it).
# shellcheck shell=bash

# ipclab_wait_for FILE REGEX [SECONDS]: wait until a line of FILE matches the extended regular
# expression REGEX.  A bounded poll (every 20 ms, SECONDS at most, 5 by default), never a fixed
# sleep: it returns as soon as the line is there, and 1 if it never came.
ipclab_wait_for() {
    local file=$1 regex=$2 tries=$(( ${3:-5} * 50 ))
    while (( tries-- > 0 )); do
        grep -Eq -- "$regex" "$file" 2>/dev/null && return 0
        sleep 0.02
    done
    return 1
}

# ipclab_wait_file FILE [SECONDS]: wait until FILE exists and is not empty.  Returns 1 if not.
ipclab_wait_file() {
    local file=$1 tries=$(( ${2:-5} * 50 ))
    while (( tries-- > 0 )); do
        [[ -s $file ]] && return 0
        sleep 0.02
    done
    return 1
}
