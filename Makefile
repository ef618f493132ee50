# ipclab: one non-recursive Makefile for every program, test and demo.  `make help` lists the
# targets.
#
# Adding a program is one word in PROGRAMS: its path without ".c".  Its directory is its
# mechanism; demo-<mechanism> and the CLI tests follow from the list, and tests/<mechanism>.bats
# holds its own tests.  The list is in learning order, which `make demo` follows.

# A bare `make` builds everything: said here, because make's default goal is otherwise the
# first target it reads, and the harnesses' dependency rules below come before `all`.
.DEFAULT_GOAL := all

PROGRAMS := \
	pipe/pipe_oneway pipe/pipe_duplex \
	socketpair/socketpair_duplex \
	fifo/fifo_writer fifo/fifo_reader fifo/fifo_chat \
	msgq/msgq_send msgq/msgq_recv msgq/msgq_chat msgq/pmq_send msgq/pmq_recv \
	shm/shm_writer shm/shm_reader shm/pshm_writer shm/pshm_reader \
	shm/shm_sem_writer shm/shm_sem_reader \
	shm/mmap_fork shm/mmap_writer shm/mmap_reader shm/shm_counter \
	unixsock/unix_stream_server unixsock/unix_stream_client \
	unixsock/unix_dgram_server unixsock/unix_dgram_client \
	unixsock/relay_server unixsock/relay_client \
	inetsock/tcp_server inetsock/tcp_client inetsock/udp_server inetsock/udp_client \
	fdpass/fd_sender fdpass/fd_receiver

# Tools beside the pairs: the benchmark behind `make bench`, and the fuzz harnesses, which built
# like this replay inputs (the tests run them on the corpus and on every crash found); make fuzz
# builds them again with libFuzzer.  Each harness includes the program whose code it drives.
FUZZ_HARNESSES := fuzz/relay_frames fuzz/fd_cmsg
TOOLS := bench/ipcbench $(FUZZ_HARNESSES)

# Each mechanism once, in the order of PROGRAMS.
uniq = $(if $1,$(firstword $1) $(call uniq,$(filter-out $(firstword $1),$1)))
MECHANISMS := $(strip $(call uniq,$(patsubst %/,%,$(dir $(PROGRAMS)))))

