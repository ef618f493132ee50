/*
 * mmap_writer - write stdin into a regular file that mmap_reader maps too: shared memory with a
 * name on disk, and a product that stays.
 *
 * The steps: 1 open() makes the file  2 ftruncate() sizes it  3 mmap() MAP_SHARED maps it
 * 4 read() stdin straight into the mapping  5 msync() to the disk  6 munmap(), close().  From
 * step 3 on, the file's pages are our memory, and every process that maps the file sees each
 * byte at once.  Nothing is consumed: a reader run again prints it all again.  A file has no
 * end of file to wait for, so a header (shm/mmap.h) says how much is written, and when done.
 *
 * Run it in two terminals, either one first:
 *     terminal 1:  ./shm/mmap_reader
 *     terminal 2:  ./shm/mmap_writer         then type lines; Ctrl-D ends
 * What you should see in terminal 2 (then `xxd -l 64 FILE` shows the header and the line):
 *     mmap_writer: ready (pid 4242): /tmp/ipclab-1000/mmap made and mapped: 1048576 bytes for data
 *     hello file
 *     mmap_writer: end of input: 11 bytes in /tmp/ipclab-1000/mmap, marked done, synced (msync)
 *
 * Beyond the seeds.  Build alone: cc -o mmap_writer mmap_writer.c
 */
#define _GNU_SOURCE /* program_invocation_short_name (mmap.h, ipclab.h): Linux */

#include "../common/ipclab.h"
#include "../common/peers.h"
#include "mmap.h"

static const char usage[] =
    "usage: mmap_writer [-p PATH] [-s BYTES]\n"
    "  Write stdin into a file that mmap_reader maps too, marking it done at end of input.  An\n"
    "  earlier file of ours there is replaced; the file stays when the writer ends.\n"
    "  -p PATH   the file (default: mmap in the run directory)\n"
    "  -s BYTES  room for data, fixed by ftruncate (default 1048576, at most 1073741824);\n"
    "            input beyond it is said and not written, exit status 1\n"
    "  -h        show this help\n";

static char path[PATH_MAX];
static volatile sig_atomic_t whole; /* 1 once the file is made: it stays from then on */

/* A file still half made is ours alone (we hold its lock on byte 0): remove it.  unlink() is
 * async-signal-safe, so the signal handler calls this too. */
static void remove_unfinished(void)
{
    if (!whole)
        unlink(path);
}

int main(int argc, char *argv[])
{
    long size = mmap_options(argc, argv, usage, path, sizeof path, true);
    ipclab_catch_signals(); /* SIGPIPE and SIGXFSZ ignored: EPIPE and EFBIG are said */

    /* 1. A new file, ours alone (0600), never through a symbolic link; an earlier one of ours
     * that nobody writes is replaced. */
    int fd;
    while ((fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) == -1) {
        if (errno != EEXIST)
            err(IPCLAB_EXIT_FAIL, "cannot create %s", path);
        guard_remove_earlier_file(path); /* ours, whole, no writer at it: else exit 1 */
    }
    ipclab_cleanup_at_exit(remove_unfinished); /* exit, err(), Ctrl-C: remove it if half made */
    ipclab_lock(fd, MMAP_MAKING, F_WRLCK, true);   /* readers wait until it is whole */

    /* 2. Its size, once: a mapping cannot grow its file. */
    size_t mapped = sizeof(struct mmap_head) + (size_t)size;
    if (ftruncate(fd, (off_t)mapped) == -1)
        err(IPCLAB_EXIT_FAIL, "ftruncate %s", path);

    /* 3. MAP_SHARED: our stores go to the file's pages, which every reader maps too. */
    struct mmap_head *head = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (head == MAP_FAILED)
        err(IPCLAB_EXIT_FAIL, "mmap %s", path);
    head->size = (uint32_t)size; /* ftruncate() zeroed the rest: len 0, state MMAP_WRITING */
    memcpy(head->mark, MMAP_MARK, sizeof head->mark);
    whole = 1;
    ipclab_lock(fd, MMAP_WRITER, F_WRLCK, false); /* held while we write; gone when we are */
    ipclab_lock(fd, MMAP_MAKING, F_UNLCK, false);
    mmap_catch_sigbus(path, head); /* the file truncated under us: said, not a silent death */
    ipclab_ready("%s made and mapped: %ld bytes for data", path, size);

    /* 4. read() puts stdin straight into the file's pages; len announces each piece. */
    uint32_t len = 0, room = head->size; /* our own copy: the file's may be damaged under us */
    ssize_t n;
    char extra;
    while ((n = read(STDIN_FILENO, head->data + len, room - len)) > 0) {
        len += (uint32_t)n;
        /* release: the bytes are in place before a reader sees the length that covers them */
        atomic_store_explicit(&head->len, len, memory_order_release);
        if (len == room && (n = read(STDIN_FILENO, &extra, 1)) != 0)
            break; /* full, and more input (or an error) */
    }
    if (n == -1)
        err(IPCLAB_EXIT_FAIL, "read stdin into the mapping%s", /* EFAULT: a call's SIGBUS */
            errno == EFAULT ? " (the file is shorter than its mapping: truncated under us?)" : "");
    if (n > 0) {
        atomic_store_explicit(&head->state, MMAP_FULL, memory_order_release);
        errx(IPCLAB_EXIT_FAIL, "input beyond %s's %u bytes does not fit: it holds the first %u, "
             "the rest is not written (-s BYTES makes a larger file)", path, len, len);
    }
    guard_file_still_whole(fd, head, room, path); /* truncated and grown back: exit 1, not done */
    atomic_store_explicit(&head->state, MMAP_DONE, memory_order_release);

    /* 5. MS_SYNC: back once the pages are on the disk (the reader needs no msync to see them). */
    if (msync(head, mapped, MS_SYNC) == -1)
        err(IPCLAB_EXIT_FAIL, "msync %s", path);
    warnx("end of input: %u bytes in %s, marked done, synced (msync)", len, path);

    /* 6. The file stays; our lock goes with the descriptor: readers see that nobody writes. */
    if (munmap(head, mapped) == -1)
        err(IPCLAB_EXIT_FAIL, "munmap %s", path);
    close(fd);
    return IPCLAB_EXIT_OK;
}
