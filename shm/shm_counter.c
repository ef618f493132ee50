/*
 * shm_counter - a race made visible, then fixed three ways: System V semaphore, POSIX named
 * semaphore, process-shared mutex.
 *
 * N processes (fork) each add 1 to one counter in shared memory M times.  An add is three steps:
 * read the counter, add 1, write it back.  Two processes that read the same value both write
 * value + 1, and one of the adds is lost.  Without a lock, on two CPUs, many are.  A lock makes
 * the three steps a critical section that one process at a time may enter:
 *   sysv   a System V semaphore set of one: semget(), semctl(SETVAL) to 1, semop() -1 to enter
 *          and +1 to leave, with SEM_UNDO: the kernel undoes the -1 of a process that dies
 *          inside, so the others go on (it gives the semaphore back, not whole data: here
 *          the dead process had finished its write);
 *   posix  a POSIX named semaphore: sem_open(), sem_wait(), sem_post(), sem_unlink();
 *          nothing undoes the wait of a process that dies inside, and the others wait for ever;
 *   mutex  a pthread mutex in the shared memory, PTHREAD_PROCESS_SHARED and robust: the next
 *          process to lock one whose owner died gets EOWNERDEAD, and makes it consistent.
 * For each, one line: the total, the expected total (the adds each process says it made), the
 * adds lost, and the time, so that the price of correctness shows.
 *
 * Run it (one terminal: all the processes are this one program):
 *     ./shm/shm_counter                     # every lock in turn, 4 x 100000 adds
 *     ./shm/shm_counter -l sysv -k          # one process killed inside the critical section
 *     taskset -c 0 ./shm/shm_counter -l none    # the race on one CPU: it may hide
 * What you should see (numbers vary; shm/README.md has real runs):
 *     shm_counter: 4 processes x 100000 adds each, on 2 CPU(s)
 *     lock       total   expected       lost   seconds
 *     none     2173911    4000000    1826089      0.01
 *     sysv     4000000    4000000          0      3.02
 *     ...
 *
 * Beyond the seeds: seed 004 names semaphores (信号量) as a locking mechanism and shows none.
 * Build alone: cc -o shm_counter shm_counter.c -pthread
 */
#define _GNU_SOURCE /* sched_getaffinity() and CPU_COUNT(), to say how many CPUs we may use */

#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sem.h>

#include "../common/ipclab.h"
#include "../common/peers.h"

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

enum lock { LOCK_NONE, LOCK_SYSV, LOCK_POSIX, LOCK_MUTEX, LOCK_ALL };
static const char *const lock_names[] = { "none", "sysv", "posix", "mutex", "all" };
#define MAX_PROCS 64

/* What the processes share: mapped before fork(), so each child has the same pages.  volatile
 * only makes the compiler read and write the memory at every access, so that the race shows;
 * it is no lock.  Without one, the adds are a data race, undefined behaviour in C11, made here
 * on purpose; with one, the lock (its calls are barriers too) is what makes the total right. */
struct shared {
    volatile long count;           /* the counter they race on */
    volatile long done[MAX_PROCS]; /* adds process i made: written by process i alone */
    pthread_mutex_t mutex;         /* -l mutex */
};

static enum lock lock_kind;
static int semid = -1;         /* -l sysv: the set's id, inherited through fork() */
static sem_t *psem = SEM_FAILED; /* -l posix: open in the children too (POSIX fork()) */

/* semctl()'s fourth argument: the caller must define it, whole (semctl(2)); SETVAL uses val. */
union semun {
    /* (cppcheck sees neither the designated initializer of val nor the kernel's use of them) */
    int val;               /* cppcheck-suppress unusedStructMember ; SETVAL */
    struct semid_ds *buf;  /* cppcheck-suppress unusedStructMember ; IPC_STAT, IPC_SET */
    unsigned short *array; /* cppcheck-suppress unusedStructMember ; GETALL, SETALL */
};

/*
 * Enter the critical section.  Returns 0, or -1 when a termination signal ended the wait (a
 * semaphore wait returns EINTR; pthread_mutex_lock() never does, and waits on: its holder is
 * busy adding, never blocked for long).
 */
