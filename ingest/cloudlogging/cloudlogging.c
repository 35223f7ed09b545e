/* Placeholder until the cloudlogging source lands. */
#include <stdio.h>

#include "fl_live.h"

static int stub_open(uv_loop_t *loop, const fl_live_config *cfg, const fl_live_sink *sink,
                     fl_live_source **out, char *errbuf, size_t errlen)
{
    (void)loop;
    (void)cfg;
    (void)sink;
    *out = NULL;
    snprintf(errbuf, errlen, "cloudlogging: not built yet");
    return FL_EINVAL;
}

const fl_live_ops fl_ingest_cloudlogging = {.name = "cloudlogging", .open = stub_open};
