#!/usr/bin/env bash
# scripts/clean-ipc.sh - remove what ipclab programs left behind and no process uses: stale
# sockets and FIFOs in the run directory, System V objects and POSIX names of ours (make
# clean-ipc).  scripts/status.sh --remove; its header says what it looks at.
exec "$(dirname "$0")/status.sh" --remove "$@"
