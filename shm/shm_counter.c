/*
 * shm_counter - a race made visible, then fixed three ways: System V semaphore, POSIX named
 * semaphore, process-shared mutex.
 *
 * N processes (fork) each add 1 to one counter in shared memory M times: read it, add 1, write
 * it back.  Two that read the same value both write value + 1: an add is lost.  A lock makes
 * the three steps a critical section:
 *   sysv   a System V semaphore: semget(), semctl(SETVAL) to 1, semop() -1 to enter, +1 to
 *          leave, with SEM_UNDO: the kernel undoes the -1 of a process that dies inside;
 *   posix  a POSIX named semaphore: sem_open(), sem_wait(), sem_post(), sem_unlink(); nothing
 *          undoes the wait of a process that dies inside: the others wait for ever;
 *   mutex  a pthread mutex in the shared memory, PTHREAD_PROCESS_SHARED and robust: the next
 *          process to lock one whose owner died gets EOWNERDEAD, and makes it consistent.
 *
 * Run it:  ./shm/shm_counter              (every lock in turn, 4 x 100000 adds)
 *          ./shm/shm_counter -l sysv -k    (one process killed inside the critical section)
 * What you should see (numbers vary; shm/README.md has real runs):
 *     lock        total   expected       lost   seconds
 *     none      2173911    4000000    1826089      0.01
 *     sysv      4000000    4000000          0      3.02
 *
 * Beyond the seeds: seed 004 names semaphores (信号量) as a locking mechanism and shows none.
 * Build alone: cc -o shm_counter shm_counter.c -pthread
 */
#define _GNU_SOURCE /* sched_getaffinity() and CPU_COUNT() (counter.h) */

#include <pthread.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/sem.h>

#include "../common/ipclab.h"
#include "counter.h"

static const char usage[] =
    "usage: shm_counter [-n PROCS] [-m TIMES] [-l LOCK] [-k] [-p /NAME]\n"
    "  PROCS processes each add 1 to one counter in shared memory TIMES times, with no lock\n"
    "  or with LOCK; for each, the total, the expected total, the adds lost and the time.\n"
    "  -n PROCS  how many processes (2 to 64, default 4)\n"
    "  -m TIMES  adds each (1 to 100000000, default 100000)\n"
    "  -l LOCK   none, sysv, posix, mutex, or all of them in turn (the default)\n"
    "  -k        before the others start, the last process makes one add and kills itself\n"
    "            (SIGKILL) holding the lock\n"
    "  -p /NAME  the POSIX semaphore's name (default: /ipclab-<uid>-counter)\n"
    "  -h        show this help\n";

/* What the processes share: mapped before fork(), so every child has the same pages.  volatile
 * makes the compiler read and write memory at every access, so that the race shows; it is no
 * lock (the adds without one are a data race, undefined in C11, made here on purpose). */
struct shared {
    volatile long count;           /* the counter they race on */
    volatile long done[MAX_PROCS]; /* adds process i made: written by process i alone */
    pthread_mutex_t mutex;         /* -l mutex */
};

static enum lock lock_kind;
static pid_t parent_pid;
static int semid = -1;           /* -l sysv: the set's id, inherited through fork() */
static sem_t *psem = SEM_FAILED; /* -l posix: open in the children too (fork() keeps it) */

/* semctl()'s fourth argument: the caller defines it (semctl(2)); SETVAL uses val. */
union semun {
    int val;               /* cppcheck-suppress unusedStructMember ; SETVAL */
    struct semid_ds *buf;  /* cppcheck-suppress unusedStructMember ; IPC_STAT, IPC_SET */
    unsigned short *array; /* cppcheck-suppress unusedStructMember ; GETALL, SETALL */
};

