/* Change events as Cloud Audit Logs record them: Cloud Run ReplaceService / UpdateService /
 * CreateService (activity), the Ready conditions (system_event), Secret Manager
 * AddSecretVersion; and the deploy sequence around them (instances start, revision Ready,
 * traffic moves). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen.h"
#include "gen_int.h"

static const char *const people[] = {
    "maria.gonzalez@%s.example.com",
    "dev.oncall@%s.example.com",
    "k.tanaka@%s.example.com",
    "sam.okafor@%s.example.com",
};

/* ---- audit entries -------------------------------------------------------------------------- */

static json_t *request_metadata(gen_world *w, int64_t ns, bool gcloud)
{
    char ts[40], ip[48];
    snprintf(ip, sizeof(ip), "%u.%u.%u.%u", 34 + gen_below(&w->rng, 2), gen_below(&w->rng, 255),
             gen_below(&w->rng, 255), 1 + gen_below(&w->rng, 250));
    char inv[33];
    gen_hex(&w->rng, inv, 32);
    char ua[400];
    if (gcloud)
        snprintf(ua, sizeof(ua),
                 "google-cloud-sdk gcloud/546.0.0 command/gcloud.run.deploy "
                 "invocation-id/%s environment/GCE environment-version/None "
                 "client-os/LINUX client-os-ver/5.10.0 client-pltf-arch/x86_64 "
                 "interactive/False from-script/True python/3.12.8 term/ "
                 "(Linux 5.10.0-32-cloud-amd64),gzip(gfe)",
                 inv);
    else
        snprintf(ua, sizeof(ua),
                 "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/"
                 "537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36,"
                 "gzip(gfe),gzip(gfe)");
    return json_pack("{s:s, s:s, s:{}, s:{s:s, s:{}}}", "callerIp", ip, "callerSuppliedUserAgent",
                     ua, "destinationAttributes", "requestAttributes", "time",
                     gen_ts(ns + 150000000, 6, ts), "auth");
}

static json_t *traffic_json(const gen_world *w, int svc, int rev_a, int pct_a, int rev_b,
                            bool latest, bool with_names)
{
    const gen_svc *s = &w->svcs[svc];
    if (latest && rev_b < 0) {
        if (with_names)
            return json_pack("[{s:s, s:i, s:b}]", "revisionName", s->revs[rev_a].name, "percent",
                             100, "latestRevision", 1);
        return json_pack("[{s:b, s:i}]", "latestRevision", 1, "percent", 100);
    }
    json_t *a = json_array();
    json_array_append_new(
        a, json_pack("{s:s, s:i}", "revisionName", s->revs[rev_a].name, "percent", pct_a));
    if (rev_b >= 0)
        json_array_append_new(a, json_pack("{s:s, s:i, s:s}", "revisionName", s->revs[rev_b].name,
                                           "percent", 100 - pct_a, "tag", "canary"));
    return a;
}

static json_t *container_spec(const gen_world *w, int svc, int rev, bool with_secret)
{
    const gen_svc *s = &w->svcs[svc];
    const gen_rev *v = &s->revs[rev];
    char mem[16];
    snprintf(mem, sizeof(mem), "%dMi", v->memory_mib);
    json_t *env = json_array();
    json_array_append_new(env, json_pack("{s:s, s:s}", "name", "NODE_ENV", "value", "production"));
    json_array_append_new(env, json_pack("{s:s, s:s}", "name", "LOG_LEVEL", "value", "info"));
    static const char *const secrets[][2] = {{"KV_REDIS_PASSWORD", "kv-redis-password"},
                                             {"DATABASE_URL", "database-url"}};
    for (size_t i = 0; i < FL_ARRAY_LEN(secrets); i++) {
        if (strcmp(v->dropped_env, secrets[i][0]) == 0 || (!with_secret && i > 0))
            continue;
        json_array_append_new(env, json_pack("{s:s, s:{s:{s:s, s:s}}}", "name", secrets[i][0],
                                             "valueFrom", "secretKeyRef", "key", "latest", "name",
                                             secrets[i][1]));
    }
    return json_pack("[{s:s, s:s, s:o, s:[{s:s, s:i}], s:{s:{s:s, s:s}}}]", "image", v->image,
                     "name", "placeholder-1", "env", env, "ports", "name", "http1", "containerPort",
                     8080, "resources", "limits", "cpu", "1000m", "memory", mem);
}

