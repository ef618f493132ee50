/*
 * shm_reader - print what shm_writer puts in a System V shared memory segment.
 *
 * Shared memory is the fastest IPC: after shmat() both processes see the same pages, and data
 * moves without a system call.  But nothing says when a buffer is ready, or when the writer may
 * reuse it: signals do, here.  The steps: 1 ftok, shmget, shmat: the segment  2 mkfifo, open,
 * write: our PID to the writer (the FIFO stays open)  3 sigsuspend() until SIGUSR1, print the
 * buffer, kill(SIGUSR2) the writer; 0 bytes ends  4 shmdt, shmctl(IPC_RMID) if the writer has not.
 * Run it in two terminals, either one first:
 *     terminal 1:  ./shm/shm_reader
 *     terminal 2:  ./shm/shm_writer
 * What you should see in terminal 1 (pids, ids and paths vary), once terminal 2 has sent a
 * line and pressed Ctrl-D:
 *     shm_reader: ready (pid 4243): segment 7 attached; waiting for shm_writer on .../shm.fifo
 *     hello segment
 *     shm_reader: end of data: 14 bytes in 1 buffer(s)
 * Mirrors seed 004, 共享内存 (the reading side).  Build alone: cc -o shm_reader shm_reader.c
 */
#define _XOPEN_SOURCE 700 /* System V IPC and setitimer() are XSI */

#include "../common/ipclab.h"
#include "../common/peers.h"
#include "../common/sysv.h"
#include "shm.h"

static const char usage[] =
    "usage: shm_reader [-p PATH]\n"
    "  Print what shm_writer sends through a System V shared memory segment: send our PID\n"
    "  through the FIFO PATH.fifo, then print each buffer on SIGUSR1, answer SIGUSR2.\n"
    "  -p PATH  the key file ftok(3) makes the key from (default: shm in the run directory)\n"
    "  -h       show this help\n";

static char path[PATH_MAX], fifo[PATH_MAX];
static int keyfd = -1, shmid = -1, fifofd = -1; /* what leave() removes, or closes */

/* create_or_get_shm(), the seed's name: the key file, its key, the segment (0600 if made). */
static int create_or_get_shm(void)
{
    bool made;
    int file = ipclab_key_file_open(path, &made);
    if (file == -1)
        exit(IPCLAB_EXIT_FAIL);
    keyfd = made ? file : -1; /* a key file we made goes as we leave, whatever happens */
    key_t key = ftok(path, SHM_PROJ); /* the same file and id: the writer's key */
    if (key == (key_t)-1)
        err(IPCLAB_EXIT_FAIL, "ftok %s", path);
    int id = shmget(key, sizeof(struct shm_area), IPC_CREAT | 0600);
    if (id == -1)
        err(IPCLAB_EXIT_FAIL, "shmget (key from %s)", path);
    struct shmid_ds ds;
    if (shmctl(id, IPC_STAT, &ds) == -1) /* made or found: whose is it? */
        err(IPCLAB_EXIT_FAIL, "shmctl IPC_STAT %d", id);
    guard_segment_is_ours(id, path, &ds); /* not another user's, not open to others */
    keyfd = file;
    ipclab_lock(file, 0, F_UNLCK, false);
    return id;
}

/* atexit(): every way out.  The writer marks the segment once both are attached; if it never
 * got that far, we do. */
static void leave(void)
{
    if (shmid != -1 && shmctl(shmid, IPC_RMID, NULL) == -1 && errno != EIDRM && errno != EINVAL)
        warn("shmctl IPC_RMID");
    shm_remove_fifo(fifo, fifofd);
    shm_remove_key_file(path, keyfd);
    ipclab_die_of_signal();
}

int main(int argc, char *argv[])
{
    sigset_t waitmask;
    shm_options(argc, argv, usage, path, fifo);
    shm_catch(SHM_NOTE, &waitmask); /* SIGUSR1 stays blocked but in sigsuspend() */
    atexit(leave);

    /* 1. The segment, attached before the writer can know our PID. */
    shmid = create_or_get_shm();
    struct shm_area *area = shmat(shmid, NULL, 0);
    /* Fix: shmat() fails with (void *)-1, not NULL. */
    if (area == (void *)-1)
        err(IPCLAB_EXIT_FAIL, "shmat");

    /* 2. snd_self_PID(): our PID through the FIFO, last: once attached, SIGUSR1 blocked. */
    if (mkfifo(fifo, 0600) == -1 && errno != EEXIST)
        err(IPCLAB_EXIT_FAIL, "mkfifo %s", fifo);
    guard_fifo_is_ours(fifo); /* not a file, a link, another user's */
    ipclab_ready("segment %d attached; waiting for shm_writer on %s", shmid, fifo);
    while ((fifofd = open(fifo, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 && errno == EINTR)
        shm_exit_if_gone(-1, "writer", &waitmask); /* the SIGALRM: open() again */
    if (fifofd == -1)
        shm_die(fifo);
    guard_opened_fifo_is_ours(fifofd, fifo);
    pid_t self = getpid();
    /* Fix: the PID goes after shmat() and the blocking of SIGUSR1, not before. */
    if (write(fifofd, &self, sizeof self) != (ssize_t)sizeof self) /* one write: never split */
        shm_die(fifo);

    /* 3. Fix: nobody clears the segment (a bzero() would race the writer's next copy). */
    long long total = 0, count = 0;
    for (pid_t writer = 0;; count++) {
        /* Fix: sigsuspend(), not pause(): a SIGUSR1 sent before we wait is not lost. */
        while (!shm_signalled)
            if (sigsuspend(&waitmask) == -1)
                shm_exit_if_gone(fifofd, "writer", &waitmask); /* the SIGALRM: still there? */
        shm_signalled = 0;
        long len = area->len;
        guard_segment_names_the_writer(len, (pid_t)area->writer_pid, sizeof area->data, fifofd,
                                       &writer); /* a length that fits; a pid with the FIFO */
        if (ipclab_write_all(STDOUT_FILENO, area->data, (size_t)len) == -1)
            shm_die("write stdout");
        if (kill(writer, SHM_ACK) == -1) /* "done with it" */
            err(IPCLAB_EXIT_FAIL, "kill %ld (the writer)", (long)writer);
        if (len == 0)
            break;
        total += len;
    }
    warnx("end of data: %lld bytes in %lld buffer(s)", total, count);

    /* 4. Detach; leave() marks the segment for removal, as the writer has already. */
    if (shmdt(area) == -1)
        err(IPCLAB_EXIT_FAIL, "shmdt");
    return IPCLAB_EXIT_OK; /* atexit: leave() */
}
