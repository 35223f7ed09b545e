/* The format registry and the redact-then-write dispatcher. Adding a format is adding a
 * folder that exports one fl_report_format and a line in fl_report_formats. */
#include "fl_reports.h"

#include <string.h>

extern const fl_report_format fl_report_text;
extern const fl_report_format fl_report_markdown;
extern const fl_report_format fl_report_json;
extern const fl_report_format fl_report_html;
extern const fl_report_format fl_report_slack;

// clang-format off
const fl_report_format *const fl_report_formats[] = {
    &fl_report_text,
    &fl_report_markdown,
    &fl_report_json,
    &fl_report_html,
    &fl_report_slack,
    NULL,
};
// clang-format on

const fl_report_format *fl_report_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; fl_report_formats[i]; i++)
        if (strcmp(fl_report_formats[i]->name, name) == 0)
            return fl_report_formats[i];
    /* "markdown" is accepted for "md". */
    if (strcmp(name, "markdown") == 0)
        return fl_report_find("md");
    return NULL;
}

int fl_report_write(const char *format, const fl_result *r, const fl_report_opts *opts, FILE *out)
{
    const fl_report_format *f = fl_report_find(format);
    if (!f || !r || !out)
        return FL_EINVAL;
    fl_report_opts defaults = {0};
    if (!opts)
        opts = &defaults;
    if (opts->no_redact)
        return f->write(r, opts, out);

    /* Redaction works on a copy so the caller's result stays intact for other formats. */
    fl_result *copy = fl_result_redacted_with(r, opts->redact);
    if (!copy)
        return FL_ENOMEM;
    int rc = f->write(copy, opts, out);
    fl_result_free(copy);
    return rc;
}
