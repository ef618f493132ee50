/*
 * pipe.h - the options of the fork demos: pipe_oneway, pipe_duplex and socketpair_duplex.
 *
 * Plumbing only, no pipe() or socketpair(): those are in the programs, where a student reads
 * them.  Each program still builds alone (`cc -o /tmp/x pipe/pipe_oneway.c`).
 */
#ifndef PIPE_H
#define PIPE_H

#include "../common/ipclab.h"

#define MAX_GREETINGS 100 /* -n COUNT: at most 892 bytes, far below a pipe's capacity */

/*
 * -n COUNT (1 to 100), -h (and --help), and -d where dgram is not NULL (it is then set).
 * Returns COUNT, or 0 without -n: send stdin.  Anything else is a usage error: exit 2.
 */
static inline long greeting_options(int argc, char *argv[], const char *usage, bool *dgram)
{
    long count = 0;
    int opt;

    while ((opt = getopt(argc, argv, dgram != NULL ? ":dhn:" : ":hn:")) != -1) {
        if (opt == 'd') {
            *dgram = true;
        } else if (opt == 'n') {
            if (!ipclab_parse_long(optarg, 1, MAX_GREETINGS, &count))
                ipclab_usage_error(usage, "-n wants a count from 1 to %d, not '%s'",
                                   MAX_GREETINGS, optarg);
        } else {
            ipclab_other_option(usage, opt, argv); /* -h, or a usage error */
        }
    }
    if (optind < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    return count;
}

#endif /* PIPE_H */
