/*
 * sockets.h - the socket plumbing: addresses filled and printed, the checks around a UNIX
 * socket's path, and the servers' guards against what a peer hands them.  None of it makes a
 * socket the program is there to teach (the probes ipclab_sun_answers() and
 * ipclab_udp_bad_source() make one of their own to ask a question).  Needs _GNU_SOURCE
 * (SO_PEERCRED, struct ucred); ipclab.h included first.
 *
 *   UNIX        ipclab_sun(), ipclab_socket_path_free(), ipclab_sun_answers(),
 *               ipclab_server_is_ours(), ipclab_peer_cred(), ipclab_socket_made(),
 *               ipclab_remove_socket()
 *   Internet    ipclab_options_inet(), ipclab_port_arg(), ipclab_addr_str(), ipclab_local_addr()
 *   options     ipclab_options_dgram(): a datagram server's, UNIX or UDP
 *   guards      ipclab_sun_str(), ipclab_udp_bad_source(), ipclab_accept_room(),
 *               ipclab_descriptors_full()
 *   datagrams   ipclab_tally(), ipclab_tallies_expire(): what each client of a datagram server
 *               has sent
 */
#ifndef IPCLAB_SOCKETS_H
#define IPCLAB_SOCKETS_H

#include "ipclab.h"
#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

/* ---------------------------------------------------------------- UNIX-domain sockets */

/*
 * Fill *sa with path.  Fix: the seeds left sockaddr_un unzeroed and copied the path with
 * strncpy(), which silently cuts a path too long for sun_path (108 bytes on Linux) -- and then
 * binds or connects to another name.  Here the address is zeroed and a long path is an error
 * that says so.  Returns 0, or -1 after a message.
 */
static inline int ipclab_sun(struct sockaddr_un *sa, const char *path)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa->sun_path) {
        warnx("socket path %s is %zu bytes long; a UNIX socket's path holds at most %zu (name "
              "a shorter one with -p)", path, strlen(path), sizeof sa->sun_path - 1);
        return -1;
    }
    memcpy(sa->sun_path, path, strlen(path) + 1);
    return 0;
}

/*
 * Does anything answer on the socket *sa?  A connect() with a socket of type: 1 if something
 * does (a live server, a live client's own address), 0 if nobody does (ECONNREFUSED: the socket
 * file of a process that has gone, a killed one's say), -1 if it cannot tell (errno says why).
 * A datagram connect() sends nothing, so the probe is invisible to whoever is there.
 */
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

/*
 * Make the path sa names free for a server's bind(2) of a socket of type (SOCK_STREAM or
 * SOCK_DGRAM), as APUE's serv_listen() should have.  What is already there decides: nothing --
 * go on; a socket a live server answers on -- refuse, and that server keeps serving; a socket
 * of ours nobody answers on (left by a server that was killed) -- stale: remove it, and say so;
 * anything else, another user's socket included -- refuse, never remove.  (The seeds unlink()ed
 * the path unconditionally, stealing a live server's address, or failed with "Address already
 * in use" on every run after a crash.)  Returns 0, or -1 after a message.
 */
static inline int ipclab_socket_path_free(const struct sockaddr_un *sa, int type)
{
    const char *path = sa->sun_path;
    struct stat st;

    if (lstat(path, &st) == -1)
        return 0;
    if (!S_ISSOCK(st.st_mode)) {
        warnx("%s exists and is not a socket; refusing to use it (remove it, or name "
              "another path with -p)", path);
        return -1;
    }
    if (st.st_uid != geteuid()) {
        warnx("%s is a socket of uid %ld's, not yours (uid %ld); refusing to use or remove "
              "it (name another path with -p)", path, (long)st.st_uid, (long)geteuid());
        return -1;
    }
    int answers = ipclab_sun_answers(sa, type);
    if (answers == 1) {
        warnx("%s is already in use by a running server; refusing to take it over", path);
        return -1;
    }
    if (answers == -1) {
        warn("%s: cannot tell whether a server is there", path);
        return -1;
    }
    if (unlink(path) == -1 && errno != ENOENT) {
        warn("cannot remove the stale socket %s", path);
        return -1;
    }
    warnx("removed the stale socket %s (its server is gone)", path);
    return 0;
}

