/*
 * udp_server - an upper-casing echo server on a UDP socket: unix_dgram_server's twin.
 *
 * A datagram socket keeps message boundaries: each sendto() is one datagram, and each
 * recvfrom() returns exactly one, whole.  There are no connections: every datagram carries its
 * sender's address, and the server replies to that address.  A UDP sender always has one (the
 * kernel gives it a port if it bound none).  Unlike UNIX-domain datagrams, UDP datagrams may
 * be lost, duplicated or reordered on their way, and nobody is told.  Nor does anything say
 * that a client has gone: its end is an empty datagram, or -- for clients that send none
 * (nc -u) -- silence.
 *
 * The steps: 1 getaddrinfo  2 socket  3 bind (the address and port)
 *            4 recvfrom  5 sendto the sender  (no file to remove: the port goes with us)
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
#define _GNU_SOURCE /* program_invocation_short_name, SO_PEERCRED: Linux */

#include "../unixsock/dgram.h"

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

int main(int argc, char *argv[])
{
    static char buf[DGRAM_MAX];
    static struct ipclab_tallies tallies = { .idle = 30 }; /* each client's counts; -i */
    const char *host = IPCLAB_INET_HOST;
    char port[6] = IPCLAB_INET_PORT, where[IPCLAB_ADDR_MAX];

    dgram_options(argc, argv, usage, &host, port, sizeof port, &tallies.idle, NULL);
    ipclab_cleanup_at_exit(NULL); /* Ctrl-C: nothing to remove, die of SIGINT */

    /* 1. The addresses of host and port, each with its family (IPv4, IPv6). */
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM,
                              .ai_flags = AI_NUMERICSERV }, *list;
    int fd = -1, rc = getaddrinfo(host, port, &hints, &list);
    if (rc != 0)
        errx(IPCLAB_EXIT_FAIL, "cannot resolve host '%s': %s", host,
             rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
    for (struct addrinfo *ai = list; ai != NULL && fd == -1; ai = ai->ai_next) {
        ipclab_addr_str(ai->ai_addr, ai->ai_addrlen, where, sizeof where);
        /* 2. A datagram socket of the address's family: no listen(), no accept(). */
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd == -1) {
            warn("socket for %s", where);
            continue;
        }
        /* 3. bind() the address and port.  No SO_REUSEADDR (tcp_server's): UDP has no
         * TIME_WAIT, and on Linux it would let a second server bind the port beside us. */
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
    if (fd == -1)
        return IPCLAB_EXIT_FAIL;
    struct sockaddr_storage self; /* our own address; with -P 0, the port the kernel chose */
    socklen_t self_len = sizeof self;
    if (getsockname(fd, (struct sockaddr *)&self, &self_len) == -1)
        err(IPCLAB_EXIT_FAIL, "getsockname");
    ipclab_addr_str((struct sockaddr *)&self, self_len, where, sizeof where);
    warnx("ready (pid %ld): receiving on %s; datagrams of up to 4096 bytes", (long)getpid(),
          where);

    for (;;) {
        /* poll() wakes for a datagram, or when a silent client's count is due to end */
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int ready = poll(&p, 1, (int)ipclab_tallies_expire(&tallies));
        if (ready == -1)
            err(IPCLAB_EXIT_FAIL, "poll");
        if (ready == 0)
            continue;

        /* 4. One datagram, and its sender's address. */
        struct sockaddr_storage from;
        socklen_t len = sizeof from;
        /* Fix: as in the UNIX twin: MSG_TRUNC gives a long datagram's real length. */
        ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_TRUNC, (struct sockaddr *)&from, &len);
        if (n == -1)
            err(IPCLAB_EXIT_FAIL, "recvfrom");
        if (guard_datagram_too_long(n, (struct sockaddr *)&from, len)) /* never half printed */
            continue;
        const char *who = guard_real_source(&self, &from, len, n); /* not port 0, not us */
        if (who == NULL)
            continue;
        /* Fix: as in the UNIX twin: recvfrom() adds no NUL; write() the length received. */
        if (write(STDOUT_FILENO, buf, (size_t)n) != n) /* short only when stdout is full */
            warn("write stdout");
        ipclab_tally(&tallies, who, (size_t)n); /* an empty datagram: the client's end */

        /* 5. The reply, upper-cased, to the address the datagram came from.  MSG_DONTWAIT:
         * never wait for room (a client that does not read loses its reply, unannounced). */
        ipclab_upcase(buf, (size_t)n);
        if (sendto(fd, buf, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&from, len) == -1)
            warn("reply to %s dropped", who);
    }
}
