/*
 * udp_client - send stdin to udp_server as datagrams, print the replies: unix_dgram_client's
 * twin.
 *
 * Each read() of stdin (a line from a terminal, at most 4096 bytes from a file) becomes one
 * datagram.  To be answered, the client needs an address of its own; over UDP the kernel gives
 * it one -- a free port -- when it connect()s to the server, which also makes the server the
 * default destination and the only sender it accepts datagrams from.  It sends one datagram,
 * waits for its reply, then sends the next; at end of input it sends an empty datagram and
 * waits for the server's empty answer.
 *
 * UDP may lose a datagram or its reply, and nobody is told: a client waiting for a reply would
 * wait forever.  So it waits at most -w MS for each, then gives up and says so.  (UDP resends
 * nothing; a protocol that must not lose data numbers its datagrams and resends, as TFTP does.)
 * When nothing is bound to the server's port, the kernel answers with an ICMP "port
 * unreachable", which a connected UDP socket reports as ECONNREFUSED.
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
#define _GNU_SOURCE /* ppoll (ipclab_poll_timed): Linux */

#include "../common/ipclab.h"
#include "../common/sockets.h"

static const char usage[] =
    "usage: udp_client [-H HOST] [-P PORT] [-w MS]\n"
    "  Send stdin to udp_server at UDP port PORT of HOST, one datagram of at most 4096 bytes\n"
    "  per read, and print each reply.  The kernel gives the client a port of its own, so that\n"
    "  the server can answer.\n"
    "  -H HOST  the server's host: a name, IPv4 or IPv6 address (default " IPCLAB_INET_HOST ")\n"
    "  -P PORT  the server's port (default " IPCLAB_INET_PORT ")\n"
    "  -w MS    wait at most MS milliseconds for each reply (default 2000)\n"
    "  -h       show this help\n";

#define DGRAM_MAX 4096

/* Wait at most wait_ms for the reply to what we sent, and print it.  Returns its length, or
 * -1. */
static ssize_t await_reply(int fd, const char *server, long wait_ms)
{
    static char buf[DGRAM_MAX];
    struct pollfd p = { .fd = fd, .events = POLLIN };

    for (;;) {
        int ready = ipclab_poll_timed(&p, 1, wait_ms);
        if (ready == -1) {
            if (errno != EINTR)
                warn("poll");
            return -1;
        }
        if (ready == 0) {
            warnx("no reply from %s within %ld ms: the datagram or its reply was lost (UDP "
                  "resends nothing), or the server is not reading", server, wait_ms);
            return -1;
        }
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
        if (n == -1) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            if (errno == ECONNREFUSED)
                warnx("no server at %s (an ICMP port unreachable came back); start it with "
                      "./inetsock/udp_server", server);
            else
                warn("recv");
            return -1;
        }
        if (n > DGRAM_MAX) {
            warnx("a reply of %zd bytes came, more than %d: cut short (MSG_TRUNC)", n,
                  DGRAM_MAX);
            return -1;
        }
        if (ipclab_write_all(STDOUT_FILENO, buf, (size_t)n) == -1) {
            if (errno != EINTR)
                warn("write stdout");
            return -1;
        }
        return n;
    }
}

/* Send stdin, datagram by datagram, each answered before the next; then the empty end. */
static int talk(int fd, const char *server, long wait_ms)
{
    static char buf[DGRAM_MAX];
    long long total = 0, count = 0;

    for (;;) {
        ssize_t n = ipclab_read(STDIN_FILENO, buf, sizeof buf);
        if (n == -1) {
            if (errno != EINTR)
                warn("read stdin");
            return -1;
        }
        /* A datagram goes whole or not at all.  ECONNREFUSED: the ICMP port unreachable of an
         * earlier datagram, reported at this send. */
        if (send(fd, buf, (size_t)n, 0) == -1) {
            if (errno == ECONNREFUSED)
                warnx("no server at %s (an ICMP port unreachable came back)", server);
            else if (errno != EINTR)
                warn("send");
            return -1;
        }
        ssize_t got = await_reply(fd, server, wait_ms);
        if (got == -1)
            return -1;
        if (got != n) {
            warnx("sent %zd bytes, the reply has %zd", n, got);
            return -1;
        }
        if (n == 0)
            break;
        total += n;
        count++;
    }
    warnx("end of input: %lld bytes in %lld datagram(s), each answered", total, count);
    return 0;
}

/* A UDP socket connect()ed to host and port: the default destination, and the only sender we
 * take datagrams from.  connect() sends nothing, so it succeeds with no server there, and binds
 * us to a free port, our own address for the server to answer.  Each of host's addresses is
 * tried in turn.  where gets the server's address.  Returns the socket, or -1 after a message. */
static int cli_conn(const char *host, const char *port, char *where, size_t size)
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
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd == -1) {
            warn("socket for %s", where);
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
            warn("cannot connect to %s", where);
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(list);
    return fd;
}

int main(int argc, char *argv[])
{
    const char *host = IPCLAB_INET_HOST;
    char port[6] = IPCLAB_INET_PORT, server[IPCLAB_ADDR_MAX], self[IPCLAB_ADDR_MAX];
    long wait_ms = 2000; /* -w: the longest wait for one reply */
    int opt;

    ipclab_stderr_by_line();
    ipclab_std_fds();
    while ((opt = getopt(argc, argv, ":hH:P:w:")) != -1) {
        switch (opt) {
        case 'H':
            host = optarg;
            break;
        case 'P':
            ipclab_port_arg(port, sizeof port, optarg, 1, usage);
            break;
        case 'w':
            if (!ipclab_parse_long(optarg, 1, 3600000, &wait_ms))
                ipclab_usage_error(usage, "-w wants milliseconds from 1 to 3600000, not '%s'",
                                   optarg);
            break;
        case 'h':
            fputs(usage, stdout);
            return IPCLAB_EXIT_OK;
        default:
            ipclab_bad_option(usage, opt, argv);
        }
    }
    if (optind < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (host[0] == '\0')
        ipclab_usage_error(usage, "-H wants a host name or address");

    ipclab_catch_signals();
    /* The UNIX twin binds a socket file of its own, and must remove it; here connect() binds
     * the socket to a free port, which goes when the socket is closed. */
    int fd = cli_conn(host, port, server, sizeof server);
    if (fd == -1) {
        ipclab_die_of_signal(); /* Ctrl-C while the name was looked up */
        return IPCLAB_EXIT_FAIL;
    }
    ipclab_local_addr(fd, self, sizeof self);
    warnx("bound to %s; server %s", self, server);
    int status = talk(fd, server, wait_ms) == 0 ? IPCLAB_EXIT_OK : IPCLAB_EXIT_FAIL;
    close(fd);
    ipclab_die_of_signal();
    return status;
}
