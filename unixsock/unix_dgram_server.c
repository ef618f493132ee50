/*
 * unix_dgram_server - an upper-casing echo server on a UNIX-domain datagram socket.
 *
 * A datagram socket keeps message boundaries: each sendto() is one datagram, and each
 * recvfrom() returns exactly one, whole.  There are no connections: every datagram carries its
 * sender's address, and the server replies to that address, so a client that wants replies
 * binds an address of its own.  UNIX-domain datagrams, unlike UDP, are never lost or
 * reordered.  Nor does anything say that a client has gone: its end is an empty datagram, or
 * -- for clients that send none (socat) -- silence.
 *
 * The steps: 1 socket  2 the address, by hand  3 bind (the socket file appears)
 *            4 recvfrom  5 sendto the sender  6 at exit or Ctrl-C: unlink the socket file
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
#define _GNU_SOURCE /* program_invocation_short_name, SO_PEERCRED: Linux */

#include "dgram.h"

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

static char sock_path[PATH_MAX]; /* the socket file */

/* At exit, and in the handler of SIGINT, SIGTERM and SIGHUP: async-signal-safe calls only. */
static void remove_socket(void)
{
    if (guard_still_our_socket(sock_path)) /* not one bound there since ours was removed */
        unlink(sock_path);
}

int main(int argc, char *argv[])
{
    static char buf[DGRAM_MAX];
    static struct ipclab_tallies tallies = { .idle = 30 }; /* each client's counts; -i */

    dgram_options(argc, argv, usage, NULL, sock_path, sizeof sock_path, &tallies.idle, NULL);

    /* 1. A datagram socket: no listen(), no accept(); anyone may send to it. */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd == -1)
        err(IPCLAB_EXIT_FAIL, "socket");

    /* 2. Its address: a sockaddr_un, zeroed, with the family and the path. */
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    /* Fix: the seed's strncpy() cut a long path short, silently. */
    guard_sun_path_fits(sock_path);
    strcpy(sa.sun_path, sock_path);
    guard_socket_path_free(&sa); /* a live server's refused, a killed one's removed */

    /* 3. bind() makes the socket file: mode 0600, only we may send to it. */
    umask(0177);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1)
        err(IPCLAB_EXIT_FAIL, "bind %s", sock_path);
    ipclab_socket_made(sock_path);
    /* Fix: the seed's loop never ended, so its close() and unlink() were never reached. */
    ipclab_cleanup_at_exit(remove_socket); /* exit, err(), Ctrl-C: remove it */
    warnx("ready (pid %ld): receiving on %s; datagrams of up to 4096 bytes", (long)getpid(),
          sock_path);

    for (;;) {
        /* poll() wakes for a datagram, or when a silent client's count is due to end */
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int ready = poll(&p, 1, (int)ipclab_tallies_expire(&tallies));
        if (ready == -1)
            err(IPCLAB_EXIT_FAIL, "poll");
        if (ready == 0)
            continue;

        /* 4. One datagram, and its sender's address. */
        struct sockaddr_un from;
        socklen_t len = sizeof from;
        /* Fix: the seed's recvfrom() cut a long datagram silently; MSG_TRUNC gives its length. */
        ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_TRUNC, (struct sockaddr *)&from, &len);
        if (n == -1)
            err(IPCLAB_EXIT_FAIL, "recvfrom");
        if (guard_datagram_too_long(n, (struct sockaddr *)&from, len)) /* never half printed */
            continue;
        /* Fix: the seed printed buf as a C string, but recvfrom() adds no NUL. */
        if (write(STDOUT_FILENO, buf, (size_t)n) != n) /* short only when stdout is full */
            warn("write stdout");
        const char *who = guard_sender_name(&from, &len); /* by len: a full sun_path has no NUL */
        if (who == NULL) /* an unbound sender, as the seed's client: no address to reply to */
            continue;
        ipclab_tally(&tallies, who, (size_t)n); /* an empty datagram: the client's end */

        /* 5. The reply, upper-cased, to the address the datagram came from.  MSG_DONTWAIT:
         * a client that reads nothing cannot block us; its reply is dropped, saying so. */
        ipclab_upcase(buf, (size_t)n);
        if (sendto(fd, buf, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&from, len) == -1)
            warn("reply to %s dropped", who);
    }
}
