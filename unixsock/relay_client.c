/*
 * relay_client - talk to other clients by name, through relay_server.
 *
 * The client connects, says its name, and then does two things at once with poll(2): each line
 * you type, "bob hello there", goes to the server addressed to bob; each message the server
 * relays to you is printed as "alice: hello there".  The server's complaints (no such client,
 * name taken) are printed on stderr.  End of input (Ctrl-D) leaves.
 * The steps: 1 socket, connect  2 write the hello frame  3 poll: the socket and the keyboard
 *   4 read frames, print them  5 read lines, write them as frames  6 close at end of input.
 *
 * Run it in three terminals: ./unixsock/relay_server first, then ./unixsock/relay_client alice
 * and ./unixsock/relay_client bob.  Alice types "bob hello there", then "carol hi", and sees:
 *     relay_client: you are alice; type "NAME message" to send, Ctrl-D to leave
 *     relay_client: server: no client named carol
 * and bob sees "alice: hello there".
 *
 * Mirrors seed 003 (ClientA and ClientB, now one program with a name).  Build alone:
 *     cc -o relay_client relay_client.c
 */
#define _GNU_SOURCE /* SO_PEERCRED (guard_server_is_ours), the handler that cleans up: Linux */

#include "relay.h" /* the frames; ../common/sockets.h and ipclab.h, options and guards */

static const char usage[] =
    "usage: relay_client [-p PATH] NAME\n"
    "  Join relay_server on the UNIX socket PATH as NAME (1 to 32 ASCII letters, digits, - or _).\n"
    "  Each line typed, \"OTHER message\", is sent to the client named OTHER; messages for NAME\n"
    "  are printed as \"SENDER: message\".  Ctrl-D leaves.\n"
    "  -p PATH  the server's socket (default: relay in the run directory, see the top\n"
    "           README.md)\n"
    "  -h       show this help\n";

int main(int argc, char *argv[])
{
    char path[PATH_MAX] = "";
    const char *name = relay_begin(argc, argv, usage, path, true); /* Ctrl-C: ends at once */
    if (path[0] == '\0')
        ipclab_run_path(path, sizeof path, "relay");

    /* 1. A stream socket, connected to the server's address: AF_UNIX and its path. */
    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock == -1)
        err(IPCLAB_EXIT_FAIL, "socket");
    struct sockaddr_un sa = { .sun_family = AF_UNIX }; /* the rest zeroed */
    guard_sun_path_fits(path); /* 107 bytes at most, and the NUL */
    /* Fix: a path too long for sun_path is refused above, never cut short as strncpy() did. */
    strcpy(sa.sun_path, path);
    int rc = connect(sock, (struct sockaddr *)&sa, sizeof sa);
    if (rc == -1 && (errno == ENOENT || errno == ECONNREFUSED))
        errx(IPCLAB_EXIT_FAIL, "no server at %s; start it with ./unixsock/relay_server", path);
    if (rc == -1)
        err(IPCLAB_EXIT_FAIL, "connect %s", path);
    guard_server_is_ours(sock, path); /* with -p, whoever listens there reads what we type */

    /* 2. The hello: our name, in the first frame.  On a blocking stream socket write() takes
     * the whole frame, or fails. */
    char frame[RELAY_FRAME_MAX];
    ssize_t n = (ssize_t)relay_encode(frame, RELAY_HELLO, name, "", 0);
    if (write(sock, frame, (size_t)n) != n)
        err(IPCLAB_EXIT_FAIL, "write");

    static char got[RELAY_FRAME_MAX], typed[RELAY_LINE_MAX];
    size_t got_len = 0, typed_len = 0;
    bool welcomed = false, skipping = false;
    for (;;) {
        /* 3. poll(): the socket, and the keyboard once the server has let us in. */
        struct pollfd fds[2] = { { .fd = sock, .events = POLLIN },
                                 { .fd = welcomed ? STDIN_FILENO : -1, .events = POLLIN } };
        if (poll(fds, 2, -1) == -1)
            err(IPCLAB_EXIT_FAIL, "poll");
        /* 4. The server sent something: read() it, print every whole frame. */
        if (fds[0].revents != 0) {
            bool was = welcomed;
            ssize_t r = read(sock, got + got_len, sizeof got - got_len);
            if (r == -1)
                err(IPCLAB_EXIT_FAIL, "read");
            if (r == 0)
                errx(IPCLAB_EXIT_FAIL, "the server closed the connection");
            got_len += (size_t)r;
            relay_print_frames(got, &got_len, &welcomed);
            if (welcomed && !was)
                warnx("you are %s; type \"NAME message\" to send, Ctrl-D to leave", name);
        }
        if (fds[1].revents == 0)
            continue;
        /* 5. A line typed: "NAME message" goes to NAME, in a send frame; Ctrl-D leaves. */
        ssize_t r = read(STDIN_FILENO, typed + typed_len, sizeof typed - typed_len);
        if (r == -1)
            err(IPCLAB_EXIT_FAIL, "read stdin");
        typed_len += (size_t)r;
        while ((n = relay_take_line(typed, &typed_len, &skipping, r == 0, frame)) != 0)
            if (n > 0 && write(sock, frame, (size_t)n) != n)
                err(IPCLAB_EXIT_FAIL, errno == EPIPE ? "the server has gone" : "write");
        if (r == 0)
            break;
    }
    /* 6. close(): the server reads end of file, and says we left. */
    close(sock);
    return IPCLAB_EXIT_OK;
}
