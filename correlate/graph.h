/* The sample of trace ids behind the service call graph (graph.c); the edges themselves are
 * read at analysis time (analyze_graph.c). Nothing outside correlate/ includes this. */
#ifndef FL_GRAPH_H
#define FL_GRAPH_H

#include "fl_common.h"

#define GRAPH_KEEP 2048 /* traces kept (bottom-k by hash of the trace id) */
#define GRAPH_SVCS 4    /* services remembered per trace */

typedef struct agg_trace_svc {
    uint64_t svc;       /* agg_graph_service_hash of the service name */
    fl_time start, end; /* its earliest request in the trace */
} agg_trace_svc;

typedef struct agg_trace {
    uint64_t h; /* hash of the trace id; 0 = empty slot */
    size_t n;
    agg_trace_svc s[GRAPH_SVCS];
} agg_trace;

typedef struct agg_graph agg_graph;

/* Creates *gp on first use. Requests without a trace id or service are ignored. */
int agg_graph_add(agg_graph **gp, const char *trace, const char *service, fl_time ts,
                  double latency_s);
/* The same with the service given by its agg_graph_service_hash and the trace id's length
 * (the caller knows both). */
int agg_graph_add_hashed(agg_graph **gp, const char *trace, size_t trace_len, uint64_t service_hash,
                         fl_time ts, double latency_s);
int agg_graph_merge(agg_graph **dst, const agg_graph *src);
/* Adds one trace as read back from a summary (t->h != 0, t->n <= GRAPH_SVCS): the same as
 * merging a graph that holds it. */
int agg_graph_put_trace(agg_graph **gp, const agg_trace *t);
/* Cuts the sample to exactly its bottom-k, so what analysis reads is order-independent. */
int agg_graph_settle(agg_graph *g);
void agg_graph_free(agg_graph *g);
uint64_t agg_graph_service_hash(const char *service);
void agg_graph_each(const agg_graph *g, void (*fn)(const agg_trace *t, void *arg), void *arg);

#endif
