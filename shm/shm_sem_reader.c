/*
 * shm_sem_reader - print what shm_sem_writer sends through a System V segment and two semaphores.
 *
 * Either side may come first, so the reader too makes the key with ftok(), gets the semaphore
 * set with semget() (creating it, and initialising it with semctl(SETALL), if the writer has
 * not; waiting, if it finds the set before its maker has initialised it, until semctl(IPC_STAT)
 * shows sem_otime != 0), and gets and attaches the segment with shmget() and shmat().  Then, a
 * segment-full at a time: wait for the reader's turn (semtimedop: -1 on the reader's
 * semaphore), print exactly the len bytes the writer left, and give the turn back (semop: +1 on
 * the writer's).  A length of 0 ends it; shmdt(), semctl(IPC_RMID) and shmctl(IPC_RMID) undo
 * the rest.  Unlike shm_reader, it sends no PID and waits for no SIGUSR1: a turn given before
 * it waits is not lost, as a semaphore counts.
 *
 * Run it in two terminals, either one first:
 *     terminal 1:  ./shm/shm_sem_reader
 *     terminal 2:  ./shm/shm_sem_writer
 * What you should see in terminal 1 (pids, ids and paths vary), once terminal 2 has sent a
 * line and pressed Ctrl-D:
 *     shm_sem_reader: ready (pid 4243): set 3 (made) and segment 9 (key from
 *       /tmp/ipclab-1000/shm_sem); waiting for shm_sem_writer
 *     hello semaphores
 *     shm_sem_reader: end of data: 17 bytes in 1 buffer(s)
 *
 * Who removes what: whichever side leaves last (nobody else holds a lock on the key file)
 * removes the set, the segment and the key file; a set or segment found with nobody there was
 * left by a pair that was killed, and is removed before a new one is made.
 *
 * Beyond the seeds: seed 004 names 信号量 (semaphores) and shows none.  Build alone:
 *     cc -o shm_sem_reader shm_sem_reader.c
 */
#define _GNU_SOURCE /* semtimedop(2) is Linux's (and ppoll, in ipclab_poll_timed) */

#include "../common/ipclab.h"
#include "../common/peers.h"
#include "../common/sysv.h"
#include "shm_sem.h"

static const char usage[] =
    "usage: shm_sem_reader [-p PATH]\n"
    "  Print what shm_sem_writer sends through a System V shared memory segment, one\n"
    "  segment-full at a time, as a set of two System V semaphores gives the turns, until the\n"
    "  empty buffer that marks the end.\n"
    "  -p PATH  the key file: ftok(3) makes the key of the set and of the segment from it\n"
    "           (default: shm_sem in the run directory, see the top README.md)\n"
    "  -h       show this help\n";

/* semget(2) without IPC_CREAT: the set of key if there is one, and whose it is (IPC_STAT, into
 * *ds).  Returns its id; -1 if there is none; -2 after a message (not ours, or an error). */
static int find_set(key_t key, const char *path, struct semid_ds *ds)
{
    char what[PATH_MAX + 64];
    union semun arg = { .buf = ds };
    int semid = semget(key, 0, 0);
    if (semid == -1 && errno == ENOENT)
        return -1;
    if (semid == -1) {
        shm_sem_get_failed("semget", "semaphore set", path);
        return -2;
    }
    shm_sem_name(what, sizeof what, "set", semid, path);
    if (semctl(semid, 0, IPC_STAT, arg) == -1) {
        warn("semctl IPC_STAT %s", what);
        return -2;
    }
    return ipclab_sysv_trusted(what, &ds->sem_perm) ? semid : -2;
}

/* shmget(2): the segment of key, made (mode 0600, zeroed by the kernel) if flags say
 * IPC_CREAT, and whose it is (IPC_STAT).  Returns its id; -1 if there is none; -2 after a
 * message. */
static int find_segment(key_t key, const char *path, size_t size, int flags)
{
    char what[PATH_MAX + 64];
    struct shmid_ds ds;
    int shmid = shmget(key, size, flags);
    if (shmid == -1 && errno == ENOENT)
        return -1;
    if (shmid == -1) {
        shm_sem_get_failed("shmget", "segment", path);
        return -2;
    }
    shm_sem_name(what, sizeof what, "segment", shmid, path);
    if (shmctl(shmid, IPC_STAT, &ds) == -1) {
        warn("shmctl IPC_STAT %s", what);
        return -2;
    }
    return ipclab_sysv_trusted(what, &ds.shm_perm) ? shmid : -2;
}

/*
 * Join: the key file (door held), the reader's role lock, the key.  If nobody else holds a lock
 * on the key file, a set or segment of our key was left by a pair that was killed: its values
 * mean nothing now, so it is removed (ours only) before the door is let go.  Returns the key
 * file's descriptor, or -1 after a message.
 */
