/*
 * tcp_server - an upper-casing echo server on a TCP socket: unix_stream_server's twin.
 *
 * A TCP socket is a stream socket whose address is an IP address and a port: the same calls
 * as a UNIX-domain stream socket (socket, bind, listen, accept, connect), another address
 * family (AF_INET or AF_INET6 for AF_UNIX).  There is no file to remove and no SO_PEERCRED:
 * the server knows each client by its address and port only.  Each client connects, sends
 * bytes, and gets them back with ASCII letters upper-cased.  One process serves every client
 * at once with poll(2); it runs until Ctrl-C or SIGTERM.
 *
 * Run it in two terminals (the server first: a client needs a listening server):
 *     terminal 1:  ./inetsock/tcp_server
 *     terminal 2:  ./inetsock/tcp_client
 * What you should see in terminal 1 (pids and ports vary), once terminal 2 typed "hello":
 *     tcp_server: ready (pid 4242): listening on 127.0.0.1 port 5555; ...
 *     tcp_server: client 1 connected from 127.0.0.1 port 40188
 *     hello
 * and in terminal 2 the reply, HELLO.  More clients can connect at the same time; -H ::1 for
 * IPv6.
 *
 * Mirrors seed 000's AF_INET server (ser_afinet_listen, ser_accept).  Build alone:
 *     cc -o tcp_server tcp_server.c
 */
#define _GNU_SOURCE /* accept4, ppoll: Linux */

#include "../common/ipclab.h"

static const char usage[] =
    "usage: tcp_server [-H HOST] [-P PORT]\n"
    "  Serve any number of clients on TCP port PORT of HOST: send each one back what it\n"
    "  sends, ASCII letters upper-cased; print what arrives on stdout and who connects on\n"
    "  stderr.  Runs until SIGINT or SIGTERM.\n"
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
    char out[IPCLAB_CHUNK]; /* the reply not yet written */
    size_t out_len, out_off;
    bool eof;               /* the client has sent all it will send */
    long long bytes;
};

/* A new connection: take it, non-blocking, and say where it comes from.  Fix: seed 000 took
 * the AF_INET peer's address into a struct sockaddr_un and never showed it. */
static void add_client(int listenfd, struct client *c, int id)
{
    char peer[IPCLAB_ADDR_MAX];
    int fd = ipclab_inet_accept(listenfd, peer, sizeof peer, false);

    if (fd == -1)
        return; /* EAGAIN: the client gave up before we took it; or after a message */
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1) {
        warn("fcntl O_NONBLOCK");
        close(fd);
        return;
    }
    *c = (struct client){ .fd = fd, .id = id };
    memcpy(c->peer, peer, sizeof peer);
    warnx("client %d connected from %s", id, peer);
}

static void drop_client(struct client *c, const char *why)
{
    warnx("client %d (%s) %s after %lld bytes", c->id, c->peer, why, c->bytes);
    close(c->fd);
    c->fd = -1;
}

/*
 * The client sent something: print it, upper-case it, queue it as the reply.
 *
 * Fix: seed 000 wrote `if (recvlen = ipc_recv(...) < 0)`, which stores the comparison (0 or 1)
 * in recvlen; it printed the buffer as a string that recv() had not terminated; and on an error
 * it went on to the next client without closing this one (a descriptor leaked each time).
 */
static void receive(struct client *c)
{
    ssize_t n = read(c->fd, c->out, sizeof c->out);

    if (n == -1) {
        if (errno == EINTR || errno == EAGAIN)
            return;
        drop_client(c, errno == ECONNRESET ? "reset the connection" : "failed");
        return;
    }
    if (n == 0) {
        c->eof = true; /* it half-closed: answer what is pending, then close */
        if (c->out_len == 0)
            drop_client(c, "finished");
        return;
    }
    if (ipclab_write_all(STDOUT_FILENO, c->out, (size_t)n) == -1 && errno != EINTR)
        warn("write stdout");
    ipclab_upcase(c->out, (size_t)n);
    c->out_len = (size_t)n;
    c->out_off = 0;
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
    if (c->out_off == c->out_len) {
        c->out_len = c->out_off = 0;
        if (c->eof)
            drop_client(c, "finished");
    }
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
        fds[0] = (struct pollfd){ .fd = listenfd, .events = POLLIN };
        for (int i = 0; i < MAX_CLIENTS; i++) {
            struct client *c = &clients[i];
            fds[i + 1] = (struct pollfd){ .fd = c->fd, .events = c->out_len > 0 ? POLLOUT
                                                                 : c->eof ? 0 : POLLIN };
            if (c->fd == -1 && free_slot == -1)
                free_slot = i;
            if (c->fd != -1) {
                connected++;
                used = i + 1;
            }
        }
        if (free_slot == -1 || connected >= most)
            fds[0].fd = -1; /* full: new clients wait in the listen queue */
        /* Fix: poll() refuses more entries than the process may have descriptors (EINVAL), so
         * with ulimit -n 64 or less the server died at its first poll().  Only the slots up
         * to the last one taken are watched: each of them once had a descriptor. */
        if (ipclab_poll(fds, (nfds_t)used + 1) == -1) {
            if (errno != EINTR)
                warn("poll");
            break;
        }
        /* Fix: with no descriptor left (ulimit -n), accept() failed with EMFILE and left the
         * client queued: the listening socket stayed readable, and the loop spun at 100% CPU,
         * one "Too many open files" line after another.  Now the server serves at most as many
         * clients as it has descriptors for, says so once, and takes the next when one leaves. */
        if ((fds[0].revents & POLLIN) && ipclab_fd_spare(listenfd)) {
            add_client(listenfd, &clients[free_slot], next_id++);
        } else if (fds[0].revents & POLLIN) {
            most = connected;
            warnx("no descriptor left for another client (ulimit -n): %d at a time from now "
                  "on; the others wait in the listen queue until one leaves", most);
            if (most == 0)
                break; /* nobody could ever be served */
        }
        for (int i = 0; i < MAX_CLIENTS; i++) {
            struct client *c = &clients[i];
            short ev = fds[i + 1].revents;
            if (c->fd == -1 || ev == 0 || fds[i + 1].fd != c->fd)
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
    int opt;

    ipclab_stderr_by_line();
    ipclab_std_fds();
    while ((opt = getopt(argc, argv, ":hH:P:")) != -1) {
        switch (opt) {
        case 'H':
            host = optarg;
            break;
        case 'P':
            ipclab_port_arg(port, sizeof port, optarg, 0, usage);
            break;
        case 'h':
            fputs(usage, stdout);
            return IPCLAB_EXIT_OK;
        default:
            ipclab_bad_option(usage, opt);
        }
    }
    if (optind < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (host[0] == '\0')
        ipclab_usage_error(usage, "-H wants a host name or address");

    ipclab_catch_signals();
    /* Fix: seed 000 bound INADDR_ANY (every network the machine is on) to the port without
     * htons(): it listened on the byte-swapped port, and leaked the socket if bind() failed. */
    int listenfd = ipclab_inet_listen(host, port, SOCK_STREAM, where, sizeof where);
    if (listenfd == -1)
        return IPCLAB_EXIT_FAIL;
    ipclab_ready("listening on %s; up to %d clients at a time", where, MAX_CLIENTS);
    serve(listenfd);
    close(listenfd);
    ipclab_die_of_signal();
    return IPCLAB_EXIT_FAIL; /* only a signal or a failed poll() ends the loop */
}