/* The operation name of the last v2 UpdateService written with w->next_api == 2 (the generator
 * is single-threaded; deploy() reads it right after). */
static char last_v2_op[240];

/* ReplaceService (v1) or UpdateService (v2) audit record. new_rev < 0 with failure != 0: a
 * rejected call. traffic: rev_a gets pct_a, rev_b the rest. */
static void emit_service_audit(gen_world *w, int svc, int64_t ns, int new_rev, int rev_a, int pct_a,
                               int rev_b, int failure, bool config_change, bool create)
{
    gen_rng *r = &w->rng;
    const gen_svc *s = &w->svcs[svc];
    char ts[40], rts[40], iid[24], ln[160], who[96], res[160], op[40], name[200];
    bool v2 = failure == 0 && !create && gen_chance(r, 0.2);
    if (w->next_api == 1)
        v2 = false;
    else if (w->next_api == 2 && failure == 0 && !create)
        v2 = true;
    bool gcloud = gen_chance(r, 0.7);
    bool named = v2 || create || gen_chance(r, 0.7);
    int rev = new_rev >= 0 ? new_rev : rev_a;
    gen_audit_insert_id(w, iid);
    if (s->cloud_build && gcloud && gen_chance(r, 0.6))
        snprintf(who, sizeof(who), "%s@cloudbuild.gserviceaccount.com", w->project_number);
    else
        snprintf(who, sizeof(who), GEN_PICK(r, people), w->project);
    gen_uuid4(r, op);

    json_t *pp = json_object();
    json_object_set_new(pp, "@type",
                        json_string("type.googleapis.com/google.cloud.audit.AuditLog"));
    if (failure == 3)
        json_object_set_new(
            pp, "status",
            json_pack(
                "{s:i, s:s}", "code", 3, "message",
                "spec.template.spec.containers[0].resources.limits.memory: Invalid value specified "
                "for "
                "memory. For the specified value, maximum CPU may not exceed 1 and memory must be "
                "specified with a unit suffix such as Mi or Gi."));
    else if (failure == 10) {
        char msg[200];
        snprintf(msg, sizeof(msg),
                 "Conflict for resource '%s': version '%llu' was specified but "
                 "current version is '%llu'.",
                 s->name, (unsigned long long)(ns / 1000 - 3600000000LL),
                 (unsigned long long)(ns / 1000 - 60000000LL));
        json_object_set_new(pp, "status", json_pack("{s:i, s:s}", "code", 10, "message", msg));
    }
    json_object_set_new(pp, "authenticationInfo", json_pack("{s:s}", "principalEmail", who));
    json_object_set_new(pp, "requestMetadata", request_metadata(w, ns, gcloud));
    json_object_set_new(pp, "serviceName", json_string("run.googleapis.com"));
    json_object_set_new(pp, "methodName",
                        json_string(v2       ? "google.cloud.run.v2.Services.UpdateService"
                                    : create ? "google.cloud.run.v1.Services.CreateService"
                                             : "google.cloud.run.v1.Services.ReplaceService"));
    if (v2)
        snprintf(res, sizeof(res), "projects/%s/locations/%s/services/%s", w->project, w->region,
                 s->name);
    else
        snprintf(res, sizeof(res), "namespaces/%s/services/%s", w->project, s->name);
    json_object_set_new(pp, "authorizationInfo",
                        json_pack("[{s:b, s:s, s:s, s:s, s:{}}]", "granted", 1, "permission",
                                  create ? "run.services.create" : "run.services.update",
                                  "permissionType", "ADMIN_WRITE", "resource", res,
                                  "resourceAttributes"));
    json_object_set_new(pp, "resourceName", json_string(res));
    bool latest = rev_b < 0 && pct_a == 100 && new_rev >= 0 && rev_a == new_rev;
    json_t *containers = container_spec(w, svc, rev, config_change || gen_chance(r, 0.3));
    if (v2) {
        char revpath[320];
        snprintf(name, sizeof(name), "projects/%s/locations/%s/services/%s", w->project, w->region,
                 s->name);
        json_t *traffic =
            latest
                ? json_pack("[{s:s, s:i}]", "type", "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST",
                            "percent", 100)
                : json_pack("[{s:s, s:s, s:i}]", "type", "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION",
                            "revision", s->revs[rev_a].name, "percent", pct_a);
        json_object_set_new(
            pp, "request",
            json_pack("{s:s, s:{s:s, s:{s:s, s:s, s:O}, s:O}}", "@type",
                      "type.googleapis.com/google.cloud.run.v2.UpdateServiceRequest", "service",
                      "name", name, "template", "revision", s->revs[rev].name, "serviceAccount",
                      s->sa, "containers", containers, "traffic", traffic));
        snprintf(revpath, sizeof(revpath), "%s/revisions/%s", name, s->revs[rev].name);
        char opname[200];
        snprintf(opname, sizeof(opname), "projects/%s/locations/%s/operations/%s", w->project,
                 w->region, op);
        json_object_set_new(pp, "response",
                            json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:o}}", "@type",
                                      "type.googleapis.com/google.longrunning.Operation", "name",
                                      opname, "metadata", "@type",
                                      "type.googleapis.com/google.cloud.run.v2.Service", "name",
                                      name, "latestCreatedRevision", revpath, "uri", s->host,
                                      "traffic", traffic));
        json_decref(containers);
    } else {
        json_t *tmeta =
            json_pack("{s:{s:s, s:s}, s:{s:s}}", "annotations", "autoscaling.knative.dev/maxScale",
                      "20", "run.googleapis.com/client-name", gcloud ? "gcloud" : "cloud-console",
                      "labels", "run.googleapis.com/startupProbeType", "Default");
        if (named)
            json_object_set_new(tmeta, "name", json_string(s->revs[rev].name));
        json_t *spec = json_pack("{s:{s:o, s:{s:i, s:i, s:s, s:o}}, s:o}", "template", "metadata",
                                 tmeta, "spec", "containerConcurrency", 80, "timeoutSeconds", 300,
                                 "serviceAccountName", s->sa, "containers", containers, "traffic",
                                 traffic_json(w, svc, rev_a, pct_a, rev_b, latest, false));
        json_t *labels = json_pack("{s:s}", "cloud.googleapis.com/location", w->region);
        if (s->cloud_build)
            json_object_set_new(labels, "managed-by",
                                json_string("gcp-cloud-build-deploy-cloud-run"));
        snprintf(name, sizeof(name), "namespaces/%s/services/%s", w->project, s->name);
        json_t *meta = json_pack("{s:s, s:s, s:o, s:{s:s, s:s}}", "name", s->name, "namespace",
                                 w->project_number, "labels", labels, "annotations",
                                 "run.googleapis.com/operation-id", op,
                                 "serving.knative.dev/lastModifier", who);
        json_t *svcobj = json_pack("{s:s, s:s, s:O, s:O}", "apiVersion", "serving.knative.dev/v1",
                                   "kind", "Service", "metadata", meta, "spec", spec);
        if (create) {
            char parent[100];
            snprintf(parent, sizeof(parent), "namespaces/%s", w->project);
            json_object_set_new(
                pp, "request",
                json_pack("{s:s, s:s, s:o}", "@type",
                          "type.googleapis.com/google.cloud.run.v1.CreateServiceRequest", "parent",
                          parent, "service", svcobj));
        } else {
            json_object_set_new(
                pp, "request",
                json_pack("{s:s, s:s, s:s, s:o}", "@type",
                          "type.googleapis.com/google.cloud.run.v1.ReplaceServiceRequest", "name",
                          name, "region", w->region, "service", svcobj));
        }
        if (failure == 0) {
            char url[200];
            snprintf(url, sizeof(url), "https://%s", s->host);
            json_t *resp = json_pack("{s:s, s:s, s:s, s:O, s:O}", "@type",
                                     "type.googleapis.com/google.cloud.run.v1.Service",
                                     "apiVersion", "serving.knative.dev/v1", "kind", "Service",
                                     "metadata", meta, "spec", spec);
            json_object_set_new(
                resp, "status",
                json_pack("{s:i, s:[{s:s, s:s}], s:s, s:s, s:o, s:s}", "observedGeneration",
                          create ? 1 : 100 + s->revs[rev].number, "conditions", "type", "Ready",
                          "status", "Unknown", "latestCreatedRevisionName", s->revs[rev].name,
                          "latestReadyRevisionName",
                          s->revs[rev_a == rev && rev > 0 ? rev - 1 : rev_a].name, "traffic",
                          traffic_json(w, svc, rev_a, pct_a, rev_b, latest, true), "url", url));
            json_object_set_new(pp, "response", resp);
        }
        json_decref(meta);
        json_decref(spec);
    }
    json_object_set_new(pp, "resourceLocation",
                        json_pack("{s:[s]}", "currentLocations", w->region));

    json_t *e = json_object();
    if (v2 && w->next_api == 2) {
        /* A v2 call is a long-running operation: this is its first entry; deploy() writes the
         * last one when the revision is Ready. */
        snprintf(last_v2_op, sizeof(last_v2_op), "projects/%s/locations/%s/operations/%s",
                 w->project, w->region, op);
        json_object_set_new(e, "operation", json_pack("{s:s, s:s, s:b}", "id", last_v2_op,
                                                      "producer", "run.googleapis.com", "first", 1));
    }
    json_object_set_new(e, "insertId", json_string(iid));
    json_object_set_new(
        e, "logName",
        json_string(gen_log_name(w, "cloudaudit.googleapis.com%2Factivity", ln, sizeof(ln))));
    json_object_set_new(e, "protoPayload", pp);
    json_object_set_new(
        e, "receiveTimestamp",
        json_string(gen_ts(ns + (int64_t)gen_range(r, 100, 1500) * 1000000, 9, rts)));
    json_object_set_new(e, "resource", gen_resource_svc(w, svc));
    json_object_set_new(e, "severity", json_string(failure ? "ERROR" : "NOTICE"));
    json_object_set_new(e, "timestamp", json_string(gen_ts(ns, gen_chance(r, 0.5) ? 9 : 6, ts)));
    gen_push(w, ns, e);
}

