/*
 * dgram.h - what the datagram pairs share that is not their lesson: unix_dgram_server and
 * unix_dgram_client here, udp_server and udp_client in ../inetsock.  Their options, a UNIX
 * client's own address, and the guards: one-line calls in the programs, each a check a
 * student may skip and still read a working program (the reasons: "Hardening" in this
 * directory's README.md and in ../inetsock/README.md).  None of the calls the programs teach
 * is made here.  Needs _GNU_SOURCE.
 */
#ifndef IPCLAB_DGRAM_H
#define IPCLAB_DGRAM_H

#include "../common/ipclab.h"
#include "../common/sockets.h"

#include <dirent.h>

/* The largest datagram taken, either way: the pairs' own limit. */
#define DGRAM_MAX 4096

/*
 * Start a datagram program: stderr by line, descriptors 0-2 open, the options, the termination
 * signals caught (SIGPIPE and SIGXFSZ ignored: a failed write says why).  UNIX (host NULL):
 * -p PATH into where, by default unix_dgram in the run directory.  UDP: -H HOST into *host,
 * -P PORT into where.  A server (idle not NULL) takes -i SECONDS, udp_client (wait_ms not
 * NULL) -w MS.  A bad option is a usage error (exit 2).
 */
static inline void dgram_options(int argc, char *argv[], const char *usage, const char **host,
                                 char *where, size_t size, long *idle, long *wait_ms)
{
    const char *opts = host == NULL ? (idle != NULL ? ":hp:i:" : ":hp:")
                                    : (idle != NULL ? ":hH:P:i:" : ":hH:P:w:");
    int opt;

    ipclab_stderr_by_line();
    ipclab_std_fds();
    while ((opt = getopt(argc, argv, opts)) != -1) {
        if (opt == 'H') {
            *host = optarg;
        } else if (opt == 'P') {
            ipclab_port_arg(where, size, optarg, idle != NULL ? 0 : 1, usage);
        } else if (opt == 'p') {
            ipclab_path_arg(where, size, optarg, usage);
        } else if (opt == 'i') {
            if (!ipclab_parse_long(optarg, 1, 86400, idle))
                ipclab_usage_error(usage, "-i wants seconds from 1 to 86400, not '%s'", optarg);
        } else if (opt == 'w') {
            if (!ipclab_parse_long(optarg, 1, 3600000, wait_ms))
                ipclab_usage_error(usage, "-w wants milliseconds from 1 to 3600000, not '%s'",
                                   optarg);
        } else if (opt == 'h') {
            fputs(usage, stdout);
            exit(IPCLAB_EXIT_OK);
        } else {
            ipclab_bad_option(usage, opt, argv);
        }
    }
    if (optind < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (host != NULL && (*host)[0] == '\0')
        ipclab_usage_error(usage, "-H wants a host name or address");
    if (host == NULL && where[0] == '\0')
        ipclab_run_path(where, size, "unix_dgram");
    ipclab_catch_signals();
}

/*
 * Put a UNIX client's own address in buf: unix_dgram_client.<pid> in the run directory.  First
 * remove those that clients killed by SIGKILL left there (they had no chance to): a socket
 * nobody answers on is stale; a live client's answers, and stays.
 */
static inline void dgram_own_path(char *buf, size_t size)
{
    static const char prefix[] = "unix_dgram_client.";
    char dir[PATH_MAX], file[PATH_MAX];
    struct dirent *e;
    struct stat st;
    struct sockaddr_un sa;

    ipclab_run_dir(dir, sizeof dir);
    DIR *d = opendir(dir);
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, sizeof prefix - 1) != 0 ||
            snprintf(file, sizeof file, "%s/%s", dir, e->d_name) >= (int)sizeof file ||
            lstat(file, &st) == -1 || !S_ISSOCK(st.st_mode) || ipclab_sun(&sa, file) == -1)
            continue;
        if (ipclab_sun_answers(&sa, SOCK_DGRAM) == 0 && unlink(file) == 0)
            warnx("removed %s: a client that was killed left it", file);
    }
    if (d != NULL)
        closedir(d);
    snprintf(file, sizeof file, "%s%ld", prefix, (long)getpid());
    ipclab_run_path(buf, size, file);
}

/* ---------------------------------------------------------------- the guards */

/* A path too long for sun_path (108 bytes on Linux) is refused, saying so (exit 1): cut
 * short, as the seeds' strncpy() cut it, it would name another file. */
static inline void guard_sun_path_fits(const char *path)
{
    struct sockaddr_un sa;

    if (strlen(path) >= sizeof sa.sun_path)
        errx(IPCLAB_EXIT_FAIL, "socket path %s is %zu bytes long; a UNIX socket's path holds at "
             "most %zu (name a shorter one with -p)", path, strlen(path), sizeof sa.sun_path - 1);
}

/* What is already at sa's path: a live server's socket is refused, a stale one of ours (its
 * server was killed) removed; anything else, another user's socket included, refused and left
 * alone (ipclab_socket_path_free()).  Exit 1 if refused. */
static inline void guard_socket_path_free(const struct sockaddr_un *sa)
{
    if (ipclab_socket_path_free(sa, SOCK_DGRAM) == -1)
        exit(IPCLAB_EXIT_FAIL);
}