/*
 * Is the server at the other end of the connected UNIX socket fd one of ours?  A client told
 * to connect to a path outside the run directory (-p /tmp/...) may find another user's server
 * there, which would read what we send -- or, for fd_sender, be handed our open file.  The
 * kernel recorded the server's credentials at listen() time (SO_PEERCRED, unix(7)); the server
 * cannot forge them.  Returns true if its uid is ours; otherwise says so ("the WHO on PATH is
 * uid N's ...; refusing to REFUSING") and returns false.
 */
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

/* Note the socket file bind() has just made at path: ipclab_remove_socket() removes that file
 * and no other.  Call it right after bind(). */
static inline void ipclab_socket_made(const char *path)
{
    if (lstat(path, &ipclab_socket_file) == -1)
        ipclab_socket_file.st_ino = 0; /* none: nothing will be removed */
}

/* Remove path if it is still the socket file our bind() made: same device, inode and change
 * time (an inode number is reused once its file is gone).  Never a file, or a socket, someone
 * else put there: by hand, or another server bound to the path after ours was removed.  lstat,
 * unlink: a signal handler may call it (then it says nothing of a failure: warn() is not
 * async-signal-safe). */
static inline void ipclab_remove_socket(const char *path)
{
    const struct stat *ours = &ipclab_socket_file;
    struct stat st;

    if (lstat(path, &st) == 0 && ours->st_ino != 0 && st.st_ino == ours->st_ino &&
        st.st_dev == ours->st_dev && st.st_ctim.tv_sec == ours->st_ctim.tv_sec &&
        st.st_ctim.tv_nsec == ours->st_ctim.tv_nsec && unlink(path) == -1 && errno != ENOENT &&
        !ipclab_signal)
        warn("cannot remove %s", path);
}

/* ---------------------------------------------------------------- Internet sockets */

/* The inetsock programs' defaults: the loopback address, so that nothing is reachable from
 * another machine unless -H says so, and one fixed port, below Linux's ephemeral range
 * (32768-60999), for TCP and UDP alike. */
#define IPCLAB_INET_HOST "127.0.0.1"
#define IPCLAB_INET_PORT "5555"

/* Room for "ADDRESS port PORT", the way the toolkit prints an Internet socket address: the
 * longest numeric IPv6 address with a scope (INET6_ADDRSTRLEN + IF_NAMESIZE) and the port. */
#define IPCLAB_ADDR_MAX 96

/* -P PORT: a decimal number from min to 65535 (min 0 for a server: any free port; 1 for a
 * client), kept as the string getaddrinfo(3) wants; or a usage error.  buf holds 6 bytes. */
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
        } else if (opt == 'h') {
            fputs(usage, stdout);
            exit(IPCLAB_EXIT_OK);
        } else {
            ipclab_bad_option(usage, opt, argv);
        }
    }
    if ((*host)[0] == '\0')
        ipclab_usage_error(usage, "-H wants a host name or address");
    return optind;
}

/*
 * The options of a datagram server: -i SECONDS into *idle (1 to 86400: how long a client's
 * silence ends its tally, see struct ipclab_tallies), -h, and its address: -H HOST (*host then
 * points into argv) and -P PORT (see ipclab_port_arg, 0 allowed) into where for udp_server
 * (host not NULL); -p PATH (see ipclab_path_arg) into where for unix_dgram_server (host NULL).
 * Anything else is a usage error (exit 2).  Returns the index in argv of the first operand.
 */