static void emit_system_event(gen_world *w, int svc, int rev, int64_t ns, const char *message)
{
    const gen_svc *s = &w->svcs[svc];
    char ts[40], rts[40], iid[24], ln[160], res[160];
    gen_audit_insert_id(w, iid);
    if (rev >= 0)
        snprintf(res, sizeof(res), "namespaces/%s/revisions/%s", w->project, s->revs[rev].name);
    else
        snprintf(res, sizeof(res), "namespaces/%s/services/%s", w->project, s->name);
    json_t *pp = json_pack("{s:s, s:{s:s}, s:s, s:s, s:s}", "@type",
                           "type.googleapis.com/google.cloud.audit.AuditLog", "status", "message",
                           message, "serviceName", "run.googleapis.com", "methodName",
                           "google.cloud.run.v1.Services.ReplaceService", "resourceName", res);
    json_t *e = json_object();
    json_object_set_new(e, "protoPayload", pp);
    json_object_set_new(e, "insertId", json_string(iid));
    json_object_set_new(e, "resource",
                        rev >= 0 ? gen_resource_rev(w, svc, rev) : gen_resource_svc(w, svc));
    json_object_set_new(e, "timestamp", json_string(gen_ts(ns, 6, ts)));
    json_object_set_new(e, "severity", json_string("INFO"));
    json_object_set_new(
        e, "logName",
        json_string(gen_log_name(w, "cloudaudit.googleapis.com%2Fsystem_event", ln, sizeof(ln))));
    json_object_set_new(
        e, "receiveTimestamp",
        json_string(gen_ts(ns + (int64_t)gen_range(&w->rng, 200, 2000) * 1000000, 9, rts)));
    gen_push(w, ns, e);
}

