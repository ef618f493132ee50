/*
 * tcp_server - an upper-casing echo server on a TCP socket: unix_stream_server's twin.
 *
 * A TCP socket is a stream socket addressed by an IP address and a port, found by
 * getaddrinfo(3): the UNIX twin's calls (socket, bind, listen, accept) in another address family
 * (AF_INET or AF_INET6), and no file to remove.
 * The steps: 1 getaddrinfo(): the addresses of HOST and PORT  2 socket()  3 bind()  4 listen()
 * 5 poll() the listening socket and every client at once  6 accept() a client  7 read() what
 * it sends, print it  8 send() it back, ASCII letters upper-cased.
 *
 * Run it in two terminals (the server first: a client needs a listening server):
 *     terminal 1:  ./inetsock/tcp_server
 *     terminal 2:  ./inetsock/tcp_client      (or: nc -N 127.0.0.1 5555)
 * What you should see in terminal 1 (pids and ports vary), once terminal 2 typed "hello":
 *     tcp_server: ready (pid 4242): listening on 127.0.0.1 port 5555; ...
 *     tcp_server: client 1 connected from 127.0.0.1 port 40188
 *     hello
 * and in terminal 2 the reply, HELLO.  More clients can connect at once; -H ::1 for IPv6.
 *
 * Mirrors seed 000's AF_INET server (steps 1 to 4: ser_afinet_listen; step 6: ser_accept).
 * Build alone: cc -o tcp_server tcp_server.c
 */
#define _GNU_SOURCE /* accept4: Linux */

#include "../unixsock/stream.h"

static const char usage[] =
    "usage: tcp_server [-H HOST] [-P PORT]\n"
    "  Serve any number of clients on TCP port PORT of HOST: send each one back what it\n"
    "  sends, ASCII letters upper-cased; print what arrives on stdout and who connects on\n"
    "  stderr.  Runs until SIGINT, SIGTERM or SIGHUP.\n"
    "  -H HOST  the name or address to listen on (default " IPCLAB_INET_HOST
    ", this machine only)\n"
    "  -P PORT  the port (default " IPCLAB_INET_PORT "; 0: any free one, named in the ready line)\n"
    "  -h       show this help\n";

#define MAX_CLIENTS 64

/* One client.  Its reply waits in out until the client takes it, and nothing more is read from
 * it meanwhile: the server never waits for one client. */
struct client {
    int fd, id;                    /* fd -1: a free slot; id: its number, for the messages */
    char peer[IPCLAB_ADDR_MAX];    /* its address and port, from accept() */
    char out[IPCLAB_STREAM_CHUNK]; /* the reply not yet sent */
    size_t len, off;               /* its length; how much is sent */
    long long bytes;
};

static void drop(struct client *c, const char *why)
{
    warnx("client %d (%s) %s after %lld bytes", c->id, c->peer, why, c->bytes);
    close(c->fd);
    c->fd = -1;
}