static int join(const char *path, key_t *key)
{
    bool made;
    int keyfd = ipclab_key_file_open(path, &made);
    if (keyfd == -1)
        return -1;
    pid_t other = ipclab_lock_holder(keyfd, SHM_SEM_READER_LOCK);
    bool ok = other == 0 && ipclab_lock(keyfd, SHM_SEM_READER_LOCK, F_WRLCK, false) == 0;
    if (!ok)
        warnx("another shm_sem_reader (pid %ld) is already using %s", (long)other, path);
    /* ftok(3): the same file and project id give both sides the same key. */
    if (ok && (*key = ftok(path, SHM_SEM_PROJ)) == (key_t)-1) {
        warn("ftok %s", path);
        ok = false;
    }
    if (ok && ipclab_lock_holder(keyfd, -1) == 0) {
        struct semid_ds ds;
        int semid = find_set(*key, path, &ds), shmid = find_segment(*key, path, 0, 0);
        ok = semid != -2 && shmid != -2; /* refused: leave it as it is */
        if (ok && semid >= 0 && semctl(semid, 0, IPC_RMID) == 0)
            warnx("set %d was left by a pair that was killed: removed", semid);
        if (ok && shmid >= 0 && shmctl(shmid, IPC_RMID, NULL) == 0)
            warnx("segment %d was left by a pair that was killed: removed", shmid);
    }
    if (ok) {
        ipclab_lock(keyfd, SHM_SEM_DOOR, F_UNLCK, false);
        return keyfd;
    }
    if (made)
        ipclab_key_file_remove(path, keyfd); /* ours, door held; one we found is not */
    close(keyfd);
    return -1;
}

/*
 * The set of key: made (mode 0600) and initialised if missing, else found and checked, and not
 * used before its maker has initialised it.  *made says which.  Returns its id, or -1.
 *
 * The initialisation race, and why the finder waits for sem_otime: see shm_sem_writer.c.  Either
 * side may be the maker, so the reader too initialises a set it made, and gives the first turn
 * to the writer.
 */
static int get_set(key_t key, const char *path, int keyfd, bool *made)
{
    struct semid_ds ds;
    int semid;
    bool said = false;

    while ((semid = semget(key, SEM_COUNT, IPC_CREAT | IPC_EXCL | 0600)) == -1) {
        if (errno != EEXIST)
            return shm_sem_get_failed("semget", "semaphore set", path);
        if ((semid = find_set(key, path, &ds)) == -2)
            return -1;
        if (semid >= 0 && ds.sem_otime != 0) { /* found, and initialised */
            *made = false;
            return semid;
        }
        if (semid >= 0 && !said)
            warnx("set %d: found before its maker initialised it; waiting", semid);
        said = said || semid >= 0;
        /* The maker is the peer (a set found with nobody here was removed when we joined). */
        if (semid >= 0 && ipclab_lock_holder(keyfd, SHM_SEM_WRITER_LOCK) == 0) {
            warnx("set %d: its maker went before initialising it; removing it", semid);
            semctl(semid, 0, IPC_RMID);
        }
        /* A millisecond, then semget() again: made anew, found initialised, or waited for. */
        if (ipclab_poll_timed(NULL, 0, 1) == -1 && ipclab_signal)
            return -1;
    }
    /* Ours: both 0, then the first turn, the writer's, given by the semop that marks it. */
    unsigned short zeros[SEM_COUNT] = { 0, 0 };
    union semun arg = { .array = zeros };
    struct sembuf first = { SEM_WRITER, +1, 0 };
    if (semctl(semid, 0, SETALL, arg) == -1 || semop(semid, &first, 1) == -1) {
        warn("initialising set %d", semid);
        semctl(semid, 0, IPC_RMID);
        return -1;
    }
    *made = true;
    return semid;
}

/* Has the writer gone?  It has been here if the writer's semaphore holds less than the one
 * turn it started with plus those we gave back (handed): it took some.  Returns 1 if it has
 * gone, 0 if it is here or awaited, -1 after a message (the set is gone). */
static int writer_gone(int semid, int keyfd, long handed, bool *seen)
{
    int left = semctl(semid, SEM_WRITER, GETVAL);
    if (left == -1)
        return shm_sem_failed(semid, "semctl GETVAL");
    return shm_sem_peer_gone(keyfd, SHM_SEM_WRITER_LOCK, left < 1 + handed, seen);
}

/* Wait for our turn: semtimedop() takes 1 from the reader's semaphore, waiting while it is 0,
 * SHM_SEM_WAIT_MS at a time; each time the wait runs out, look at the writer.  Returns 0 with
 * the turn, or -1 (after a message if the writer has gone). */
