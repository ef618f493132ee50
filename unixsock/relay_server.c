/*
 * relay_server - pass messages between named clients, with one poll() loop.
 *
 * Clients connect to the server's UNIX stream socket, say their name, then send each other
 * messages by name through it: the server is the switchboard.  One slow or silent client must
 * never hold up the others, so every socket is non-blocking: each client has a buffer for what
 * it sent that is not yet a whole frame, and what the server sends it waits in its socket's
 * buffer in the kernel.  The frames, and the rules by which the server answers them, are in
 * relay.h; the sockets are all here.
 * The steps: 1 socket  2 bind  3 listen  4 poll: the listening socket and every client
 *   5 accept, SO_PEERCRED  6 read a client's bytes; each whole frame is answered: send()
 *   7 close a client that leaves.  A signal ends the server: the socket file is unlinked.
 *
 * Run it in three terminals: ./unixsock/relay_server first, then ./unixsock/relay_client alice
 * and ./unixsock/relay_client bob.  Alice types "bob hello there"; bob sees "alice: hello
 * there", and the server says who joins and leaves ("alice (pid 4250) joined").
 *
 * Mirrors seed 003 (the select() server that relays between clients A and B).  Build alone:
 *     cc -o relay_server relay_server.c
 */
#define _GNU_SOURCE /* SO_PEERCRED and struct ucred, accept4: Linux */

#include "relay.h" /* the frames; ../common/sockets.h and ipclab.h, options and guards */

static const char usage[] =
    "usage: relay_server [-p PATH]\n"
    "  Relay messages between named clients (relay_client) on the UNIX stream socket PATH.\n"
    "  Runs until SIGINT, SIGTERM or SIGHUP, then removes PATH.\n"
    "  -p PATH  the socket (default: relay in the run directory, see the top README.md)\n"
    "  -h       show this help\n";

/* The poll() set is the table of clients: fds[0] the listening socket, fds[i] the connection of
 * the client in slot i (-1: a free slot, which poll() skips), clients[i] what we know of it. */
static struct pollfd fds[1 + RELAY_CLIENTS];
static struct relay_client clients[1 + RELAY_CLIENTS];
static int connected; /* slots taken */
static char socket_path[PATH_MAX];

static void remove_socket(void) /* lstat, unlink: async-signal-safe */
{
    if (guard_still_our_socket(socket_path)) /* not one another server bound there since */
        unlink(socket_path);
}

/* Close the connection of client i, saying why (why NULL: nothing to say). */
static void drop(int i, const char *why)
{
    if (why != NULL)
        warnx("%s (pid %ld) %s", clients[i].name[0] != '\0' ? clients[i].name : "a client",
              (long)clients[i].pid, why);
    close(fds[i].fd);
    fds[i].fd = -1;
    clients[i].connected = false;
    connected--;
}

/* Send client i one frame, without waiting (MSG_DONTWAIT): what it has not read yet waits in
 * its socket's buffer in the kernel.  A buffer too full for the whole frame: i is not reading,
 * and is disconnected, so that memory stays bounded and nobody waits for it. */
static void send_frame(int i, char type, const char *name, const char *body, size_t len)
{
    char frame[RELAY_FRAME_MAX];
    size_t n = relay_encode(frame, type, name, body, len);
    ssize_t sent = send(fds[i].fd, frame, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent != (ssize_t)n)
        drop(i, sent == -1 && errno != EAGAIN ? "went away"
                                              : "is not reading its messages: disconnected");
}

