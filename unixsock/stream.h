/*
 * stream.h - what the stream echo pairs do that is not their lesson: unix_stream_server and
 * unix_stream_client here, and their TCP twins, inetsock/tcp_server and tcp_client, which
 * include it as ../unixsock/stream.h (the twins share this plumbing, and differ only in their
 * own code).
 *
 *   the start      unix_stream_begin(), tcp_begin(): options, standard descriptors, signals
 *   the guards     guard_sun_path_fits(), guard_no_live_server(), guard_note_socket_made(),
 *                  guard_socket_is_ours_still(), guard_accept_room(), guard_server_is_ours()
 *
 * A guard is a check a student may skip on a first reading; unixsock/README.md, "Hardening: the
 * stream pair's guards", says why each is there.  None of them makes a call the programs teach
 * (socket, bind, connect, accept, unlink ...): guard_no_live_server() asks with
 * common/sockets.h's probe.  Needs _GNU_SOURCE (SO_PEERCRED, struct ucred).
 */
#ifndef IPCLAB_STREAM_H
#define IPCLAB_STREAM_H

#include "../common/ipclab.h"
#include "../common/sockets.h"

/* -------------------------------------------------------- plumbing only these programs use */

/*
 * The options of an inetsock program that has no others: -H HOST (*host then points into
 * argv), -P PORT (see ipclab_port_arg; min_port 0 for a server, 1 for a client), -h; anything
 * else is a usage error (exit 2).  Returns the index in argv of the first operand.
 */
static inline int ipclab_options_inet(int argc, char *argv[], const char *usage,
                                      const char **host, char *port, size_t size, long min_port)
{
    int opt;

    while ((opt = getopt(argc, argv, ":hH:P:")) != -1) {
        if (opt == 'H') {
            *host = optarg;
        } else if (opt == 'P') {
            ipclab_port_arg(port, size, optarg, min_port, usage);
        } else {
            ipclab_other_option(usage, opt, argv); /* -h, or a usage error */
        }
    }
    if ((*host)[0] == '\0')
        ipclab_usage_error(usage, "-H wants a host name or address");
    return optind;
}


/* ---------------------------------------------------------------- the start */

/*
 * What a UNIX stream program does first: stderr by line and descriptors 0-2 open (ipclab.h);
 * its options, -p PATH into path (size PATH_MAX; default: unix_stream in the run directory) and
 * -h, no operands (else exit 2); and SIGINT, SIGTERM and SIGHUP caught, only recorded until
 * the program calls ipclab_cleanup_at_exit().
 */
static inline void unix_stream_begin(int argc, char *argv[], const char *usage, char *path,
                                     size_t size)
{
    ipclab_stderr_by_line();
    ipclab_std_fds();
    if (ipclab_options_p(argc, argv, usage, ipclab_path_arg, path, size) < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (path[0] == '\0')
        ipclab_run_path(path, size, "unix_stream");
    ipclab_catch_signals();
}

/* The same for a TCP one: -H HOST (*host then points into argv), -P PORT into port (6 bytes;
 * min_port 0 for a server, "any free port", 1 for a client), -h, no operands. */
static inline void tcp_begin(int argc, char *argv[], const char *usage, const char **host,
                             char *port, size_t size, long min_port)
{
    ipclab_stderr_by_line();
    ipclab_std_fds();
    if (ipclab_options_inet(argc, argv, usage, host, port, size, min_port) < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    ipclab_catch_signals();
}

/* ---------------------------------------------------------------- the guards */

/*
 * Before a server's bind(): what is at the path sa names?  Nothing, or a socket of ours that
 * nobody answers on (left by a killed server: stale) -- return, and the server may unlink it.
 * A socket a running server answers on -- refuse (exit 1): that server keeps its address.
 * Anything else, another user's socket included -- refuse, and never remove it.  To ask, a
 * probe connect()s (ipclab_sun_answers): a live server sees a client come and go at once.
 */
static inline void guard_no_live_server(const struct sockaddr_un *sa)
{
    const char *path = sa->sun_path;
    struct stat st;

    if (lstat(path, &st) == -1)
        return;
    if (!S_ISSOCK(st.st_mode))
        errx(IPCLAB_EXIT_FAIL, "%s exists and is not a socket; refusing to use it (remove it, "
             "or name another path with -p)", path);
    if (st.st_uid != geteuid())
        errx(IPCLAB_EXIT_FAIL, "%s is a socket of uid %ld's, not yours (uid %ld); refusing to "
             "use or remove it (name another path with -p)", path, (long)st.st_uid,
             (long)geteuid());
    int answers = ipclab_sun_answers(sa, SOCK_STREAM);
    if (answers == 1)
        errx(IPCLAB_EXIT_FAIL, "%s is already in use by a running server; refusing to take it "
             "over", path);
    if (answers == -1)
        err(IPCLAB_EXIT_FAIL, "%s: cannot tell whether a server is there", path);
}

/* Note the socket file bind() has just made at path, for guard_socket_is_ours_still(). */
static inline void guard_note_socket_made(const char *path, struct stat *made)
{
    if (lstat(path, made) == -1)
        err(IPCLAB_EXIT_FAIL, "lstat %s", path);
}

/*
 * Is path still the socket file our bind() made, as guard_note_socket_made() noted it?  Same
 * device, inode and change time (an inode number is reused once its file is gone).  So a
 * server removes its own socket and no other: not one that a second server bound there after
 * ours was removed by hand.  lstat only: a signal handler may call it.
 */
static inline bool guard_socket_is_ours_still(const char *path, const struct stat *made)
{
    struct stat st;

    return made->st_ino != 0 && lstat(path, &st) == 0 && st.st_ino == made->st_ino &&
           st.st_dev == made->st_dev && st.st_ctim.tv_sec == made->st_ctim.tv_sec &&
           st.st_ctim.tv_nsec == made->st_ctim.tv_nsec;
}

/*
 * Is there a descriptor for one more client?  connected: how many the poll() loop serves now.
 * At the limit of open files (ulimit -n) accept() fails with EMFILE and leaves the client
 * queued, so the listening socket stays readable and poll() returns at once, for ever (100%
 * CPU).  So a descriptor is dup'ed and closed again first; with none free, *most (the most
 * clients served at a time) drops to connected, the loop stops watching the listening socket
 * until a client leaves, and that is said once.  *most == 0, nobody could ever be served:
 * exit 1.
 */
static inline bool guard_accept_room(int listenfd, int connected, int *most)
{
    if (ipclab_accept_room(listenfd, connected, most))
        return true;
    if (*most == 0)
        errx(IPCLAB_EXIT_FAIL, "no descriptor for any client: nobody can be served");
    return false;
}

/* A client's check of the server it connected to, before it sends a byte: with -p another
 * user's server might listen at the path, and read all we send.  The kernel recorded the
 * server's uid at listen() (SO_PEERCRED), and nobody can forge it.  Not ours: exit 1. */
static inline void guard_server_is_ours(int fd, const char *path)
{
    if (!ipclab_server_is_ours(fd, path, "server", "send it your input"))
        exit(IPCLAB_EXIT_FAIL);
}

#endif /* IPCLAB_STREAM_H */
