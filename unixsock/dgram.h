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

/* Room for a UNIX socket address as ipclab_sun_str() writes it: "@", each of sun_path's bytes
 * as "\xHH" at worst, and the NUL. */
#define IPCLAB_SUN_STR_MAX (4 * sizeof(((struct sockaddr_un *)0)->sun_path) + 2)

/* -------------------------------------------------------- plumbing only these programs use */

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
        } else {
            ipclab_other_option(usage, opt, argv); /* -h, or a usage error */
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

/* What is already at sa's path: a live server's socket is refused, a stale one of ours (its
 * server was killed) removed; anything else, another user's socket included, refused and left
 * alone (ipclab_socket_path_free()).  Exit 1 if refused. */
static inline void guard_socket_path_free(const struct sockaddr_un *sa)
{
    if (ipclab_socket_path_free(sa, SOCK_DGRAM) == -1)
        exit(IPCLAB_EXIT_FAIL);
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