/* Make the lock of this run (nothing for none). */
static void make_lock(struct shared *s, const char *name)
{
    pthread_mutexattr_t attr;

    if (lock_kind == LOCK_SYSV) {
        /* IPC_PRIVATE: a new set no key leads to; the children inherit its id.  Set to 1
         * before any child exists, it has no initialisation race (shm_sem_writer.c has one). */
        if ((semid = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600)) == -1)
            err(IPCLAB_EXIT_FAIL, "semget");
        if (semctl(semid, 0, SETVAL, (union semun){ .val = 1 }) == -1) /* 1: free */
            err(IPCLAB_EXIT_FAIL, "semctl SETVAL");
    }
    if (lock_kind == LOCK_POSIX) { /* O_EXCL: never one somebody else made under that name */
        if ((psem = sem_open(name, O_CREAT | O_EXCL, 0600, 1)) == SEM_FAILED)
            err(IPCLAB_EXIT_FAIL, "sem_open %s", name);
        /* The name is only for opening it: unlinked now, it cannot be left behind; the
         * semaphore lives on while it is open, in our children too. */
        if (sem_unlink(name) == -1)
            warn("sem_unlink %s", name);
    }
    if (lock_kind == LOCK_MUTEX) { /* shared between processes; robust: outlives its owner */
        int rc;
        if ((rc = pthread_mutexattr_init(&attr)) == 0 &&
            (rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED)) == 0 &&
            (rc = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST)) == 0)
            rc = pthread_mutex_init(&s->mutex, &attr);
        if (rc != 0) {
            errno = rc;
            err(IPCLAB_EXIT_FAIL, "pthread_mutex_init");
        }
        pthread_mutexattr_destroy(&attr);
    }
}

/* Remove the System V set, if there is one (at the end of its run, and by atexit on a
 * failure: in the parent alone, for the children inherit the atexit list too). */
static void remove_set(void)
{
    if (getpid() == parent_pid && semid != -1 && semctl(semid, 0, IPC_RMID) == -1)
        warn("semctl IPC_RMID");
    semid = -1;
}

/* Enter the critical section (a child; a failure ends it). */
static void enter(struct shared *s, int i)
{
    struct sembuf down = { .sem_num = 0, .sem_op = -1, .sem_flg = SEM_UNDO };
    int rc = 0;

    if (lock_kind == LOCK_SYSV && semop(semid, &down, 1) == -1)
        err(IPCLAB_EXIT_FAIL, "semop -1");
    if (lock_kind == LOCK_POSIX && sem_wait(psem) == -1)
        err(IPCLAB_EXIT_FAIL, "sem_wait");
    if (lock_kind == LOCK_MUTEX && (rc = pthread_mutex_lock(&s->mutex)) == EOWNERDEAD) {
        /* Its owner died holding it.  We hold it now and must say that what it guards is whole
         * again, or every later lock fails.  It is: -k's victim dies after its write. */
        warnx("process %d: the mutex's owner died holding it (EOWNERDEAD); marked "
              "consistent, going on", i);
        rc = pthread_mutex_consistent(&s->mutex);
    }
    if (rc != 0) {
        errno = rc;
        err(IPCLAB_EXIT_FAIL, "pthread_mutex_lock");
    }
}

/* Leave it: give the lock back.  SEM_UNDO on the +1 too: the kernel keeps, per process, the
 * sum of its SEM_UNDO operations (semadj) to reverse at exit; -1 then +1 leaves 0.  With the
 * flag on the -1 alone, semadj would grow by one an add, and past 32767 semop() fails. */
static void leave(struct shared *s)
{
    struct sembuf up = { .sem_num = 0, .sem_op = 1, .sem_flg = SEM_UNDO };
    int rc;

    if (lock_kind == LOCK_SYSV && semop(semid, &up, 1) == -1)
        err(IPCLAB_EXIT_FAIL, "semop +1");
    if (lock_kind == LOCK_POSIX && sem_post(psem) == -1)
        err(IPCLAB_EXIT_FAIL, "sem_post");
    if (lock_kind == LOCK_MUTEX && (rc = pthread_mutex_unlock(&s->mutex)) != 0) {
        errno = rc;
        err(IPCLAB_EXIT_FAIL, "pthread_mutex_unlock");
    }
}

