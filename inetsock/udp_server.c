/*
 * udp_server - an upper-casing echo server on a UDP socket: unix_dgram_server's twin.
 *
 * A datagram socket keeps message boundaries: each sendto() is one datagram, and each recvfrom()
 * returns exactly one, whole -- or, if the buffer is too small, cut short (MSG_TRUNC).  There
 * are no connections: every datagram carries its sender's address, and the server replies to
 * that address.  A UDP sender always has one (the kernel gives it a port if it bound none).
 * Unlike UNIX-domain datagrams, UDP datagrams may be lost, duplicated or reordered on their
 * way, and nobody is told: the client must not wait forever for a reply.  Nor does anything
 * say that a client has gone: its end is an empty datagram, or -- for clients that send none
 * (nc -u) -- silence.
 *
 * Run it in two terminals (the server first):
 *     terminal 1:  ./inetsock/udp_server
 *     terminal 2:  ./inetsock/udp_client
 * What you should see in terminal 1 (pids and ports vary), once terminal 2 typed "hello" and
 * pressed Ctrl-D:
 *     udp_server: ready (pid 4242): receiving on 127.0.0.1 port 5555; ...
 *     hello
 *     udp_server: end of data from 127.0.0.1 port 40188: 6 bytes in 1 datagram(s)
 *
 * Beyond the seeds: the UDP twin of seed 002's Domain UDP server.  Build alone:
 *     cc -o udp_server udp_server.c
 */
#define _GNU_SOURCE /* ppoll (ipclab_poll): Linux */

#include "../common/ipclab.h"
#include "../common/sockets.h"

static const char usage[] =
    "usage: udp_server [-H HOST] [-P PORT] [-i SECONDS]\n"
    "  Receive datagrams on UDP port PORT of HOST, print them, and send each back to its\n"
    "  sender, ASCII letters upper-cased; an empty datagram is a client's end, answered\n"
    "  with an empty one.  Datagrams of more than 4096 bytes are refused.  Runs until SIGINT\n"
    "  or SIGTERM.\n"
    "  -H HOST     the name or address to receive on (default " IPCLAB_INET_HOST
    ", this machine only)\n"
    "  -P PORT     the port (default " IPCLAB_INET_PORT
    "; 0: any free one, named in the ready line)\n"
    "  -i SECONDS  report a client silent this long, and count it afresh if it sends again\n"
    "              (1 to 86400, default 30)\n"
    "  -h          show this help\n";

/* The largest datagram taken: the documented limit of the pair. */
#define DGRAM_MAX 4096

/* A UDP socket bound to host and port; close-on-exec, and non-blocking (poll() waits).  No
 * listen(), no accept(): datagrams come from anyone who sends to the port.  where gets the
 * address.  Returns the socket, or -1 after a message. */
static int serv_bind(const char *host, const char *port, char *where, size_t size)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM,
                              .ai_flags = AI_NUMERICSERV }, *list;
    int fd = -1, rc = getaddrinfo(host, port, &hints, &list);
    if (rc != 0) {
        warnx("cannot resolve host '%s': %s", host,
              rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return -1;
    }
    for (struct addrinfo *ai = list; ai != NULL && fd == -1; ai = ai->ai_next) {
        ipclab_addr_str(ai->ai_addr, ai->ai_addrlen, where, size);
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    ai->ai_protocol);
        if (fd == -1) {
            warn("socket for %s", where);
            continue;
        }
        /* No SO_REUSEADDR (tcp_server's): UDP has no TIME_WAIT, and on Linux it would let a
         * second server bind this port beside us and take datagrams meant for us. */
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
            if (errno == EADDRINUSE)
                warnx("%s is already in use (another server?); name another port with -P, or "
                      "-P 0 for any free one", where);
            else
                warn("cannot bind %s", where);
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(list);
    if (fd != -1)
        ipclab_local_addr(fd, where, size); /* port 0: the one the kernel chose */
    return fd;
}

