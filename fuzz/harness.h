/*
 * harness.h - what every fuzz harness here shares.  Include it first, after the feature-test
 * macro of the program the harness drives:
 *   - LLVMFuzzerTestOneInput(), declared: the harness defines it;
 *   - CHECK(cond): an invariant of the harness; when it breaks, say which and abort(), which
 *     libFuzzer reports as a crash and the replay as exit 134;
 *   - without -DIPCLAB_LIBFUZZER, a main() that runs the harness once on each file named on the
 *     command line (or on each file of a directory named there) and says how many it ran.
 *     This is how the tests replay the seed corpus and every crash ever found
 *     (fuzz/regressions/), with gcc or under make sanitize, where libFuzzer is not at hand.
 *     With -DIPCLAB_LIBFUZZER libFuzzer brings its own main().
 */
#ifndef IPCLAB_FUZZ_HARNESS_H
#define IPCLAB_FUZZ_HARNESS_H

#include "../common/ipclab.h"
#include "../common/sockets.h"
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                               \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            fprintf(stderr, "%s:%d: broken: %s\n", __FILE__, __LINE__, #cond);                  \
            abort();                                                                              \
        }                                                                                         \
    } while (0)

#ifndef IPCLAB_LIBFUZZER
#include <dirent.h>

static long replayed;

static void replay_file(const char *path)
{
    static uint8_t buf[1 << 20];
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        err(IPCLAB_EXIT_FAIL, "%s", path);
    size_t n = fread(buf, 1, sizeof buf, f);
    if (ferror(f))
        err(IPCLAB_EXIT_FAIL, "read %s", path);
    fclose(f);
    /* A copy of exactly n bytes, as libFuzzer passes it, so that reading past the end is caught
     * under AddressSanitizer. */
    uint8_t *data = malloc(n ? n : 1);
    if (data == NULL)
        err(IPCLAB_EXIT_FAIL, "malloc");
    memcpy(data, buf, n);
    LLVMFuzzerTestOneInput(data, n);
    free(data);
    replayed++;
}

static void replay_path(const char *path)
{
    DIR *dir = opendir(path);
    if (dir == NULL) {
        if (errno != ENOTDIR)
            err(IPCLAB_EXIT_FAIL, "%s", path);
        replay_file(path);
        return;
    }
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char file[PATH_MAX];
        if (snprintf(file, sizeof file, "%s/%s", path, e->d_name) >= (int)sizeof file)
            errx(IPCLAB_EXIT_FAIL, "%s/%s: path too long", path, e->d_name);
        replay_file(file);
    }
    closedir(dir);
}

int main(int argc, char *argv[])
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0) {
        fprintf(argc < 2 ? stderr : stdout, "usage: %s FILE-OR-DIRECTORY...\n"
                "  Run the fuzz harness once on each input (the corpus, regressions).\n",
                argv[0]);
        return argc < 2 ? IPCLAB_EXIT_USAGE : IPCLAB_EXIT_OK;
    }
    for (int i = 1; i < argc; i++)
        replay_path(argv[i]);
    printf("%s: %ld inputs replayed, no failure\n", argv[0], replayed);
    return IPCLAB_EXIT_OK;
}
#endif /* IPCLAB_LIBFUZZER */
#endif /* IPCLAB_FUZZ_HARNESS_H */
