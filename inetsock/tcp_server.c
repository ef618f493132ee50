/*
 * tcp_server - an upper-casing echo server on a TCP socket: unix_stream_server's twin.
 *
 * A TCP socket is a stream socket addressed by an IP address and a port, found by
 * getaddrinfo(3): the UNIX twin's calls (socket, bind, listen, accept) in another address family
 * (AF_INET or AF_INET6), and no file to remove.  One poll(2) loop serves every client.
 *
 * Run it in two terminals (the server first: a client needs a listening server):
 *     terminal 1:  ./inetsock/tcp_server
 *     terminal 2:  ./inetsock/tcp_client
 * What you should see in terminal 1 (pids and ports vary), once terminal 2 typed "hello":
 *     tcp_server: ready (pid 4242): listening on 127.0.0.1 port 5555; ...
 *     tcp_server: client 1 connected from 127.0.0.1 port 40188
 *     hello
 * and in terminal 2 the reply, HELLO.  More clients can connect at once; -H ::1 for IPv6.
 *
 * Mirrors seed 000's AF_INET server (ser_afinet_listen, ser_accept).  Build alone:
 *     cc -o tcp_server tcp_server.c
 */
#define _GNU_SOURCE /* accept4, ppoll: Linux */

#include "../common/ipclab.h"
#include "../common/sockets.h"

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

/* One connected client.  A reply waits in out until the client takes it: the server never
 * blocks on one client, and reads nothing more from it until its reply is gone. */
struct client {
    int fd;                 /* -1: a free slot */
    int id;                 /* its number, for the messages */
    char peer[IPCLAB_ADDR_MAX]; /* its address and port, from accept() */
    char out[IPCLAB_STREAM_CHUNK]; /* the reply not yet written */
    size_t out_len, out_off;
    long long bytes;
};

/* serv_listen for TCP: a stream socket bound to host and port, listening; close-on-exec, and
 * non-blocking (poll() waits, never accept()).  where gets the address.  Returns the socket, or
 * -1 after a message.  Fix: seed 000 filled a sockaddr_in by hand and forgot htons() on the
 * port; getaddrinfo() fills the address in network byte order, and knows IPv6 and names. */
static int serv_listen(const char *host, const char *port, char *where, size_t size)
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
        /* SO_REUSEADDR: bind the port at once, though connections of a previous server still
         * wait out TIME_WAIT on it.  (It does not let two servers listen on one port.) */
        int on = 1;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == -1 ||
            bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 || listen(fd, SOMAXCONN) == -1) {
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

/* serv_accept for TCP: take a new connection, non-blocking, and say where it comes from: an
 * Internet peer has no SO_PEERCRED, only its address.  Fix: seed 000 took it into a sockaddr_un. */
static void add_client(int listenfd, struct client *c, int id)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = accept4(listenfd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);

    if (fd == -1) {
        if (errno != EAGAIN && errno != ECONNABORTED) /* those: the client gave up first */
            warn("accept");
        return;
    }
    *c = (struct client){ .fd = fd, .id = id };
    ipclab_addr_str((struct sockaddr *)&ss, len, c->peer, sizeof c->peer);
    warnx("client %d connected from %s", id, c->peer);
}

static void drop_client(struct client *c, const char *why)
{
    warnx("client %d (%s) %s after %lld bytes", c->id, c->peer, why, c->bytes);
    close(c->fd);
    c->fd = -1;
}

/* The client sent something: print it, upper-case it, queue it as the reply.  Fix: seed 000's
 * `if (recvlen = recv(...) < 0)` stored the comparison, 0 or 1, not the length. */
static void receive(struct client *c)
{
    ssize_t n = read(c->fd, c->out, sizeof c->out);

    if (n == -1) {
        if (errno == ECONNRESET) {
            drop_client(c, "reset the connection");
        } else if (errno != EINTR && errno != EAGAIN) {
            warn("client %d: read", c->id);
            drop_client(c, "failed");
        }
        return;
    }
    if (n == 0) { /* it half-closed, and has had every reply: read only when none waits */
        drop_client(c, "finished");
        return;
    }
    if (ipclab_write_all(STDOUT_FILENO, c->out, (size_t)n) == -1 && errno != EINTR)
        warn("write stdout");
    ipclab_upcase(c->out, (size_t)n);
    c->out_len = (size_t)n; /* out_off is 0: reply() sets it back */
    c->bytes += n;
}

