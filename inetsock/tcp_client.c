/*
 * tcp_client - send stdin to tcp_server, print its upper-cased replies: unix_stream_client's twin.
 *
 * The client finds the server's addresses (getaddrinfo), makes a socket and connects; the
 * kernel gives it a port of its own.  Then, with poll(2), it sends stdin and prints what comes
 * back: a stream keeps no message boundaries, so one read() is not one answer.  At end of input
 * it half-closes (shutdown(SHUT_WR)) and reads on until the server has answered and closed.
 *
 * Run it in two terminals (the server first):
 *     terminal 1:  ./inetsock/tcp_server
 *     terminal 2:  ./inetsock/tcp_client
 * What you should see in terminal 2, typing "hello" and then Ctrl-D:
 *     tcp_client: connected to 127.0.0.1 port 5555 from 127.0.0.1 port 40188
 *     hello
 *     HELLO
 *     tcp_client: the server closed the connection: 6 bytes sent, 6 received
 * Whole files work too: ./inetsock/tcp_client < in > out.
 *
 * Mirrors seed 000's AF_INET client (clt_afinet_conn_init and its connect).  Build alone:
 *     cc -o tcp_client tcp_client.c
 */
#define _GNU_SOURCE /* ppoll (ipclab_poll): Linux */

#include "../common/ipclab.h"
#include "../common/sockets.h"

static const char usage[] =
    "usage: tcp_client [-H HOST] [-P PORT]\n"
    "  Send stdin to tcp_server at TCP port PORT of HOST and print what it sends back; at end\n"
    "  of input, wait for the last of it.\n"
    "  -H HOST  the server's host: a name, IPv4 or IPv6 address (default " IPCLAB_INET_HOST ")\n"
    "  -P PORT  the server's port (default " IPCLAB_INET_PORT ")\n"
    "  -h       show this help\n";

struct conv {
    int sock;
    char out[IPCLAB_STREAM_CHUNK]; /* read from stdin, not yet sent */
    size_t out_len, out_off;
    bool in_eof, shut;      /* stdin ended; we half-closed */
    long long sent, received;
};

/* The end of a non-blocking connect(): wait until the socket is writable (ipclab_poll: a
 * termination signal ends the wait, EINTR), then read the outcome, SO_ERROR.  0, or -1. */
static int connect_wait(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    int error = 0;
    socklen_t len = sizeof error;

    if (ipclab_poll(&p, 1) == -1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1)
        return -1;
    errno = error;
    return error == 0 ? 0 : -1;
}

/* cli_conn for TCP: a stream socket connected to host and port, close-on-exec and non-blocking
 * (where: the address).  Each of host's addresses is tried in turn, each failure named.
 * Returns the socket, or -1: after a message, or with ipclab_signal set.  Fix: seed 000 took
 * inet_pton()'s 0 (not an address) for success; getaddrinfo() looks such a string up. */
static int cli_conn(const char *host, const char *port, char *where, size_t size)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
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
        /* Non-blocking, for two reasons.  A blocking connect() to a host that does not answer
         * waits minutes, and a Ctrl-C that lands just before it blocks is lost; so connect()
         * says EINPROGRESS and connect_wait() waits in ppoll(), which closes that gap.  And
         * talk() needs it: POLLOUT means some room, not room for a whole chunk. */
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
            (errno != EINPROGRESS || connect_wait(fd) == -1)) {
            if (errno == ECONNREFUSED)
                warnx("no server at %s (connection refused); start it with "
                      "./inetsock/tcp_server", where);
            else if (errno != EINTR)
                warn("cannot connect to %s", where);
            close(fd);
            fd = -1;
            if (ipclab_signal)
                break; /* Ctrl-C: no next address */
        }
    }
    freeaddrinfo(list);
    return fd;
}

