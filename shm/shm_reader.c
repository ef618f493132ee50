/*
 * shm_reader - print what shm_writer puts in a System V shared memory segment.
 *
 * Shared memory is the fastest IPC: ftok() makes a key from a file both sides name, shmget()
 * gets the segment of that key (creating it if the writer has not), and after shmat() both
 * processes see the same pages: data moves without a system call.  shmdt() detaches, and
 * shmctl(IPC_RMID) removes the segment.  But nothing tells the reader when a buffer is ready,
 * or the writer when it may reuse it.  Signals do that here: the reader sends its PID through
 * a FIFO, the writer says "ready" with SIGUSR1, and the reader answers "done" with SIGUSR2, so
 * the writer never overwrites a buffer still being printed.
 *
 * Run it in two terminals, either one first:
 *     terminal 1:  ./shm/shm_reader
 *     terminal 2:  ./shm/shm_writer
 * What you should see in terminal 1 (pids, ids and paths vary), once terminal 2 has sent a
 * line and pressed Ctrl-D:
 *     shm_reader: ready (pid 4243): segment 7 attached; waiting for shm_writer on .../shm.fifo
 *     hello segment
 *     shm_reader: end of data: 14 bytes in 1 buffer(s)
 *
 * Who removes what: the writer marks the segment for removal (IPC_RMID) as soon as both sides
 * are attached, so the kernel frees it when the last one detaches, even if both are killed.
 * Each side marks it too when it leaves (in case the writer never got that far), and removes
 * the FIFO and the key file.
 *
 * Mirrors seed 004, 共享内存 (the reading side).  Build alone:
 *     cc -o shm_reader shm_reader.c
 */
#define _XOPEN_SOURCE 700 /* System V IPC and setitimer() are XSI */

#include "../common/ipclab.h"
#include "../common/peers.h"
#include "../common/sysv.h"
#include "shm.h"

static const char usage[] =
    "usage: shm_reader [-p PATH]\n"
    "  Print what shm_writer sends through a System V shared memory segment: this side sends\n"
    "  its PID through the FIFO PATH.fifo, waits for SIGUSR1, prints the buffer and answers\n"
    "  SIGUSR2, until an empty buffer.\n"
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
 * snd_self_PID(): the seed's name.  Send our PID through the FIFO, which stays open: it is the
 * lifeline by which each side learns that the other has gone.  Returns the FIFO's descriptor,
 * or -1.  Fix: the PID goes last, once the reader is attached and its SIGUSR1 blocked:
 * sent earlier, the writer could fill the segment and signal before the reader had it.
 */
static int snd_self_PID(const char *fifo, int shmid)
{
    if (shm_make_fifo(fifo) == -1)
        return -1;
    ipclab_ready("segment %d attached; waiting for shm_writer on %s", shmid, fifo);
    int fd = shm_open_fifo(fifo, O_WRONLY);
    if (fd == -1)
        return -1;
    ipclab_start_ticks(); /* from now on, every tick looks at the lifeline */
    pid_t pid = getpid();
    if (ipclab_write_all(fd, &pid, sizeof pid) == -1) {
        if (errno == EPIPE)
            warnx("the writer closed %s before taking our PID", fifo);
        else if (errno != EINTR)
            warn("write %s", fifo);
        close(fd);
        return -1;
    }
    return fd;
}

/*
 * Print each buffer the writer announces, acknowledge it, and stop at the empty one.
 * Returns 0 at the end of data, -1 otherwise.  Fix: nobody clears the segment (a bzero() here
 * would race the writer's next copy); the writer waits for our SIGUSR2 before it touches it.
 */
static int print_buffers(struct shm_area *area, const sigset_t *waitmask, int lifeline)
{
    long long total = 0, count = 0;
    pid_t checked = 0; /* the writer's pid, once checked */

    for (;;) {
        if (shm_wait(waitmask, lifeline, "writer") == -1)
            return -1;
        long len = area->len;
        pid_t writer = (pid_t)area->writer_pid;
        if (len < 0 || (size_t)len > sizeof area->data || writer <= 0) {
            warnx("the segment holds nonsense (length %ld, writer %ld): not our writer?", len,
                  (long)writer);
            return -1;
        }
        /* Fix: anyone who can write the segment chooses the pid it names, and so the process
         * our SIGUSR2 would kill.  As the writer checks ours, it must be a live process that
         * holds the FIFO open. */
        if (writer != checked) {
            int holds = shm_holds_fifo(writer, lifeline);
            if (holds == 0)
                warnx("refusing to signal the PID %ld the segment names as the writer's: no "
                      "process of ours with the FIFO open has it", (long)writer);
            if (holds != 1)
                return -1;
            checked = writer;
        }
        if (len > 0 && ipclab_write_all(STDOUT_FILENO, area->data, (size_t)len) == -1) {
            if (errno != EINTR)
                warn("write stdout");
            return -1;
        }
        if (kill(writer, SHM_ACK) == -1) {
            warn("kill %ld (the writer)", (long)writer);
            return -1;
        }
        if (len == 0) {
            warnx("end of data: %lld bytes in %lld buffer(s)", total, count);
            return 0;
        }
        total += len;
        count++;
    }
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

    ipclab_catch_signals(); /* the handlers only record the signal; main cleans up */
    sigset_t waitmask;
    shm_catch(SHM_NOTE, &waitmask);

    int status = IPCLAB_EXIT_FAIL, keyfd = -1, lifeline = -1;
    struct shm_area *area = NULL;
    int shmid = create_or_get_shm(path, &keyfd);
    /* Attach before sending the PID; shmat() fails with (void *)-1, not NULL. */
    if (shmid != -1 && (area = shmat(shmid, NULL, 0)) == (void *)-1) {
        warn("shmat");
        area = NULL;
    }
    if (area != NULL && (lifeline = snd_self_PID(fifo, shmid)) != -1) {
        status = print_buffers(area, &waitmask, lifeline) == 0 ? IPCLAB_EXIT_OK
                                                               : IPCLAB_EXIT_FAIL;
        close(lifeline);
    }
    if (area != NULL && shmdt(area) == -1)
        warn("shmdt");
    /* The writer marks the segment once both are attached; if it never got that far, we do. */
    if (shmid != -1 && shmctl(shmid, IPC_RMID, NULL) == -1 && errno != EIDRM && errno != EINVAL)
        warn("shmctl IPC_RMID");
    shm_remove_files(fifo, path, keyfd);
    ipclab_die_of_signal();
    return status;
}
