/*
 * fdpass.h - what fd_sender and fd_receiver do besides the lesson: their options, and the
 * guards (each one line in the program; the reasons in fdpass/README.md, "Hardening").
 * No socket the lesson is about is made here.
 */
#ifndef FDPASS_H
#define FDPASS_H

#include "../common/ipclab.h"
#include "../common/sockets.h"
#include <stdalign.h>

/* -------------------------------------------------------- plumbing only these programs use */

/*
 * Are all the descriptors this process may have (ulimit -n, RLIMIT_NOFILE) open?  Then no
 * descriptor passed to it can be received: the kernel drops it and sets MSG_CTRUNC, as it does
 * for descriptors beyond the control buffer (unix(7)).  One is dup'ed and closed again to tell.
 * Returns the limit if every descriptor is taken, 0 if one is free.
 */
static inline long ipclab_descriptors_full(void)
{
    int spare = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0);
    struct rlimit rl;

    if (spare != -1)
        close(spare);
    if (spare != -1 || errno != EMFILE)
        return 0;
    return getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (long)rl.rlim_cur
                                                                               : 1;
}


/*
 * Plumbing first: stderr by line, descriptors 0-2 open, the options -- -p PATH into path
 * (PATH_MAX bytes; fdpass in the run directory if none); with count (fd_sender), -n COUNT into
 * *count and one FILE operand, returned -- and the termination signals: from then on one ends
 * the program at once, its cleanup done (ipclab.h).
 */
static inline const char *fdpass_begin(int argc, char *argv[], const char *usage, char *path,
                                       long *count)
{
    int opt;

    ipclab_stderr_by_line();
    ipclab_std_fds();
    while ((opt = getopt(argc, argv, count != NULL ? ":hp:n:" : ":hp:")) != -1) {
        if (opt == 'p') {
            ipclab_path_arg(path, PATH_MAX, optarg, usage);
        } else if (opt == 'n') {
            if (!ipclab_parse_long(optarg, 0, 1048576, count))
                ipclab_usage_error(usage, "-n wants a count of bytes from 0 to 1048576, not '%s'",
                                   optarg);
        } else {
            ipclab_other_option(usage, opt, argv); /* -h, or a usage error */
        }
    }
    if (count == NULL && optind < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (count != NULL && argc - optind != 1)
        ipclab_usage_error(usage, argc == optind ? "name the file to pass" : "one file only");
    if (path[0] == '\0')
        ipclab_run_path(path, PATH_MAX, "fdpass");
    ipclab_catch_signals();
    ipclab_cleanup_at_exit(NULL);
    return argv[optind];
}

/* fd_sender: the receiver gets our open file with our rights to it; only one of our own uid
 * (SO_PEERCRED, recorded by the kernel at its listen()).  Exit 1 otherwise. */
static inline void guard_receiver_is_ours(int sock, const char *path)
{
    if (!ipclab_server_is_ours(sock, path, "receiver", "pass it a descriptor"))
        exit(IPCLAB_EXIT_FAIL);
}

/* fd_receiver: a descriptor from another user would let us read what they can: only our own
 * uid's.  Exit 1 otherwise. */
static inline void guard_sender_is_us(const struct ucred *cred)
{
    if (cred->uid != geteuid())
        errx(IPCLAB_EXIT_FAIL, "pid %ld connected; refusing a descriptor from uid %ld: only uid "
             "%ld's are taken", (long)cred->pid, (long)cred->uid, (long)geteuid());
}

/* fd_receiver: true if conn should be dropped: silent for 5 s while another sender waits on
 * listenfd.  A slow sender alone is kept: only a second one makes it give way. */
static inline bool guard_silent_while_another_waits(int conn, int listenfd, long pid)
{
    struct pollfd p[2] = { { .fd = conn, .events = POLLIN }, { .fd = listenfd, .events = POLLIN } };

    if (poll(p, 1, 5000) != 0)
        return false;
    warnx("pid %ld has sent nothing for 5 s: dropped as soon as another sender comes", pid);
    if (poll(p, 2, -1) == -1)
        err(IPCLAB_EXIT_FAIL, "poll");
    if (p[0].revents != 0)
        return false;
    warnx("dropping pid %ld, silent for 5 s and more: another sender waits", pid);
    return true;
}

/* fd_receiver, after MSG_CTRUNC: descriptors were dropped, count of them received.  Too many
 * for the control buffer, or none free in this process (ulimit -n, RLIMIT_NOFILE): the kernel
 * drops what it cannot install and sets MSG_CTRUNC too (unix(7)).  Says which. */
static inline void guard_descriptor_table_full(size_t count)
{
    long full = ipclab_descriptors_full();

    if (full > 0 && count == 0)
        warnx("a descriptor came, but this process has none free to receive it: all %ld that "
              "ulimit -n allows are open (EMFILE, MSG_CTRUNC); the kernel dropped the passed "
              "descriptor (the sender's stays open)", full);
    else if (full > 0)
        warnx("%zu descriptor(s) came, and more that this process had none free for: all %ld "
              "that ulimit -n allows are open (EMFILE, MSG_CTRUNC); the kernel dropped those "
              "(the sender's stay open): refusing them all", count, full);
    else
        warnx("more descriptors came than the control buffer holds (MSG_CTRUNC): refusing "
              "them all");
}

/* fd_receiver: with stdout closed (>&-), the socket would take descriptor 1 and the file go
 * into it.  ipclab_std_fds() put a read-only /dev/null there: refuse it. */
static inline void guard_stdout_writable(void)
{
    int out = fcntl(STDOUT_FILENO, F_GETFL);

    if (out == -1 || (out & O_ACCMODE) == O_RDONLY) {
        errno = EBADF;
        err(IPCLAB_EXIT_FAIL, "stdout (nowhere to print the file)");
    }
}

#endif /* FDPASS_H */