static int enter(struct shared *s, int i)
{
    struct sembuf down = { .sem_num = 0, .sem_op = -1, .sem_flg = SEM_UNDO };
    int rc;

    switch (lock_kind) {
    case LOCK_SYSV:
        while (semop(semid, &down, 1) == -1)
            if (errno != EINTR || ipclab_signal)
                return ipclab_fail("semop -1");
        return 0;
    case LOCK_POSIX:
        while (sem_wait(psem) == -1)
            if (errno != EINTR || ipclab_signal)
                return ipclab_fail("sem_wait");
        return 0;
    case LOCK_MUTEX:
        if ((rc = pthread_mutex_lock(&s->mutex)) == EOWNERDEAD) {
            /* Its owner died holding it.  We hold it now, and must say that what it guards is
             * whole again, or every later lock fails (ENOTRECOVERABLE).  It is: the process
             * -k kills dies after its write, so the counter holds every add made. */
            warnx("process %d: the mutex's owner died holding it (EOWNERDEAD); marked "
                  "consistent, going on", i);
            if ((rc = pthread_mutex_consistent(&s->mutex)) != 0) {
                pthread_mutex_unlock(&s->mutex); /* ENOTRECOVERABLE for the next ones */
                errno = rc;
                return ipclab_fail("pthread_mutex_consistent");
            }
        }
        if (rc != 0) {
            errno = rc;
            return ipclab_fail("pthread_mutex_lock");
        }
        return 0;
    default:
        return 0;
    }
}

/* Leave the critical section: give the lock back.  Returns 0, or -1 after a message. */
static int leave(struct shared *s)
{
    /* SEM_UNDO on the +1 too: the kernel keeps, per process, the sum of what its SEM_UNDO
     * operations did (semadj) and reverses it at exit; -1 then +1 leaves 0.  With the flag on
     * the -1 alone, semadj would grow by one an add, and past SEMAEM (32767) semop() fails. */
    struct sembuf up = { .sem_num = 0, .sem_op = 1, .sem_flg = SEM_UNDO };
    int rc;

    switch (lock_kind) {
    case LOCK_SYSV:
        return semop(semid, &up, 1) == -1 ? ipclab_fail("semop +1") : 0;
    case LOCK_POSIX:
        return sem_post(psem) == -1 ? ipclab_fail("sem_post") : 0;
    case LOCK_MUTEX:
        if ((rc = pthread_mutex_unlock(&s->mutex)) != 0) {
            errno = rc;
            return ipclab_fail("pthread_mutex_unlock");
        }
        return 0;
    default:
        return 0;
    }
}

/* SIGTERM (caught: the loop below ends) when the parent dies; if it died before we asked,
 * getppid() is no longer parent, and we leave at once. */
static void guard_die_with_parent(pid_t parent)
{
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
        warn("prctl PR_SET_PDEATHSIG");
    if (getppid() != parent)
        _exit(IPCLAB_EXIT_FAIL);
}

/*
 * Child i: wait at the gate, then make its adds.  The gate is a pipe nobody writes: read()
 * blocks until the parent closes the write end, and then returns 0 in every child at once, so
 * that they all start together (without it, the first could be done before the last is born,
 * and the race would hide).  -k: the last child does not wait: it makes one add and kills
 * itself inside the section, while the others are still at the gate (see run()), so that they
 * all find the lock as a dead process left it.
 */
static _Noreturn void child(struct shared *s, int i, long times, bool die, int gate, pid_t parent)
{
    char byte;

    guard_die_with_parent(parent); /* a wait nobody ends (the POSIX stall) ends with the parent */
    while (!die && read(gate, &byte, 1) == -1 && errno == EINTR && !ipclab_signal)
        ;
    close(gate);
    for (long n = 0; n < times && !ipclab_signal; n++) {
        if (enter(s, i) == -1)
            _exit(IPCLAB_EXIT_FAIL);
        long value = s->count; /* read */
        value = value + 1;     /* add */
        s->count = value;      /* write: another process may have written since our read */
        s->done[i]++;
        if (die)
            raise(SIGKILL); /* holding the lock, as a crash would */
        if (leave(s) == -1)
            _exit(IPCLAB_EXIT_FAIL);
    }
    _exit(IPCLAB_EXIT_OK);
}

/* Make the lock of this run (nothing for none).  Returns 0, or -1 after a message. */
static int make_lock(struct shared *s, const char *name)
{
    pthread_mutexattr_t attr;
    union semun unlocked = { .val = 1 }; /* the semaphore's value: 1 free, 0 taken */
    int rc;

    switch (lock_kind) {
    case LOCK_SYSV:
        /* IPC_PRIVATE: a new set no key leads to; our children inherit its id.  Set to 1 before
         * any child exists, it has no initialisation race (shm_sem_writer.c has one to solve:
         * two unrelated processes that find one set by its key). */
        if ((semid = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600)) == -1)
            return ipclab_fail("semget");
        if (semctl(semid, 0, SETVAL, unlocked) == -1) {
            warn("semctl SETVAL");
            semctl(semid, 0, IPC_RMID);
            return -1;
        }
        return 0;
    case LOCK_POSIX: /* O_EXCL: a new one, never one somebody else made under that name */
        if ((psem = sem_open(name, O_CREAT | O_EXCL, 0600, 1)) == SEM_FAILED) {
            warn("sem_open %s", name);
            return -1;
        }
        /* The name is only for opening it.  Like a file's, an unlinked semaphore lives on while
         * it is open, and our children inherit it: unlinked now, it cannot be left behind. */
        if (sem_unlink(name) == -1)
            warn("sem_unlink %s", name);
        return 0;
    case LOCK_MUTEX: /* shared between processes; robust: survives an owner's death */
        if ((rc = pthread_mutexattr_init(&attr)) != 0) {
            errno = rc;
            return ipclab_fail("pthread_mutexattr_init");
        }
        if ((rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED)) == 0 &&
            (rc = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST)) == 0)
            rc = pthread_mutex_init(&s->mutex, &attr);
        pthread_mutexattr_destroy(&attr);
        errno = rc;
        return rc == 0 ? 0 : ipclab_fail("pthread_mutex_init");
    default:
        return 0;
    }
}

