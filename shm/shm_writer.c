/*
 * shm_writer - send stdin to shm_reader through a System V shared memory segment.
 *
 * The steps: 1 mkfifo, open, read: the reader's PID (the FIFO stays open)  2 ftok, shmget,
 * shmat: the segment  3 shmctl(IPC_RMID): freed at the last detach  4 a segment-full of stdin
 * at a time, with its length: kill(SIGUSR1), sigsuspend() until SIGUSR2; 0 bytes ends  5 shmdt.
 * Run it in two terminals, either one first:
 *     terminal 1:  ./shm/shm_reader
 *     terminal 2:  ./shm/shm_writer
 * What you should see in terminal 2 (pids, ids and paths vary), then type lines, then Ctrl-D:
 *     shm_writer: ready (pid 4242): waiting for shm_reader on /tmp/ipclab-1000/shm.fifo
 *     shm_writer: reader pid 4243 checked; segment 7 attached and marked for removal
 *     hello segment
 *     shm_writer: end of input: 14 bytes in 1 buffer(s), each acknowledged
 * Mirrors seed 004, 共享内存 (the writing side).  Build alone: cc -o shm_writer shm_writer.c
 */
#define _XOPEN_SOURCE 700 /* System V IPC and setitimer() are XSI */

#include "../common/ipclab.h"
#include "../common/peers.h"
#include "../common/sysv.h"
#include "shm.h"

static const char usage[] =
    "usage: shm_writer [-p PATH]\n"
    "  Send stdin to shm_reader through a System V shared memory segment, a segment-full at a\n"
    "  time; the reader's PID comes through the FIFO PATH.fifo.  SIGUSR1: ready; SIGUSR2: done.\n"
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
    key_t key = ftok(path, SHM_PROJ); /* the same file and id: the reader's key */
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

/* atexit(): every way out, err() and a termination signal included. */
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
    shm_catch(SHM_ACK, &waitmask); /* SIGUSR2 stays blocked but in sigsuspend() */
    atexit(leave);

    /* 1. get_peer_PID(): the reader writes its PID into the FIFO. */
    if (mkfifo(fifo, 0600) == -1 && errno != EEXIST)
        err(IPCLAB_EXIT_FAIL, "mkfifo %s", fifo);
    guard_fifo_is_ours(fifo); /* not a file, a link, another user's */
    ipclab_ready("waiting for shm_reader on %s", fifo);
    while ((fifofd = open(fifo, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 && errno == EINTR)
        shm_exit_if_gone(-1, "reader", &waitmask); /* the SIGALRM: open() again */
    if (fifofd == -1)
        shm_die(fifo);
    guard_opened_fifo_is_ours(fifofd, fifo);
    pid_t reader;
    ssize_t n;
    while ((n = read(fifofd, &reader, sizeof reader)) == -1 && errno == EINTR)
        shm_exit_if_gone(-1, "reader", &waitmask);
    if (n == -1)
        shm_die(fifo);
    guard_pid_is_the_reader(reader, n, fifofd, fifo); /* whole, > 0, and it holds the FIFO */

    /* 2. The segment, and our view of it: shmat() maps its pages into ours. */
    shmid = create_or_get_shm();
    struct shm_area *area = shmat(shmid, NULL, 0);
    /* Fix: shmat() fails with (void *)-1, not NULL. */
    if (area == (void *)-1)
        err(IPCLAB_EXIT_FAIL, "shmat");
    /* 3. The reader attached before it sent its PID: once we are too, mark it for removal. */
    if (shmctl(shmid, IPC_RMID, NULL) == -1)
        err(IPCLAB_EXIT_FAIL, "shmctl IPC_RMID");
    warnx("reader pid %ld checked; segment %d attached and marked for removal", (long)reader,
          shmid);

    /* 4. A segment-full of stdin at a time, with its length; 0 bytes end it. */
    long long total = 0, count = 0;
    area->writer_pid = getpid();
    for (;; count++) {
        while ((n = read(STDIN_FILENO, area->data, sizeof area->data)) == -1 && errno == EINTR)
            shm_exit_if_gone(fifofd, "reader", &waitmask); /* the SIGALRM: is it still there? */
        if (n == -1)
            err(IPCLAB_EXIT_FAIL, "read stdin");
        area->len = n;
        if (kill(reader, SHM_NOTE) == -1) /* "a buffer is ready" */
            err(IPCLAB_EXIT_FAIL, "kill %ld (the reader)", (long)reader);
        /* Fix: wait for SIGUSR2 (sleep() is no sync) in sigsuspend(), which pause() would lose. */
        while (!shm_signalled)
            if (sigsuspend(&waitmask) == -1)
                shm_exit_if_gone(fifofd, "reader", &waitmask);
        shm_signalled = 0;
        if (n == 0)
            break;
        total += n;
    }
    warnx("end of input: %lld bytes in %lld buffer(s), each acknowledged", total, count);

    /* 5. Detach: the kernel frees the marked segment when the reader has detached too. */
    if (shmdt(area) == -1)
        err(IPCLAB_EXIT_FAIL, "shmdt");
    return IPCLAB_EXIT_OK; /* atexit: leave() */
}