/* The last entry of a v2 UpdateService operation, written when it completes. */
static void emit_v2_last(gen_world *w, int svc, int rev, int64_t ns)
{
    const gen_svc *s = &w->svcs[svc];
    char ts[40], rts[40], iid[24], ln[160], res[200], revpath[320];
    gen_audit_insert_id(w, iid);
    snprintf(res, sizeof(res), "projects/%s/locations/%s/services/%s", w->project, w->region,
             s->name);
    snprintf(revpath, sizeof(revpath), "%s/revisions/%s", res, s->revs[rev].name);
    json_t *pp = json_pack(
        "{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}}", "@type",
        "type.googleapis.com/google.cloud.audit.AuditLog", "serviceName", "run.googleapis.com",
        "methodName", "google.cloud.run.v2.Services.UpdateService", "resourceName", res,
        "response", "@type", "type.googleapis.com/google.cloud.run.v2.Service", "name", res,
        "latestReadyRevision", revpath, "latestCreatedRevision", revpath);
    json_t *e = json_object();
    json_object_set_new(e, "operation", json_pack("{s:s, s:s, s:b}", "id", last_v2_op, "producer",
                                                  "run.googleapis.com", "last", 1));
    json_object_set_new(e, "insertId", json_string(iid));
    json_object_set_new(
        e, "logName",
        json_string(gen_log_name(w, "cloudaudit.googleapis.com%2Factivity", ln, sizeof(ln))));
    json_object_set_new(e, "protoPayload", pp);
    json_object_set_new(e, "receiveTimestamp", json_string(gen_ts(ns + 400000000, 9, rts)));
    json_object_set_new(e, "resource", gen_resource_svc(w, svc));
    json_object_set_new(e, "severity", json_string("NOTICE"));
    json_object_set_new(e, "timestamp", json_string(gen_ts(ns, 6, ts)));
    gen_push(w, ns, e);
}

