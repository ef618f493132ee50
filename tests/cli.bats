#!/usr/bin/env bats
# tests/cli.bats - the command-line contract (README.md) of every program in the
# Makefile's PROGRAMS list, and the run directory every rendezvous name lives in.

# shellcheck disable=SC2154 # $stderr is set by bats' run --separate-stderr
# shellcheck disable=SC2030,SC2031 # each @test runs in a subshell: its exports are meant to stay there
load test_helper
bats_require_minimum_version 1.5.0

setup() {
    ipclab_setup
    mapfile -t PROGRAMS < <(make -s --no-print-directory -C "$ROOT" print-programs)
    (( ${#PROGRAMS[@]} > 0 )) || fail "make print-programs listed nothing"
}

teardown() {
    ipclab_teardown
}

# capture COMMAND...: what bats' `run --separate-stderr` gives -- $status, $output and $stderr,
# trailing newlines dropped -- without run's subshell and bookkeeping, which cost more than the
# program itself in the hundreds of runs below.  Stdin is /dev/null.
capture() {
    status=0
    "$@" </dev/null >"$LOG/capture.out" 2>"$LOG/capture.err" || status=$?
    IFS= read -r -d '' output <"$LOG/capture.out" || true
    IFS= read -r -d '' stderr <"$LOG/capture.err" || true
    while [[ $output == *$'\n' ]]; do output=${output%$'\n'}; done
    while [[ $stderr == *$'\n' ]]; do stderr=${stderr%$'\n'}; done
}

# usage_error PROGRAM ARGS...: exit 2, nothing on stdout, "<name>: <reason>" then the usage on
# stderr, and nothing created in the run directory.
usage_error() {
    local prog=$1 name=${1##*/}
    shift
    capture timeout 5 "$BIN/$prog" "$@"
    [[ $status == 2 ]] || fail "$prog $*: exit status $status, not 2; stderr: $stderr"
    [[ -z $output ]] || fail "$prog $*: wrote to stdout: $output"
    [[ ${stderr%%$'\n'*} == "$name: "?* ]] || fail "$prog $*: no one-line reason first: $stderr"
    [[ $stderr == *"usage: $name"* ]] || fail "$prog $*: no usage on stderr: $stderr"
    assert_run_dir_empty
}

# Each program's malformed arguments.  A program added to the Makefile must get a line here.
malformed_arguments() {
    local prog=$1 long_path
    long_path=$(printf 'x%.0s' {1..5000})
    case $prog in
    pipe/pipe_oneway | pipe/pipe_duplex)
        usage_error "$prog" -n abc
        usage_error "$prog" -n 0
        usage_error "$prog" -n 101
        usage_error "$prog" -n 5x
        usage_error "$prog" -n
        usage_error "$prog" extra
        ;;
    socketpair/socketpair_duplex)
        usage_error "$prog" -n -1
        usage_error "$prog" -n 99999999999999999999
        usage_error "$prog" -d extra
        ;;
    fifo/fifo_writer | fifo/fifo_reader)
        usage_error "$prog" -p ''
        usage_error "$prog" -p "$long_path"
        usage_error "$prog" extra
        ;;
    fifo/fifo_chat)
        usage_error "$prog"
        usage_error "$prog" c
        usage_error "$prog" ab
        usage_error "$prog" a b
        usage_error "$prog" -p '' a
        ;;
    msgq/msgq_send | msgq/msgq_recv)
        usage_error "$prog" -t 0 # seed: atol() made it 0, and type 0 takes every message
        usage_error "$prog" -t -1
        usage_error "$prog" -t abc
        usage_error "$prog" -t 99999999999999999999
        usage_error "$prog" -p ''
        usage_error "$prog" extra
        if [[ $prog == */msgq_send ]]; then
            usage_error "$prog" -s 0
            usage_error "$prog" -s "$(( $(cat /proc/sys/kernel/msgmax) + 1 ))" # over the limit
            usage_error "$prog" -s 1k
        fi
        ;;
    msgq/msgq_chat)
        usage_error "$prog"
        usage_error "$prog" 1
        usage_error "$prog" 1 2 3
        usage_error "$prog" 1 1 # it would read its own messages
        usage_error "$prog" 0 2
        usage_error "$prog" 1 x # seed: atol("x") is 0
        ;;
    msgq/pmq_send | msgq/pmq_recv)
        usage_error "$prog" -p noslash
        usage_error "$prog" -p /two/slashes
        usage_error "$prog" -p /
        usage_error "$prog" -p "/$long_path"
        usage_error "$prog" extra
        if [[ $prog == */pmq_send ]]; then
            usage_error "$prog" -s 0
            usage_error "$prog" -s 8193 # over the queue's mq_msgsize
        fi
        ;;
    shm/shm_writer | shm/shm_reader | shm/shm_sem_writer | shm/shm_sem_reader)
        usage_error "$prog" -p ''
        usage_error "$prog" -p "$long_path"
        usage_error "$prog" extra
        ;;
    shm/pshm_writer | shm/pshm_reader)
        usage_error "$prog" -p pshm
        usage_error "$prog" -p /a/b
        usage_error "$prog" extra
        ;;
    shm/mmap_fork)
        usage_error "$prog" -p extra # -p takes no argument: MAP_PRIVATE
        usage_error "$prog" extra
        ;;
    shm/mmap_writer | shm/mmap_reader)
        usage_error "$prog" -p ''
        usage_error "$prog" -p "$long_path"
        usage_error "$prog" extra
        if [[ $prog == */mmap_writer ]]; then
            usage_error "$prog" -s 0
            usage_error "$prog" -s 1k
            usage_error "$prog" -s -1
            usage_error "$prog" -s 1073741825 # over the 32-bit length's 1 GiB
        fi
        ;;
    shm/shm_counter)
        usage_error "$prog" -n 1 # no race with one process
        usage_error "$prog" -n 65
        usage_error "$prog" -m 0
        usage_error "$prog" -m 1e6
        usage_error "$prog" -l spin
        usage_error "$prog" -p counter
        usage_error "$prog" extra
        ;;
    unixsock/unix_stream_server | unixsock/unix_stream_client | unixsock/unix_dgram_server | \
        unixsock/unix_dgram_client)
        usage_error "$prog" -p ''
        usage_error "$prog" -p "$long_path"
        usage_error "$prog" extra
        if [[ $prog == unixsock/unix_dgram_server ]]; then
            usage_error "$prog" -i 0
            usage_error "$prog" -i 1s
            usage_error "$prog" -i 86401
        fi
        ;;
    unixsock/relay_server)
        usage_error "$prog" -p ''
        usage_error "$prog" extra
        ;;
    unixsock/relay_client)
        usage_error "$prog" # no name
        usage_error "$prog" alice bob
        usage_error "$prog" 'a b'
        usage_error "$prog" 'a/b' # seed: names were socket paths
        usage_error "$prog" "$(printf 'n%.0s' {1..33})"
        ;;
    inetsock/tcp_server | inetsock/udp_server | inetsock/tcp_client | inetsock/udp_client)
        usage_error "$prog" -P 65536 # seed: any int, then truncated by the missing htons()
        usage_error "$prog" -P -1
        usage_error "$prog" -P http # a port number, not a service name
        usage_error "$prog" -P 80x
        usage_error "$prog" -P ''
        usage_error "$prog" -H ''
        usage_error "$prog" -p path # inetsock has no -p: its address is -H and -P
        usage_error "$prog" extra
        if [[ $prog == *client ]]; then
            usage_error "$prog" -P 0 # any free port is for a server
        fi
        if [[ $prog == inetsock/udp_client ]]; then
            usage_error "$prog" -w 0
            usage_error "$prog" -w 1s
        fi
        if [[ $prog == inetsock/udp_server ]]; then
            usage_error "$prog" -i 0
            usage_error "$prog" -i 1s
            usage_error "$prog" -i 86401
        fi
        ;;
    fdpass/fd_receiver)
        usage_error "$prog" -p ''
        usage_error "$prog" extra
        ;;
    fdpass/fd_sender)
        usage_error "$prog" # no file
        usage_error "$prog" a b
        usage_error "$prog" -n -1 file
        usage_error "$prog" -n 1048577 file
        usage_error "$prog" -n x file
        ;;
    *)
        fail "$prog has no malformed-argument cases in tests/cli.bats: add them"
        ;;
    esac
}

