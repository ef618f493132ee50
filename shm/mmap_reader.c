/*
 * mmap_reader - print what mmap_writer writes into a file that both map.
 *
 * The steps: 1 open() the file, read-only  2 mmap() it PROT_READ, MAP_SHARED: the writer's
 * pages, seen from here  3 print what the header says is new, a look every 200 ms, until it
 * says done  4 munmap(), close().  No read() blocks on a mapping, so nothing tells the reader
 * that bytes came: it looks.  It takes nothing away: run it again and it prints it all again.
 * A writer gone before it said done (its record lock on byte 1 of the file is gone) is said; a
 * file truncated under the mapping (`truncate -s 0 FILE`) brings SIGBUS, said, exit 1.
 *
 * Run it in two terminals, either one first:
 *     terminal 1:  ./shm/mmap_reader
 *     terminal 2:  ./shm/mmap_writer
 * What you should see in terminal 1, once terminal 2 has sent a line and pressed Ctrl-D:
 *     mmap_reader: ready (pid 4243): waiting for /tmp/ipclab-1000/mmap to be made (a look every 200 ms)
 *     mmap_reader: /tmp/ipclab-1000/mmap mapped: 1048576 bytes for data, 0 written so far
 *     hello file
 *     mmap_reader: end of data: 11 bytes, and the writer said done (the file keeps them)
 *
 * Beyond the seeds.  Build alone: cc -o mmap_reader mmap_reader.c
 */
#define _GNU_SOURCE /* program_invocation_short_name (mmap.h, ipclab.h): Linux */

#include "../common/ipclab.h"
#include "../common/peers.h"
#include "mmap.h"

static const char usage[] =
    "usage: mmap_reader [-p PATH]\n"
    "  Print what mmap_writer writes into the file both map, until the writer marks it done;\n"
    "  the file is left as it is, so a reader run again prints it all again.\n"
    "  -p PATH  the file (default: mmap in the run directory)\n"
    "  -h       show this help\n";

#define LOOK_MS 200 /* a look at the file, or at its header, every 200 ms */

int main(int argc, char *argv[])
{
    char path[PATH_MAX] = "";
    mmap_options(argc, argv, usage, path, sizeof path, false); /* and Ctrl-C: die at once */

    /* 1. open() the file once a writer has made it; O_NONBLOCK: a FIFO there never blocks us. */
    int fd, look = 0;
    struct stat st;
    for (; (fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) == -1 ||
           !mmap_file_made(fd, path, &st); look++) { /* ours, whole: else exit 1 */
        if (fd == -1 && errno == ELOOP)
            errx(IPCLAB_EXIT_FAIL, "%s is a symbolic link; refusing to follow it", path);
        if (fd == -1 && errno != ENOENT)
            err(IPCLAB_EXIT_FAIL, "%s", path);
        if (look == 0)
            ipclab_ready("waiting for %s to be made (a look every %d ms)", path, LOOK_MS);
        poll(NULL, 0, LOOK_MS);
    }

    /* 2. PROT_READ, MAP_SHARED: the writer's pages; a store through this mapping is SIGSEGV. */
    struct mmap_head *head = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (head == MAP_FAILED)
        err(IPCLAB_EXIT_FAIL, "mmap %s", path);
    mmap_catch_sigbus(path, head); /* the file truncated under us: said, exit 1 */
    if (look == 0) /* found at once, and checked: this is the ready line */
        ipclab_ready("%s mapped: %u bytes for data, %u written so far", path, head->size,
                     head->len);
    else
        warnx("%s mapped: %u bytes for data, %u written so far", path, head->size, head->len);

    /* 3. Print what is new, straight from the mapping, until the writer says done or goes. */
    uint32_t printed = 0, len, state;
    for (;;) {
        bool gone = mmap_writer_gone(fd); /* looked at first: a writer that said done, then went,
                                        is seen saying it below */
        /* acquire: the bytes that len covers are in place (the writer stored len after them) */
        state = atomic_load_explicit(&head->state, memory_order_acquire);
        len = atomic_load_explicit(&head->len, memory_order_acquire);
        guard_header_sane(head, len, state, printed, path); /* not our writer's: exit 1 */
        for (ssize_t n; printed < len; printed += (uint32_t)n)
            if ((n = write(STDOUT_FILENO, head->data + printed, len - printed)) == -1)
                err(IPCLAB_EXIT_FAIL, "write stdout");
        if (state != MMAP_WRITING || gone)
            break;
        poll(NULL, 0, LOOK_MS);
    }
    if (state == MMAP_DONE)
        warnx("end of data: %u bytes, and the writer said done (the file keeps them)", len);
    else if (state == MMAP_FULL)
        warnx("end of data: %u bytes, all the file holds: the writer's input did not fit", len);
    else
        warnx("the writer has gone (or was killed) before it said done: %u bytes", len);

    /* 4. The file stays: the reader only unmaps it. */
    if (munmap(head, (size_t)st.st_size) == -1)
        err(IPCLAB_EXIT_FAIL, "munmap %s", path);
    close(fd);
    return state == MMAP_DONE ? IPCLAB_EXIT_OK : IPCLAB_EXIT_FAIL;
}