static int deploy(gen_world *w, int svc, int64_t t, bool config_only, int pct_new,
                  const char *drop_env)
{
    gen_rng *r = &w->rng;
    gen_svc *s = &w->svcs[svc];
    int old = s->n_traffic ? s->traffic[s->n_traffic - 1].rev[0] : 0;
    int rev = gen_new_revision(w, svc, config_only);
    s->revs[rev].created = t;
    if (drop_env)
        snprintf(s->revs[rev].dropped_env, sizeof(s->revs[rev].dropped_env), "%s", drop_env);
    if (pct_new >= 100)
        emit_service_audit(w, svc, t, rev, rev, 100, -1, 0, config_only, false);
    else
        emit_service_audit(w, svc, t, rev, old, 100 - pct_new, pct_new > 0 ? rev : -1, 0,
                           config_only, false);
    /* instances come up, then Ready, then traffic moves */
    int64_t up = t + (int64_t)gen_range(r, 4000, 12000) * 1000000;
    for (int i = 0; i < s->revs[rev].n_inst; i++)
        gen_instance_start(w, svc, rev, s->revs[rev].inst[i],
                           up + i * (int64_t)gen_range(r, 50, 900) * 1000000, "DEPLOYMENT_ROLLOUT");
    int64_t ready = up + (int64_t)gen_range(r, 3000, 9000) * 1000000;
    if (w->ready_delay_ns > 0 && t + w->ready_delay_ns > up)
        ready = t + w->ready_delay_ns;
    if (w->next_api == 2 && last_v2_op[0]) {
        emit_v2_last(w, svc, rev, ready + (int64_t)gen_range(r, 500, 3000) * 1000000);
        last_v2_op[0] = '\0';
    }
    char msg[300];
    int secs = (int)((ready - t) / GEN_NS_PER_SEC);
    snprintf(msg, sizeof(msg),
             "Ready condition status changed to True for Revision %s with "
             "message: Deploying revision succeeded in %d.%02us.",
             s->revs[rev].name, secs, gen_below(r, 100));
    emit_system_event(w, svc, rev, ready, msg);
    snprintf(msg, sizeof(msg), "Ready condition status changed to True for Service %s.", s->name);
    emit_system_event(w, svc, -1, ready + (int64_t)gen_range(r, 20, 400) * 1000000, msg);
    if (pct_new >= 100)
        gen_set_traffic(w, svc, ready, rev, 100, -1);
    else if (pct_new > 0)
        gen_set_traffic(w, svc, ready, old, 100 - pct_new, rev);
    return rev;
}

