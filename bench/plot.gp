# bench/plot.gp - draw bench/results.csv (written by `make bench`) as bench/latency.png:
# the median round trip of each mechanism against the message size, one panel per placement,
# both axes logarithmic.  Run from the top of the tree: gnuplot bench/plot.gp

set datafile separator ","
set terminal pngcairo size 1400,600 font ",10" noenhanced
set output "bench/latency.png"
set multiplot layout 1,2 title "ipclab: median round trip by message size (bench/results.csv)"
set logscale xy
set xlabel "message size (bytes)"
set ylabel "median round trip (microseconds)"
set grid
set key bottom right
set xtics ("64" 64, "256" 256, "1K" 1024, "4K" 4096, "16K" 16384, "64K" 65536, "256K" 262144, "1M" 1048576)

mechs = "pipe fifo socketpair unix_stream unix_dgram tcp sysv_msgq posix_mq posix_shm shm_spin"
# The p50 (column 8, ns) of a latency row of placement p and mechanism m; anything else is NaN.
row(p, m) = (strcol(1) eq p && strcol(2) eq "latency" && strcol(3) eq m && strcol(5) eq "ok") ? column(8) / 1000.0 : NaN

do for [p in "same split"] {
    set title (p eq "same" ? "both sides on one CPU" : "one side on each of two CPUs")
    plot for [m in mechs] "bench/results.csv" using 4:(row(p, m)) with linespoints title m
}
unset multiplot