@test "cli: every program's -h prints its usage on stdout and exits 0" {
    local prog
    for prog in "${PROGRAMS[@]}"; do
        capture timeout 5 "$BIN/$prog" -h
        [[ $status == 0 ]] || fail "$prog -h: exit status $status"
        [[ $output == "usage: ${prog##*/} "* ]] || fail "$prog -h: stdout: $output"
        [[ -z $stderr ]] || fail "$prog -h: stderr: $stderr"
    done
}

@test "cli: every program takes --help as -h; any other long option is refused by its whole name" {
    local prog help
    for prog in "${PROGRAMS[@]}"; do
        help=$("$BIN/$prog" -h)
        capture timeout 5 "$BIN/$prog" --help
        [[ $status == 0 ]] || fail "$prog --help: exit status $status; stderr: $stderr"
        [[ $output == "$help" ]] || fail "$prog --help: stdout is not -h's: $output"
        [[ -z $stderr ]] || fail "$prog --help: stderr: $stderr"
        usage_error "$prog" --verbose
        [[ $stderr == "${prog##*/}: unknown option --verbose "* ]] || fail "$prog --verbose: stderr: $stderr"
    done
}

@test "cli: every script in scripts/ takes -h and --help: its usage on stdout, exit 0, nothing run" {
    local script opt
    for script in "$ROOT"/scripts/*.sh; do
        [[ -x $script ]] || continue # lib.sh is sourced, not run
        for opt in -h --help; do
            run --separate-stderr timeout 10 "$script" "$opt" </dev/null
            [[ $status == 0 ]] || fail "${script#"$ROOT"/} $opt: exit status $status; stderr: $stderr"
            [[ $output == "usage: ${script#"$ROOT"/}"* ]] || fail "${script#"$ROOT"/} $opt: stdout: $output"
            [[ -z $stderr ]] || fail "${script#"$ROOT"/} $opt: stderr: $stderr"
        done
    done
    assert_run_dir_empty
}

@test "cli: every program refuses an unknown option: reason and usage on stderr, exit 2" {
    local prog
    for prog in "${PROGRAMS[@]}"; do
        usage_error "$prog" -Z
        [[ $stderr == "${prog##*/}: unknown option -Z"* ]] || fail "$prog -Z: stderr: $stderr"
    done
}