static inline int ipclab_options_dgram(int argc, char *argv[], const char *usage,
                                       const char **host, char *where, size_t size, long *idle)
{
    int opt;

    while ((opt = getopt(argc, argv, host != NULL ? ":hH:P:i:" : ":hp:i:")) != -1) {
        if (opt == 'H') {
            *host = optarg;
        } else if (opt == 'P') {
            ipclab_port_arg(where, size, optarg, 0, usage);
        } else if (opt == 'p') {
            ipclab_path_arg(where, size, optarg, usage);
        } else if (opt == 'i') {
            if (!ipclab_parse_long(optarg, 1, 86400, idle))
                ipclab_usage_error(usage, "-i wants seconds from 1 to 86400, not '%s'", optarg);
        } else if (opt == 'h') {
            fputs(usage, stdout);
            exit(IPCLAB_EXIT_OK);
        } else {
            ipclab_bad_option(usage, opt, argv);
        }
    }
    if (host != NULL && (*host)[0] == '\0')
        ipclab_usage_error(usage, "-H wants a host name or address");
    return optind;
}

/*
 * Put "ADDRESS port PORT" in buf, both numeric (getnameinfo(3) with NI_NUMERICHOST and
 * NI_NUMERICSERV: no name lookup).  Fix: seed 000 put the AF_INET peer in a struct sockaddr_un,
 * and converted nothing back to host byte order; getnameinfo() knows every family.
 */
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

/* Put the local address of socket fd in buf, as ipclab_addr_str() does: for a client, the port
 * the kernel gave it at connect().  Exits (status 1) if getsockname(2) fails. */
static inline void ipclab_local_addr(int fd, char *buf, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
        err(IPCLAB_EXIT_FAIL, "getsockname");
    ipclab_addr_str((struct sockaddr *)&ss, len, buf, size);
}

/* ---------------------------------------------------------------- the servers' guards
 *
 * What the socket servers check before they trust what a peer hands them:
 * ipclab_sun_str() names a UNIX datagram sender by the address length recvfrom(2) returned,
 * ipclab_udp_bad_source() spots a UDP source no answer may go to, ipclab_accept_room() tells a
 * poll() loop whether accept(2) has a descriptor to give it.
 */

/* Room for a UNIX socket address as ipclab_sun_str() writes it: "@", each of sun_path's bytes
 * as "\xHH" at worst, and the NUL. */
#define IPCLAB_SUN_STR_MAX (4 * sizeof(((struct sockaddr_un *)0)->sun_path) + 2)

/*
 * Put the name of the UNIX socket address sa, len bytes long (as recvfrom(2) or accept(2)
 * returned it), in buf: its path; "@NAME" for an abstract address (unix(7): sun_path[0] is
 * '\0', and the name is every byte after it, NULs included); "an unbound socket" for an
 * address with no name at all.  The kernel does not NUL-terminate sun_path: a path of the full
 * 108 bytes comes with no NUL, so only len says where it ends.  A byte that is not printable
 * ASCII (a control character, a NUL of an abstract name) or a backslash is written "\xHH":
 * a name is a peer's choice, and must not be able to write escape sequences on our terminal.
 * Returns true if the address has a name (one a reply can be sent to).
 */
static inline bool ipclab_sun_str(const struct sockaddr_un *sa, socklen_t len, char *buf,
                                  size_t size)
{
    size_t head = (size_t)((const char *)sa->sun_path - (const char *)sa); /* offsetof */

    if (len <= head) {
        snprintf(buf, size, "an unbound socket");
        return false;
    }
    size_t n = len - head, at = 0, from = 0;
    if (n > sizeof sa->sun_path)
        n = sizeof sa->sun_path;
    if (sa->sun_path[0] == '\0') {
        at = (size_t)snprintf(buf, size, "@");
        from = 1;
    } else {
        n = strnlen(sa->sun_path, n); /* a path ends at its NUL, if len counts one */
    }
    for (size_t i = from; i < n && at + 5 <= size; i++) {
        unsigned char c = (unsigned char)sa->sun_path[i];
        if (c < 0x20 || c >= 0x7f || c == '\\')
            at += (size_t)snprintf(buf + at, size - at, "\\x%02x", c);
        else
            buf[at++] = (char)c;
    }
    if (at < size)
        buf[at] = '\0';
    return true;
}