# CC and CFLAGS are yours to set (make CC=clang CFLAGS='-O0 -g3'); the language level and the
# warnings stay, as GNU's conventions ask of flags a build needs.  LDLIBS_<program> is the
# place for a program's own libraries.
CFLAGS ?= -O2 -g
IPCLAB_CFLAGS := -std=c11 -Wall -Wextra -Wpedantic -Wshadow
HEADERS := common/ipclab.h $(wildcard */*.h)
SOURCES := $(addsuffix .c,$(PROGRAMS))
BATS ?= bats

# glibc before 2.34 keeps the POSIX queue, shared memory and semaphore calls in librt (and
# semaphores in libpthread); linking them costs nothing where libc has them.
LDLIBS_pmq_send := -lrt
LDLIBS_pmq_recv := -lrt
LDLIBS_pshm_writer := -lrt -pthread
LDLIBS_pshm_reader := -lrt -pthread
LDLIBS_shm_counter := -lrt -pthread
LDLIBS_ipcbench := -lrt -pthread

# A harness is rebuilt when the program it includes changes, in every tree.
FUZZ_BINS := $(addprefix build/fuzz/,$(notdir $(FUZZ_HARNESSES)))
ALL_BINS = $(TOOLS) $(CHECK_BINS) $(SANITIZE_BINS) $(FUZZ_BINS)
$(filter %fuzz/relay_frames,$(ALL_BINS)): unixsock/relay_server.c
$(filter %fuzz/fd_cmsg,$(ALL_BINS)): fdpass/fd_receiver.c

.PHONY: all test check check-build check-shell check-cppcheck demo $(addprefix demo-,$(MECHANISMS)) \
	$(addprefix trace-,$(MECHANISMS)) status clean-ipc doctor lesson-report bench bench-compare clean help \
	print-programs print-mechanisms print-cc labs sanitize valgrind fuzz

all: $(PROGRAMS) $(TOOLS)

$(PROGRAMS) $(TOOLS): %: %.c $(HEADERS)
	$(CC) $(IPCLAB_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS) $(LDLIBS_$(notdir $@))

# The suite finds the programs through IPCLAB_BIN (the top of a tree built like this one).
# scripts/test.sh runs it in groups side by side (its header says why and how).
test: all
	scripts/bootstrap.sh
	IPCLAB_BIN=$(CURDIR) BATS=$(BATS) scripts/test.sh $(BATS_FLAGS)

# check: the build with gcc and with clang, warnings as errors; every source on its own with no
# flags at all (each program builds alone: `cc -o /tmp/x fifo/fifo_chat.c` must work);
# shellcheck; cppcheck.
check: check-build check-shell check-cppcheck

CHECK_BINS := $(foreach cc,gcc clang plain,$(addprefix build/check/$(cc)/,$(PROGRAMS) $(TOOLS)))

check-build: $(CHECK_BINS)

build/check/gcc/%: %.c $(HEADERS)
	@mkdir -p $(@D)
	gcc $(IPCLAB_CFLAGS) -Werror -O2 -o $@ $< $(LDLIBS_$(notdir $@))

build/check/clang/%: %.c $(HEADERS)
	@mkdir -p $(@D)
	clang $(IPCLAB_CFLAGS) -Werror -O2 -o $@ $< $(LDLIBS_$(notdir $@))

build/check/plain/%: %.c $(HEADERS)
	@mkdir -p $(@D)
	cc -o $@ $< $(LDLIBS_$(notdir $@))

SHELL_SCRIPTS = $(wildcard scripts/*.sh tests/*.bash) .ci/run
check-shell:
	shellcheck -x $(SHELL_SCRIPTS)
	shellcheck -x -s bash $(wildcard tests/*.bats)

check-cppcheck:
	cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,style,performance,portability \
		--inline-suppr --suppress=missingIncludeSystem -I common $(SOURCES) $(addsuffix .c,$(TOOLS))

# sanitize: every program built with AddressSanitizer and UndefinedBehaviorSanitizer into
# build/sanitize (the binaries beside the sources stay as they are), and the whole suite run
# against those (IPCLAB_BIN); any report fails it.  scripts/sanitize.sh says how.
SANITIZE_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
SANITIZE_BINS := $(addprefix build/sanitize/,$(PROGRAMS) $(TOOLS))

sanitize: all $(SANITIZE_BINS)
	scripts/bootstrap.sh
	BATS=$(BATS) scripts/sanitize.sh $(CURDIR)/build/sanitize $(BATS_FLAGS)

build/sanitize/%: %.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(IPCLAB_CFLAGS) $(SANITIZE_FLAGS) -o $@ $< $(LDLIBS_$(notdir $@))

# fuzz: each harness built with libFuzzer (clang -fsanitize=fuzzer,address,undefined) and run
# for FUZZ_SECONDS, starting from its seed corpus (fuzz/corpus/) and every crash found so far
# (fuzz/regressions/).  What it learns stays in build/fuzz/corpus/; a crash stops it, saved
# under build/fuzz/, with what to do next.  See fuzz/README.md.
FUZZ_SECONDS ?= 60

fuzz:
	scripts/bootstrap.sh --fuzz
	@$(MAKE) --no-print-directory $(FUZZ_BINS)
	scripts/fuzz.sh $(FUZZ_SECONDS) $(notdir $(FUZZ_HARNESSES))

build/fuzz/%: fuzz/%.c $(HEADERS)
	@mkdir -p $(@D)
	clang $(IPCLAB_CFLAGS) -O1 -g -DIPCLAB_LIBFUZZER -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o $@ $<

# valgrind: the guided tour with every side, and every child it forks, under valgrind's
# memcheck: no error, no leak, no descriptor open at exit beyond stdin, stdout and stderr.
valgrind: all
	scripts/bootstrap.sh --valgrind
	scripts/demo.sh --valgrind

# demo: the guided tour, every mechanism in the order of MECHANISMS.  demo-<mechanism>: both
# sides of each of its programs, labelled, with a scripted conversation; with PANES=1, its
# pair in two tmux panes instead, for you to type into.  trace-<mechanism>: the demo under
# strace, the system calls that carry the mechanism labelled with their side.
demo: all
	@scripts/demo.sh

$(addprefix demo-,$(MECHANISMS)): demo-%: all
	@$(if $(PANES),scripts/panes.sh,scripts/demo.sh) $*

$(addprefix trace-,$(MECHANISMS)): trace-%: all
	@scripts/demo.sh --trace $* || { echo "trace-$*: failed; make doctor checks this machine for what strace and the demo need" >&2; exit 1; }

# status: ipclab's live objects of yours (run directory, System V, POSIX) and who uses them;
# clean-ipc: remove those no process uses.  The script's exit status 1 (a run directory the
# programs refuse, something that could not be removed) comes after its own explanation, which
# make's "*** [Makefile: status] Error 1" would only bury: here it counts as done.  A usage
# error (2) still fails.
status:
	@scripts/status.sh || test $$? -eq 1

clean-ipc:
	@scripts/clean-ipc.sh || test $$? -eq 1

# doctor: this machine checked for what the programs, the tests and the traces need (compiler,
# bats, the run directory's file system, /dev/shm, /dev/mqueue, System V IPC, the queue limits,
# logind's RemoveIPC, ptrace), each problem with what it breaks and how to fix it.  No `all`
# first: it must work where nothing builds.
doctor:
	@CC='$(CC)' BATS='$(BATS)' scripts/doctor.sh

# lesson-report: for every program, how much of it is its mechanism's lesson, and the limits of
# README.md "How a program reads" (tests/lesson.bats holds them).
# (The system's python3 first: a version manager's shim in PATH can take a second to start.)
PYTHON ?= $(firstword $(wildcard /usr/bin/python3) python3)
lesson-report:
	@$(PYTHON) scripts/lesson-report.py

# bench: every mechanism's latency and throughput on this machine, both placements, then the
# pairs table: the programs themselves, beside their mechanism (see bench/README.md); QUICK=1
# for the short run the tests use.  The figures also go to bench/results.csv, and with
# gnuplot installed to a chart, bench/latency.png.
bench: all
	bench/ipcbench $(if $(QUICK),-q) -o bench/results.csv
	scripts/bench-pairs.sh $(if $(QUICK),-q) -o bench/results.csv
	@if command -v gnuplot >/dev/null; then \
		gnuplot bench/plot.gp && echo 'bench: figures in bench/results.csv, chart in bench/latency.png'; \
	else \
		echo 'bench: figures in bench/results.csv (gnuplot would draw bench/latency.png: scripts/bootstrap.sh --bench)'; \
	fi

# bench-compare: the same figures from standard tools (perf, sockperf, iperf3), side by side.
bench-compare: bench/ipcbench
	scripts/bench-compare.sh

clean:
	rm -f $(PROGRAMS) $(TOOLS) bench/results.csv bench/latency.png
	rm -rf build

print-programs:
	@printf '%s\n' $(PROGRAMS)

# The compiler line and the libraries of PROGRAM (pipe/pipe_oneway), as its rule above uses
# them: scripts/lab.sh builds a lab's copy with them.
print-cc:
	@echo '$(CC) $(IPCLAB_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS)'
	@echo '$(LDLIBS) $(LDLIBS_$(notdir $(PROGRAM)))'

# The labs (README.md, "Labs"; scripts/lab.sh): a seed's bug back in one of our programs, graded
# by the tests.  Each builds the real programs first: a lab's tests run its copy beside them.
labs: all
	@scripts/lab.sh list
lab-check-%: all
	@scripts/lab.sh check $*
lab-hint-%:
	@scripts/lab.sh hint $*
lab-reset-%:
	@scripts/lab.sh reset $*
lab-diff-%:
	@scripts/lab.sh diff $*
lab-%: all
	@scripts/lab.sh start $*

print-mechanisms:
	@printf '%s\n' $(MECHANISMS)

help:
	@echo 'make / make all      build every program next to its source'
	@echo 'make test            install bats if missing (scripts/bootstrap.sh), run tests/*.bats'
	@echo 'make check           gcc and clang -Werror, plain cc, shellcheck, cppcheck'
	@echo 'make demo            the guided tour, every mechanism in turn: $(MECHANISMS)'
	@$(foreach m,$(MECHANISMS),printf 'make %-15s both sides of %s, labelled, in one terminal\n' demo-$(m) $(m);)
	@echo 'make demo-<mechanism> PANES=1   its pair side by side in tmux, for you to type into'
	@echo 'make trace-<mechanism>          its demo under strace: the system calls that carry it'
	@echo 'make status          ipclab objects alive now (run directory, System V, POSIX), who uses them'
	@echo 'make clean-ipc       remove the ones no process uses (after a kill -9, say)'
	@echo 'make lesson-report   each program: lines, lesson lines and share, helpers main() calls'
	@echo 'make doctor          check this machine: what is missing or limited, what it breaks, the fix'
	@echo 'make bench           latency and throughput of every mechanism (QUICK=1: a short run)'
	@echo 'make bench-compare   ipclab figures beside perf, sockperf and iperf3'
	@echo 'make sanitize        the whole suite against an ASan/UBSan build (build/sanitize): no report'
	@echo 'make valgrind        the tour with every process under valgrind: no error, leak or open fd'
	@echo 'make fuzz            the fuzz harnesses under libFuzzer, FUZZ_SECONDS (60) each'
	@echo 'make labs            the labs: a seed'"'"'s bug back in a program, for you to fix'
	@echo 'make lab-NAME        start lab NAME; then lab-check-NAME, lab-hint-NAME, lab-reset-NAME, lab-diff-NAME'
	@echo 'make clean           remove the programs and build/'
	@echo 'make print-programs  the program list (one per line), as the tests read it'
	@echo 'make help            this list'
