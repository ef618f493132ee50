/*
 * fifo_chat - two people chat through two FIFOs: `fifo_chat a` and `fifo_chat b`.
 *
 * A FIFO, like any pipe, goes one way, so a chat needs two: PREFIX.a2b carries what a types
 * to b, PREFIX.b2a the other way.  Both sides open them in the same order (a2b first), so the
 * two blocking open() calls pair up instead of each side waiting for the other forever.  Then
 * one process per side watches the keyboard and the incoming FIFO with poll().
 *
 * Run it in two terminals, either one first:
 *     terminal 1:  ./fifo/fifo_chat a
 *     terminal 2:  ./fifo/fifo_chat b
 * What you should see in terminal 1 (the path depends on your run directory):
 *     fifo_chat: ready (pid 4242): you are a; waiting for b on /run/user/1000/ipclab/chat.a2b
 *     fifo_chat: b is here; type lines to send them, Ctrl-D to leave
 * Each line typed on one side appears on the other, marked "b: " (or "a: ") in a terminal so
 * it stands apart from your own typing.  When one side leaves (Ctrl-D, Ctrl-C, or killed), the
 * other says so and ends as well.
 *
 * Mirrors seed 004, 有名管道 demo1 (here: a) and demo2 (here: b).  Build alone:
 *     cc -o fifo_chat fifo_chat.c
 */
#define _GNU_SOURCE /* ppoll(2), used by ipclab_poll: POSIX.1-2024, glibc wants _GNU_SOURCE */

#include "../common/ipclab.h"

static const char usage[] =
    "usage: fifo_chat [-p PREFIX] a|b\n"
    "  Chat with the other side through two FIFOs, PREFIX.a2b and PREFIX.b2a: lines typed here\n"
    "  go to the other side, lines it sends are printed here.  Either side may start first.\n"
    "  -p PREFIX  the FIFOs' common prefix (default: chat in the run directory, see README.md)\n"
    "  -h         show this help\n";

/* Where the chat stands after one event. */
enum chat { CHAT_GOES_ON, CHAT_OVER, CHAT_FAILED };

/* The peer, and how its words are shown. */
struct peer {
    char name;       /* 'a' or 'b' */
    bool label;      /* stdout is a terminal: begin each of its lines with "b: " */
    bool line_start; /* the next byte printed begins a line */
};

/*
 * Print what the peer sent.  In a terminal, each of its lines begins with "b: ", so it stands
 * apart from your own lines, which the terminal echoes as you type them.  Into a file or a pipe
 * the bytes go unchanged.
 */
static int print_peer(struct peer *p, const char *buf, size_t n)
{
    if (!p->label)
        return ipclab_write_all(STDOUT_FILENO, buf, n);
    const char prefix[] = { p->name, ':', ' ' };
    while (n > 0) {
        if (p->line_start && ipclab_write_all(STDOUT_FILENO, prefix, sizeof prefix) == -1)
            return -1;
        const char *nl = memchr(buf, '\n', n);
        size_t len = nl != NULL ? (size_t)(nl - buf) + 1 : n;
        if (ipclab_write_all(STDOUT_FILENO, buf, len) == -1)
            return -1;
        p->line_start = nl != NULL;
        buf += len;
        n -= len;
    }
    return 0;
}

/* Something arrived from the peer: print it.  End of file means the peer has left. */
static enum chat receive(int in, struct peer *peer)
{
    char buf[IPCLAB_CHUNK];
    ssize_t n = read(in, buf, sizeof buf);

    if (n == -1) {
        if (errno == EINTR)
            return CHAT_GOES_ON;
        warn("read");
        return CHAT_FAILED;
    }
    /* Fix: the original ignored read()'s result and printed empty lines forever once the
     * peer was gone. */
    if (n == 0) {
        warnx("%c has left the chat", peer->name);
        return CHAT_OVER;
    }
    if (print_peer(peer, buf, (size_t)n) == -1) {
        if (errno != EINTR)
            warn("write stdout");
        return CHAT_FAILED;
    }
    return CHAT_GOES_ON;
}

/*
 * The user typed something: send it.  At end of input close the outgoing FIFO, which is the
 * peer's end of file; keep reading until the peer closes its side too, so nothing it sent in
 * the meantime is lost.  *out becomes -1 then.
 */
static enum chat send_typed(int *out, char peer)
{
    char buf[IPCLAB_CHUNK];
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);

    if (n == -1) {
        if (errno == EINTR)
            return CHAT_GOES_ON;
        warn("read stdin");
        return CHAT_FAILED;
    }
    if (n == 0) {
        warnx("you have left the chat; telling %c", peer);
        close(*out);
        *out = -1;
        return CHAT_GOES_ON;
    }
    /* Fix: the original read with scanf("%s") (overflowing buf[100], no spaces) and always
     * wrote sizeof buf bytes.  Fix: SIGPIPE is ignored, so a peer that has gone shows up as
     * EPIPE here, not as a silent death. */
    if (ipclab_write_all(*out, buf, (size_t)n) == -1) {
        if (errno == EPIPE) {
            warnx("%c has left the chat", peer);
            return CHAT_OVER;
        }
        if (errno != EINTR)
            warn("write");
        return CHAT_FAILED;
    }
    return CHAT_GOES_ON;
}