/*
 * Why a UDP server must not answer a datagram from from (len bytes), or NULL if it may.  self
 * is the server's own address (getsockname(2)).  Port 0 is nobody's: no socket can be bound
 * to it, so such a datagram was forged.  The server's own address and port: an answer would
 * come back to the server as a new datagram, be answered again, and so on for ever (100% CPU,
 * its output without end) -- one forged datagram starts it, since UDP takes any source
 * address on trust.  A server bound to every address (0.0.0.0, ::) is at its port on each of
 * the machine's addresses: a source with its port is itself if the address is one of the
 * machine's, which is what a trial bind(2) to it (port 0) tells.
 */
static inline const char *ipclab_udp_bad_source(const struct sockaddr_storage *self,
                                                const struct sockaddr *from, socklen_t len)
{
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)self,
                             *f4 = (const struct sockaddr_in *)from;
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)self,
                              *f6 = (const struct sockaddr_in6 *)from;
    bool same, any;

    if (from->sa_family == AF_INET && len >= sizeof *f4) {
        if (f4->sin_port == 0)
            return "its source port is 0, which no socket can have (a forged source)";
        if (self->ss_family != AF_INET || f4->sin_port != s4->sin_port)
            return NULL;
        same = f4->sin_addr.s_addr == s4->sin_addr.s_addr;
        any = s4->sin_addr.s_addr == htonl(INADDR_ANY);
    } else if (from->sa_family == AF_INET6 && len >= sizeof *f6) {
        if (f6->sin6_port == 0)
            return "its source port is 0, which no socket can have (a forged source)";
        if (self->ss_family != AF_INET6 || f6->sin6_port != s6->sin6_port)
            return NULL;
        same = memcmp(&f6->sin6_addr, &s6->sin6_addr, sizeof f6->sin6_addr) == 0;
        any = IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr);
    } else {
        return NULL;
    }
    if (!same && any) {
        struct sockaddr_storage probe_addr;
        int probe = socket(from->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        memcpy(&probe_addr, from, len < sizeof probe_addr ? len : sizeof probe_addr);
        if (from->sa_family == AF_INET)
            ((struct sockaddr_in *)&probe_addr)->sin_port = 0;
        else
            ((struct sockaddr_in6 *)&probe_addr)->sin6_port = 0;
        same = probe != -1 && bind(probe, (struct sockaddr *)&probe_addr, len) == 0;
        if (probe != -1)
            close(probe);
    }
    return same ? "it comes from this server's own address and port (a forged source): the "
                  "answer would come back to the server, be answered, and so on for ever"
                : NULL;
}

/*
 * Is there room to accept(2) one more client, connected being how many the poll() loop serves
 * now?  At the limit of open files (ulimit -n), accept() fails with EMFILE and leaves the
 * connection queued: the listening socket stays readable, and a poll() loop that watches it
 * wakes at once, for ever.  So a descriptor is dup'ed from listenfd and closed again first.
 * With none free, *most -- the most clients the loop takes at a time -- drops to connected, the
 * loop stops watching listenfd until one leaves, and that is said once.  (*most == 0: nobody
 * could ever be served.)
 */
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

/* Who is at the other end of the connected UNIX socket fd: the pid and uid the kernel recorded
 * at connect() (SO_PEERCRED, unix(7); the peer cannot forge them).  Returns 0, or -1 after a
 * message. */