/* Write what we can of the pending reply.  Fix: the original ignored write()'s result, so a
 * partial write lost the rest.  MSG_NOSIGNAL: a client that has gone is EPIPE, not SIGPIPE. */
static void reply(struct client *c)
{
    ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

    if (n == -1) {
        if (errno != EINTR && errno != EAGAIN)
            drop_client(c, "went away before its reply");
        return;
    }
    c->out_off += (size_t)n;
    if (c->out_off == c->out_len)
        c->out_len = c->out_off = 0;
}

/* Serve until a termination signal.  One poll() watches the listening socket and every client:
 * a client with a reply pending is watched for POLLOUT, the others for POLLIN. */
static void serve(int listenfd)
{
    static struct client clients[MAX_CLIENTS];
    struct pollfd fds[MAX_CLIENTS + 1];
    int next_id = 1, most = MAX_CLIENTS; /* lowered to what ulimit -n allows, once it is hit */

    for (int i = 0; i < MAX_CLIENTS; i++)
        clients[i].fd = -1;
    for (;;) {
        int free_slot = -1, connected = 0, used = 0; /* used: the slots up to the last taken */
        for (int i = 0; i < MAX_CLIENTS; i++) {
            struct client *c = &clients[i];
            fds[i + 1] = (struct pollfd){ .fd = c->fd,
                                          .events = c->out_len > 0 ? POLLOUT : POLLIN };
            if (c->fd == -1 && free_slot == -1)
                free_slot = i;
            if (c->fd != -1) {
                connected++;
                used = i + 1;
            }
        }
        /* full: new clients wait in the listen queue */
        fds[0] = (struct pollfd){ .fd = connected >= most ? -1 : listenfd, .events = POLLIN };
        /* Fix: poll() refuses more entries than we may have descriptors (EINVAL, ulimit -n):
         * only the slots up to the last one taken are watched, each once had a descriptor. */
        if (ipclab_poll(fds, (nfds_t)used + 1) == -1) {
            if (errno != EINTR)
                warn("poll");
            break;
        }
        /* Fix: accept() with no descriptor left (EMFILE) spins the loop: ipclab_accept_room()
         * looks for one first, and lowers most while there is none. */
        if ((fds[0].revents & POLLIN) && ipclab_accept_room(listenfd, connected, &most))
            add_client(listenfd, &clients[free_slot], next_id++);
        if (most == 0)
            break; /* nobody could ever be served */
        for (int i = 0; i < MAX_CLIENTS; i++) {
            struct client *c = &clients[i];
            if (c->fd == -1 || fds[i + 1].revents == 0 || fds[i + 1].fd != c->fd)
                continue;
            if (c->out_len > 0)
                reply(c);
            else
                receive(c);
        }
    }
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (clients[i].fd != -1)
            close(clients[i].fd);
}

int main(int argc, char *argv[])
{
    const char *host = IPCLAB_INET_HOST;
    char port[6] = IPCLAB_INET_PORT, where[IPCLAB_ADDR_MAX];

    ipclab_stderr_by_line();
    ipclab_std_fds();
    if (ipclab_options_inet(argc, argv, usage, &host, port, sizeof port, 0) < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);

    ipclab_catch_signals();
    int listenfd = serv_listen(host, port, where, sizeof where);
    if (listenfd == -1)
        return IPCLAB_EXIT_FAIL;
    /* Ctrl-C or SIGTERM from now on: nothing to remove; the handler dies at once, even in a
     * write() to a stdout that nobody reads (a paused pager). */
    ipclab_cleanup_on_signal(NULL);
    ipclab_ready("listening on %s; up to %d clients at a time", where, MAX_CLIENTS);
    serve(listenfd);
    close(listenfd);
    return IPCLAB_EXIT_FAIL; /* a failed poll() or no descriptor left ends it */
}
