/*
 * unix_dgram_client - send stdin to unix_dgram_server as datagrams, print the replies.
 *
 * Each read() of stdin (a line from a terminal, at most 4096 bytes from a file) becomes one
 * datagram.  To be answered, the client binds an address of its own (a socket file in the run
 * directory, removed when it leaves), then connect()s to the server: the default destination,
 * and the only sender it takes datagrams from.  It sends a datagram, waits for its reply, sends
 * the next; at end of input, an empty datagram, answered by an empty one.  A datagram socket
 * gets no end of file when the server dies, so while it waits the client looks, every 200 ms,
 * whether a server still answers at the path.
 *
 * The steps: 1 socket  2 bind an address of our own  3 connect to the server's
 *            4 send  5 recv the reply  6 at exit or Ctrl-C: unlink our socket file
 *
 * Run it in two terminals (the server first):
 *     terminal 1:  ./unixsock/unix_dgram_server
 *     terminal 2:  ./unixsock/unix_dgram_client
 * What you should see in terminal 2, typing "hello", then Ctrl-D:
 *     unix_dgram_client: bound to /tmp/ipclab-1000/unix_dgram_client.4250; server ...
 *     hello
 *     HELLO
 *     unix_dgram_client: end of input: 6 bytes in 1 datagram(s), each answered
 *
 * Mirrors seed 002, Domain UDP (客户端样例).  Build alone:
 *     cc -o unix_dgram_client unix_dgram_client.c
 */
#define _GNU_SOURCE /* program_invocation_short_name, SO_PEERCRED: Linux */

#include "dgram.h"

static const char usage[] =
    "usage: unix_dgram_client [-p PATH]\n"
    "  Send stdin to unix_dgram_server over the UNIX datagram socket PATH, one datagram of at\n"
    "  most 4096 bytes per read, and print each reply.  The client binds its own socket,\n"
    "  unix_dgram_client.<pid> in the run directory, so that the server can answer.\n"
    "  -p PATH  the server's socket (default: unix_dgram in the run directory, see the top\n"
    "           README.md)\n"
    "  -h       show this help\n";

static char self[PATH_MAX]; /* our own socket file: the server's replies come to it */

/* At exit, and in the handler of SIGINT, SIGTERM and SIGHUP: async-signal-safe calls only. */
static void remove_socket(void)
{
    if (guard_still_our_socket(self)) /* not one bound there since ours was removed by hand */
        unlink(self);
}

int main(int argc, char *argv[])
{
    static char buf[DGRAM_MAX];
    char server[PATH_MAX] = "";
    long long total = 0, count = 0;

    dgram_options(argc, argv, usage, NULL, server, sizeof server, NULL, NULL);
    dgram_own_path(self, sizeof self); /* and remove those killed clients left */

    /* 1. A datagram socket. */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd == -1)
        err(IPCLAB_EXIT_FAIL, "socket");

    /* 2. An address of our own for the server to reply to: bind() makes it, mode 0600. */
    struct sockaddr_un me = { .sun_family = AF_UNIX };
    guard_sun_path_fits(self);
    strcpy(me.sun_path, self);
    guard_socket_path_free(&me); /* nothing live there; a stale socket removed */
    umask(0177);
    /* Fix: the seed's client bound no address, so the server had nowhere to send a reply. */
    if (bind(fd, (struct sockaddr *)&me, sizeof me) == -1)
        err(IPCLAB_EXIT_FAIL, "bind %s", self);
    ipclab_socket_made(self);
    ipclab_cleanup_at_exit(remove_socket); /* exit, err(), Ctrl-C: remove it */

    /* 3. connect(): the server is the default destination, and the only sender we take
     * datagrams from.  Nothing is sent. */
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    guard_sun_path_fits(server);
    strcpy(sa.sun_path, server);
    guard_server_is_ours(server); /* another user's server would read all we send */
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
        if (errno == ENOENT || errno == ECONNREFUSED)
            errx(IPCLAB_EXIT_FAIL, "no server at %s; start it with ./unixsock/unix_dgram_server",
                 server);
        err(IPCLAB_EXIT_FAIL, "connect %s", server);
    }
    warnx("bound to %s; server %s", self, server);

    for (;;) {
        /* 4. Each read() of stdin is one datagram; at end of input, an empty one. */
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n == -1)
            err(IPCLAB_EXIT_FAIL, "read stdin");
        if (send(fd, buf, (size_t)n, 0) == -1) {
            if (errno == ECONNREFUSED) /* nobody has the path bound any more */
                errx(IPCLAB_EXIT_FAIL, "the server at %s has gone", server);
            err(IPCLAB_EXIT_FAIL, "send");
        }

        /* 5. Its reply.  Nothing says that the server died: every 200 ms, a peer check.  The
         * end's answer: 1 s at most (a server may answer no empty datagram, as socat). */
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int ready;
        while ((ready = poll(&p, 1, n > 0 ? 200 : 1000)) == 0 && n > 0)
            guard_server_answers(&sa);
        if (ready == -1)
            err(IPCLAB_EXIT_FAIL, "poll");
        if (ready == 0) {
            warnx("our empty datagram, the end, got no answer in 1 s (socat answers none)");
            break;
        }
        ssize_t got = recv(fd, buf, sizeof buf, MSG_TRUNC); /* MSG_TRUNC: its real length */
        if (got == -1)
            err(IPCLAB_EXIT_FAIL, "recv");
        guard_reply_is_whole(n, got);
        if (write(STDOUT_FILENO, buf, (size_t)got) != got) /* short only when stdout is full */
            err(IPCLAB_EXIT_FAIL, "write stdout");
        if (n == 0)
            break;
        total += n;
        count++;
    }
    warnx("end of input: %lld bytes in %lld datagram(s), each answered", total, count);
    close(fd);
    return IPCLAB_EXIT_OK; /* 6. atexit: remove_socket() */
}
