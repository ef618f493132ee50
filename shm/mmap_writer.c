/*
 * mmap_writer - write stdin into a regular file that mmap_reader maps too: shared memory with a
 * name on disk, and a product that stays.
 *
 * open(2) makes the file (mode 0600, O_CREAT | O_EXCL | O_NOFOLLOW: never somebody else's, never
 * through a symbolic link), ftruncate(2) fixes its size, and mmap(2) with MAP_SHARED maps it:
 * from then on the file's pages are this process's memory.  read(2) of stdin lands straight in
 * them, and any other process that maps the file sees the bytes at once -- they are the same
 * pages, the kernel's cache of the file.  A header at the start of the file (shm/mmap.h) holds
 * our mark, the size, the length written so far and a state: how this differs from a pipe is
 * the lesson.  Nothing is consumed: a reader reads the file, it does not take from it, so a
 * second reader, or the same one run again, sees everything again.  There is no end of file
 * to send: the writer says "done" in the header.  The size is fixed: input beyond it is said,
 * and not sent.  At the end msync(2) writes the pages to the disk (the reader needs no msync to
 * see them; a crash of the machine would) and munmap(2) unmaps them; the file stays.
 *
 * Run it in two terminals, either one first:
 *     terminal 1:  ./shm/mmap_reader
 *     terminal 2:  ./shm/mmap_writer
 * What you should see in terminal 2, then type lines, then Ctrl-D:
 *     mmap_writer: ready (pid 4242): /tmp/ipclab-1000/mmap made and mapped: 1048576 bytes for data
 *     hello file
 *     mmap_writer: end of input: 11 bytes in /tmp/ipclab-1000/mmap, marked done, synced (msync)
 * Then `xxd -l 64 /tmp/ipclab-1000/mmap` shows the header and the line; run ./shm/mmap_reader
 * again: it prints the line again.
 *
 * Beyond the seeds.  Build alone: cc -o mmap_writer mmap_writer.c
 */
#define _GNU_SOURCE /* ppoll (ipclab_poll), program_invocation_short_name (mmap.h): Linux */

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

/*
 * Something is at path, open on fd.  If it is an earlier file of ours that no writer is
 * writing, remove it (readers that still map it keep it whole: it goes with their last
 * mapping) and return 0, to make a new one; -1, after a message, if it is anything else.
 */
static int remove_earlier(int fd, const char *path)
{
    struct stat st;

    if (!mmap_found_ok(fd, path))
        return -1;
    if (ipclab_lock(fd, MMAP_DOOR, F_WRLCK, true) == -1)
        return ipclab_fail("lock");
    if (fstat(fd, &st) == -1)
        return ipclab_fail("fstat");
    if (st.st_nlink == 0) /* removed while we waited at its door */
        return 0;
    pid_t other = ipclab_lock_holder(fd, MMAP_WRITER);
    if (other != 0) {
        warnx("another mmap_writer (pid %ld) is writing %s", (long)other, path);
        return -1;
    }
    if (!mmap_file_ours(fd, path, st.st_size))
        return -1;
    if (unlink(path) == -1)
        return ipclab_fail("unlink");
    warnx("%s: the earlier file (%lld bytes) removed, to make a new one", path,
          (long long)st.st_size);
    return 0;
}

/* Make the file, empty, and hold its door (so nobody finds it half made).  Returns its
 * descriptor, or -1 (after a message, unless a signal). */
static int make_file(const char *path)
{
    for (;;) {
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd != -1) {
            if (ipclab_lock(fd, MMAP_DOOR, F_WRLCK, true) == 0)
                return fd;
            ipclab_fail("lock");
            unlink(path); /* ours, new and empty */
            close(fd);
            return -1;
        }
        if (errno != EEXIST) {
            warn("cannot create %s", path);
            return -1;
        }
        /* O_NONBLOCK: a FIFO found there must not keep open() waiting; it is refused below. */
        if ((fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) == -1) {
            if (errno == ENOENT)
                continue; /* gone meanwhile: make it */
            if (errno == ELOOP)
                warnx("%s is a symbolic link; refusing to follow it", path);
            else
                warn("%s", path);
            return -1;
        }
        int rc = remove_earlier(fd, path);
        close(fd);
        if (rc == -1)
            return -1;
    }
}

/* A file truncated under the mapping and grown back (`truncate -s 0`, then its size) comes back
 * as zeros: our mark and what we wrote are gone, though no access faulted.  Before marking it
 * done: are its size and our mark still there? */
static bool guard_file_whole(int fd, const struct mmap_head *head, uint32_t size, const char *path)
{
    struct stat st;

    if (fstat(fd, &st) == 0 && st.st_size == (off_t)(sizeof *head + size) && head->size == size &&
        memcmp(head->mark, MMAP_MARK, sizeof head->mark) == 0)
        return true;
    warnx("%s was truncated or overwritten while we wrote (its size or our mark is gone): it "
          "does not hold what we wrote; not marked done", path);
    return false;
}

