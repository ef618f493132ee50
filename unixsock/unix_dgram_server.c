/*
 * unix_dgram_server - an upper-casing echo server on a UNIX-domain datagram socket.
 *
 * A datagram socket keeps message boundaries: each sendto() is one datagram, and each recvfrom()
 * returns exactly one, whole -- or, if the buffer is too small, cut short (MSG_TRUNC).  There
 * are no connections: every datagram carries its sender's address, and the server replies to
 * that address.  So a client that wants replies must bind an address of its own.  UNIX-domain
 * datagrams, unlike UDP, are never lost or reordered.
 *
 * Run it in two terminals (the server first):
 *     terminal 1:  ./unixsock/unix_dgram_server
 *     terminal 2:  ./unixsock/unix_dgram_client
 * What you should see in terminal 1 (pids and paths vary), once terminal 2 typed "hello" and
 * pressed Ctrl-D:
 *     unix_dgram_server: ready (pid 4242): receiving on /tmp/ipclab-1000/unix_dgram; ...
 *     hello
 *     unix_dgram_server: end of data from /tmp/ipclab-1000/unix_dgram_client.4250: 6 bytes in
 *     1 datagram(s)
 *
 * Mirrors seed 002, Domain UDP (服务端样例).  Build alone:
 *     cc -o unix_dgram_server unix_dgram_server.c
 */
#define _GNU_SOURCE /* ppoll (ipclab_poll): Linux */

#include "../common/ipclab.h"
#include "../common/sockets.h"

static const char usage[] =
    "usage: unix_dgram_server [-p PATH]\n"
    "  Receive datagrams on the UNIX datagram socket PATH, print them, and send each back to\n"
    "  its sender, ASCII letters upper-cased; an empty datagram is a client's end, answered\n"
    "  with an empty one.  Datagrams of more than 4096 bytes are refused.  Runs until SIGINT\n"
    "  or SIGTERM, then removes PATH.\n"
    "  -p PATH  the socket (default: unix_dgram in the run directory, see the top README.md)\n"
    "  -h       show this help\n";

/* The largest datagram taken: the documented limit of the pair. */
#define DGRAM_MAX 4096

/* What each client has sent so far, by its address, until its empty end datagram.  Clients may
 * interleave their datagrams: each has its own tally.  With more clients at once than slots,
 * the extra ones are served but not counted. */
#define TALLIES 64

struct tally {
    char from[IPCLAB_SUN_STR_MAX]; /* its name (ipclab_sun_str); "" : a free slot */
    long long bytes, count;
};

/* The tally of address from, made if need be; NULL if every slot is taken. */
static struct tally *tally_of(struct tally *t, const char *from)
{
    struct tally *free_slot = NULL;

    for (int i = 0; i < TALLIES; i++) {
        if (strcmp(t[i].from, from) == 0)
            return &t[i];
        if (t[i].from[0] == '\0' && free_slot == NULL)
            free_slot = &t[i];
    }
    if (free_slot != NULL) {
        snprintf(free_slot->from, sizeof free_slot->from, "%s", from);
        free_slot->bytes = free_slot->count = 0;
    }
    return free_slot;
}

/* A datagram socket bound to path; close-on-exec, and non-blocking (poll() waits).  No
 * listen(), no accept(): datagrams come from anyone who sends to the path.  Returns the socket,
 * or -1 after a message. */
static int serv_bind(const char *path)
{
    struct sockaddr_un sa;

    /* a live server's path is refused, a stale socket of ours removed */
    if (ipclab_sun(&sa, path) == -1 || ipclab_socket_path_free(&sa, SOCK_DGRAM) == -1)
        return -1;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd == -1) {
        warn("socket");
        return -1;
    }
    mode_t old = umask(0177); /* bind() makes the socket file: 0600, only we may send to it */
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (rc == -1) {
        warn("bind %s", path);
        close(fd);
        return -1;
    }
    return fd;
}