@test "cli: every program refuses malformed arguments: reason and usage on stderr, exit 2" {
    local prog
    for prog in "${PROGRAMS[@]}"; do
        malformed_arguments "$prog"
    done
}

@test "cli: a message size over the kernel's limit says what the limit is" {
    usage_error msgq/msgq_send -s 100000
    [[ $stderr == "msgq_send: -s wants a message size from 1 to $(cat /proc/sys/kernel/msgmax) bytes"* ]] ||
        fail "stderr: $stderr"
}

@test "cli: a bad count names itself in the reason" {
    usage_error pipe/pipe_oneway -n abc
    [[ $stderr == "pipe_oneway: -n wants a count from 1 to 100, not 'abc'"* ]] || fail "stderr: $stderr"
}

@test "run directory: \$IPCLAB_DIR is created mode 0700 when missing" {
    export IPCLAB_DIR=$LOG/fresh
    start_side reader /dev/null "$BIN/fifo/fifo_reader"
    wait_ready reader
    assert_equal "$(stat -c %a "$IPCLAB_DIR")" 700
    [[ -p $IPCLAB_DIR/fifo ]]
}

@test "run directory: \$XDG_RUNTIME_DIR/ipclab when \$IPCLAB_DIR is unset" {
    unset IPCLAB_DIR
    mkdir -m 700 "$LOG/xdg"
    export XDG_RUNTIME_DIR=$LOG/xdg
    start_side reader /dev/null "$BIN/fifo/fifo_reader"
    wait_ready reader
    [[ -p $LOG/xdg/ipclab/fifo ]]
    assert_equal "$(stat -c %a "$LOG/xdg/ipclab")" 700
}

