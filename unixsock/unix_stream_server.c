/*
 * unix_stream_server - an upper-casing echo server on a UNIX-domain stream socket.
 *
 * A UNIX-domain socket's address is a path: like a FIFO it has a name, but it is two-way, one
 * connection per client, and the kernel tells the server who each client is (SO_PEERCRED).
 * The steps: 1 socket()  2 its address, a path, in a sockaddr_un  3 bind() (the socket file)
 * 4 listen()  5 poll() the listening socket and every client at once  6 accept() a client
 * 7 read() what it sends, print it  8 send() it back, ASCII letters upper-cased  9 unlink()
 * the socket file at the end (exit, or SIGINT, SIGTERM, SIGHUP).
 *
 * Run it in two terminals (the server first: a client needs a listening server):
 *     terminal 1:  ./unixsock/unix_stream_server
 *     terminal 2:  ./unixsock/unix_stream_client      (or: nc -N -U PATH, PATH from the ready line)
 * What you should see in terminal 1 (pids and paths vary), once terminal 2 typed "hello":
 *     unix_stream_server: ready (pid 4242): listening on /tmp/ipclab-1000/unix_stream; ...
 *     unix_stream_server: client 1 connected: pid 4250, uid 1000
 *     hello
 * and in terminal 2 the reply, HELLO.  More clients can connect at the same time.
 *
 * Mirrors seed 001 (dmserver.c; steps 1 to 4 are APUE's serv_listen(), step 6 its
 * serv_accept()) and seed 000's AF_UNIX server.
 * Build alone: cc -o unix_stream_server unix_stream_server.c
 */
#define _GNU_SOURCE /* SO_PEERCRED and struct ucred, accept4: Linux */

#include "stream.h"

static const char usage[] =
    "usage: unix_stream_server [-p PATH]\n"
    "  Serve any number of clients on the UNIX stream socket PATH: send each one back what it\n"
    "  sends, ASCII letters upper-cased; print what arrives on stdout and who connects on\n"
    "  stderr.  Runs until SIGINT, SIGTERM or SIGHUP, then removes PATH.\n"
    "  -p PATH  the socket (default: unix_stream in the run directory, see the top README.md)\n"
    "  -h       show this help\n";

#define MAX_CLIENTS 64

static char sock_path[PATH_MAX]; /* the socket file */
static struct stat made;         /* it, as bind() made it */

static void remove_socket(void) /* lstat, unlink: async-signal-safe, for the handler too */
{
    if (guard_socket_is_ours_still(sock_path, &made)) /* not one bound there since */
        unlink(sock_path);
}

/* One client.  Its reply waits in out until the client takes it, and nothing more is read from
 * it meanwhile: the server never waits for one client. */
struct client {
    int fd, id;                    /* fd -1: a free slot; id: its number, for the messages */
    pid_t pid;                     /* from SO_PEERCRED */
    char out[IPCLAB_STREAM_CHUNK]; /* the reply not yet sent */
    size_t len, off;               /* its length; how much is sent */
    long long bytes;
};

static void drop(struct client *c, const char *why)
{
    warnx("client %d (pid %ld) %s after %lld bytes", c->id, (long)c->pid, why, c->bytes);
    close(c->fd);
    c->fd = -1;
}

int main(int argc, char *argv[])
{
    unix_stream_begin(argc, argv, usage, sock_path, sizeof sock_path);

    /* 1. A stream socket; non-blocking, so that poll() waits, never accept(). */
    int listenfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (listenfd == -1)
        err(IPCLAB_EXIT_FAIL, "socket");

    /* 2. Its address: the path, in a zeroed sockaddr_un. */
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    guard_sun_path_fits(sock_path);                 /* too long: refused, never cut */
    strncpy(addr.sun_path, sock_path, sizeof addr.sun_path - 1);
    /* Fix: the seed unlink()ed the path first, and took a running server's address away. */
    guard_no_live_server(&addr);                    /* connect() first: is one there? */
    if (unlink(sock_path) == 0)
        warnx("removed the stale socket %s (its server is gone)", sock_path);
    else if (errno != ENOENT)
        err(IPCLAB_EXIT_FAIL, "cannot remove the stale socket %s", sock_path);

    /* 3. bind() makes the socket file, mode 0600 (umask 0177): only we may connect. */
    umask(0177);
    if (bind(listenfd, (struct sockaddr *)&addr, sizeof addr) == -1)
        err(IPCLAB_EXIT_FAIL, "bind %s", sock_path);
    guard_note_socket_made(sock_path, &made);       /* remove_socket() removes it, no other */
    ipclab_cleanup_at_exit(remove_socket);          /* exit, err(), SIGINT ...: remove it */

    /* 4. listen(): clients can connect; those beyond MAX_CLIENTS wait in its queue. */
    if (listen(listenfd, SOMAXCONN) == -1)
        err(IPCLAB_EXIT_FAIL, "listen %s", sock_path);
    ipclab_ready("listening on %s; up to %d clients at a time", sock_path, MAX_CLIENTS);

    static struct client clients[MAX_CLIENTS];
    struct pollfd fds[MAX_CLIENTS + 1]; /* [0]: the listening socket; [i + 1]: clients[i] */
    struct ucred cred;                  /* a client's pid and uid */
    socklen_t len = sizeof cred;
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

        /* 6. accept() the new client, and ask the kernel who it is: the pid and uid of its
         * connect(), which nobody can forge (SO_PEERCRED). */
        /* Fix: with no descriptor left, accept() failed (EMFILE) and poll() spun. */
        if ((fds[0].revents & POLLIN) && guard_accept_room(listenfd, connected, &most)) {
            int fd = accept4(listenfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd == -1 && errno != EAGAIN && errno != ECONNABORTED) /* it gave up first */
                warn("accept");
            if (fd != -1 && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
                err(IPCLAB_EXIT_FAIL, "getsockopt SO_PEERCRED");
            if (fd != -1) {
                struct client *c = &clients[free_slot];
                *c = (struct client){ .fd = fd, .id = next_id++, .pid = cred.pid };
                warnx("client %d connected: pid %ld, uid %ld", c->id, (long)c->pid, (long)cred.uid);
            }
        }

        for (int i = 0; i < MAX_CLIENTS; i++) {
            struct client *c = &clients[i];
            if (fds[i + 1].revents == 0)
                continue;
            /* 7. read() what it sent, print it; 0: it half-closed, and has every reply. */
            if (c->len == 0) {
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
