/* sockets.h - socket plumbing the mechanisms share: a port option, whether a server answers on
 * a path (a probe), whose server it is, Internet addresses, the UNIX servers' guards.  Needs
 * _GNU_SOURCE (SO_PEERCRED); ipclab.h included first. */
#ifndef IPCLAB_SOCKETS_H
#define IPCLAB_SOCKETS_H

#include "ipclab.h"
#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

/* -P PORT: min to 65535 (0 for a server: any free port), as the string getaddrinfo(3) wants. */
static inline void ipclab_port_arg(char *buf, size_t size, const char *arg, long min,
                                   const char *usage)
{
    long port;

    if (!ipclab_parse_long(arg, min, 65535, &port))
        ipclab_usage_error(usage, "-P wants a port number from %ld to 65535, not '%s'%s", min,
                           arg, min > 0 && strcmp(arg, "0") == 0 ?
                           " (0, any free port, is for a server)" : "");
    snprintf(buf, size, "%ld", port);
}

/* ---------------------------------------------------------------- UNIX-domain sockets */

/* Does anything answer on the socket *sa?  A connect() with a socket of type: 1 yes, 0 nobody
 * (ECONNREFUSED: a stale socket file), -1 cannot tell.  A datagram connect() sends nothing. */
static inline int ipclab_sun_answers(const struct sockaddr_un *sa, int type)
{
    int probe = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (probe == -1)
        return -1;
    int rc = connect(probe, (const struct sockaddr *)sa, sizeof *sa);
    int saved = errno;
    close(probe);
    errno = saved;
    if (rc == 0)
        return 1;
    return saved == ECONNREFUSED ? 0 : -1;
}

/* Is the server at the other end of the connected UNIX socket fd ours?  The kernel recorded
 * its credentials at listen() (SO_PEERCRED, unix(7)); with -p /tmp/... another user's server
 * may listen there.  True if its uid is ours; otherwise says so and returns false. */
static inline bool ipclab_server_is_ours(int fd, const char *path, const char *who,
                                         const char *refusing)
{
    struct ucred cred;
    socklen_t len = sizeof cred;

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
        warn("SO_PEERCRED %s", path);
        return false;
    }
    if (cred.uid == geteuid())
        return true;
    warnx("the %s on %s is uid %ld's, not yours (uid %ld); refusing to %s", who, path,
          (long)cred.uid, (long)geteuid(), refusing);
    return false;
}

/* The socket file our bind() made, as lstat(2) saw it then (ipclab_socket_made). */
static struct stat ipclab_socket_file;

/* Note the socket file bind() has just made at path (call it right after bind()): only that
 * file is ever removed. */
static inline void ipclab_socket_made(const char *path)
{
    if (lstat(path, &ipclab_socket_file) == -1)
        ipclab_socket_file.st_ino = 0; /* none: nothing will be removed */
}

/* ---------------------------------------------------------------- Internet sockets */

/* The inetsock defaults: loopback (nothing reachable from elsewhere unless -H says so), and
 * a port below Linux's ephemeral range. */
#define IPCLAB_INET_HOST "127.0.0.1"
#define IPCLAB_INET_PORT "5555"

/* Room for "ADDRESS port PORT": INET6_ADDRSTRLEN + IF_NAMESIZE, and the port. */
#define IPCLAB_ADDR_MAX 96

/* "ADDRESS port PORT" in buf, both numeric (getnameinfo(3), NI_NUMERICHOST | NI_NUMERICSERV). */
static inline void ipclab_addr_str(const struct sockaddr *sa, socklen_t len, char *buf,
                                   size_t size)
{
    char host[64], port[8]; /* numeric: INET6_ADDRSTRLEN (46) and a scope (IF_NAMESIZE, 16) */

    if (getnameinfo(sa, len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        snprintf(buf, size, "an address of family %d", sa->sa_family);
    else
        snprintf(buf, size, "%s port %s", host, port);
}

/* The local address of socket fd, as ipclab_addr_str() writes it (a client's port). */
static inline void ipclab_local_addr(int fd, char *buf, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
        err(IPCLAB_EXIT_FAIL, "getsockname");
    ipclab_addr_str((struct sockaddr *)&ss, len, buf, size);
}

/* Room to accept(2) one more client?  At ulimit -n accept() fails (EMFILE) and leaves the
 * client queued: a descriptor is dup'ed and closed first; with none free, *most drops to
 * connected (said once) and the loop stops watching listenfd until a client leaves. */
static inline bool ipclab_accept_room(int listenfd, int connected, int *most)
{
    int spare = fcntl(listenfd, F_DUPFD_CLOEXEC, 0);

    if (spare != -1) {
        close(spare);
        return true;
    }
    *most = connected;
    warnx("no descriptor left for another client (ulimit -n): %d at a time from now on; the "
          "others wait in the listen queue until one leaves", connected);
    return false;
}

/* ---------------------------------------------------------------- the UNIX servers' guards */

/* Fix: a path too long for sun_path is an error that says so, never cut short (exit 1). */
static inline void guard_sun_path_fits(const char *path)
{
    struct sockaddr_un sa;

    if (strlen(path) >= sizeof sa.sun_path)
        errx(IPCLAB_EXIT_FAIL, "socket path %s is %zu bytes long; a UNIX socket's path holds at "
             "most %zu (name a shorter one with -p)", path, strlen(path), sizeof sa.sun_path - 1);
}

/* Before a stream server's bind(): nothing there, or a socket of ours nobody answers on (the
 * caller unlinks it).  A live server's, another user's, or not a socket: exit 1. */
static inline void guard_path_free_or_stale(const struct sockaddr_un *sa)
{
    const char *path = sa->sun_path;
    struct stat st;

    if (lstat(path, &st) == -1)
        return;
    if (!S_ISSOCK(st.st_mode))
        errx(IPCLAB_EXIT_FAIL, "%s exists and is not a socket; refusing to use it (remove it, or "
             "name another path with -p)", path);
    if (st.st_uid != geteuid())
        errx(IPCLAB_EXIT_FAIL, "%s is a socket of uid %ld's, not yours (uid %ld); refusing to use "
             "or remove it (name another path with -p)", path, (long)st.st_uid, (long)geteuid());
    int answers = ipclab_sun_answers(sa, SOCK_STREAM);
    if (answers == 1)
        errx(IPCLAB_EXIT_FAIL, "%s is already in use by a running server; refusing to take it "
             "over", path);
    if (answers == -1)
        err(IPCLAB_EXIT_FAIL, "%s: cannot tell whether a server is there", path);
}

/* At exit: is path still the socket our bind() made?  lstat only: async-signal-safe. */
static inline bool guard_still_our_socket(const char *path)
{
    const struct stat *ours = &ipclab_socket_file;
    struct stat st;

    return ours->st_ino != 0 && lstat(path, &st) == 0 && st.st_ino == ours->st_ino &&
           st.st_dev == ours->st_dev && st.st_ctim.tv_sec == ours->st_ctim.tv_sec &&
           st.st_ctim.tv_nsec == ours->st_ctim.tv_nsec;
}

#endif /* IPCLAB_SOCKETS_H */
