/* Helpers shared by the model (gen_world.c), the change events (gen_audit.c) and the
 * simulation (gen_sim.c). Not used by flgen.c or the scenarios. */
#ifndef FLGEN_GEN_INT_H
#define FLGEN_GEN_INT_H

#include "gen.h"

/* snprintf through a scratch buffer: no aliasing between fields of one struct, and a
 * truncated result is simply cut (names here are far below the limits). */
void gen_fmt_into(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void gen_uuid4(gen_rng *r, char *out); /* out needs 37 bytes */
const char *gen_svc_noun(const char *name);

/* Instances and traffic. */
void gen_add_crash(gen_world *w, int svc, int rev, int slot, int64_t t, int64_t dur, bool counts);
uint64_t gen_replace_instance(gen_world *w, int svc, int rev, int slot, int64_t t);
uint64_t gen_instance_at(const gen_rev *v, int slot, int64_t t);
const gen_traffic *gen_traffic_at(const gen_svc *s, int64_t t);
void gen_mark_onset(gen_world *w, int64_t t);

/* Entry parts. */
json_t *gen_resource_rev(const gen_world *w, int svc, int rev);
json_t *gen_resource_svc(const gen_world *w, int svc);
json_t *gen_container_labels(const gen_world *w, int svc, int rev, uint64_t inst);
void gen_container_insert_id(gen_world *w, int64_t ns, char *out); /* out: 32 bytes */
void gen_audit_insert_id(gen_world *w, char *out);                 /* out: 24 bytes */
char *gen_log_name(const gen_world *w, const char *id, char *buf, size_t n);

/* A container log line (stdout, stderr or varlog/system). payload is a string (textPayload)
 * or an object (jsonPayload), owned; severity NULL leaves it out, as Cloud Run does. */
void gen_emit_container(gen_world *w, int svc, int rev, uint64_t inst, int64_t ns, const char *log,
                        json_t *payload, const char *severity, const char *trace, const char *span,
                        const char *error_group);
void gen_varlog(gen_world *w, int svc, int rev, uint64_t inst, int64_t ns, const char *severity,
                const char *text);
/* An application line in the service's style; level "info", "warn" or "error"; stack is the
 * full error text (NULL for plain lines). */
void gen_emit_app(gen_world *w, int svc, int rev, uint64_t inst, int64_t ns, const char *level,
                  const char *msg, const char *stack, const char *trace, const char *span);
/* The error a request fails with, in the service's words. */
void gen_emit_error(gen_world *w, int svc, int rev, uint64_t inst, int64_t ns, int cls, int variant,
                    const char *detail, const char *trace, const char *span);
/* "Starting new instance. Reason: <reason> - ...", startup lines, the startup probe. */
void gen_instance_start(gen_world *w, int svc, int rev, uint64_t inst, int64_t ns,
                        const char *reason);

#endif
