/*
 * shm_sem_writer - send stdin to shm_sem_reader through a System V segment and two semaphores.
 * The steps: 1 ftok: one key  2 semget: a set of two semaphores, the writer's turn and the
 * reader's, made and initialised (semctl SETALL, a semop) or found (semctl IPC_STAT)  3 shmget,
 * shmat: the segment  4 each turn: semtimedop -1 on ours, stdin into the segment with its
 * length, semop +1 on the reader's; 0 bytes end  5 shmdt, IPC_RMID.  No PID, no signal.
 * Run it in two terminals, either first:  1: ./shm/shm_sem_reader   2: ./shm/shm_sem_writer
 * Terminal 2 says (pids, ids and paths vary), then takes lines until Ctrl-D:
 *     shm_sem_writer: ready (pid 4242): set 3 (found) and segment 9 (key from
 *       /tmp/ipclab-1000/shm_sem); up to 65528 bytes a turn
 *     hello semaphores
 *     shm_sem_writer: end of input: 17 bytes in 1 buffer(s); the reader took the end
 * Beyond the seeds: seed 004 names 信号量 (semaphores), shows none.  cc shm_sem_writer.c
 */
#define _GNU_SOURCE /* semtimedop(2) and pidfd_open(2) are Linux's */
#include "shm_sem.h" /* and ../common/: ipclab.h, peers.h, sysv.h */

static const char usage[] =
    "usage: shm_sem_writer [-p PATH]\n"
    "  Send stdin to shm_sem_reader through a System V segment, in turns two semaphores give.\n"
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

static bool reader_gone(void) /* the last to operate on its semaphore: the reader, once here */
{
    return shm_sem_peer_gone(semid, semctl(semid, SEM_READER, GETPID));
}

static void take_turn(void) /* SHM_SEM_WAIT_MS at a time; then a look at the reader */
{
    struct sembuf take = { SEM_WRITER, -1, 0 };
    while (semtimedop(semid, &take, 1, &shm_sem_wait) == -1) {
        if ((errno != EAGAIN && errno != EINTR) || take.sem_flg == IPC_NOWAIT)
            shm_sem_die(semid, "semtimedop");
        if (reader_gone())
            take.sem_flg = IPC_NOWAIT; /* one more try: a turn it gave before it went counts */
    }
}

static void leave(void) /* atexit(): every way out; the last one out removes what we used */
{
    if (shm_sem_last_out(keyfd, SHM_SEM_WRITER_LOCK, path, semid != -1)) {
        semctl(semid, 0, IPC_RMID); /* at once: a waiter gets EIDRM (-1: none, or gone) */
        shmctl(shmid, IPC_RMID, NULL); /* freed once all have detached */
    }
    shm_sem_left(keyfd);
}

int main(int argc, char *argv[])
{
    shm_sem_options(argc, argv, usage, path, "reader");
    atexit(leave);
    /* 1. One key for the set and the segment; byte 0 of the key file is locked while we join. */
    keyfd = shm_sem_join(path, SHM_SEM_WRITER_LOCK, "shm_sem_writer");
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
    ipclab_ready("set %d (%s) and segment %d (key from %s); up to %zu bytes a turn", semid,
                 made ? "made" : "found", shmid, path, sizeof area->data);
    /* 4. Our turn: fill the segment, then give the reader its turn; 0 bytes mark the end. */
    struct sembuf give = { SEM_READER, +1, 0 };
    long long total = 0, count = 0;
    for (;; count++) {
        take_turn();
        shm_sem_wait_input(reader_gone); /* a terminal may keep us waiting */
        ssize_t n = read(STDIN_FILENO, area->data, sizeof area->data);
        if (n == -1)
            err(IPCLAB_EXIT_FAIL, "read stdin");
        area->len = n;
        if (semop(semid, &give, 1) == -1) /* the segment is the reader's now */
            shm_sem_die(semid, "semop");
        if (n == 0)
            break;
        total += n;
    }
    take_turn(); /* the turn the reader gives back for the end: it has it */
    warnx("end of input: %lld bytes in %lld buffer(s); the reader took the end", total, count);
    if (shmdt(area) == -1) /* 5. Detach; leave() removes the set, the segment, the key file */
        err(IPCLAB_EXIT_FAIL, "shmdt");
    return IPCLAB_EXIT_OK;
}