/* Undo make_lock(). */
static void remove_lock(struct shared *s)
{
    if (lock_kind == LOCK_SYSV && semctl(semid, 0, IPC_RMID) == -1)
        warn("semctl IPC_RMID");
    if (lock_kind == LOCK_POSIX && sem_close(psem) == -1)
        warn("sem_close");
    int rc;
    if (lock_kind == LOCK_MUTEX && (rc = pthread_mutex_destroy(&s->mutex)) != 0) {
        errno = rc;
        warn("pthread_mutex_destroy");
    }
}

/*
 * Wait for the children.  Every tick, look whether the counter still moves: once a child has
 * died of a signal, a counter still for a second means the others wait for a lock the dead one
 * took with it (the POSIX semaphore), and they are stopped.  A termination signal is passed on
 * to them.  They are our children, not yet reaped: their pids cannot have been reused.
 * Returns 0, or -1 if a child failed or the run stalled.
 */
static int wait_children(struct shared *s, pid_t *pids, int procs)
{
    int left = procs, quiet = 0, since_stop = 0, rc = 0;
    bool died = false, stopped = false;
    long last = -1;

    ipclab_start_ticks();
    while (left > 0) {
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid == -1) {
            if (errno != EINTR) {
                warn("waitpid");
                rc = -1;
                break;
            }
            if (ipclab_tick) {
                ipclab_tick = 0;
                quiet = died && s->count == last ? quiet + 1 : 0;
                last = s->count;
                since_stop += stopped;
            }
            /* A SIGTERM that came between a child's look at its flag and its wait would be
             * lost: a second later, what is left is killed. */
            if (stopped && since_stop == 1000 / IPCLAB_TICK_MS)
                for (int i = 0; i < procs; i++)
                    if (pids[i] > 0)
                        kill(pids[i], SIGKILL);
            if ((ipclab_signal || quiet == 1000 / IPCLAB_TICK_MS) && !stopped) {
                if (!ipclab_signal)
                    warnx("the counter has not moved for 1 s since a process died: it held the "
                          "lock, which nothing gives back; stopping the others");
                for (int i = 0; i < procs; i++)
                    if (pids[i] > 0)
                        kill(pids[i], SIGTERM);
                stopped = true;
                rc = -1;
            }
            continue;
        }
        left--;
        for (int i = 0; i < procs; i++) {
            if (pids[i] != pid)
                continue;
            pids[i] = 0;
            if (WIFSIGNALED(status)) {
                warnx("process %d (pid %ld) was killed by signal %d (%s) after %ld add(s)", i,
                      (long)pid, WTERMSIG(status), strsignal(WTERMSIG(status)), s->done[i]);
                died = true;
            } else if (WEXITSTATUS(status) != 0) {
                rc = -1;
            }
        }
    }
    ipclab_stop_ticks();
    return rc;
}

