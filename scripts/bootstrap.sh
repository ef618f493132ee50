#!/usr/bin/env bash
# scripts/bootstrap.sh - make sure what `make test` (and, with --check, `make check`) needs is
# installed: bats, bats-support, bats-assert and the tools the tests use; with --check also
# clang, shellcheck and cppcheck; with --valgrind valgrind; with --fuzz clang and its libFuzzer
# (what `make fuzz` links with); with --bench the tools `make bench` and `make bench-compare`
# use (perf, sockperf, iperf3, gnuplot).  Missing Debian packages are installed with apt-get,
# as root or through `sudo -n`; otherwise it names the command to run and exits 1.  It also mounts the mqueue file system on
# /dev/mqueue if nothing is there (most systems mount it at boot; minimal containers do not):
# the tests look there for POSIX queues left behind.
set -euo pipefail

want_check=0 want_bench=0 want_valgrind=0 want_fuzz=0
usage="usage: scripts/bootstrap.sh [--check] [--valgrind] [--fuzz] [--bench]"
for arg in "$@"; do
    case $arg in
    -h | --help) echo "$usage"; exit 0 ;;
    --check) want_check=1 ;;
    --bench) want_bench=1 ;;
    --valgrind) want_valgrind=1 ;;
    --fuzz) want_fuzz=1 ;;
    *) echo "$usage" >&2; exit 2 ;;
    esac
done

missing=()
command -v bats >/dev/null || missing+=(bats)
# bats_load_library looks in BATS_LIB_PATH, /usr/lib/bats by default: where Debian installs them.
lib_path=${BATS_LIB_PATH:-/usr/lib/bats}
has_lib() {
    local dir
    IFS=: read -r -a dirs <<<"$lib_path"
    for dir in "${dirs[@]}"; do
        [[ -f $dir/$1/load.bash || -f $dir/$1/load ]] && return 0
    done
    return 1
}
has_lib bats-support || missing+=(bats-support)
has_lib bats-assert || missing+=(bats-assert)
if (( want_check )); then
    command -v clang >/dev/null || missing+=(clang)
    command -v shellcheck >/dev/null || missing+=(shellcheck)
    command -v cppcheck >/dev/null || missing+=(cppcheck)
fi
if (( want_valgrind )); then
    command -v valgrind >/dev/null || missing+=(valgrind)
fi
if (( want_fuzz )); then
    # Debian's clang finds libFuzzer in libclang-rt-dev, a separate package: try a link.
    if ! command -v clang >/dev/null; then
        missing+=(clang libclang-rt-dev)
    elif ! printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return (int)(d && n) * 0; }\n' |
        clang -fsanitize=fuzzer -x c -o /dev/null - 2>/dev/null; then
        missing+=(libclang-rt-dev)
    fi
fi
if (( want_bench )); then
    command -v perf >/dev/null || missing+=(linux-perf)
    command -v sockperf >/dev/null || missing+=(sockperf)
    command -v iperf3 >/dev/null || missing+=(iperf3)
    command -v gnuplot >/dev/null || missing+=(gnuplot-nox)
    command -v taskset >/dev/null || missing+=(util-linux)
fi
# The test suite itself uses these: setsid (util-linux), timeout (coreutils), script (bsdutils),
# gdb (to put a signal at an exact point in a program), python3 (for raw socket peers).
command -v setsid >/dev/null || missing+=(util-linux)
command -v timeout >/dev/null || missing+=(coreutils)
command -v script >/dev/null || missing+=(bsdutils)
command -v gdb >/dev/null || missing+=(gdb)
command -v strace >/dev/null || missing+=(strace) # strace: which sockets a program closes
command -v ipcs >/dev/null || missing+=(util-linux) # ipcs: System V objects left behind
command -v setpriv >/dev/null || missing+=(util-linux) # setpriv: a side run as another user
command -v python3 >/dev/null || missing+=(python3) # a hostile peer that our programs cannot play
command -v ss >/dev/null || missing+=(iproute2) # ss: which TCP and UDP ports are listened on
command -v nm >/dev/null || missing+=(binutils) # nm: scripts/test.sh's look at what binaries call
command -v gcc >/dev/null || missing+=(gcc) # the twins test compares code without comments
command -v tmux >/dev/null || missing+=(tmux) # make demo-<mechanism> PANES=1 and its tests
# standard tools that take one side of a pair in the tests: the kernel object is the interface
command -v socat >/dev/null || missing+=(socat)
command -v nc.openbsd >/dev/null || missing+=(netcat-openbsd)
# perl's IPC::SysV (IPC::Msg, shmread, semop): the System V queue's and segments' other side
perl -MIPC::Msg -MIPC::SysV -e 1 2>/dev/null || missing+=(perl)
# sleep as a bash builtin (scripts/lib.sh): the tests' 20 ms polls fork no process to wait
[[ -f /usr/lib/bash/sleep ]] || missing+=(bash-builtins)

as_root=()
if (( EUID != 0 )); then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        as_root=(sudo -n)
    else
        as_root=(none)
    fi
fi

if ! grep -qs '^[^ ]* /dev/mqueue mqueue ' /proc/mounts; then
    if [[ ${as_root[*]} == none ]]; then
        echo "bootstrap: /dev/mqueue is not mounted; the POSIX queue tests need it:" >&2
        echo "    sudo mkdir -p /dev/mqueue && sudo mount -t mqueue none /dev/mqueue" >&2
        exit 1
    fi
    "${as_root[@]}" mkdir -p /dev/mqueue
    "${as_root[@]}" mount -t mqueue none /dev/mqueue
    echo "bootstrap: mounted the mqueue file system on /dev/mqueue" >&2
fi

(( ${#missing[@]} == 0 )) && exit 0

if [[ ${as_root[*]} == none ]]; then
    echo "bootstrap: missing ${missing[*]}; install them with:" >&2
    echo "    sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null; then
    echo "bootstrap: missing ${missing[*]} and no apt-get here: install them with your package manager" >&2
    exit 1
fi
echo "bootstrap: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "bootstrap: installed ${missing[*]}" >&2