int gen_deploy(gen_world *w, int svc, int64_t t, bool config_only, int pct_new)
{
    return deploy(w, svc, t, config_only, pct_new, NULL);
}

int gen_deploy_drop_env(gen_world *w, int svc, int64_t t, int pct_new, const char *drop_env)
{
    return deploy(w, svc, t, true, pct_new, drop_env);
}

void gen_scale_out(gen_world *w, int svc, int64_t t, int n)
{
    gen_svc *s = &w->svcs[svc];
    int rev = gen_traffic_at(s, t)->rev[0];
    gen_rev *v = &s->revs[rev];
    for (int i = 0; i < n && v->n_inst < GEN_MAX_INST; i++) {
        int slot = v->n_inst++;
        int64_t at = t + (int64_t)gen_range(&w->rng, 1000, 40000) * 1000000;
        v->inst[slot] = gen_next(&w->rng);
        v->slot_from[slot] = at;
        gen_instance_start(w, svc, rev, v->inst[slot], at - 3 * GEN_NS_PER_SEC, "AUTOSCALING");
    }
}

int gen_create_service(gen_world *w, const char *name, int lang, double rate, int64_t t)
{
    gen_rng *r = &w->rng;
    int svc = gen_add_service(w, name, lang, rate);
    if (svc < 0)
        return -1;
    gen_svc *s = &w->svcs[svc];
    gen_rev *v = &s->revs[0];
    char sfx[4];
    gen_alnum(r, sfx, 3);
    v->number = 1;
    gen_fmt_into(v->name, sizeof(v->name), "%s-00001-%s", s->name, sfx);
    v->created = t;
    s->born = t;
    emit_service_audit(w, svc, t, 0, 0, 100, -1, 0, false, true);
    int64_t up = t + (int64_t)gen_range(r, 5000, 15000) * 1000000;
    for (int i = 0; i < v->n_inst; i++)
        gen_instance_start(w, svc, 0, v->inst[i], up + i * (int64_t)gen_range(r, 50, 900) * 1000000,
                           "DEPLOYMENT_ROLLOUT");
    int64_t ready = up + (int64_t)gen_range(r, 3000, 9000) * 1000000;
    char msg[300];
    snprintf(msg, sizeof(msg),
             "Ready condition status changed to True for Revision %s with "
             "message: Deploying revision succeeded in %d.%02us.",
             v->name, (int)((ready - t) / GEN_NS_PER_SEC), gen_below(r, 100));
    emit_system_event(w, svc, 0, ready, msg);
    s->traffic[0].t = ready;
    s->born = ready;
    return svc;
}

void gen_traffic_update(gen_world *w, int svc, int64_t t, int rev_a, int pct_a, int rev_b)
{
    emit_service_audit(w, svc, t, rev_b >= 0 ? rev_b : rev_a, rev_a, pct_a, rev_b, 0, false, false);
    gen_set_traffic(w, svc, t + (int64_t)gen_range(&w->rng, 2000, 6000) * 1000000, rev_a, pct_a,
                    rev_b);
}