/*
 * Fix: the original forked, the parent typing and the child printing.  Only the parent caught
 * SIGINT, so the child lingered after Ctrl-C; and neither learned that the peer had left.  One
 * process watching both descriptors with poll() has nothing to leave behind.
 */
static int chat(int in, int out, char peer_name)
{
    struct peer peer = { peer_name, isatty(STDOUT_FILENO) == 1, true };
    struct pollfd fds[3] = { { .fd = STDIN_FILENO, .events = POLLIN },
                             { .fd = in, .events = POLLIN },
                             { .fd = out, .events = 0 } }; /* POLLERR: the peer stopped reading */
    enum chat state = CHAT_GOES_ON;

    while (state == CHAT_GOES_ON) {
        if (ipclab_poll(fds, 3) == -1) {
            if (errno != EINTR)
                err(IPCLAB_EXIT_FAIL, "poll");
            state = CHAT_FAILED; /* a signal: main cleans up and dies of it */
        } else if (fds[1].revents != 0) {
            state = receive(in, &peer);
        } else if (fds[2].revents != 0) {
            warnx("%c has left the chat", peer.name);
            state = CHAT_OVER;
        } else if (fds[0].revents != 0) {
            state = send_typed(&out, peer.name);
            if (out == -1)
                fds[0].fd = fds[2].fd = -1; /* poll() ignores negative descriptors */
        }
    }
    if (out != -1)
        close(out);
    return state == CHAT_OVER ? IPCLAB_EXIT_OK : IPCLAB_EXIT_FAIL;
}

int main(int argc, char *argv[])
{
    char prefix[PATH_MAX] = "";
    int opt;

    ipclab_stderr_by_line();
    ipclab_std_fds();
    while ((opt = getopt(argc, argv, ":hp:")) != -1) {
        switch (opt) {
        case 'p':
            ipclab_path_arg(prefix, sizeof prefix, optarg, usage);
            break;
        case 'h':
            fputs(usage, stdout);
            return IPCLAB_EXIT_OK;
        default:
            ipclab_bad_option(usage, opt);
        }
    }
    if (argc - optind != 1)
        ipclab_usage_error(usage, argc == optind ? "say which side you are: a or b"
                                                 : "one side only: a or b");
    const char *side = argv[optind];
    if (strcmp(side, "a") != 0 && strcmp(side, "b") != 0)
        ipclab_usage_error(usage, "the side is a or b, not '%s'", side);
    char me = side[0], peer = me == 'a' ? 'b' : 'a';

    /* Fix: the original used ./fifo1 and ./fifo2 in whatever directory it started in. */
    if (prefix[0] == '\0')
        ipclab_run_path(prefix, sizeof prefix, "chat");
    char a2b[PATH_MAX], b2a[PATH_MAX];
    if (snprintf(a2b, sizeof a2b, "%s.a2b", prefix) >= (int)sizeof a2b ||
        snprintf(b2a, sizeof b2a, "%s.b2a", prefix) >= (int)sizeof b2a)
        ipclab_usage_error(usage, "-p: the prefix is too long");

    /* Fix: the original's handler called remove() and exit(), which are not async-signal-safe
     * (signal-safety(7)).  Ours only records the signal; the cleanup below runs outside it. */
    ipclab_catch_signals();

    int status = IPCLAB_EXIT_FAIL;
    if (ipclab_creat_fifo(a2b) == 0 && ipclab_creat_fifo(b2a) == 0) {
        ipclab_ready("you are %c; waiting for %c on %s", me, peer, a2b);
        /* a writes a2b and reads b2a; b the other way round.  Both open a2b first. */
        int out = -1, in = -1;
        if (me == 'a') {
            if ((out = ipclab_open_fifo(a2b, O_WRONLY)) != -1)
                in = ipclab_open_fifo(b2a, O_RDONLY);
        } else {
            if ((in = ipclab_open_fifo(a2b, O_RDONLY)) != -1)
                out = ipclab_open_fifo(b2a, O_WRONLY);
        }
        if (in != -1 && out != -1) {
            warnx("%c is here; type lines to send them, Ctrl-D to leave", peer);
            status = chat(in, out, peer);
            out = -1; /* chat() closed it */
        }
        if (in != -1)
            close(in);
        if (out != -1)
            close(out);
    }
    /* Either side removes both FIFOs when it leaves; the other then finds nothing to remove. */
    ipclab_remove_fifo(a2b);
    ipclab_remove_fifo(b2a);
    ipclab_die_of_signal();
    return status;
}
