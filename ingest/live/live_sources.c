/* The list of live sources `tail` knows: one line per source folder. */
#include "fl_live.h"

const fl_live_ops *const fl_live_sources[] = {
    &fl_ingest_follow, &fl_ingest_kafka, &fl_ingest_pubsub, &fl_ingest_cloudlogging,
    &fl_ingest_stdin,  NULL,
};