void gen_failed_deploy(gen_world *w, int svc, int64_t t)
{
    const gen_svc *s = &w->svcs[svc];
    int cur = s->n_traffic ? s->traffic[s->n_traffic - 1].rev[0] : 0;
    emit_service_audit(w, svc, t, -1, cur, 100, -1, gen_chance(&w->rng, 0.5) ? 3 : 10, false,
                       false);
}

void gen_add_secret_version(gen_world *w, const char *secret, int64_t ns)
{
    gen_rng *r = &w->rng;
    char ts[40], rts[40], iid[24], ln[160], who[96], parent[160], res[160], ver[200];
    gen_audit_insert_id(w, iid);
    snprintf(who, sizeof(who), GEN_PICK(r, people), w->project);
    snprintf(parent, sizeof(parent), "projects/%s/secrets/%s", w->project, secret);
    snprintf(res, sizeof(res), "projects/%s/secrets/%s", w->project_number, secret);
    snprintf(ver, sizeof(ver), "%s/versions/%u", res, 2 + gen_below(r, 12));
    json_t *pp = json_object();
    json_object_set_new(pp, "@type",
                        json_string("type.googleapis.com/google.cloud.audit.AuditLog"));
    json_object_set_new(pp, "authenticationInfo", json_pack("{s:s}", "principalEmail", who));
    json_object_set_new(pp, "requestMetadata", request_metadata(w, ns, true));
    json_object_set_new(pp, "serviceName", json_string("secretmanager.googleapis.com"));
    json_object_set_new(
        pp, "methodName",
        json_string("google.cloud.secretmanager.v1.SecretManagerService.AddSecretVersion"));
    json_object_set_new(pp, "authorizationInfo",
                        json_pack("[{s:s, s:s, s:b, s:{}}]", "resource", parent, "permission",
                                  "secretmanager.versions.add", "granted", 1,
                                  "resourceAttributes"));
    json_object_set_new(pp, "resourceName", json_string(res));
    json_object_set_new(
        pp, "request",
        json_pack("{s:s, s:s}", "@type",
                  "type.googleapis.com/google.cloud.secretmanager.v1.AddSecretVersionRequest",
                  "parent", parent));
    json_object_set_new(pp, "response",
                        json_pack("{s:s, s:s, s:s, s:s}", "@type",
                                  "type.googleapis.com/google.cloud.secretmanager.v1.SecretVersion",
                                  "name", ver, "state", "ENABLED", "createTime",
                                  gen_ts(ns + 80000000, 6, ts)));
    json_t *e = json_object();
    json_object_set_new(e, "insertId", json_string(iid));
    json_object_set_new(
        e, "logName",
        json_string(gen_log_name(w, "cloudaudit.googleapis.com%2Factivity", ln, sizeof(ln))));
    json_object_set_new(e, "protoPayload", pp);
    json_object_set_new(
        e, "receiveTimestamp",
        json_string(gen_ts(ns + (int64_t)gen_range(r, 100, 900) * 1000000, 9, rts)));
    json_object_set_new(
        e, "resource",
        json_pack("{s:s, s:{s:s, s:s, s:s}}", "type", "audited_resource", "labels", "method",
                  "google.cloud.secretmanager.v1.SecretManagerService.AddSecretVersion",
                  "project_id", w->project, "service", "secretmanager.googleapis.com"));
    json_object_set_new(e, "severity", json_string("NOTICE"));
    json_object_set_new(e, "timestamp", json_string(gen_ts(ns, 6, ts)));
    gen_push(w, ns, e);
}