int main(int argc, char *argv[])
{
    relay_begin(argc, argv, usage, socket_path, false); /* options; Ctrl-C ends it at once */
    if (socket_path[0] == '\0')
        ipclab_run_path(socket_path, sizeof socket_path, "relay");
    ipclab_cleanup_at_exit(remove_socket); /* at exit and on SIGINT, SIGTERM, SIGHUP */

    /* 1. A stream socket, non-blocking: poll() says when a client waits, accept() never
     * blocks the loop.  Its address: AF_UNIX and a path, in a zeroed sockaddr_un. */
    int listenfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (listenfd == -1)
        err(IPCLAB_EXIT_FAIL, "socket");
    struct sockaddr_un sa = { .sun_family = AF_UNIX }; /* the rest zeroed */
    guard_sun_path_fits(socket_path); /* 107 bytes at most, and the NUL */
    /* Fix: a path too long for sun_path is refused above, never cut short as strncpy() did. */
    strcpy(sa.sun_path, socket_path);
    /* 2. bind() makes the socket file, mode 0600; one a killed server left is unlinked. */
    guard_path_free_or_stale(&sa); /* a live server's, another user's, not a socket */
    if (unlink(socket_path) == 0)
        warnx("removed the stale socket %s (its server is gone)", socket_path);
    umask(0177); /* the file bind() makes is 0600: only we may connect */
    if (bind(listenfd, (struct sockaddr *)&sa, sizeof sa) == -1)
        err(IPCLAB_EXIT_FAIL, "bind %s", socket_path);
    ipclab_socket_made(socket_path); /* remove_socket() unlinks this file, no other */
    /* 3. listen(): from now on clients can connect. */
    if (listen(listenfd, SOMAXCONN) == -1)
        err(IPCLAB_EXIT_FAIL, "listen %s", socket_path);
    warnx("ready (pid %ld): relaying on %s; up to %d clients", (long)getpid(), socket_path,
          RELAY_CLIENTS);

    for (int i = 0; i <= RELAY_CLIENTS; i++)
        fds[i] = (struct pollfd){ .fd = -1, .events = POLLIN };
    /* poll() refuses more entries than the process may have descriptors (EINVAL, with
     * ulimit -n 64 or less): only the slots up to the last one taken are watched. */
    nfds_t nfds = 1;
    int most = RELAY_CLIENTS; /* lowered to what ulimit -n allows, once it is hit */
    for (;;) {
        /* 4. poll(): the listening socket (while a slot is free) and every client. */
        fds[0].fd = connected < most ? listenfd : -1;
        if (poll(fds, nfds, -1) == -1)
            err(IPCLAB_EXIT_FAIL, "poll");
        /* 5. accept() a client into the first free slot, non-blocking like every socket here;
         * the kernel recorded its pid at connect() (SO_PEERCRED). */
        int fd = -1, i = 1;
        struct ucred cred;
        socklen_t len = sizeof cred;
        if ((fds[0].revents & POLLIN) && guard_room_to_accept(listenfd, connected, &most)) {
            fd = accept4(listenfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd == -1 && errno != EAGAIN && errno != ECONNABORTED) /* those: it gave up */
                warn("accept");
        }
        if (fd != -1 && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
            err(IPCLAB_EXIT_FAIL, "getsockopt SO_PEERCRED");
        if (fd != -1) {
            while (fds[i].fd != -1)
                i++;
            fds[i].fd = fd;
            clients[i] = (struct relay_client){ .connected = true, .pid = cred.pid };
            nfds = (nfds_t)i + 1 > nfds ? (nfds_t)i + 1 : nfds;
            connected++;
        }
        if (most == 0)
            exit(IPCLAB_EXIT_FAIL); /* no descriptor for even one client */

        /* 6. Each client with bytes: read() them; relay_take() answers every whole frame. */
        for (i = 1; i < (int)nfds; i++) {
            struct relay_client *c = &clients[i];
            if (fds[i].fd == -1 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = read(fds[i].fd, c->in + c->in_len, sizeof c->in - c->in_len);
            if (n > 0) {
                c->in_len += (size_t)n;
                relay_take(clients, i, send_frame, drop);
            } else if (n == 0 || errno != EAGAIN) {
                /* 7. Gone: close().  A connection that ends before its first byte is no client
                 * (another relay_server asking whether this one is live): not a word of it. */
                /* Fix: end of file drops the client at once; left in the set, it spins poll(). */
                drop(i, c->name[0] == '\0' && c->in_len == 0 ? NULL
                        : n == 0 ? "left" : "went away (connection reset)");
            }
        }
    }
}