/* stdin is readable: take a chunk to send, or note its end (talk() then half-closes). */
static int take_input(struct conv *c)
{
    ssize_t n = read(STDIN_FILENO, c->out, sizeof c->out);

    if (n == -1) {
        if (errno == EINTR)
            return 0;
        warn("read stdin");
        return -1;
    }
    c->in_eof = n == 0;
    c->out_len = (size_t)n; /* out_off is 0: send_some() sets it back */
    return 0;
}

/* A send() or read() on the socket failed: 0 if it is only to be tried again (EINTR, EAGAIN),
 * else -1 after a message. */
static int sock_failed(const char *what)
{
    if (errno == EINTR || errno == EAGAIN)
        return 0;
    if (errno == EPIPE || errno == ECONNRESET)
        warnx("the server went away");
    else
        warn("%s", what);
    return -1;
}

/* The socket can take more: send what we can.  Fix: the original ignored write()'s result. */
static int send_some(struct conv *c)
{
    ssize_t n = send(c->sock, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

    if (n == -1)
        return sock_failed("send");
    c->out_off += (size_t)n;
    c->sent += n;
    if (c->out_off == c->out_len)
        c->out_len = c->out_off = 0;
    return 0;
}

/* The server sent something: print it.  Returns 1 when the server has closed, 0 to go on, -1
 * on error.  Fix: one read() per line sent took a stream for messages; replies come split. */
static int print_reply(struct conv *c)
{
    static char buf[IPCLAB_STREAM_CHUNK];
    ssize_t n = read(c->sock, buf, sizeof buf);

    if (n == -1)
        return sock_failed("read");
    if (n == 0)
        return 1;
    if (ipclab_write_all(STDOUT_FILENO, buf, (size_t)n) == -1) {
        if (errno != EINTR)
            warn("write stdout");
        return -1;
    }
    c->received += n;
    return 0;
}

/* Talk until the server closes after our end of input.  Returns 0, or -1. */
static int talk(struct conv *c)
{
    for (;;) {
        if (c->in_eof && c->out_len == 0 && !c->shut) {
            if (shutdown(c->sock, SHUT_WR) == -1) {
                warn("shutdown");
                return -1;
            }
            c->shut = true;
        }
        struct pollfd fds[2] = {
            { .fd = c->in_eof || c->out_len > 0 ? -1 : STDIN_FILENO, .events = POLLIN },
            { .fd = c->sock, .events = POLLIN | (c->out_len > 0 ? POLLOUT : 0) },
        };
        if (ipclab_poll(fds, 2) == -1) {
            if (errno != EINTR)
                warn("poll");
            return -1;
        }
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            int r = print_reply(c);
            if (r == -1)
                return -1;
            if (r == 1) {
                if (c->shut) {
                    warnx("the server closed the connection: %lld bytes sent, %lld received",
                          c->sent, c->received);
                    return 0;
                }
                warnx("the server closed the connection before our end of input");
                return -1;
            }
        }
        if ((fds[1].revents & POLLOUT) && send_some(c) == -1)
            return -1;
        if ((fds[0].revents & (POLLIN | POLLHUP)) && take_input(c) == -1)
            return -1;
    }
}

int main(int argc, char *argv[])
{
    const char *host = IPCLAB_INET_HOST;
    char port[6] = IPCLAB_INET_PORT, where[IPCLAB_ADDR_MAX], self[IPCLAB_ADDR_MAX];

    ipclab_stderr_by_line();
    ipclab_std_fds();
    if (ipclab_options_inet(argc, argv, usage, &host, port, sizeof port, 1) < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);

    ipclab_catch_signals();
    struct conv c = { .sock = cli_conn(host, port, where, sizeof where) };
    if (c.sock == -1) {
        ipclab_die_of_signal(); /* Ctrl-C while connect() waited */
        return IPCLAB_EXIT_FAIL;
    }
    ipclab_local_addr(c.sock, self, sizeof self);
    warnx("connected to %s from %s", where, self);
    int status = talk(&c) == 0 ? IPCLAB_EXIT_OK : IPCLAB_EXIT_FAIL;
    close(c.sock);
    ipclab_die_of_signal();
    return status;
}