/* Copy stdin into the file's data, announcing each piece in len.  Returns the exit status. */
static int write_stdin(struct mmap_head *head, int fd, const char *path)
{
    const uint32_t size = head->size;
    uint32_t len = 0;

    for (;;) {
        struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };
        if (ipclab_poll(&in, 1) == -1) { /* a termination signal (or a failure) */
            ipclab_fail("poll");
            return IPCLAB_EXIT_FAIL;
        }
        char extra;
        bool full = len == size;
        ssize_t n = full ? ipclab_read(STDIN_FILENO, &extra, 1)
                         : ipclab_read(STDIN_FILENO, head->data + len, size - len);
        if (n == -1) {
            mmap_say_failure("read stdin into the mapping", path);
            return IPCLAB_EXIT_FAIL;
        }
        if (n == 0)
            break;
        if (full) {
            atomic_store_explicit(&head->state, MMAP_FULL, memory_order_release);
            warnx("input beyond %s's %u bytes does not fit: it holds the first %u, the rest is "
                  "not written (-s BYTES makes a larger file)", path, size, len);
            return IPCLAB_EXIT_FAIL;
        }
        len += (uint32_t)n;
        /* release: the bytes are in place before a reader can see the length that covers them */
        atomic_store_explicit(&head->len, len, memory_order_release);
    }
    if (!guard_file_whole(fd, head, size, path))
        return IPCLAB_EXIT_FAIL;
    atomic_store_explicit(&head->state, MMAP_DONE, memory_order_release);
    return IPCLAB_EXIT_OK;
}

int main(int argc, char *argv[])
{
    char path[PATH_MAX] = "";
    long size = MMAP_DEFAULT_SIZE;
    int opt;

    ipclab_stderr_by_line();
    ipclab_std_fds();
    while ((opt = getopt(argc, argv, ":hp:s:")) != -1) {
        if (opt == 'p') {
            ipclab_path_arg(path, sizeof path, optarg, usage);
        } else if (opt == 's') {
            if (!ipclab_parse_long(optarg, 1, MMAP_MAX_SIZE, &size))
                ipclab_usage_error(usage, "-s wants a size from 1 to %ld bytes, not '%s'",
                                   MMAP_MAX_SIZE, optarg);
        } else if (opt == 'h') {
            fputs(usage, stdout);
            return IPCLAB_EXIT_OK;
        } else {
            ipclab_bad_option(usage, opt, argv);
        }
    }
    if (optind < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (path[0] == '\0')
        ipclab_run_path(path, sizeof path, "mmap");

    ipclab_catch_signals();
    int fd = make_file(path);
    if (fd == -1) {
        ipclab_die_of_signal();
        return IPCLAB_EXIT_FAIL;
    }
    size_t mapped = sizeof(struct mmap_head) + (size_t)size;
    struct mmap_head *head = MAP_FAILED;
    if (ftruncate(fd, (off_t)mapped) == -1) /* the size, once: a mapping cannot grow a file */
        warn("ftruncate %s", path);
    else if ((head = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED)
        warn("mmap %s", path);
    if (head == MAP_FAILED) {
        unlink(path); /* ours, half made, door held: nobody uses it */
        close(fd);
        ipclab_die_of_signal();
        return IPCLAB_EXIT_FAIL;
    }
    /* ftruncate filled it with zeros: len 0, state MMAP_WRITING.  The size, then the mark. */
    head->size = (uint32_t)size;
    memcpy(head->mark, MMAP_MARK, sizeof head->mark);
    ipclab_lock(fd, MMAP_WRITER, F_WRLCK, false); /* no other writer: it would hold the door */
    ipclab_lock(fd, MMAP_DOOR, F_UNLCK, false);
    mmap_catch_sigbus(path, head);
    ipclab_ready("%s made and mapped: %ld bytes for data", path, size);

    int status = write_stdin(head, fd, path);
    uint32_t len = atomic_load(&head->len);
    /* MS_SYNC: back only once the pages are on the disk.  The file system writes them back in
     * its own time anyway; msync makes it now, and says whether it worked (not after Ctrl-C:
     * a gigabyte takes half a second, and a signal must end us at once). */
    if (!ipclab_signal && msync(head, mapped, MS_SYNC) == -1) {
        warn("msync %s", path);
        status = IPCLAB_EXIT_FAIL;
    } else if (status == IPCLAB_EXIT_OK) {
        warnx("end of input: %u bytes in %s, marked done, synced (msync)", len, path);
    }
    if (munmap(head, mapped) == -1)
        warn("munmap %s", path);
    close(fd); /* the writer's lock goes with it: readers see that nobody writes any more */
    ipclab_die_of_signal();
    return status;
}