# refused_run_dir REGEX: fifo_reader refuses the run directory with a message matching REGEX.
refused_run_dir() {
    run --separate-stderr timeout 5 "$BIN/fifo/fifo_reader" </dev/null
    assert_failure 1
    [[ $stderr =~ $1 ]] || fail "stderr: $stderr"
}

@test "run directory: one that others can enter is refused" {
    chmod 755 "$IPCLAB_DIR"
    refused_run_dir "run directory $IPCLAB_DIR has mode 755: others can get in; refusing"
    [[ ! -e $IPCLAB_DIR/fifo ]]
}

@test "run directory: a symbolic link is refused" {
    mkdir -m 700 "$LOG/elsewhere"
    export IPCLAB_DIR=$LOG/link
    ln -s "$LOG/elsewhere" "$IPCLAB_DIR"
    refused_run_dir "is not a directory but a symbolic link"
    [[ ! -e $LOG/elsewhere/fifo ]]
}

@test "run directory: a symbolic link is refused however it is spelled (link/, link//, link/.)" {
    # lstat("link/") follows the link: the trailing slash must not get it past the check
    mkdir -m 700 "$LOG/elsewhere"
    ln -s "$LOG/elsewhere" "$LOG/link"
    local spelling
    for spelling in "$LOG/link/" "$LOG/link//" "$LOG/link/."; do
        IPCLAB_DIR=$spelling refused_run_dir "run directory $LOG/link is not a directory but a symbolic link"
    done
    [[ -z $(ls -A "$LOG/elsewhere") ]]
}

@test "run directory: a name with a .. component is refused" {
    # L/.. is the parent of wherever the link L points, not the directory L is in
    mkdir -m 700 "$LOG/a" "$LOG/a/b"
    IPCLAB_DIR=$LOG/a/b/.. refused_run_dir "^fifo_reader: run directory $LOG/a/b/\.\.: its name has a \"\.\.\" component; refusing to use it$"
    [[ ! -e $LOG/a/fifo ]]
}

@test "run directory: a path through another user's symbolic link is refused (L/.., L/run, L/new)" {
    (( EUID == 0 )) || skip "needs root: uid 65534 plants the links"
    # root's private directory, with a run directory of root's in it
    local private=$LOG/private spelling
    mkdir -m 700 "$private" "$private/run" "$private/run/sub"
    other_dir 777
    "${AS_NOBODY[@]}" ln -s "$private/run/sub" "$OTHER_DIR/L"
    "${AS_NOBODY[@]}" ln -s "$private" "$OTHER_DIR/P"
    for spelling in "$OTHER_DIR/L/.." "$OTHER_DIR/P/run" "$OTHER_DIR/P/new"; do
        IPCLAB_DIR=$spelling refused_run_dir "^fifo_reader: run directory $spelling: its path passes through $OTHER_DIR/[LP], a symbolic link of uid 65534; refusing to use it$"
    done
    [[ ! -e $private/new ]] || fail "$private/new was made through the link"
    [[ $(ls -A "$private/run") == sub ]] || fail "made in $private/run: $(ls -A "$private/run")"
}

@test "run directory: a symbolic link of ours before the last component is followed" {
    mkdir -m 700 "$LOG/real" "$LOG/real/run"
    ln -s "$LOG/real" "$LOG/mine"
    IPCLAB_DIR=$LOG/mine/run run --separate-stderr timeout 5 "$BIN/unixsock/unix_stream_client" </dev/null
    assert_failure 1
    [[ $stderr == "unix_stream_client: no server at $LOG/mine/run/unix_stream;"* ]] || fail "stderr: $stderr"
}

@test "run directory: one that belongs to another user is refused" {
    if (( EUID == 0 )); then
        chown 65534 "$IPCLAB_DIR" # nobody
    else
        export IPCLAB_DIR=/ # root's, and we are not root
    fi
    refused_run_dir "belongs to uid [0-9]+, not to you"
}