int main(int argc, char *argv[])
{
    const char *host = IPCLAB_INET_HOST;
    char port[6] = IPCLAB_INET_PORT, where[IPCLAB_ADDR_MAX];

    tcp_begin(argc, argv, usage, &host, port, sizeof port, 0);
    ipclab_cleanup_at_exit(NULL);                 /* SIGINT ...: nothing to remove, die of it */

    /* 1. The addresses of HOST and PORT, IPv4 or IPv6, from a name or a number. */
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICSERV }, *list, *ai;
    /* Fix: seed 000 forgot htons() on the port; getaddrinfo() fills in network byte order. */
    int rc = getaddrinfo(host, port, &hints, &list);
    if (rc != 0)
        errx(IPCLAB_EXIT_FAIL, "cannot resolve host '%s': %s", host,
             rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));

    /* 2-4. socket(), bind() and listen() on the first address that takes them. */
    int listenfd = -1;
    for (ai = list; ai != NULL && listenfd == -1; ai = ai->ai_next) {
        ipclab_addr_str(ai->ai_addr, ai->ai_addrlen, where, sizeof where);
        listenfd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                          ai->ai_protocol);
        if (listenfd == -1) {
            warn("socket for %s", where);
            continue;
        }
        /* SO_REUSEADDR: bind the port at once, though connections of a previous server still
         * wait out TIME_WAIT on it.  (It does not let two servers listen on one port.) */
        int on = 1;
        if (setsockopt(listenfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == -1 ||
            bind(listenfd, ai->ai_addr, ai->ai_addrlen) == -1 ||
            listen(listenfd, SOMAXCONN) == -1) {
            if (errno == EADDRINUSE)
                warnx("%s is already in use (another server?); name another port with -P, or "
                      "-P 0 for any free one", where);
            else
                warn("cannot bind %s", where);
            /* Fix: seed 000 leaked the socket on every error path. */
            close(listenfd);
            listenfd = -1;
        }
    }
    freeaddrinfo(list);
    if (listenfd == -1)
        exit(IPCLAB_EXIT_FAIL);
    /* -P 0: the port the kernel chose; getsockname() says which. */
    struct sockaddr_storage ss; /* the server's address, then each client's */
    socklen_t len = sizeof ss;
    if (getsockname(listenfd, (struct sockaddr *)&ss, &len) == -1)
        err(IPCLAB_EXIT_FAIL, "getsockname");
    ipclab_addr_str((struct sockaddr *)&ss, len, where, sizeof where);
    ipclab_ready("listening on %s; up to %d clients at a time", where, MAX_CLIENTS);

    static struct client clients[MAX_CLIENTS];
    struct pollfd fds[MAX_CLIENTS + 1]; /* [0]: the listening socket; [i + 1]: clients[i] */
    int next_id = 1, most = MAX_CLIENTS; /* most: lowered if ulimit -n is reached */
    for (int i = 0; i < MAX_CLIENTS; i++)
        clients[i].fd = -1;
    for (;;) {
        /* 5. poll(): the listening socket for a new client; each client for its bytes, or,
         * while its reply waits, for room to send it. */
        int free_slot = -1, connected = 0, used = 0; /* used: the slots up to the last taken */
        for (int i = 0; i < MAX_CLIENTS; i++) {
            struct client *c = &clients[i];
            fds[i + 1] = (struct pollfd){ .fd = c->fd, .events = c->len > 0 ? POLLOUT : POLLIN };
            if (c->fd != -1)
                connected++, used = i + 1;
            else if (free_slot == -1)
                free_slot = i;
        }
        fds[0] = (struct pollfd){ .fd = connected < most ? listenfd : -1, .events = POLLIN };
        /* Fix: poll() refuses more entries than we may have descriptors (ulimit -n). */
        if (poll(fds, (nfds_t)used + 1, -1) == -1)
            err(IPCLAB_EXIT_FAIL, "poll");

        /* 6. accept() the new client, and its address: an Internet peer has no SO_PEERCRED. */
        /* Fix: with no descriptor left, accept() failed (EMFILE) and poll() spun. */
        if ((fds[0].revents & POLLIN) && guard_accept_room(listenfd, connected, &most)) {
            len = sizeof ss;
            /* Fix: seed 000 took the AF_INET peer into a sockaddr_un. */
            int fd = accept4(listenfd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd == -1 && errno != EAGAIN && errno != ECONNABORTED) /* it gave up first */
                warn("accept");
            if (fd != -1) {
                struct client *c = &clients[free_slot];
                *c = (struct client){ .fd = fd, .id = next_id++ };
                ipclab_addr_str((struct sockaddr *)&ss, len, c->peer, sizeof c->peer);
                warnx("client %d connected from %s", c->id, c->peer);
            }
        }

        for (int i = 0; i < MAX_CLIENTS; i++) {
            struct client *c = &clients[i];
            if (fds[i + 1].revents == 0)
                continue;
            /* 7. read() what it sent, print it; 0: it half-closed, and has every reply. */
            if (c->len == 0) {
                /* Fix: seed 000's `if (recvlen = recv(...) < 0)` kept the comparison, 0 or 1. */
                ssize_t n = read(c->fd, c->out, sizeof c->out);
                if (n == -1 && errno == EAGAIN)
                    continue;
                if (n <= 0) {
                    drop(c, n == 0 ? "finished" : errno == ECONNRESET ? "reset the connection"
                                                                        : "failed");
                    continue;
                }
                if (ipclab_write_all(STDOUT_FILENO, c->out, (size_t)n) == -1)
                    warn("write stdout");
                /* Fix: toupper() on a plain char is undefined above 127: ASCII letters only. */
                ipclab_upcase(c->out, (size_t)n);
                c->len = (size_t)n, c->off = 0, c->bytes += n;
            }
            /* 8. send() it back: what the socket takes now, the rest when poll() says so. */
            /* Fix: the seed ignored write()'s result, and lost what a partial write left. */
            ssize_t n = send(c->fd, c->out + c->off, c->len - c->off, MSG_NOSIGNAL);
            if (n == -1 && errno != EAGAIN)
                drop(c, "went away before its reply");
            else if (n > 0 && (c->off += (size_t)n) == c->len)
                c->len = 0;
        }
    }
}
