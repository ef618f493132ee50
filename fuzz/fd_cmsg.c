/*
 * fd_cmsg - fuzz harness for fd_receiver's inspection of a received control message (take_fd()
 * in fdpass/fd_receiver.c).
 *
 * A peer chooses what it sends with SCM_RIGHTS; the kernel builds the control message, and
 * take_fd() must believe no more of it than the buffer holds.  This harness hands take_fd()
 * every control buffer libFuzzer can think of, the kernel's well-formed ones among them, and
 * checks what it did with it:
 *   - it reads nothing outside the buffer (AddressSanitizer: the buffer is allocated to size);
 *   - it returns a descriptor only for exactly one, in an SCM_RIGHTS message at SOL_SOCKET,
 *     without MSG_CTRUNC, and then closes nothing;
 *   - otherwise it returns NO_FD and closes every descriptor of the first message if that is
 *     SCM_RIGHTS -- each one once, none that is not there -- and closes nothing otherwise.
 * take_fd() calls close() on numbers from the buffer; here close() only records them.
 *
 * Input: byte 0 bit 0 sets MSG_CTRUNC in msg_flags; the rest is the control buffer.
 *
 * Run by `make fuzz` (libFuzzer); built plainly, it replays inputs (see harness.h):
 *     ./fuzz/fd_cmsg fuzz/corpus/fd_cmsg fuzz/regressions/fd_cmsg
 */
#define _GNU_SOURCE /* as fd_receiver.c: MSG_CMSG_CLOEXEC, struct ucred */

#include "harness.h"

/* What take_fd() closed, in order. */
static int closed[1024];
static size_t nclosed;

static int record_close(int fd)
{
    CHECK(nclosed < sizeof closed / sizeof closed[0]); /* more than any buffer here holds */
    closed[nclosed++] = fd;
    return 0;
}

/* The program itself, its close() recording instead of closing, its main() out of the way
 * (the headers, included first, keep the real close(): fdpass.h's check of a full descriptor
 * table dup()s and closes one of its own). */
#include "../fdpass/fdpass.h"
#define close record_close
#define main fd_receiver_main
#include "../fdpass/fd_receiver.c"
#undef main
#undef close

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int flags = (data[0] & 1) ? MSG_CTRUNC : 0;
    size_t len = size - 1;
    /* The buffer exactly as long as the input says, and as aligned as malloc() makes it (a
     * real program's union is aligned for struct cmsghdr too). */
    unsigned char *control = len ? malloc(len) : NULL;
    if (len && control == NULL)
        abort();
    if (len)
        memcpy(control, data + 1, len);
    struct msghdr msg = { .msg_control = control, .msg_controllen = len, .msg_flags = flags };

    nclosed = 0;
    int fd = take_fd(&msg);

    /* What a careful reader of the same buffer sees: the first header, if it fits, and the
     * descriptors of an SCM_RIGHTS message that are inside both cmsg_len and the buffer. */
    struct cmsghdr hdr;
    bool first = len >= sizeof hdr, rights = false;
    size_t count = 0;
    if (first) {
        memcpy(&hdr, control, sizeof hdr);
        rights = hdr.cmsg_level == SOL_SOCKET && hdr.cmsg_type == SCM_RIGHTS;
        size_t end = hdr.cmsg_len < len ? hdr.cmsg_len : len;
        if (rights && end > CMSG_LEN(0))
            count = (end - CMSG_LEN(0)) / sizeof(int);
    }
    bool accepted = rights && !flags && hdr.cmsg_len == CMSG_LEN(sizeof(int)) && count == 1;
    if (accepted) {
        int sent;
        memcpy(&sent, control + CMSG_LEN(0), sizeof sent);
        CHECK(fd == sent);
        CHECK(nclosed == 0);
    } else {
        CHECK(fd == NO_FD);
        /* All of them refused and closed, each once, in order. */
        CHECK(nclosed == count);
        for (size_t i = 0; i < nclosed; i++) {
            int sent;
            memcpy(&sent, control + CMSG_LEN(0) + i * sizeof sent, sizeof sent);
            CHECK(closed[i] == sent);
        }
    }
    free(control);
    return 0;
}