int gen_failed_rollout(gen_world *w, int svc, int64_t t, const gen_fault *f, int64_t crash_ns,
                       bool image_pull)
{
    gen_rng *r = &w->rng;
    gen_svc *s = &w->svcs[svc];
    int rev = gen_new_revision(w, svc, false);
    gen_rev *v = &s->revs[rev];
    v->created = t;
    emit_service_audit(w, svc, t, rev, rev, 100, -1, 0, false, false);
    char msg[700];
    int64_t end = t + crash_ns;
    if (image_pull) {
        snprintf(msg, sizeof(msg),
                 "Ready condition status changed to False for Revision %s with message: Image "
                 "'%s' not found.",
                 v->name, v->image);
        if (f->counts)
            gen_mark_onset(w, t + 3 * GEN_NS_PER_SEC);
        end = t + (int64_t)gen_range(r, 4, 12) * GEN_NS_PER_SEC;
    } else {
        /* instances start, print the crash, exit; Cloud Run retries until the deadline */
        int64_t at = t + (int64_t)gen_range(r, 4000, 9000) * 1000000;
        for (int k = 0; at < end && k < 40; k++) {
            uint64_t inst = gen_next(r);
            if (f->counts)
                gen_mark_onset(w, at);
            gen_varlog(w, svc, rev, inst, at, "INFO",
                       "Starting new instance. Reason: DEPLOYMENT_ROLLOUT - Instance started due "
                       "to traffic shifting between revisions due to deployment, traffic split "
                       "adjustment, or deployment health check.");
            int64_t crash = at + (int64_t)gen_range(r, 600, 2500) * 1000000;
            fl_buf m, text;
            fl_buf_init(&m, 1 << 16);
            fl_buf_init(&text, 1 << 16);
            gen_fault_text(w, f, svc, &m, &text);
            gen_emit_app(w, svc, rev, inst, crash, "error", m.data ? m.data : "", text.data, NULL,
                         NULL);
            fl_buf_free(&m);
            fl_buf_free(&text);
            gen_varlog(w, svc, rev, inst, crash + 120000000, "WARNING",
                       "Container called exit(1).");
            gen_varlog(w, svc, rev, inst, crash + 400000000, "ERROR",
                       "Default STARTUP TCP probe failed 1 time consecutively for container "
                       "\"placeholder-1\" on port 8080. The instance was not started.");
            at = crash + (int64_t)gen_range(r, 2000, 12000) * 1000000;
        }
        snprintf(msg, sizeof(msg),
                 "Ready condition status changed to False for Revision %s with message: The "
                 "user-provided container failed to start and listen on the port defined provided "
                 "by the PORT=8080 environment variable within the allocated timeout. Logs for "
                 "this revision might contain more information.",
                 v->name);
    }
    /* the system event of a failed revision is an ERROR with status code 9 */
    char ts[40], rts[40], iid[24], ln[160], res[160];
    gen_audit_insert_id(w, iid);
    snprintf(res, sizeof(res), "namespaces/%s/revisions/%s", w->project, v->name);
    json_t *pp = json_pack("{s:s, s:{s:i, s:s}, s:s, s:s, s:s}", "@type",
                           "type.googleapis.com/google.cloud.audit.AuditLog", "status", "code", 9,
                           "message", msg, "serviceName", "run.googleapis.com", "methodName",
                           "google.cloud.run.v1.Services.ReplaceService", "resourceName", res);
    json_t *e = json_object();
    json_object_set_new(e, "protoPayload", pp);
    json_object_set_new(e, "insertId", json_string(iid));
    json_object_set_new(e, "resource", gen_resource_rev(w, svc, rev));
    json_object_set_new(e, "timestamp", json_string(gen_ts(end, 6, ts)));
    json_object_set_new(e, "severity", json_string("ERROR"));
    json_object_set_new(
        e, "logName",
        json_string(gen_log_name(w, "cloudaudit.googleapis.com%2Fsystem_event", ln, sizeof(ln))));
    json_object_set_new(e, "receiveTimestamp", json_string(gen_ts(end + 900000000, 9, rts)));
    gen_push(w, end, e);
    return rev;
}