static inline int ipclab_peer_cred(int fd, struct ucred *cred)
{
    socklen_t len = sizeof *cred;

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) == -1) {
        warn("getsockopt SO_PEERCRED");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- datagram servers' tallies */

/*
 * What each client of a datagram server has sent so far, by its address.  There are no
 * connections: a tally ends at the client's empty datagram -- or, since most clients never send
 * one (nc -u, socat), once it has sent nothing for idle seconds.  Clients may interleave their
 * datagrams: each has its own tally.  With IPCLAB_TALLIES tallies open, a new client is still
 * answered but not counted, and the server says so once, until a tally ends.  A tally begun
 * within idle seconds of a datagram not counted may have missed the client's first ones: its
 * counts are said to run "since it was first counted".
 */
#define IPCLAB_TALLIES 64

struct ipclab_tallies {
    struct {
        char from[IPCLAB_SUN_STR_MAX]; /* the sender's name; "": a free slot */
        long long bytes, count, last;  /* last: when its last datagram came, ms */
        bool late;                     /* begun soon after a datagram not counted */
    } t[IPCLAB_TALLIES];
    long idle;          /* seconds of silence that end a tally */
    bool said_full;     /* "the table is full" said, since a tally last ended */
    long long refused;  /* when a datagram was last not counted, ms; 0: never */
};

/* The words after a tally's counts: those of a client maybe not counted from its start. */
#define IPCLAB_TALLY_LATE(tally) \
    ((tally).late ? " since it was first counted (the table of clients was full before)" : "")

/* Milliseconds on CLOCK_MONOTONIC, which no change of the date moves. */
static inline long long ipclab_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Count a datagram of n bytes from the sender named from; n == 0 is its end: say what it sent. */
static inline void ipclab_tally(struct ipclab_tallies *ts, const char *from, size_t n)
{
    int at = -1, free_slot = -1;

    for (int i = 0; i < IPCLAB_TALLIES && at == -1; i++) {
        if (strcmp(ts->t[i].from, from) == 0)
            at = i;
        else if (ts->t[i].from[0] == '\0' && free_slot == -1)
            free_slot = i;
    }
    if (at == -1 && free_slot != -1) {
        at = free_slot;
        snprintf(ts->t[at].from, sizeof ts->t[at].from, "%s", from);
        ts->t[at].bytes = ts->t[at].count = 0;
        ts->t[at].late = ts->refused != 0 && ipclab_now_ms() - ts->refused < ts->idle * 1000LL;
    }
    if (at == -1) {
        ts->refused = ipclab_now_ms();
        if (n == 0)
            warnx("end of data from %s: not counted, the table of clients was full", from);
        else if (!ts->said_full)
            warnx("the table of clients is full (%d counted): %s and any other new one are "
                  "answered but not counted until a client ends (with an empty datagram, or "
                  "%ld s of silence)", IPCLAB_TALLIES, from, ts->idle);
        ts->said_full = true;
        return;
    }
    ts->t[at].last = ipclab_now_ms();
    ts->t[at].bytes += (long long)n;
    ts->t[at].count += n > 0;
    if (n > 0)
        return;
    warnx("end of data from %s: %lld bytes in %lld datagram(s)%s", from, ts->t[at].bytes,
          ts->t[at].count, IPCLAB_TALLY_LATE(ts->t[at]));
    ts->t[at].from[0] = '\0';
    ts->said_full = false;
}

/* End, saying so, the tally of each client silent for ts->idle seconds.  Returns how long until
 * the next would end, in ms, or -1 if none is open: the timeout of the server's next poll(). */
static inline long ipclab_tallies_expire(struct ipclab_tallies *ts)
{
    long long now = ipclab_now_ms(), next = -1;

    for (int i = 0; i < IPCLAB_TALLIES; i++) {
        if (ts->t[i].from[0] == '\0')
            continue;
        long long left = ts->t[i].last + ts->idle * 1000LL - now;
        if (left <= 0) {
            warnx("no datagram from %s for %ld s, taken as its end (no empty one yet; a later "
                  "datagram starts a new count): %lld bytes in %lld datagram(s)%s",
                  ts->t[i].from, ts->idle, ts->t[i].bytes, ts->t[i].count,
                  IPCLAB_TALLY_LATE(ts->t[i]));
            ts->t[i].from[0] = '\0';
            ts->said_full = false;
        } else if (next == -1 || left < next) {
            next = left;
        }
    }
    return (long)next;
}

#endif /* IPCLAB_SOCKETS_H */
