/* Change events: which log entries are deploys, config or traffic changes, secret versions,
 * revision readiness or failed attempts, and the --changes file format from CI. Pure. */
#include "fl_correlate.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static void copy_str(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* The last path segment after "/services/" (v1 namespaces/P/services/S or v2
 * projects/P/locations/R/services/S), stopping at the next "/". */
static void service_from_resource(const char *res, char *out, size_t cap)
{
    const char *p = strstr(res, "/services/");
    if (!p)
        return;
    p += strlen("/services/");
    copy_str(out, cap, p, strcspn(p, "/"));
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const char *const rollout_methods[] = {
    "google.cloud.run.v1.Services.ReplaceService",
    "google.cloud.run.v1.Services.CreateService",
    "google.cloud.run.v2.Services.UpdateService",
    "google.cloud.run.v2.Services.CreateService",
};

static bool is_rollout_method(const char *m)
{
    for (size_t i = 0; i < FL_ARRAY_LEN(rollout_methods); i++)
        if (strcmp(m, rollout_methods[i]) == 0)
            return true;
    return false;
}

/* "Ready condition status changed to True for Revision X with message: ..." -> X */
static bool ready_revision(const char *msg, const char *marker, char *out, size_t cap)
{
    const char *p = strstr(msg, marker);
    if (!p)
        return false;
    p += strlen(marker);
    size_t n = strcspn(p, " \t\n");
    while (n > 0 && (p[n - 1] == '.' || p[n - 1] == ','))
        n--;
    if (n == 0)
        return false;
    copy_str(out, cap, p, n);
    return true;
}

static const char *short_method(const char *m)
{
    const char *dot = strrchr(m, '.');
    return dot ? dot + 1 : m;
}

static int from_system_event(const fl_entry *e, fl_change *out)
{
    const char *msg = e->audit_status_message[0] ? e->audit_status_message : e->message;
    if (ready_revision(msg, "status changed to True for Revision ", out->revision,
                       sizeof(out->revision))) {
        out->kind = FL_CHANGE_REVISION_READY;
        snprintf(out->description, sizeof(out->description), "revision %s is ready",
                 out->revision);
        return 1;
    }
    if (ready_revision(msg, "status changed to False for Revision ", out->revision,
                       sizeof(out->revision))) {
        out->kind = FL_CHANGE_FAILED;
        snprintf(out->description, sizeof(out->description), "revision %s failed to become ready",
                 out->revision);
        return 1;
    }
    char svc[128] = "";
    if (ready_revision(msg, "status changed to True for Service ", svc, sizeof(svc))) {
        out->kind = FL_CHANGE_REVISION_READY;
        if (!out->service[0])
            copy_str(out->service, sizeof(out->service), svc, strlen(svc));
        snprintf(out->description, sizeof(out->description), "service %s is ready", svc);
        return 1;
    }
    return 0;
}

int fl_change_from_entry(const fl_entry *e, fl_change *out)
{
    /* Runs for every entry, and almost none is an audit record: rule them out before the
     * copies (the same test as below, issue 15). */
    if (e->log_kind != FL_LOG_AUDIT_SYSTEM_EVENT && e->log_kind != FL_LOG_AUDIT_ACTIVITY &&
        !e->audit_method[0])
        return 0;
    memset(out, 0, sizeof(*out));
    out->ts = e->ts;
    copy_str(out->service, sizeof(out->service), e->service, strlen(e->service));
    if (!out->service[0])
        service_from_resource(e->audit_resource, out->service, sizeof(out->service));
    copy_str(out->revision, sizeof(out->revision), e->revision, strlen(e->revision));
    copy_str(out->actor, sizeof(out->actor), e->audit_principal, strlen(e->audit_principal));
    copy_str(out->commit_sha, sizeof(out->commit_sha), e->commit_sha, strlen(e->commit_sha));

    if (e->log_kind == FL_LOG_AUDIT_SYSTEM_EVENT) {
        snprintf(out->source, sizeof(out->source), "system_event");
        return from_system_event(e, out);
    }
    if (e->log_kind != FL_LOG_AUDIT_ACTIVITY && !e->audit_method[0])
        return 0;
    snprintf(out->source, sizeof(out->source), "audit");
    bool failed = (e->has_audit_status && e->audit_status_code != 0) ||
                  e->severity >= FL_SEV_ERROR;

    if (strcmp(e->audit_service, "secretmanager.googleapis.com") == 0 &&
        ends_with(e->audit_method, "AddSecretVersion")) {
        /* projects/P/secrets/NAME[/versions/N]: the secret's name stands in for a service. */
        const char *p = strstr(e->audit_resource, "/secrets/");
        out->service[0] = '\0';
        if (p) {
            p += strlen("/secrets/");
            copy_str(out->service, sizeof(out->service), p, strcspn(p, "/"));
        }
        out->revision[0] = '\0';
        out->kind = failed ? FL_CHANGE_FAILED : FL_CHANGE_SECRET;
        snprintf(out->description, sizeof(out->description), "%s version of secret %s",
                 failed ? "failed to add a" : "new", out->service);
        return 1;
    }
    if (strcmp(e->audit_service, "run.googleapis.com") != 0)
        return 0;
    bool traffic = strstr(e->audit_method, "Traffic") != NULL;
    if (!traffic && !is_rollout_method(e->audit_method))
        return 0;
    const char *m = short_method(e->audit_method);
    if (failed) {
        out->kind = FL_CHANGE_FAILED;
        snprintf(out->description, sizeof(out->description), "%s failed (code %d): %.180s", m,
                 e->audit_status_code, e->audit_status_message);
        return 1;
    }
    out->kind = traffic ? FL_CHANGE_TRAFFIC : FL_CHANGE_DEPLOY;
    snprintf(out->description, sizeof(out->description), "%.40s of %.80s%s%.100s", m,
             out->service, out->actor[0] ? " by " : "", out->actor);
    return 1;
}

static const struct {
    const char *name;
    fl_change_kind kind;
} change_kinds[] = {
    {"deploy", FL_CHANGE_DEPLOY},
    {"rollout", FL_CHANGE_DEPLOY},
    {"release", FL_CHANGE_DEPLOY},
    {"config", FL_CHANGE_CONFIG},
    {"traffic", FL_CHANGE_TRAFFIC},
    {"secret", FL_CHANGE_SECRET},
    {"revision_ready", FL_CHANGE_REVISION_READY},
    {"inferred_deploy", FL_CHANGE_INFERRED},
    {"failed_change", FL_CHANGE_FAILED},
    {"failed", FL_CHANGE_FAILED},
    {"external", FL_CHANGE_EXTERNAL},
};

static void copy_json_str(json_t *o, const char *key, char *dst, size_t cap)
{
    json_t *v = json_object_get(o, key);
    if (json_is_string(v))
        copy_str(dst, cap, json_string_value(v), json_string_length(v));
}

int fl_change_parse_json(const char *line, size_t len, fl_change *out, char *errbuf,
                         size_t errlen)
{
    memset(out, 0, sizeof(*out));
    json_error_t jerr;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o) {
        snprintf(errbuf, errlen, "column %d: %s", jerr.column, jerr.text);
        return FL_EPARSE;
    }
    int rc = FL_EPARSE;
    json_t *t = json_object_get(o, "time");
    json_t *svc = json_object_get(o, "service");
    if (!json_is_object(o)) {
        snprintf(errbuf, errlen, "a change must be a JSON object");
    } else if (!json_is_string(t) ||
               fl_time_parse(json_string_value(t), json_string_length(t), &out->ts) != 0) {
        snprintf(errbuf, errlen, "\"time\" must be an RFC 3339 timestamp");
    } else if (!json_is_string(svc) || json_string_length(svc) == 0) {
        snprintf(errbuf, errlen, "\"service\" must be a non-empty string");
    } else {
        copy_json_str(o, "service", out->service, sizeof(out->service));
        copy_json_str(o, "revision", out->revision, sizeof(out->revision));
        copy_json_str(o, "actor", out->actor, sizeof(out->actor));
        copy_json_str(o, "description", out->description, sizeof(out->description));
        copy_json_str(o, "commit_sha", out->commit_sha, sizeof(out->commit_sha));
        snprintf(out->source, sizeof(out->source), "changes-file");
        out->kind = FL_CHANGE_EXTERNAL;
        json_t *k = json_object_get(o, "kind");
        if (json_is_string(k)) {
            for (size_t i = 0; i < FL_ARRAY_LEN(change_kinds); i++)
                if (strcmp(json_string_value(k), change_kinds[i].name) == 0)
                    out->kind = change_kinds[i].kind;
        }
        if (!out->description[0])
            snprintf(out->description, sizeof(out->description), "%s of %s from CI",
                     json_is_string(k) ? json_string_value(k) : "change", out->service);
        rc = 0;
    }
    json_decref(o);
    return rc;
}
