#!/usr/bin/env bash
# scripts/clean-ipc.sh - remove what ipclab programs left behind and no process uses: stale
# sockets and FIFOs in the run directory, System V objects and POSIX names of ours (make
# clean-ipc).  scripts/status.sh --remove; its header says what it looks at.
case ${1:-} in
-h | --help) echo "usage: scripts/clean-ipc.sh      (make clean-ipc: scripts/status.sh --remove)"; exit 0 ;;
esac
exec "$(dirname "$0")/status.sh" --remove "$@"
