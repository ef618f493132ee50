/*
 * udp_client - unix_dgram_client's twin: send stdin to udp_server as datagrams, print replies.
 *
 * Each read() of stdin (a line from a terminal, at most 4096 bytes from a file) becomes one
 * datagram.  To be answered, the client needs an address of its own; over UDP the kernel gives
 * it one -- a free port -- when it connect()s to the server, which also makes the server the
 * default destination and the only sender it accepts datagrams from.  It sends one datagram,
 * waits for its reply, then sends the next; at end of input, an empty datagram, answered by an
 * empty one.
 *
 * UDP may lose a datagram or its reply, and nobody is told: so the client waits at most -w MS
 * for each reply (SO_RCVTIMEO), then gives up and says so; it resends nothing.  To a port
 * nobody has bound, the kernel answers with an ICMP "port unreachable": ECONNREFUSED.
 *
 * The steps: 1 getaddrinfo  2 socket  3 connect (the kernel binds us to a free port)
 *            4 send  5 recv the reply  (no file to remove: the port goes with us)
 *
 * Run it in two terminals (the server first):
 *     terminal 1:  ./inetsock/udp_server
 *     terminal 2:  ./inetsock/udp_client
 * What you should see in terminal 2, typing "hello", then Ctrl-D:
 *     udp_client: bound to 127.0.0.1 port 40188; server 127.0.0.1 port 5555
 *     hello
 *     HELLO
 *     udp_client: end of input: 6 bytes in 1 datagram(s), each answered
 *
 * Beyond the seeds: the UDP twin of seed 002's Domain UDP client.  Build alone:
 *     cc -o udp_client udp_client.c
 */
#define _GNU_SOURCE /* program_invocation_short_name, SO_PEERCRED: Linux */

#include "../unixsock/dgram.h"

static const char usage[] =
    "usage: udp_client [-H HOST] [-P PORT] [-w MS]\n"
    "  Send stdin to udp_server at UDP port PORT of HOST, one datagram of at most 4096 bytes\n"
    "  per read, and print each reply.  The kernel gives the client a port of its own, so that\n"
    "  the server can answer.\n"
    "  -H HOST  the server's host: a name, IPv4 or IPv6 address (default " IPCLAB_INET_HOST ")\n"
    "  -P PORT  the server's port (default " IPCLAB_INET_PORT ")\n"
    "  -w MS    wait at most MS milliseconds for each reply (default 2000)\n"
    "  -h       show this help\n";

int main(int argc, char *argv[])
{
    static char buf[DGRAM_MAX];
    const char *host = IPCLAB_INET_HOST;
    char port[6] = IPCLAB_INET_PORT, server[IPCLAB_ADDR_MAX], self[IPCLAB_ADDR_MAX];
    long wait_ms = 2000; /* -w: the longest wait for one reply */
    long long total = 0, count = 0;

    dgram_options(argc, argv, usage, &host, port, sizeof port, NULL, &wait_ms);
    ipclab_cleanup_at_exit(NULL); /* Ctrl-C: nothing to remove, die of SIGINT */

    /* 1. The server's addresses, each with its family (IPv4, IPv6). */
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM,
                              .ai_flags = AI_NUMERICSERV }, *list;
    int fd = -1, rc = getaddrinfo(host, port, &hints, &list);
    if (rc != 0)
        errx(IPCLAB_EXIT_FAIL, "cannot resolve host '%s': %s", host,
             rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
    for (struct addrinfo *ai = list; ai != NULL && fd == -1; ai = ai->ai_next) {
        ipclab_addr_str(ai->ai_addr, ai->ai_addrlen, server, sizeof server);
        /* 2. A datagram socket of the address's family. */
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd == -1) {
            warn("socket for %s", server);
            continue;
        }
        /* 3. connect(): the server is the default destination, and the only sender we take
         * datagrams from.  Nothing is sent, so it succeeds with no server there; and it
         * binds us to a free port, our own address for the server to reply to. */
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
            warn("cannot connect to %s", server);
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(list);
    if (fd == -1)
        return IPCLAB_EXIT_FAIL;
    /* recv() waits at most -w MS: UDP may lose a datagram or its reply, and nobody is told. */
    struct timeval limit = { .tv_sec = wait_ms / 1000, .tv_usec = wait_ms % 1000 * 1000 };
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) == -1)
        err(IPCLAB_EXIT_FAIL, "setsockopt SO_RCVTIMEO");
    ipclab_local_addr(fd, self, sizeof self);
    warnx("bound to %s; server %s", self, server);

    for (;;) {
        /* 4. Each read() of stdin is one datagram; at end of input, an empty one. */
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n == -1)
            err(IPCLAB_EXIT_FAIL, "read stdin");
        if (send(fd, buf, (size_t)n, 0) == -1) {
            if (errno == ECONNREFUSED) /* an ICMP port unreachable, for an earlier datagram */
                errx(IPCLAB_EXIT_FAIL, "no server at %s (an ICMP port unreachable came back)",
                     server);
            err(IPCLAB_EXIT_FAIL, "send");
        }

        /* 5. Its reply, or EAGAIN after -w MS.  (A server may answer no empty datagram, the
         * end, as socat.)  MSG_TRUNC: its real length. */
        ssize_t got;
        while ((got = recv(fd, buf, sizeof buf, MSG_TRUNC)) == -1 && errno == EINTR)
            ; /* after SIGSTOP and SIGCONT, a recv() with a timeout returns EINTR (signal(7)) */
        if (got == -1 && errno == EAGAIN && n == 0) {
            warnx("our empty datagram, the end, got no answer in %ld ms (socat answers none)",
                  wait_ms);
            break;
        }
        if (got == -1 && errno == EAGAIN)
            errx(IPCLAB_EXIT_FAIL, "no reply from %s within %ld ms: the datagram or its reply was "
                 "lost (UDP resends nothing), or the server is not reading", server, wait_ms);
        if (got == -1 && errno == ECONNREFUSED)
            errx(IPCLAB_EXIT_FAIL, "no server at %s (an ICMP port unreachable came back); start "
                 "it with ./inetsock/udp_server", server);
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
    return IPCLAB_EXIT_OK;
}
