/*
 * shm_writer - send stdin to shm_reader through a System V shared memory segment.
 *
 * The writer learns the reader's PID from a FIFO.  Then System V shared memory, in order:
 * ftok() makes the key from a file both sides name, shmget() gets the segment of that key
 * (creating it if the reader has not), shmat() attaches it, shmctl(IPC_RMID) marks it for
 * removal, and shmdt() detaches it at the end.  In between, one segment-full of stdin at a
 * time: copy it in with its length, tell the reader with SIGUSR1, and wait for the reader's
 * SIGUSR2 before touching the segment again.  An empty buffer (length 0) ends it.
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
#include "../common/peers.h"
#include "../common/sysv.h"
#include "shm.h"

static const char usage[] =
    "usage: shm_writer [-p PATH]\n"
    "  Send stdin to shm_reader through a System V shared memory segment, one segment-full at\n"
    "  a time: the reader's PID comes through the FIFO PATH.fifo; SIGUSR1 says a buffer is\n"
    "  ready, the reader's SIGUSR2 that it is done.\n"
    "  -p PATH  the key file: ftok(3) makes the segment's key from it (default: shm in the run\n"
    "           directory, see the top README.md); the FIFO is PATH.fifo\n"
    "  -h       show this help\n";

/*
 * create_or_get_shm(): the seed's name.  Under the key file's door (see ipclab_key_file_open),
 * make the key and get the segment, creating it (mode 0600) if missing; check a segment found.
 * Returns its id and the key file's descriptor in *keyfd, door released; or -1 after a message.
 */
static int create_or_get_shm(const char *path, int *keyfd)
{
    bool made;
    int fd = ipclab_key_file_open(path, &made), shmid = -1;
    if (fd == -1)
        return -1;
    struct shmid_ds ds;
    key_t key = ftok(path, SHM_PROJ); /* the same file and byte: the same key for both */
    if (key == (key_t)-1) {
        warn("ftok %s", path);
    } else if ((shmid = shmget(key, sizeof(struct shm_area), IPC_CREAT | 0600)) == -1) {
        if (errno == EACCES) /* not root: the segment exists, and we may not use it */
            warnx("the segment of the key from %s is not yours (shmget: %s); refusing to use "
                  "it", path, strerror(EACCES));
        else
            warn("shmget (key from %s)", path);
    } else if (shmctl(shmid, IPC_STAT, &ds) == -1) { /* a segment found: whose is it? */
        warn("shmctl IPC_STAT segment %d (key from %s)", shmid, path);
        shmid = -1;
    } else if (!shm_trusted(shmid, path, &ds)) {
        shmid = -1;
    }
    if (shmid == -1 && made)
        ipclab_key_file_remove(path, fd); /* ours, door held; one we found is not */
    ipclab_lock(fd, 0, F_UNLCK, false);
    if (shmid == -1)
        close(fd);
    else
        *keyfd = fd;
    return shmid;
}

/*
 * get_peer_PID(): the seed's name.  Read the reader's PID from the FIFO and check it before
 * kill() ever sees it: a whole pid_t (not a short read), positive, a live process that has this
 * FIFO open.  Returns the PID, or -1 after a message.  Fix: kill(0, ...) would signal our own
 * process group, kill(-1, ...) every process we own.
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
        warnx("refusing the PID %ld from %s: kill() of it would signal %s", (long)pid, fifo,
              pid == -1 ? "every process we may signal" : pid == 0 ? "our whole process group"
                                                        : "a whole process group");
        return -1;
    }
    int holds = shm_holds_fifo(pid, fd);
    if (holds == 0)
        warnx("refusing the PID %ld from %s: no process of ours with the FIFO open has it",
              (long)pid, fifo);
    if (holds != 1)
        return -1;
    return pid;
}

/*
 * Send stdin, one segment-full at a time, then the empty buffer.  Returns 0 once the reader has
 * acknowledged the end, -1 otherwise.  Fix: each buffer waits for the reader's SIGUSR2 (sleep()
 * is no synchronisation), and the lifeline ends the loop when the reader goes: its PID would
 * be a dead process's, or by then someone else's.
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

    ipclab_stderr_by_line();
    ipclab_std_fds();
    if (ipclab_options_p(argc, argv, usage, ipclab_path_arg, path, sizeof path) < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (path[0] == '\0')
        ipclab_run_path(path, sizeof path, "shm");
    if (snprintf(fifo, sizeof fifo, "%s.fifo", path) >= (int)sizeof fifo)
        ipclab_usage_error(usage, "-p: the path is too long");

    /* The handlers only record the signal: shmdt() and exit() are not async-signal-safe, so
     * the cleanup runs here in main. */
    ipclab_catch_signals();
    sigset_t waitmask;
    shm_catch(SHM_ACK, &waitmask);

    int status = IPCLAB_EXIT_FAIL, keyfd = -1, shmid = -1, lifeline = -1;
    struct shm_area *area = NULL;
    if (shm_make_fifo(fifo) == 0) {
        ipclab_ready("waiting for shm_reader on %s", fifo);
        lifeline = shm_open_fifo(fifo, O_RDONLY);
    }
    pid_t reader = lifeline == -1 ? -1 : get_peer_PID(lifeline, fifo);
    ipclab_start_ticks(); /* from now on, every tick looks at the lifeline */
    /* Attach: the segment's pages are now ours too, at an address the kernel picks.  Fix:
     * shmat() fails with (void *)-1, not NULL. */
    if (reader > 0 && (shmid = create_or_get_shm(path, &keyfd)) != -1 &&
        (area = shmat(shmid, NULL, 0)) == (void *)-1) {
        warn("shmat");
        area = NULL;
    }
    if (area != NULL) {
        /* The reader attached before it sent its PID: both are attached now, so the segment
         * can be marked for removal at once.  It stays usable, and the kernel frees it when
         * the last of us detaches, however we end. */
        if (shmctl(shmid, IPC_RMID, NULL) == -1)
            warn("shmctl IPC_RMID"); /* tried again as we leave */
        else
            warnx("reader pid %ld checked; segment %d attached and marked for removal",
                  (long)reader, shmid);
        status = send_stdin(area, reader, &waitmask, lifeline) == 0 ? IPCLAB_EXIT_OK
                                                                    : IPCLAB_EXIT_FAIL;
    }
    if (lifeline != -1)
        close(lifeline);
    if (area != NULL && shmdt(area) == -1)
        warn("shmdt");
    /* Marked already, unless we never got that far; the kernel frees it at the last shmdt(). */
    if (shmid != -1 && shmctl(shmid, IPC_RMID, NULL) == -1 && errno != EIDRM && errno != EINVAL)
        warn("shmctl IPC_RMID");
    shm_remove_files(fifo, path, keyfd);
    ipclab_die_of_signal();
    return status;
}
