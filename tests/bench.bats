#!/usr/bin/env bats
# tests/bench.bats - bench/ipcbench's smoke run (-qq: the quick run's cells, each briefly) and
# scripts/bench-pairs.sh: the tables come out whole; no timing is checked.  So this file runs
# beside other tests; the orderings, which need the CPUs to themselves, are in
# tests/bench-orderings.bats, which scripts/test.sh runs alone.

# shellcheck disable=SC2154 # $stderr is set by bats' run --separate-stderr
load test_helper
load bench_helper
bats_require_minimum_version 1.5.0

setup() {
    ipclab_setup sysv_private # ipcbench makes its queue IPC_PRIVATE (test_helper.bash, ipc_left)
}

teardown() {
    ipclab_teardown
}

@test "bench: the smoke run (-qq, the quick run's cells, briefly) measures every mechanism at every size, in both placements, and nothing fails" {
    run timeout 60 "$BIN/bench/ipcbench" -qq -o "$LOG/results.csv"
    assert_success
    local placements=(same split) p m wrong
    (($(nproc) >= 2)) || placements=(same)
    assert_line --regexp "^== (same CPU|split CPUs): "
    # Exactly one good row for each placement, mechanism and size: latency at eight sizes,
    # throughput at three (one awk over the CSV, not one per cell: this file runs alone).
    wrong=$(awk -F, -v places="${placements[*]}" -v mechs="${MECHS[*]}" '
        $2 == "latency" && ($5 == "ok" || $5 == "n/a (limit)") { rows[$1 " latency " $3 " " $4]++ }
        $2 == "throughput" && $5 ~ /^(ok|n\/a)/ { rows[$1 " throughput " $3 " " $4]++ }
        END {
            split(places, P, " "); split(mechs, M, " ")
            split("64 256 1024 4096 16384 65536 262144 1048576", L, " ")
            split("4096 65536 1048576", T, " ")
            for (p in P) for (m in M) {
                for (s in L) { k = P[p] " latency " M[m] " " L[s]; if (rows[k] != 1) print k ": " rows[k] + 0 " rows" }
                for (s in T) { k = P[p] " throughput " M[m] " " T[s]; if (rows[k] != 1) print k ": " rows[k] + 0 " rows" }
            }
        }' "$LOG/results.csv")
    [[ -z $wrong ]] || fail "$wrong"
    # Shared memory's limit: on two CPUs a cross_cpu row at every chunk size (none on one CPU,
    # where memcpy is the limit); every row has the same fields, of_limit last; posix_shm's and
    # shm_spin's of_limit is their MB/s over the placement's limit (memcpy's on one CPU).
    wrong=$(awk -F, -v split_too="$(($(nproc) >= 2))" '
        NR == 1 { if ($NF != "of_limit") print "the header ends with " $NF ", not of_limit"; n = NF; next }
        NF != n { print "line " NR ": " NF " fields, not " n }
        $2 != "throughput" || $5 != "ok" { next }
        $3 == "cross_cpu" { if ($1 == "same") print "a cross_cpu row on one CPU"; else cross[$4]++ }
        ($1 == "same" && $3 == "memcpy") || ($1 == "split" && $3 == "cross_cpu") { limit[$1 " " $4] = $12 }
        $3 == "posix_shm" || $3 == "shm_spin" { shm[$1 " " $3 " " $4] = $12 " " $14 }
        END {
            split("4096 65536 1048576", T, " ")
            if (split_too) for (t in T) if (cross[T[t]] != 1) print "split: " cross[T[t]] + 0 " cross_cpu rows at " T[t]
            for (k in shm) {
                split(k, K, " "); split(shm[k], F, " "); L = limit[K[1] " " K[3]]; want = F[1] / L
                # the CSV rounds MB/s to whole numbers: small ones (a sanitized build, a brief
                # run) carry that error into want, up to half a unit over each of the two
                tol = 0.002 + want / 100 + want * (0.5 / F[1] + 0.5 / L)
                if (F[2] == "" || F[2] - want > tol || want - F[2] > tol)
                    print k ": of_limit " F[2] ", its MB/s over the limit is " want " (" F[1] " MB/s, limit " L ")"
            }
        }' "$LOG/results.csv")
    [[ -z $wrong ]] || fail "$wrong"
    if (($(nproc) >= 2)); then
        assert_line --regexp '^cross_cpu +[0-9]+ \([0-9]+%, 100%\) '
        assert_line --regexp '^posix_shm +[0-9]+ \([0-9]+%, [0-9]+%\) '
    fi
    # The tables as printed: the latency header names the eight sizes; no cell says "failed".
    assert_line --regexp '^mechanism +64 +256 +1K +4K +16K +64K +256K +1M$'
    refute_output --partial failed
    # Every mechanism carries small messages; a stream carries every size.
    for p in "${placements[@]}"; do
        for m in "${MECHS[@]}"; do
            [[ -n $(p50 "$p" "$m" 64) ]] || fail "$p $m: no figure at 64 bytes"
        done
        for m in pipe fifo socketpair unix_stream tcp posix_shm; do
            [[ -n $(p50 "$p" "$m" 1048576) ]] || fail "$p $m: no figure at 1 MiB"
        done
    done
}

@test "bench: a wrong option is a usage error; -h prints the usage" {
    run --separate-stderr "$BIN/bench/ipcbench" -m carrier_pigeon
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "ipcbench: no mechanism called 'carrier_pigeon'"
    run --separate-stderr "$BIN/bench/ipcbench" -c 100
    assert_failure 2
    run "$BIN/bench/ipcbench" -h
    assert_success
    assert_line --index 0 --regexp '^usage: ipcbench '
}

# The pairs table's rows, as scripts/bench-pairs.sh names them.
PAIRS=("cat > FIFO > cat" "fifo_writer > fifo_reader" "msgq_send > msgq_recv"
    "pmq_send > pmq_recv" "pshm_writer > pshm_reader" "shm_writer > shm_reader"
    "unix_stream_client (echo)")

@test "bench pairs: each pair, run as a student runs it, delivers its input whole, in both placements" {
    local placements=(same split) p name re rows
    (($(nproc) >= 2)) || placements=(same)
    IPCLAB_BIN=$BIN run --separate-stderr timeout 60 "$ROOT/scripts/bench-pairs.sh" -qq \
        -o "$LOG/results.csv"
    (( status == 0 )) || fail "exit $status: $stderr"
    assert_line --regexp '^pair +chunk +same CPU'
    refute_output --partial failed
    for name in "${PAIRS[@]}"; do
        # the table's row: the pair's MB/s, the mechanism's, and the share, in each placement
        # (the names hold no regex character but the parentheses, escaped here)
        re=${name//(/\\(} re=${re//)/\\)}
        assert_line --regexp "^$re +[0-9]+[KM]( +[0-9]+ / [0-9]+ \([0-9]+%\)){${#placements[@]}} *\$"
        for p in "${placements[@]}"; do
            rows=$(awk -F, -v p="$p" -v n="$name" \
                '$1 == p && $2 == "pair" && $3 == n && $5 == "ok" && $12 > 0 && $14 > 0' \
                "$LOG/results.csv" | wc -l)
            (( rows == 1 )) || fail "$p '$name': $rows good rows in the CSV"
        done
    done
}

@test "bench pairs: a pair that loses one byte is failed, not timed" {
    # A reader that drops the last byte of what it prints: the figure must not count.
    local bin=$LOG/bin
    mkdir -p "$bin/fifo" "$bin/bench"
    ln -s "$BIN/fifo/fifo_writer" "$bin/fifo/fifo_writer"
    ln -s "$BIN/bench/ipcbench" "$bin/bench/ipcbench"
    printf '#!/usr/bin/env bash\n"%s/fifo/fifo_reader" "$@" | head -c -1\n' "$BIN" \
        >"$bin/fifo/fifo_reader"
    chmod +x "$bin/fifo/fifo_reader"
    IPCLAB_BIN=$bin run --separate-stderr timeout 60 "$ROOT/scripts/bench-pairs.sh" -qq \
        -m fifo_writer
    assert_failure
    assert_line --regexp '^fifo_writer > fifo_reader .*failed'
}
