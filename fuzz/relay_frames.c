/*
 * relay_frames - fuzz harness for the relay server's frame handling: relay_take() with the
 * rules it applies, relay_decode() and relay_encode() (unixsock/relay.h), driven through the
 * server's own send_frame() and drop() (unixsock/relay_server.c).
 *
 * The server reads whatever its clients send; a hostile or broken client must cost the server
 * nothing but its own connection.  This harness plays three clients at once.  Its input is a
 * script of chunks, each "byte W, byte N, N bytes": client (W & 63) % 3 sends the N bytes (split
 * wherever the fuzzer likes, as a stream splits them).  A client the server has dropped comes
 * back as a new connection.  Bit 7 of W first lets every client read what the server sent it;
 * bit 6 sends the chunk REPEAT times over (so that a short input can fill a client's socket
 * buffer, which then makes the server drop it as not reading).
 * After each chunk it checks, besides what AddressSanitizer and UBSan catch:
 *   - no client's buffer is over its limit, and no whole frame is left unanswered in it;
 *   - every client that said hello has a valid name, and no two have the same;
 *   - what each client receives is a sequence of well-formed frames (only one the server
 *     dropped may end in a part of one);
 *   - decoding is exact: a frame that decodes re-encodes to the same bytes.
 * Each client is a real socketpair, because the server sends frames and closes connections.
 *
 * Run by `make fuzz` (libFuzzer); built plainly, it replays inputs (see harness.h):
 *     ./fuzz/relay_frames fuzz/corpus/relay_frames fuzz/regressions/relay_frames
 */
#define _GNU_SOURCE /* as relay_server.c: SO_PEERCRED, accept4 */

#include "harness.h"

/* The program itself, its main() out of the way. */
#define main relay_server_main
#include "../unixsock/relay_server.c"
#undef main

#define PLAYERS 3
#define REPEAT 512

static int client_end[PLAYERS]; /* the client's own end of each connection (slot i + 1) */
static char received[PLAYERS][RELAY_FRAME_MAX]; /* what it received: the rest of a frame, at most */
static size_t received_len[PLAYERS];

static void connect_player(int i)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == -1)
        abort();
    fds[i + 1].fd = sv[0];
    clients[i + 1] = (struct relay_client){ .connected = true, .pid = 1000 + i };
    connected++;
    client_end[i] = sv[1];
    received_len[i] = 0;
}

/* The client reads what the server sent it: whole, well-formed frames only; the start of one
 * is left only by a client the server dropped (a frame it could not send whole). */
static void drain(int i)
{
    struct relay_frame f;
    const char *why;
    ssize_t n;

    while ((n = read(client_end[i], received[i] + received_len[i],
                     sizeof received[i] - received_len[i])) > 0) {
        size_t at = 0;
        received_len[i] += (size_t)n;
        while ((n = relay_decode(received[i] + at, received_len[i] - at, &f, &why)) > 0)
            at += (size_t)n;
        CHECK(n == 0);
        memmove(received[i], received[i] + at, received_len[i] - at);
        received_len[i] -= at;
    }
    CHECK(!clients[i + 1].connected || received_len[i] == 0);
}

/* A frame that decodes comes back the same when encoded. */
static void check_round_trip(const char *buf, size_t len)
{
    struct relay_frame f;
    const char *why;
    char again[RELAY_FRAME_MAX];
    ssize_t n = relay_decode(buf, len, &f, &why);

    CHECK(n >= -1 && n <= (ssize_t)len);
    if (n <= 0)
        return;
    CHECK(strlen(f.name) <= RELAY_NAME_MAX && f.body_len <= RELAY_BODY_MAX);
    CHECK(f.body >= buf && f.body + f.body_len <= buf + len);
    CHECK(relay_encode(again, f.type, f.name, f.body, f.body_len) == (size_t)n);
    CHECK(memcmp(again, buf, (size_t)n) == 0);
}

static void check_client(int i)
{
    struct relay_client *c = &clients[i + 1];
    struct relay_frame f;
    const char *why;

    CHECK(c->in_len <= sizeof c->in);
    CHECK(relay_decode(c->in, c->in_len, &f, &why) == 0); /* the rest of a frame, at most */
    CHECK(c->name[0] == '\0' || relay_name_ok(c->name, strlen(c->name)));
    for (int j = 0; j < i; j++)
        CHECK(!clients[j + 1].connected || c->name[0] == '\0' ||
              strcmp(c->name, clients[j + 1].name) != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_round_trip((const char *)data, size);

    for (int i = 0; i <= RELAY_CLIENTS; i++) {
        fds[i].fd = -1;
        clients[i].connected = false;
    }
    connected = 0;
    for (int i = 0; i < PLAYERS; i++)
        connect_player(i);
    while (size >= 2) {
        int who = (data[0] & 63) % PLAYERS;
        int times = (data[0] & 0x40) ? REPEAT : 1;
        size_t len = data[1] < size - 2 ? data[1] : size - 2;
        if (data[0] & 0x80)
            for (int i = 0; i < PLAYERS; i++)
                if (clients[i + 1].connected)
                    drain(i);
        data += 2;
        size -= 2;
        struct relay_client *c = &clients[who + 1];
        if (!c->connected) { /* dropped: what it received, then the same player connects again */
            received_len[who] = 0; /* a frame cut short by the drop is allowed */
            close(client_end[who]);
            connect_player(who);
        }
        for (int t = 0; t < times && c->connected; t++) {
            /* What one read() could bring: no more than the room left. */
            size_t n = len < sizeof c->in - c->in_len ? len : sizeof c->in - c->in_len;
            memcpy(c->in + c->in_len, data, n);
            c->in_len += n;
            relay_take(clients, who + 1, send_frame, drop);
        }
        data += len;
        size -= len;
        for (int i = 0; i < PLAYERS; i++)
            if (clients[i + 1].connected)
                check_client(i);
    }
    for (int i = 0; i < PLAYERS; i++) {
        if (clients[i + 1].connected) {
            drain(i);
            close(fds[i + 1].fd);
        }
        close(client_end[i]);
    }
    return 0;
}