/* Child i: wait at the gate, then make its adds.  The gate is a pipe nobody writes: read()
 * returns 0 in every child at once when the parent closes the write end, so they all start
 * together.  -k: the last child does not wait: it makes one add and kills itself inside the
 * section, before the others start, so that they find the lock as a dead process left it. */
static _Noreturn void child(struct shared *s, int i, long times, bool die, int gate, pid_t parent)
{
    char byte;

    guard_child_ends_on_signals(parent); /* Ctrl-C, SIGTERM, its parent's death: ends at once */
    if (!die && read(gate, &byte, 1) == -1)
        err(IPCLAB_EXIT_FAIL, "read the gate");
    close(gate);
    for (long n = 0; n < times; n++) {
        enter(s, i);
        long value = s->count; /* read */
        value = value + 1;     /* add */
        s->count = value;      /* write: another process may have written since our read */
        s->done[i]++;
        if (die)
            raise(SIGKILL); /* holding the lock, as a crash would */
        leave(s);
    }
    _exit(IPCLAB_EXIT_OK);
}

/* One run with the lock lock_kind: fork the children, open the gate, wait, print the line. */
static int run(struct shared *s, const struct counter_options *o)
{
    pid_t pids[MAX_PROCS] = { 0 };
    struct timespec t0, t1;
    int gate[2];

    memset((void *)s, 0, sizeof *s); /* a new count for each run */
    make_lock(s, o->name);
    if (pipe(gate) == -1)
        err(IPCLAB_EXIT_FAIL, "pipe");
    fflush(stdout); /* or each child's exit would print what stdout still holds */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < o->procs; i++) {
        if ((pids[i] = fork()) == -1)
            err(IPCLAB_EXIT_FAIL, "fork"); /* the ones born end with us (PR_SET_PDEATHSIG) */
        if (pids[i] == 0) {
            close(gate[1]);
            child(s, i, o->times, o->die && i == o->procs - 1, gate[0], getppid());
        }
    }
    /* -k: the gate stays shut until the one to die has died.  WNOWAIT: not reaped here, so
     * wait_children() still sees it and says how it ended. */
    siginfo_t info;
    if (o->die && waitid(P_PID, (id_t)pids[o->procs - 1], &info, WEXITED | WNOWAIT) == -1)
        warn("waitid");
    close(gate[0]);
    close(gate[1]); /* the gate opens: every child's read() returns 0 */
    int rc = counter_reap(pids, (int)o->procs, &s->count, s->done);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long expected = 0;
    for (int i = 0; i < o->procs; i++)
        expected += s->done[i];
    printf("%-5s %11ld %10ld %10ld %9.2f\n", lock_names[lock_kind], s->count, expected,
           expected - s->count,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    remove_set();
    if (lock_kind == LOCK_POSIX && sem_close(psem) == -1) /* the last close frees it */
        warn("sem_close");
    return rc;
}

int main(int argc, char *argv[])
{
    struct counter_options o;
    counter_options(argc, argv, usage, &o);
    ipclab_catch_signals();
    parent_pid = getpid();
    atexit(remove_set);

    /* The counter: MAP_SHARED | MAP_ANONYMOUS, memory with no file behind it, which fork()
     * shares rather than copies (shm/mmap_fork.c shows it alone). */
    struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                            -1, 0);
    if (s == MAP_FAILED)
        err(IPCLAB_EXIT_FAIL, "mmap");
    counter_start(&o); /* SIGCHLD blocked, for counter_reap(); says how many CPUs */
    printf("lock        total   expected       lost   seconds\n");
    int status = IPCLAB_EXIT_OK;
    for (lock_kind = LOCK_NONE; lock_kind < LOCK_ALL && !ipclab_signal; lock_kind++)
        if ((o.which == LOCK_ALL || o.which == lock_kind) && run(s, &o) == -1)
            status = IPCLAB_EXIT_FAIL;
    if (!guard_results_out()) /* the lines lost are a failure */
        status = IPCLAB_EXIT_FAIL;
    if (munmap(s, sizeof *s) == -1)
        err(IPCLAB_EXIT_FAIL, "munmap");
    ipclab_die_of_signal();
    return status;
}