static int take_turn(int semid, int keyfd, long handed, bool *seen)
{
    struct sembuf take = { SEM_READER, -1, 0 };
    const struct timespec wait = { 0, SHM_SEM_WAIT_MS * 1000000L };

    while (semtimedop(semid, &take, 1, &wait) == -1) {
        if (errno != EAGAIN && errno != EINTR)
            return shm_sem_failed(semid, "semtimedop");
        if (ipclab_signal)
            return -1;
        int gone = writer_gone(semid, keyfd, handed, seen);
        if (gone == -1)
            return -1;
        if (gone) {
            take.sem_flg = IPC_NOWAIT; /* a turn it gave before it went still counts */
            if (semop(semid, &take, 1) == 0)
                return 0;
            warnx("the writer has gone (or was killed) before the end");
            return -1;
        }
    }
    return 0;
}

/* Print each buffer in our turn and give the turn back, until the empty one.  Returns 0 at the
 * end, or -1.  The length is read once and checked: whoever can write the segment chooses it. */
static int print_buffers(int semid, const struct shm_sem_area *area, int keyfd)
{
    struct sembuf give = { SEM_WRITER, +1, 0 };
    long long total = 0;
    bool seen = false;

    for (long handed = 0;; handed++) {
        if (take_turn(semid, keyfd, handed, &seen) == -1)
            return -1;
        seen = true; /* that turn came from a writer */
        long len = area->len;
        if (len < 0 || (size_t)len > sizeof area->data) {
            warnx("the segment claims %ld bytes: not our writer?", len);
            return -1;
        }
        if (ipclab_write_all(STDOUT_FILENO, area->data, (size_t)len) == -1)
            return ipclab_fail("write stdout");
        if (semop(semid, &give, 1) == -1) /* the segment is the writer's again */
            return shm_sem_failed(semid, "semop");
        if (len == 0) {
            warnx("end of data: %lld bytes in %ld buffer(s)", total, handed);
            return 0;
        }
        total += len;
    }
}

/*
 * Leave.  Our part is over: the role lock goes first, and shmdt() detaches the segment.  Then,
 * at the door, the last one out (nobody else holds a lock on the key file) removes the set
 * (semctl IPC_RMID: at once, and a waiter gets EIDRM), the segment (shmctl IPC_RMID: freed at
 * the last detach) and the key file.
 */
static void leave(const char *path, int keyfd, int semid, int shmid, void *area)
{
    ipclab_lock(keyfd, SHM_SEM_READER_LOCK, F_UNLCK, false);
    if (area != NULL && shmdt(area) == -1)
        warn("shmdt");
    if (ipclab_door_to_leave(keyfd, SHM_SEM_DOOR) == 0 && ipclab_lock_holder(keyfd, -1) == 0) {
        if (semid >= 0 && semctl(semid, 0, IPC_RMID) == -1 && errno != EINVAL && errno != EIDRM)
            warn("semctl IPC_RMID");
        if (shmid >= 0 && shmctl(shmid, IPC_RMID, NULL) == -1 && errno != EINVAL &&
            errno != EIDRM)
            warn("shmctl IPC_RMID");
        ipclab_key_file_remove(path, keyfd);
    }
    close(keyfd);
}

int main(int argc, char *argv[])
{
    char path[PATH_MAX] = "";

    ipclab_stderr_by_line();
    ipclab_std_fds();
    if (ipclab_options_p(argc, argv, usage, ipclab_path_arg, path, sizeof path) < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (path[0] == '\0')
        ipclab_run_path(path, sizeof path, "shm_sem");
    ipclab_catch_signals(); /* the handlers only record the signal; main cleans up */

    key_t key;
    bool made = false;
    int status = IPCLAB_EXIT_FAIL, keyfd = join(path, &key), semid = -1, shmid = -1;
    struct shm_sem_area *area = NULL;
    if (keyfd != -1 && (semid = get_set(key, path, keyfd, &made)) != -1)
        shmid = find_segment(key, path, sizeof *area, IPC_CREAT | 0600);
    /* Attach: the segment's pages are ours too now.  Fix: shmat() fails with (void *)-1. */
    if (shmid >= 0 && (area = shmat(shmid, NULL, 0)) == (void *)-1) {
        warn("shmat");
        area = NULL;
    }
    if (area != NULL) {
        ipclab_ready("set %d (%s) and segment %d (key from %s); waiting for shm_sem_writer",
                     semid, made ? "made" : "found", shmid, path);
        status = print_buffers(semid, area, keyfd) == 0 ? IPCLAB_EXIT_OK : IPCLAB_EXIT_FAIL;
    }
    if (keyfd != -1)
        leave(path, keyfd, semid, shmid, area);
    ipclab_die_of_signal();
    return status;
}
