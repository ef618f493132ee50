/*
 * counter.h - what shm_counter needs that is not its lesson: its options, and the guards of
 * its children and of its results.  The calls of the lesson (mmap, fork, semget, semop,
 * sem_open, sem_wait, pthread_mutex_lock ...) are all in shm_counter.c.
 */
#ifndef COUNTER_H
#define COUNTER_H

#include <sched.h>
#include <sys/prctl.h>

enum lock { LOCK_NONE, LOCK_SYSV, LOCK_POSIX, LOCK_MUTEX, LOCK_ALL };
static const char *const lock_names[] = { "none", "sysv", "posix", "mutex", "all" };
#define MAX_PROCS 64

struct counter_options {
    long procs, times;  /* -n, -m */
    enum lock which;    /* -l */
    bool die;           /* -k */
    char name[NAME_MAX + 2]; /* -p: the POSIX semaphore's name */
};

static inline void counter_options(int argc, char *argv[], const char *usage,
                                   struct counter_options *o)
{
    int opt;

    *o = (struct counter_options){ .procs = 4, .times = 100000, .which = LOCK_ALL };
    ipclab_stderr_by_line();
    ipclab_std_fds();
    while ((opt = getopt(argc, argv, ":hn:m:l:kp:")) != -1) {
        if (opt == 'n' && !ipclab_parse_long(optarg, 2, MAX_PROCS, &o->procs))
            ipclab_usage_error(usage, "-n wants a count from 2 to %d, not '%s'", MAX_PROCS, optarg);
        if (opt == 'm' && !ipclab_parse_long(optarg, 1, 100000000, &o->times))
            ipclab_usage_error(usage, "-m wants a count from 1 to 100000000, not '%s'", optarg);
        if (opt == 'l') {
            for (o->which = LOCK_NONE; o->which <= LOCK_ALL; o->which++)
                if (strcmp(optarg, lock_names[o->which]) == 0)
                    break;
            if (o->which > LOCK_ALL)
                ipclab_usage_error(usage, "-l wants none, sysv, posix, mutex or all, not '%s'",
                                   optarg);
        }
        if (opt == 'k')
            o->die = true;
        /* Linux keeps a named semaphore as /dev/shm/sem.NAME: NAME_MAX - 4 bytes for NAME */
        if (opt == 'p') {
            ipclab_posix_name_arg(o->name, sizeof o->name, optarg, usage);
            if (strlen(o->name) - 1 > NAME_MAX - 4)
                ipclab_usage_error(usage, "-p wants a name like /myname: a slash, then 1 to %d "
                                   "bytes (sem_open adds \"sem.\" to it under /dev/shm); this one "
                                   "has %zu", NAME_MAX - 4, strlen(o->name) - 1);
        }
        if (strchr("nmlkp", opt) == NULL)
            ipclab_other_option(usage, opt, argv); /* -h, or a usage error */
    }
    if (optind < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (o->name[0] == '\0')
        ipclab_posix_name(o->name, sizeof o->name, "counter");
    if (o->times > LONG_MAX / o->procs) /* a 32-bit long: the total must fit */
        ipclab_usage_error(usage, "-n %ld x -m %ld adds do not fit in a long here", o->procs,
                           o->times);
}

/* Before the first run: SIGCHLD blocked, so that counter_reap() finds it pending in
 * sigtimedwait(); and how many CPUs the processes may run on, said. */
static inline void counter_start(const struct counter_options *o)
{
    sigset_t chld;
    cpu_set_t cpus;

    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int ncpu = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus) : 0;
    warnx("%ld processes x %ld adds each, on %d CPU(s)%s", o->procs, o->times, ncpu,
          ncpu == 1 ? ": one runs at a time, and the race may hide" : "");
}

/* A child ends at once on SIGINT, SIGTERM or SIGHUP (their default action back: it may be
 * asleep on a semaphore nobody will post), and on its parent's death (PR_SET_PDEATHSIG); if
 * the parent died before we asked, getppid() is no longer parent, and we leave now. */
static inline void guard_child_ends_on_signals(pid_t parent)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
        warn("prctl PR_SET_PDEATHSIG");
    if (getppid() != parent)
        _exit(IPCLAB_EXIT_FAIL);
}

/* The results are the point: a stdout that took them not all (full, closed, its reader gone)
 * is a failure, said. */
static inline bool guard_results_out(void)
{
    if (fflush(stdout) == EOF || ferror(stdout)) {
        warn("write stdout: results lost");
        return false;
    }
    return true;
}

/* shm_counter's parent: reap the children (SIGCHLD, waited for in 200 ms steps; the caller
 * blocks it before fork() so that none is lost).  Once one has died of a signal, a
 * counter still for 1 s means the others wait for a lock the dead one took with it (the POSIX
 * semaphore): they are stopped with SIGTERM, as on a termination signal of ours.  Returns 0,
 * or -1 if one failed or the run stalled. */
static inline int counter_reap(pid_t *pids, int left, const volatile long *count,
                               const volatile long *done)
{
    const struct timespec step = { 0, 200000000 };
    int status, rc = 0, quiet = 0;
    bool died = false;
    long last = -1;
    sigset_t chld;

    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD); /* blocked since main(): it waits in sigtimedwait() */
    for (pid_t pid; left > 0;) {
        while (left > 0 && (pid = waitpid(-1, &status, WNOHANG)) > 0) {
            left--;
            int i = 0;
            while (pids[i] != pid)
                i++;
            pids[i] = 0;
            if (WIFSIGNALED(status) && !ipclab_signal)
                warnx("process %d (pid %ld) was killed by signal %d (%s) after %ld add(s)", i,
                      (long)pid, WTERMSIG(status), strsignal(WTERMSIG(status)), done[i]);
            died = died || WIFSIGNALED(status);
            rc = WIFEXITED(status) && WEXITSTATUS(status) != 0 ? -1 : rc;
        }
        if (quiet >= 5 || ipclab_signal) { /* 5 steps of 200 ms: 1 s */
            if (quiet == 5 && !ipclab_signal)
                warnx("the counter has not moved for 1 s since a process died: it held the "
                      "lock, which nothing gives back; stopping the others");
            for (int i = 0; i < MAX_PROCS; i++) /* our children, not yet reaped: no pid reuse */
                if (pids[i] > 0)
                    kill(pids[i], SIGTERM);
            rc = -1;
        }
        if (left > 0 && sigtimedwait(&chld, NULL, &step) == -1) {
            if (errno != EAGAIN && errno != EINTR)
                err(IPCLAB_EXIT_FAIL, "sigtimedwait");
            quiet = errno == EAGAIN && died && *count == last ? quiet + 1 : quiet;
            last = *count;
        }
    }
    return rc;
}

#endif /* COUNTER_H */
