/*
 * unix_dgram_server - an upper-casing echo server on a UNIX-domain datagram socket.
 *
 * A datagram socket keeps message boundaries: each sendto() is one datagram, and each recvfrom()
 * returns exactly one, whole -- or, if the buffer is too small, cut short (MSG_TRUNC).  There
 * are no connections: every datagram carries its sender's address, and the server replies to
 * that address.  So a client that wants replies must bind an address of its own.  UNIX-domain
 * datagrams, unlike UDP, are never lost or reordered.  Nor does anything say that a client has
 * gone: its end is an empty datagram, or -- for clients that send none (socat) -- silence.
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
    "usage: unix_dgram_server [-p PATH] [-i SECONDS]\n"
    "  Receive datagrams on the UNIX datagram socket PATH, print them, and send each back to\n"
    "  its sender, ASCII letters upper-cased; an empty datagram is a client's end, answered\n"
    "  with an empty one.  Datagrams of more than 4096 bytes are refused.  Runs until SIGINT\n"
    "  or SIGTERM, then removes PATH.\n"
    "  -p PATH     the socket (default: unix_dgram in the run directory, see the top README.md)\n"
    "  -i SECONDS  report a client silent this long, and count it afresh if it sends again\n"
    "              (1 to 86400, default 30)\n"
    "  -h          show this help\n";

/* The largest datagram taken: the documented limit of the pair. */
#define DGRAM_MAX 4096

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
    ipclab_socket_made(path); /* the file removed at the end: this one, no other */
    return fd;
}

/*
 * Handle one datagram.  Fix: the original printed the buffer as a C string that recvfrom()
 * had not terminated; it cut longer datagrams to 1024 bytes without a word (MSG_TRUNC
 * unchecked); and, its clients being unbound, it could never answer.
 */
static void handle(int fd, char *buf, ssize_t n, const struct sockaddr_un *from, socklen_t len,
                   struct ipclab_tallies *tallies)
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
    if (n > 0 && ipclab_write_all(STDOUT_FILENO, buf, (size_t)n) == -1 && errno != EINTR)
        warn("write stdout");
    /* Fix: a client that never sent the empty datagram (socat) kept its tally for ever, and
     * after 64 of them nobody was counted, without a word. */
    if (!bound) {
        warnx("a datagram from an unbound socket: no address to reply to");
        return;
    }
    ipclab_tally(tallies, who, (size_t)n);
    ipclab_upcase(buf, (size_t)n);
    /* MSG_DONTWAIT: a client that does not read must not block the server; its reply is
     * dropped, and it is told so here. */
    if (sendto(fd, buf, (size_t)n, MSG_DONTWAIT, (const struct sockaddr *)from, len) == -1)
        warn("reply to %s dropped", who);
}

/* Receive until a termination signal; a tally ends after idle seconds of silence. */
static void serve(int fd, long idle)
{
    static char buf[DGRAM_MAX];
    struct pollfd p = { .fd = fd, .events = POLLIN };
    static struct ipclab_tallies tallies;

    tallies.idle = idle;
    for (;;) {
        int ready = ipclab_poll_timed(&p, 1, ipclab_tallies_expire(&tallies));
        if (ready == -1) {
            if (errno != EINTR)
                warn("poll");
            return;
        }
        if (ready == 0)
            continue; /* a tally to end */
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
        handle(fd, buf, n, &from, len, &tallies);
    }
}

int main(int argc, char *argv[])
{
    char path[PATH_MAX] = "";
    long idle = 30; /* -i */

    ipclab_stderr_by_line();
    ipclab_std_fds();
    if (ipclab_options_dgram(argc, argv, usage, NULL, path, sizeof path, &idle) < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (path[0] == '\0')
        ipclab_run_path(path, sizeof path, "unix_dgram");

    ipclab_catch_signals();
    int fd = serv_bind(path);
    if (fd == -1)
        return IPCLAB_EXIT_FAIL;
    ipclab_ready("receiving on %s; datagrams of up to %d bytes", path, DGRAM_MAX);
    /* Fix: the original looped forever, so its close() and unlink() were never reached. */
    serve(fd, idle);
    close(fd);
    ipclab_remove_socket(path);
    ipclab_die_of_signal();
    return IPCLAB_EXIT_FAIL; /* only a signal or a failed poll() ends the loop */
}
