/*
 * shm_sem_reader - print what shm_sem_writer sends through a System V segment and two semaphores.
 * Either side may come first, so the reader too makes or finds what they share.  The steps:
 * 1 ftok: one key  2 semget: the set, made and initialised (semctl SETALL, a semop) or found
 * (semctl IPC_STAT), waiting until its maker has initialised it  3 shmget, shmat  4 each turn:
 * semtimedop -1 on the reader's semaphore, print the len bytes the writer left, semop +1 on the
 * writer's; 0 bytes end  5 shmdt, IPC_RMID.  Unlike shm_reader: no PID sent, no SIGUSR1 waited for.
 * Run it in two terminals, either first:  1: ./shm/shm_sem_reader   2: ./shm/shm_sem_writer
 * Terminal 1 says (pids, ids and paths vary), and once terminal 2 has sent a line and Ctrl-D:
 *     shm_sem_reader: ready (pid 4243): set 3 (made) and segment 9 (key from
 *       /tmp/ipclab-1000/shm_sem); waiting for shm_sem_writer
 *     hello semaphores
 *     shm_sem_reader: end of data: 17 bytes in 1 buffer(s)
 * Beyond the seeds: seed 004 names 信号量 (semaphores), shows none.  cc shm_sem_reader.c
 */
#define _GNU_SOURCE /* semtimedop(2) and pidfd_open(2) are Linux's */
#include "shm_sem.h" /* and ../common/: ipclab.h, peers.h, sysv.h */

static const char usage[] =
    "usage: shm_sem_reader [-p PATH]\n"
    "  Print what shm_sem_writer sends through a System V segment, in turns two semaphores give.\n"
    "  -p PATH  the key file ftok(3) makes the key from (default: shm_sem in the run directory)\n"
    "  -h       show this help\n";

static char path[PATH_MAX];
static int keyfd = -1, semid = -1, shmid = -1; /* what leave() removes */

/* The set of key, made (IPC_EXCL: by one side only) and initialised, or found.  Fix: its values
 * are undefined until SETALL: a set found is used once its maker's semop() set sem_otime. */
static bool get_set(key_t key)
{
    struct semid_ds ds;
    union semun arg = { .buf = &ds };
    while ((semid = semget(key, SEM_COUNT, IPC_CREAT | IPC_EXCL | 0600)) == -1) {
        int id = errno == EEXIST ? semget(key, 0, 0) : -1; /* EEXIST: find it */
        if (id == -1 && errno == ENOENT)
            continue; /* removed meanwhile: make it */
        if (id == -1 || semctl(id, 0, IPC_STAT, arg) == -1)
            shm_sem_die(id, "semget, semctl IPC_STAT");
        guard_object_is_ours("set", id, path, &ds.sem_perm); /* not another user's */
        const char *why = shm_sem_found(&ds, semctl(id, SEM_WRITER, GETPID),
                                        semctl(id, SEM_READER, GETPID), keyfd, id);
        if (why == NULL) {
            semid = id;
            return false; /* found: initialised, and its last user is alive */
        }
        if (*why != '\0' && semctl(id, 0, IPC_RMID) == 0)
            warnx("set %d%s", id, why);
    }
    unsigned short zeros[SEM_COUNT] = { 0, 0 };
    struct sembuf first = { SEM_WRITER, +1, 0 }; /* the writer's turn; sets sem_otime */
    arg.array = zeros;
    if (semctl(semid, 0, SETALL, arg) == -1 || semop(semid, &first, 1) == -1)
        err(IPCLAB_EXIT_FAIL, "initialising set %d", semid);
    return true;
}

static bool writer_gone(void) /* the last to operate on its semaphore: the writer, once here */
{
    return shm_sem_peer_gone(semid, semctl(semid, SEM_WRITER, GETPID));
}

static void take_turn(void) /* SHM_SEM_WAIT_MS at a time; then a look at the writer */
{
    struct sembuf take = { SEM_READER, -1, 0 };
    while (semtimedop(semid, &take, 1, &shm_sem_wait) == -1) {
        if ((errno != EAGAIN && errno != EINTR) || take.sem_flg == IPC_NOWAIT)
            shm_sem_die(semid, "semtimedop");
        if (writer_gone())
            take.sem_flg = IPC_NOWAIT; /* one more try: a turn it gave before it went counts */
    }
    writer_gone(); /* who gave it: the writer we look at from now on */
}

static void leave(void) /* atexit(): every way out; the last one out removes what we used */
{
    if (shm_sem_last_out(keyfd, SHM_SEM_READER_LOCK, path, semid != -1)) {
        semctl(semid, 0, IPC_RMID); /* at once: a waiter gets EIDRM (-1: none, or gone) */
        shmctl(shmid, IPC_RMID, NULL); /* freed once all have detached */
    }
    shm_sem_left(keyfd);
}

int main(int argc, char *argv[])
{
    shm_sem_options(argc, argv, usage, path, "writer");
    atexit(leave);
    /* 1. One key for the set and the segment; byte 0 of the key file is locked while we join. */
    keyfd = shm_sem_join(path, SHM_SEM_READER_LOCK, "shm_sem_reader");
    key_t key = ftok(path, SHM_SEM_PROJ);
    if (key == (key_t)-1)
        err(IPCLAB_EXIT_FAIL, "ftok %s", path);
    bool made = get_set(key); /* 2. The set */
    struct shmid_ds ds;
    for (;;) { /* 3. The segment: one a killed pair left (nobody attached) goes first */
        shmid = shmget(key, sizeof(struct shm_sem_area), IPC_CREAT | 0600);
        if (shmid == -1 || shmctl(shmid, IPC_STAT, &ds) == -1)
            err(IPCLAB_EXIT_FAIL, "shmget (key from %s)", path);
        guard_segment_is_ours(&shmid, path, &ds); /* not another user's */
        if (!made || ds.shm_nattch > 0 || ds.shm_cpid == getpid())
            break;
        if (shmctl(shmid, IPC_RMID, NULL) == 0) /* we made the set: nobody else is here */
            warnx("segment %d was left by a pair that was killed: removed", shmid);
    }
    ipclab_lock(keyfd, SHM_SEM_JOIN, F_UNLCK, false); /* joined: the others may come now */
    struct shm_sem_area *area = shmat(shmid, NULL, 0);
    if (area == (void *)-1) /* Fix: shmat() fails with (void *)-1, not NULL */
        err(IPCLAB_EXIT_FAIL, "shmat");
    ipclab_ready("set %d (%s) and segment %d (key from %s); waiting for shm_sem_writer", semid,
                 made ? "made" : "found", shmid, path);
    /* 4. Our turn: print what the segment holds, then give the writer its turn back. */
    struct sembuf give = { SEM_WRITER, +1, 0 };
    long long total = 0, count = 0;
    for (;; count++) {
        take_turn();
        long len = area->len; /* read once: whoever can write the segment chooses it */
        guard_length_fits(len, sizeof area->data);
        if (ipclab_write_all(STDOUT_FILENO, area->data, (size_t)len) == -1)
            shm_sem_die(-1, "write stdout");
        if (semop(semid, &give, 1) == -1) /* the segment is the writer's again */
            shm_sem_die(semid, "semop");
        if (len == 0)
            break;
        total += len;
    }
    warnx("end of data: %lld bytes in %lld buffer(s)", total, count);
    if (shmdt(area) == -1) /* 5. Detach; leave() removes the set, the segment, the key file */
        err(IPCLAB_EXIT_FAIL, "shmdt");
    return IPCLAB_EXIT_OK;
}