/*
 * Handle one datagram.  Fix: the original printed the buffer as a C string that recvfrom()
 * had not terminated; it cut longer datagrams to 1024 bytes without a word (MSG_TRUNC
 * unchecked); and, its clients being unbound, it could never answer.
 */
static void handle(int fd, char *buf, ssize_t n, const struct sockaddr_un *from, socklen_t len,
                   struct tally *tallies)
{
    char who[IPCLAB_SUN_STR_MAX];
    /* Fix: sun_path was taken for a C string, but a sender bound to a path of the full 108
     * bytes sends no NUL: the name ran on into the stack.  Only len says where it ends.  And
     * an abstract address (sun_path[0] == '\0') was called "an unbound socket" and never
     * answered, though a reply can be sent to it. */
    bool bound = ipclab_sun_str(from, len, who, sizeof who);

    if (n > DGRAM_MAX) {
        warnx("dropped a datagram of %zd bytes from %s: more than the %d this server takes "
              "(it arrived cut short: MSG_TRUNC)", n, who, DGRAM_MAX);
        return;
    }
    struct tally *t = bound ? tally_of(tallies, who) : NULL;
    if (n > 0) {
        if (ipclab_write_all(STDOUT_FILENO, buf, (size_t)n) == -1 && errno != EINTR)
            warn("write stdout");
        if (t != NULL) {
            t->bytes += n;
            t->count++;
        }
    } else if (t != NULL) {
        warnx("end of data from %s: %lld bytes in %lld datagram(s)", who, t->bytes, t->count);
        t->from[0] = '\0';
    }
    if (!bound) {
        warnx("a datagram from an unbound socket: no address to reply to");
        return;
    }
    ipclab_upcase(buf, (size_t)n);
    /* MSG_DONTWAIT: a client that does not read must not block the server; its reply is
     * dropped, and it is told so here. */
    if (sendto(fd, buf, (size_t)n, MSG_DONTWAIT, (const struct sockaddr *)from, len) == -1)
        warn("reply to %s dropped", who);
}

/* Receive until a termination signal. */
static void serve(int fd)
{
    static char buf[DGRAM_MAX];
    struct pollfd p = { .fd = fd, .events = POLLIN };
    static struct tally tallies[TALLIES];

    for (;;) {
        if (ipclab_poll(&p, 1) == -1) {
            if (errno != EINTR)
                warn("poll");
            return;
        }
        struct sockaddr_un from;
        socklen_t len = sizeof from;
        memset(&from, 0, sizeof from);
        /* MSG_TRUNC: return the datagram's real length even when it did not fit. */
        ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_TRUNC, (struct sockaddr *)&from, &len);
        if (n == -1) {
            if (errno != EINTR && errno != EAGAIN)
                warn("recvfrom");
            continue;
        }
        /* Fix: the length returned can be more than the room given: for a sender bound to a
         * path of the full 108 bytes, the kernel counts a NUL after it (111), and sendto()
         * refuses that length (EINVAL).  What was cut off is that NUL alone. */
        if (len > sizeof from)
            len = sizeof from;
        handle(fd, buf, n, &from, len, tallies);
    }
}

int main(int argc, char *argv[])
{
    char path[PATH_MAX] = "";

    ipclab_stderr_by_line();
    ipclab_std_fds();
    if (ipclab_options_p(argc, argv, usage, ipclab_path_arg, path, sizeof path) < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (path[0] == '\0')
        ipclab_run_path(path, sizeof path, "unix_dgram");

    ipclab_catch_signals();
    int fd = serv_bind(path);
    if (fd == -1)
        return IPCLAB_EXIT_FAIL;
    ipclab_ready("receiving on %s; datagrams of up to %d bytes", path, DGRAM_MAX);
    /* Fix: the original looped forever, so its close() and unlink() were never reached. */
    serve(fd);
    close(fd);
    ipclab_remove_socket(path);
    ipclab_die_of_signal();
    return IPCLAB_EXIT_FAIL; /* only a signal or a failed poll() ends the loop */
}