/* Is path still the socket file our bind() made (noted by ipclab_socket_made(): the same
 * device, inode and change time)?  Not if it was removed by hand and another program bound
 * the path since: that one is not ours to remove.  lstat only: the signal handler calls it. */
static inline bool guard_still_our_socket(const char *path)
{
    const struct stat *ours = &ipclab_socket_file;
    struct stat st;

    return ours->st_ino != 0 && lstat(path, &st) == 0 && st.st_ino == ours->st_ino &&
           st.st_dev == ours->st_dev && st.st_ctim.tv_sec == ours->st_ctim.tv_sec &&
           st.st_ctim.tv_nsec == ours->st_ctim.tv_nsec;
}

/* A datagram socket has no peer credentials: the server's socket file tells whose it is (its
 * owner made it with bind()).  Another user's would read all we send: refused, exit 1.  (No
 * file: connect() says there is no server.) */
static inline void guard_server_is_ours(const char *path)
{
    struct stat st;

    if (lstat(path, &st) == 0 && st.st_uid != geteuid())
        errx(IPCLAB_EXIT_FAIL, "the server on %s is uid %ld's, not yours (uid %ld); refusing to "
             "send it your input", path, (long)st.st_uid, (long)geteuid());
}

/* The peer check of a UNIX datagram client waiting for a reply: nothing says that the server
 * died, so does a server still answer at its path (a datagram connect() sends nothing)?  If
 * not, exit 1. */
static inline void guard_server_answers(const struct sockaddr_un *sa)
{
    if (ipclab_sun_answers(sa, SOCK_DGRAM) != 1)
        errx(IPCLAB_EXIT_FAIL, "the server at %s has gone; no reply will come", sa->sun_path);
}

/* A reply must be the datagram sent, upper-cased: as long, and not cut short (recv() with
 * MSG_TRUNC returns its real length).  Otherwise exit 1. */
static inline void guard_reply_is_whole(ssize_t sent, ssize_t got)
{
    if (got > DGRAM_MAX)
        errx(IPCLAB_EXIT_FAIL, "a reply of %zd bytes came, more than %d: cut short (MSG_TRUNC)",
             got, DGRAM_MAX);
    if (got != sent)
        errx(IPCLAB_EXIT_FAIL, "sent %zd bytes, the reply has %zd", sent, got);
}

/*
 * The name of a datagram's sender, whose address recvfrom() gave in len bytes: for a UNIX
 * socket its path, by len (a path of the full 108 bytes has no NUL), "@NAME" for an abstract
 * name, odd bytes written \xHH (ipclab_sun_str()), and "an unbound socket" (len 0: the
 * family is not even filled in); for UDP "ADDRESS port PORT".  In a static buffer, which the
 * next call overwrites.  *bound: whether a reply can be sent to that address.
 */
static inline const char *dgram_sender(const struct sockaddr *from, socklen_t len, bool *bound)
{
    static char name[IPCLAB_SUN_STR_MAX];

    if (len < sizeof from->sa_family || from->sa_family == AF_UNIX) {
        *bound = ipclab_sun_str((const struct sockaddr_un *)from, len, name, sizeof name);
    } else {
        ipclab_addr_str(from, len, name, sizeof name);
        *bound = true;
    }
    return name;
}

/* A datagram longer than DGRAM_MAX arrived cut short (recvfrom() with MSG_TRUNC returned its
 * real length, n): never printed half, it is dropped, saying so.  Returns true if dropped. */
static inline bool guard_datagram_too_long(ssize_t n, const struct sockaddr *from, socklen_t len)
{
    bool bound;

    if (n <= DGRAM_MAX)
        return false;
    warnx("dropped a datagram of %zd bytes from %s: more than the %d this server takes (it "
          "arrived cut short: MSG_TRUNC)", n, dgram_sender(from, len, &bound), DGRAM_MAX);
    return true;
}

/*
 * The name of the UNIX sender from (see dgram_sender()), or NULL, said, if it has no address
 * a reply could go to.  *len is cut to the room sun_path has: for a path of the full 108 bytes
 * the kernel counts a NUL after it, a length sendto() refuses.
 */
static inline const char *guard_sender_name(const struct sockaddr_un *from, socklen_t *len)
{
    bool bound;

    if (*len > sizeof *from)
        *len = sizeof *from;
    const char *who = dgram_sender((const struct sockaddr *)from, *len, &bound);
    if (bound)
        return who;
    warnx("a datagram from an unbound socket: no address to reply to");
    return NULL;
}

/*
 * The name of the UDP sender from (len bytes), "ADDRESS port PORT"; or NULL, after a line on
 * stderr, if its n bytes must be ignored: the source is forged -- port 0, which no socket has,
 * or self, the server's own address and port, whose answer would come back to the server and
 * be answered for ever (ipclab_udp_bad_source()).
 */
static inline const char *guard_real_source(const struct sockaddr_storage *self,
                                            const struct sockaddr_storage *from, socklen_t len,
                                            ssize_t n)
{
    bool bound;
    const char *who = dgram_sender((const struct sockaddr *)from, len, &bound);
    const char *why = ipclab_udp_bad_source(self, (const struct sockaddr *)from, len);

    if (why == NULL)
        return who;
    warnx("ignored a datagram of %zd bytes from %s: %s", n, who, why);
    return NULL;
}

#endif /* IPCLAB_DGRAM_H */
