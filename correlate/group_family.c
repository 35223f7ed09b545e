/* Template families of the reported groups (issue 12): unmatched groups whose templates differ
 * only where values vary share a family ("fam:<16 hex>", patterns/family.c); a rule-matched group
 * is its own family, keyed by its class. Computed over the whole group set after aggregation, so
 * the families are the same for any input order, thread count or shard split. */
#include "analyze_internal.h"

int an_out_families(fl_result *res)
{
    const char **tmpl = fl_calloc(res->n_groups + 1, sizeof(*tmpl));
    size_t *idx = fl_calloc(res->n_groups + 1, sizeof(*idx));
    size_t n = 0;
    int rc = FL_ENOMEM;
    fl_families *fam = NULL;
    if (!tmpl || !idx)
        goto out;
    for (size_t g = 0; g < res->n_groups; g++) {
        if (res->groups[g].class_id)
            continue;
        idx[n] = g;
        tmpl[n++] = res->groups[g].template_text;
    }
    if ((rc = fl_families_build(&fam, tmpl, n)) != 0)
        goto out;
    for (size_t g = 0, k = 0; g < res->n_groups; g++) {
        fl_group *o = &res->groups[g];
        bool own = k < n && idx[k] == g;
        o->family = fl_strdup(own ? fl_families_key(fam, k) : o->key);
        o->family_template = fl_strdup(own ? fl_families_template(fam, k) : o->template_text);
        k += own;
        if (!o->family || !o->family_template) {
            rc = FL_ENOMEM;
            goto out;
        }
    }
    rc = 0;
out:
    fl_families_free(fam);
    fl_free(tmpl);
    fl_free(idx);
    return rc;
}
