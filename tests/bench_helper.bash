# shellcheck shell=bash
# shellcheck disable=SC2034 # MECHS is for the .bats files
# tests/bench_helper.bash - loaded by tests/bench.bats and tests/bench-orderings.bats.

# The mechanisms bench/ipcbench measures.
MECHS=(pipe fifo socketpair unix_stream unix_dgram tcp sysv_msgq posix_mq posix_shm shm_spin)

# p50 PLACEMENT MECHANISM SIZE: the median round trip (ns) from the CSV.
p50() {
    awk -F, -v p="$1" -v m="$2" -v s="$3" \
        '$1 == p && $2 == "latency" && $3 == m && $4 == s && $5 == "ok" { print $8 }' "$LOG/results.csv"
}

# min_ns PLACEMENT MECHANISM SIZE: the fastest round trip of that cell, in ns (column min_ns).
min_ns() {
    awk -F, -v p="$1" -v m="$2" -v s="$3" \
        '$1 == p && $2 == "latency" && $3 == m && $4 == s && $5 == "ok" { print $7 }' "$LOG/results.csv"
}
