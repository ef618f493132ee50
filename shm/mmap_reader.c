/*
 * mmap_reader - print what mmap_writer writes into a file that both map.
 *
 * open(2) the file (O_NOFOLLOW, read-only), check it with fstat(2) (a regular file of ours,
 * closed to others, of the size its header says) and mmap(2) it PROT_READ, MAP_SHARED: the
 * writer's pages, seen from here; a store through this mapping would be SIGSEGV.  Nothing tells
 * the reader that the writer has added bytes -- no read(2) blocks on a mapping -- so it looks
 * at the header's length every tick (five times a second, asleep in between) and prints what
 * is new, straight from the mapping.  It ends when the header says done.  It takes nothing
 * away: run it again and it prints everything again.  If the writer is gone (its lock on the
 * file is no more) before it said done, the reader says so.  A file truncated under the
 * mapping (`truncate -s 0 FILE` in a third terminal) brings SIGBUS: said, exit 1.  munmap(2)
 * at the end; the reader never removes the file.
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
#define _GNU_SOURCE /* ppoll (ipclab_poll_timed), program_invocation_short_name (mmap.h): Linux */

#include "../common/ipclab.h"
#include "../common/peers.h"
#include "mmap.h"

static const char usage[] =
    "usage: mmap_reader [-p PATH]\n"
    "  Print what mmap_writer writes into the file both map, until the writer marks it done;\n"
    "  the file is left as it is, so a reader run again prints it all again.\n"
    "  -p PATH  the file (default: mmap in the run directory)\n"
    "  -h       show this help\n";

/*
 * Open path and map it, once it is there and made.  Returns 1 (the mapping in *headp, its
 * length in *mapped, the descriptor in *fdp), 0 if it is not there yet (missing, or just
 * created and still empty), or -1 (refused or failed: after a message, unless a signal).
 */
static int open_file(const char *path, int *fdp, struct mmap_head **headp, size_t *mapped)
{
    for (;;) {
        /* O_NONBLOCK: a FIFO found there must not keep open() waiting; it is refused below. */
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd == -1) {
            if (errno == ENOENT)
                return 0;
            if (errno == ELOOP)
                warnx("%s is a symbolic link; refusing to follow it", path);
            else
                warn("%s", path);
            return -1;
        }
        struct stat st;
        int rc = -1;
        /* Checked before its door is touched; then shared at the door: the writer makes the
         * file inside it, so we never find it half made. */
        if (!mmap_found_ok(fd, path)) {
            /* refused */
        } else if (ipclab_lock(fd, MMAP_DOOR, F_RDLCK, true) == -1 || fstat(fd, &st) == -1) {
            ipclab_fail("lock");
        } else if (st.st_nlink == 0) { /* replaced by a new writer while we waited */
            close(fd);
            continue;
        } else if (st.st_size == 0) { /* created, not yet made: its writer waits at the door */
            rc = 0;
        } else if (mmap_file_ours(fd, path, st.st_size)) {
            *headp = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
            if (*headp != MAP_FAILED) {
                ipclab_lock(fd, MMAP_DOOR, F_UNLCK, false);
                *mapped = (size_t)st.st_size;
                *fdp = fd;
                return 1;
            }
            warn("mmap %s", path);
        }
        close(fd);
        return rc;
    }
}

/* Sleep one tick, or less if a termination signal comes.  Returns false on a signal. */
static bool tick(void)
{
    return ipclab_poll_timed(NULL, 0, IPCLAB_TICK_MS) != -1 || !ipclab_signal;
}

/* Print what the writer adds, a look every tick, until it says done.  Returns the status. */
static int follow(const struct mmap_head *head, int fd, const char *path)
{
    uint32_t printed = 0;
    bool gone = ipclab_lock_holder(fd, MMAP_WRITER) == 0;

    for (;;) {
        /* acquire: the bytes the length covers are in place, and so is the final length once
         * the state says done (the writer stored that last) */
        uint32_t state = atomic_load_explicit(&head->state, memory_order_acquire);
        uint32_t len = atomic_load_explicit(&head->len, memory_order_acquire);
        if (len < printed || len > head->size || state > MMAP_FULL) {
            warnx("%s says %u bytes (state %u) after %u printed, in room for %u: not our "
                  "writer's?", path, len, state, printed, head->size);
            return IPCLAB_EXIT_FAIL;
        }
        if (len > printed &&
            ipclab_write_all(STDOUT_FILENO, head->data + printed, len - printed) == -1) {
            mmap_say_failure("write stdout", path);
            return IPCLAB_EXIT_FAIL;
        }
        printed = len;
        if (state == MMAP_DONE) {
            warnx("end of data: %u bytes, and the writer said done (the file keeps them)", len);
            return IPCLAB_EXIT_OK;
        }
        if (state == MMAP_FULL) {
            warnx("end of data: %u bytes, all the file holds: the writer's input did not fit", len);
            return IPCLAB_EXIT_FAIL;
        }
        /* Looked at before the state above: a writer that said done before it went was seen
         * saying it. */
        if (gone) {
            warnx("the writer has gone (or was killed) before it said done: %u bytes", len);
            return IPCLAB_EXIT_FAIL;
        }
        if (!tick())
            return IPCLAB_EXIT_FAIL;
        gone = ipclab_lock_holder(fd, MMAP_WRITER) == 0;
    }
}

int main(int argc, char *argv[])
{
    char path[PATH_MAX] = "";

    ipclab_stderr_by_line();
    ipclab_std_fds();
    if (ipclab_options_p(argc, argv, usage, ipclab_path_arg, path, sizeof path) < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (path[0] == '\0')
        ipclab_run_path(path, sizeof path, "mmap");

    ipclab_catch_signals();
    struct mmap_head *head = NULL;
    size_t mapped = 0;
    int fd = -1, rc, status = IPCLAB_EXIT_FAIL;
    bool waited = false;
    while ((rc = open_file(path, &fd, &head, &mapped)) == 0) {
        if (!waited)
            ipclab_ready("waiting for %s to be made (a look every %d ms)", path, IPCLAB_TICK_MS);
        waited = true;
        if (!tick())
            break;
    }
    if (rc == 1) {
        mmap_catch_sigbus(path, head);
        if (waited)
            warnx("%s mapped: %u bytes for data, %u written so far", path, head->size,
                  atomic_load(&head->len));
        else
            ipclab_ready("%s mapped: %u bytes for data, %u written so far", path, head->size,
                         atomic_load(&head->len));
        status = follow(head, fd, path);
        if (munmap(head, mapped) == -1)
            warn("munmap %s", path);
        close(fd);
    }
    ipclab_die_of_signal();
    return status;
}