/*
 * Handle one datagram.  Fix (as in the UNIX twin): the seed printed the buffer as a C string
 * that recvfrom() had not terminated, and cut longer datagrams to 1024 bytes without a word
 * (MSG_TRUNC unchecked).
 */
static void handle(int fd, char *buf, ssize_t n, const struct sockaddr_storage *from,
                   socklen_t len, struct ipclab_tallies *tallies)
{
    char who[IPCLAB_ADDR_MAX];

    ipclab_addr_str((const struct sockaddr *)from, len, who, sizeof who);

    if (n > DGRAM_MAX) {
        warnx("dropped a datagram of %zd bytes from %s: more than the %d this server takes "
              "(it arrived cut short: MSG_TRUNC)", n, who, DGRAM_MAX);
        return;
    }
    if (n > 0 && ipclab_write_all(STDOUT_FILENO, buf, (size_t)n) == -1 && errno != EINTR)
        warn("write stdout");
    /* Fix: a client that never sent the empty datagram (nc -u) kept its tally for ever, and
     * after 64 of them nobody was counted, without a word. */
    ipclab_tally(tallies, who, (size_t)n);
    ipclab_upcase(buf, (size_t)n);
    /* MSG_DONTWAIT: never wait for room in our own send buffer.  (A client that does not read
     * cannot slow us: UDP drops the reply at its full receive queue, and nobody is told.) */
    if (sendto(fd, buf, (size_t)n, MSG_DONTWAIT, (const struct sockaddr *)from, len) == -1)
        warn("reply to %s dropped", who);
}

/* Receive until a termination signal; a tally ends after idle seconds of silence. */
static void serve(int fd, long idle)
{
    static char buf[DGRAM_MAX];
    struct pollfd p = { .fd = fd, .events = POLLIN };
    static struct ipclab_tallies tallies;
    struct sockaddr_storage self; /* our own address: see ipclab_udp_bad_source() */
    socklen_t self_len = sizeof self;

    if (getsockname(fd, (struct sockaddr *)&self, &self_len) == -1) {
        warn("getsockname");
        return;
    }
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
        struct sockaddr_storage from;
        socklen_t len = sizeof from;
        memset(&from, 0, sizeof from);
        /* MSG_TRUNC: return the datagram's real length even when it did not fit. */
        ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_TRUNC, (struct sockaddr *)&from, &len);
        if (n == -1) {
            if (errno != EINTR && errno != EAGAIN)
                warn("recvfrom");
            continue;
        }
        /* Fix: a datagram whose forged source was our own address was answered -- to
         * ourselves, who answered again, for ever (100% CPU, output without end); one from
         * port 0 was printed, and its answer failed.  Neither is a client's. */
        const char *why = ipclab_udp_bad_source(&self, (struct sockaddr *)&from, len);
        if (why != NULL) {
            char who[IPCLAB_ADDR_MAX];
            ipclab_addr_str((struct sockaddr *)&from, len, who, sizeof who);
            warnx("ignored a datagram of %zd bytes from %s: %s", n, who, why);
            continue;
        }
        handle(fd, buf, n, &from, len, &tallies);
    }
}

int main(int argc, char *argv[])
{
    const char *host = IPCLAB_INET_HOST;
    char port[6] = IPCLAB_INET_PORT, where[IPCLAB_ADDR_MAX];
    long idle = 30; /* -i */

    ipclab_stderr_by_line();
    ipclab_std_fds();
    if (ipclab_options_dgram(argc, argv, usage, &host, port, sizeof port, &idle) < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);

    ipclab_catch_signals();
    int fd = serv_bind(host, port, where, sizeof where);
    if (fd == -1)
        return IPCLAB_EXIT_FAIL;
    ipclab_ready("receiving on %s; datagrams of up to %d bytes", where, DGRAM_MAX);
    serve(fd, idle);
    close(fd);
    ipclab_die_of_signal();
    return IPCLAB_EXIT_FAIL; /* only a signal or a failed poll() ends the loop */
}