/* One run with the lock lock_kind: fork the children, open the gate, wait, print the line. */
static int run(long procs, long times, bool die, const char *name)
{
    /* MAP_SHARED | MAP_ANONYMOUS: memory with no file behind it, which fork() shares rather
     * than copies (shm/mmap_fork.c shows it alone). */
    struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                            -1, 0);
    if (s == MAP_FAILED)
        err(IPCLAB_EXIT_FAIL, "mmap");
    int gate[2], rc = -1, forked = 0;
    pid_t pids[MAX_PROCS] = { 0 };
    struct timespec t0, t1;

    if (make_lock(s, name) == -1) {
        munmap(s, sizeof *s);
        return -1;
    }
    if (pipe(gate) == -1) {
        warn("pipe");
        remove_lock(s);
        munmap(s, sizeof *s);
        return -1;
    }
    fflush(stdout); /* or each child's exit would print what stdout still holds */
    pid_t parent = getpid();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (; forked < procs; forked++) {
        if ((pids[forked] = fork()) == -1) {
            warn("fork");
            for (int i = 0; i < forked; i++) /* the ones born leave the gate at once */
                kill(pids[i], SIGTERM);
            break;
        }
        if (pids[forked] == 0) {
            close(gate[1]);
            child(s, forked, times, die && forked == procs - 1, gate[0], parent);
        }
    }
    /* -k: the gate stays shut until the one to die has died.  WNOWAIT: the child is not reaped
     * here, so wait_children() still sees it and says how it ended. */
    siginfo_t info;
    while (die && forked == procs &&
           waitid(P_PID, (id_t)pids[procs - 1], &info, WEXITED | WNOWAIT) == -1 && errno == EINTR)
        ;
    close(gate[0]);
    close(gate[1]); /* the gate opens: every child's read() returns 0 */
    rc = wait_children(s, pids, forked);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long expected = 0;
    for (int i = 0; i < forked; i++)
        expected += s->done[i];
    printf("%-5s %11ld %10ld %10ld %9.2f\n", lock_names[lock_kind], s->count, expected,
           expected - s->count,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    remove_lock(s);
    munmap(s, sizeof *s);
    return forked < procs ? -1 : rc;
}

/* Linux keeps a named semaphore as /dev/shm/sem.NAME: NAME_MAX - 4 bytes are left for NAME. */
static void guard_sem_name_fits(const char *name)
{
    if (strlen(name) - 1 > NAME_MAX - 4)
        ipclab_usage_error(usage, "-p wants a name like /myname: a slash, then 1 to %d bytes "
                           "(sem_open adds \"sem.\" to it under /dev/shm); this one has %zu",
                           NAME_MAX - 4, strlen(name) - 1);
}

/* The results are the point: a stdout that took them not all (full, closed, its reader gone)
 * is a failure, said. */
static bool guard_results_out(void)
{
    if (fflush(stdout) == EOF) {
        warn("write stdout: results lost");
        return false;
    }
    if (ferror(stdout)) {
        warnx("write stdout failed: results lost");
        return false;
    }
    return true;
}

int main(int argc, char *argv[])
{
    long procs = 4, times = 100000;
    enum lock which = LOCK_ALL;
    bool die = false;
    char name[NAME_MAX + 2] = "";
    int opt;

    ipclab_stderr_by_line();
    ipclab_std_fds();
    while ((opt = getopt(argc, argv, ":hn:m:l:kp:")) != -1) {
        switch (opt) {
        case 'n':
            if (!ipclab_parse_long(optarg, 2, MAX_PROCS, &procs))
                ipclab_usage_error(usage, "-n wants a count from 2 to %d, not '%s'", MAX_PROCS,
                                   optarg);
            break;
        case 'm':
            if (!ipclab_parse_long(optarg, 1, 100000000, &times))
                ipclab_usage_error(usage, "-m wants a count from 1 to 100000000, not '%s'",
                                   optarg);
            break;
        case 'l':
            for (which = LOCK_NONE; which <= LOCK_ALL; which++)
                if (strcmp(optarg, lock_names[which]) == 0)
                    break;
            if (which > LOCK_ALL)
                ipclab_usage_error(usage, "-l wants none, sysv, posix, mutex or all, not '%s'",
                                   optarg);
            break;
        case 'k':
            die = true;
            break;
        case 'p':
            ipclab_posix_name_arg(name, sizeof name, optarg, usage);
            guard_sem_name_fits(name); /* sem_open adds "sem." to it */
            break;
        case 'h':
            fputs(usage, stdout);
            return IPCLAB_EXIT_OK;
        default:
            ipclab_bad_option(usage, opt, argv);
        }
    }
    if (optind < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (name[0] == '\0')
        ipclab_posix_name(name, sizeof name, "counter");
    if (times > LONG_MAX / procs) /* a 32-bit long: the total must fit */
        ipclab_usage_error(usage, "-n %ld x -m %ld adds do not fit in a long here", procs, times);

    ipclab_catch_signals();
    cpu_set_t cpus;
    int ncpu = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus) : 0;
    warnx("%ld processes x %ld adds each, on %d CPU(s)%s", procs, times, ncpu,
          ncpu == 1 ? ": one runs at a time, and the race may hide" : "");
    printf("lock        total   expected       lost   seconds\n");
    int status = IPCLAB_EXIT_OK;
    for (lock_kind = LOCK_NONE; lock_kind < LOCK_ALL && !ipclab_signal; lock_kind++)
        if ((which == LOCK_ALL || which == lock_kind) && run(procs, times, die, name) == -1)
            status = IPCLAB_EXIT_FAIL;
    /* the line of a run a signal ended, before we die of it; the lines lost are a failure */
    if (!guard_results_out())
        status = IPCLAB_EXIT_FAIL;
    ipclab_die_of_signal();
    return status;
}
