/*
 * shm_writer - send stdin to shm_reader through a System V shared memory segment.
 *
 * The writer learns the reader's PID from a FIFO, attaches the segment, and then, one
 * segment-full of stdin at a time: copies it in with its length, tells the reader with SIGUSR1,
 * and waits for the reader's SIGUSR2 before it touches the segment again.  An empty buffer
 * (length 0) ends it.
 *
 * Run it in two terminals, either one first:
 *     terminal 1:  ./shm/shm_reader
 *     terminal 2:  ./shm/shm_writer
 * What you should see in terminal 2 (pids, ids and paths vary), then type lines, then Ctrl-D:
 *     shm_writer: ready (pid 4242): waiting for shm_reader on /tmp/ipclab-1000/shm.fifo
 *     shm_writer: reader pid 4243 checked; segment 7 attached and marked for removal
 *     hello segment
 *     shm_writer: end of input: 14 bytes in 1 buffer(s), each acknowledged
 *
 * Mirrors seed 004, 共享内存 (the writing side).  Build alone:
 *     cc -o shm_writer shm_writer.c
 */
#define _XOPEN_SOURCE 700 /* System V IPC and setitimer() are XSI */

#include "../common/ipclab.h"
#include "shm.h"

static const char usage[] =
    "usage: shm_writer [-p PATH]\n"
    "  Send stdin to shm_reader through a System V shared memory segment, one segment-full at\n"
    "  a time: the reader's PID comes through the FIFO PATH.fifo; SIGUSR1 says a buffer is\n"
    "  ready, the reader's SIGUSR2 that it is done.\n"
    "  -p PATH  the key file: ftok(3) makes the segment's key from it (default: shm in the run\n"
    "           directory, see README.md); the FIFO is PATH.fifo\n"
    "  -h       show this help\n";

/*
 * get_peer_PID(): the seed's name.  Read the reader's PID from the FIFO and check it before it
 * is ever given to kill(): a whole pid_t, positive, a live process, and one that has this
 * FIFO open.  Returns the PID, or -1 after a message.
 *
 * Fix: the original ignored a read() of 0 bytes (the reader closed the FIFO without writing)
 * and then signalled whatever was in its uninitialised peer_pid.  kill(0, ...) would signal its
 * own process group, kill(-1, ...) every process the user owns.
 */
static pid_t get_peer_PID(int fd, const char *fifo)
{
    pid_t pid;
    ssize_t n = ipclab_read_full(fd, &pid, sizeof pid);

    if (n == -1) {
        if (errno != EINTR)
            warn("read %s", fifo);
        return -1;
    }
    if (n != (ssize_t)sizeof pid) {
        warnx("%s closed after %zd of the %zu bytes of a PID: the reader has gone", fifo, n,
              sizeof pid);
        return -1;
    }
    if (pid <= 0) {
        warnx("refusing the PID %ld from %s: kill() of it would signal a whole group",
              (long)pid, fifo);
        return -1;
    }
    if (kill(pid, 0) == -1 || !shm_holds_fifo(pid, fd)) {
        warnx("refusing the PID %ld from %s: no process of ours with the FIFO open has it",
              (long)pid, fifo);
        return -1;
    }
    return pid;
}

/*
 * Send stdin, one segment-full at a time, then the empty buffer.  Returns 0 once the reader has
 * acknowledged the end, -1 otherwise.
 *
 * Fix: the original copied the same fixed text every second, whether or not the reader had
 * printed the last one (sleep(1) is not synchronisation), and went on signalling the reader's
 * PID after the reader was gone -- a dead process, or by then someone else's.  Here each buffer
 * waits for the reader's SIGUSR2, and the lifeline ends the loop when the reader goes.
 */
static int send_stdin(struct shm_area *area, pid_t reader, const sigset_t *waitmask,
                      int lifeline)
{
    long long total = 0, count = 0;

    area->writer_pid = getpid();
    for (;;) {
        ssize_t n = read(STDIN_FILENO, area->data, sizeof area->data);
        if (n == -1) {
            if (errno != EINTR) {
                warn("read stdin");
                return -1;
            }
            if (ipclab_signal)
                return -1;
            if (ipclab_tick) { /* while we wait for input, the reader may go */
                ipclab_tick = 0;
                if (shm_peer_gone(lifeline, "reader"))
                    return -1;
            }
            continue;
        }
        area->len = n;
        if (kill(reader, SHM_NOTE) == -1) {
            warn("kill %ld (the reader)", (long)reader);
            return -1;
        }
        if (shm_wait(waitmask, lifeline, "reader") == -1)
            return -1;
        if (n == 0)
            break;
        total += n;
        count++;
    }
    warnx("end of input: %lld bytes in %lld buffer(s), each acknowledged", total, count);
    return 0;
}

int main(int argc, char *argv[])
{
    char path[PATH_MAX] = "", fifo[PATH_MAX];
    int opt;

    ipclab_stderr_by_line();
    ipclab_std_fds();
    while ((opt = getopt(argc, argv, ":hp:")) != -1) {
        switch (opt) {
        case 'p':
            ipclab_path_arg(path, sizeof path, optarg, usage);
            break;
        case 'h':
            fputs(usage, stdout);
            return IPCLAB_EXIT_OK;
        default:
            ipclab_bad_option(usage, opt);
        }
    }
    if (optind < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    /* Fix: the original used ./shmfile and ./fifo, in whatever directory it started in. */
    if (path[0] == '\0')
        ipclab_run_path(path, sizeof path, "shm");
    if (snprintf(fifo, sizeof fifo, "%s.fifo", path) >= (int)sizeof fifo)
        ipclab_usage_error(usage, "-p: the path is too long");

    /* Fix: the original's handler called shmdt(), shmctl(), remove() and exit(), not all
     * async-signal-safe.  Ours only record the signal; the cleanup runs in main. */
    ipclab_catch_signals();
    sigset_t waitmask;
    shm_catch(SHM_ACK, &waitmask);

    int status = IPCLAB_EXIT_FAIL, keyfd = -1, shmid = -1;
    struct shm_area *area = NULL;
    /* Fix: the original's mkfifo() failure check worked, but it opened whatever was at ./fifo. */
    int lifeline = -1;
    if (ipclab_creat_fifo(fifo) == 0) {
        ipclab_ready("waiting for shm_reader on %s", fifo);
        lifeline = ipclab_open_fifo(fifo, O_RDONLY);
    }
    pid_t reader = lifeline == -1 ? -1 : get_peer_PID(lifeline, fifo);
    ipclab_start_ticks(); /* from now on, every tick looks at the lifeline (not before: a tick
                             would cut the wait in open() short) */
    if (reader > 0 && (shmid = create_or_get_shm(path, &keyfd)) != -1) {
        if ((area = shmat(shmid, NULL, 0)) == (void *)-1) {
            warn("shmat");
            area = NULL;
        }
    }
    if (area != NULL) {
        /* The reader attached before it sent its PID: both are attached now, so the segment
         * can be marked for removal at once.  It stays usable, and the kernel frees it when
         * the last of us detaches, however we end. */
        if (shmctl(shmid, IPC_RMID, NULL) == -1)
            warn("shmctl IPC_RMID");
        warnx("reader pid %ld checked; segment %d attached and marked for removal",
              (long)reader, shmid);
        status = send_stdin(area, reader, &waitmask, lifeline) == 0 ? IPCLAB_EXIT_OK
                                                                    : IPCLAB_EXIT_FAIL;
    }
    if (lifeline != -1)
        close(lifeline);
    shm_cleanup(area, shmid, fifo, path, keyfd);
    ipclab_die_of_signal();
    return status;
}
