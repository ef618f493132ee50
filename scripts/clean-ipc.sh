#!/usr/bin/env bash
# scripts/clean-ipc.sh - remove what ipclab programs left behind and no process uses: stale
# key files, sockets and FIFOs in the run directory, System V objects and POSIX names of ours
# (make clean-ipc); only what is provably ipclab's, never another file of the run directory.
# scripts/status.sh --remove; its header says what it looks at and what counts as ipclab's.
case ${1:-} in
-h | --help) echo "usage: scripts/clean-ipc.sh      (make clean-ipc: scripts/status.sh --remove)"; exit 0 ;;
esac
exec "$(dirname "$0")/status.sh" --remove "$@"
