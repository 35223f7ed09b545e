/* The first pass a relative --since/--until needs: find the newest entry, then read again.
 *
 * "--since 30m" means the 30 minutes before the newest entry of the input, whatever order
 * the entries come in and however many threads classify them. Only a full pass can know the
 * newest entry, so the input is read twice: once here (parse only, no classification, memory
 * of one entry), then by the pipeline. Files and directories are simply reopened; standard
 * input cannot be, so it is first copied to a temporary file (disk, not memory: the bound is
 * the free space of $TMPDIR) that the second pass reads and that is removed at the end. */
#include "fl_gate.h"
#include "fl_gate_prescan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int spool_stdin(const char *dir, char **path, char *errbuf, size_t errlen)
{
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/faultline-stdin-XXXXXX", dir);
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        snprintf(errbuf, errlen, "cannot create a temporary file for standard input (%s): %s",
                 tmpl, strerror(errno));
        return FL_EIO;
    }
    char buf[65536];
    ssize_t n;
    int rc = 0;
    while ((n = read(STDIN_FILENO, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || write(fd, buf, (size_t)n) != n) {
            snprintf(errbuf, errlen, "copying standard input to %s: %s", tmpl, strerror(errno));
            rc = FL_EIO;
            break;
        }
    }
    if (close(fd) != 0 && !rc) {
        snprintf(errbuf, errlen, "writing %s: %s", tmpl, strerror(errno));
        rc = FL_EIO;
    }
    if (rc || !(*path = fl_strdup(tmpl))) {
        unlink(tmpl);
        return rc ? rc : FL_ENOMEM;
    }
    return 0;
}

int fl_gate_prescan(fl_gate *g, const char *const *inputs, size_t n_inputs,
                    const fl_reader_opts *ropts, fl_prescan *ps, char *errbuf, size_t errlen)
{
    memset(ps, 0, sizeof *ps);
    ps->inputs = fl_calloc(n_inputs ? n_inputs : 1, sizeof(char *));
    if (!ps->inputs)
        return FL_ENOMEM;
    ps->n_inputs = n_inputs;
    for (size_t i = 0; i < n_inputs; i++) {
        ps->inputs[i] = inputs[i];
        if (strcmp(inputs[i], "-") == 0) {
            if (!ps->spool) {
                int rc = spool_stdin(fl_gate_tmpdir(g), &ps->spool, errbuf, errlen);
                if (rc)
                    return rc;
            }
            ps->inputs[i] = ps->spool;
        }
    }
    /* A diag of its own: the second pass reports the warnings, once. */
    fl_diag scratch;
    fl_diag_init(&scratch);
    fl_reader_opts ro = *ropts;
    ro.no_multiline = true; /* only timestamps matter here */
    fl_reader *r = NULL;
    int rc = fl_reader_open(&r, ps->inputs, ps->n_inputs, &ro, &scratch);
    if (rc == 0) {
        fl_entry e;
        fl_entry_init(&e);
        while ((rc = fl_reader_next(r, &e)) == 1)
            fl_gate_consider(g, &e);
        fl_entry_free(&e);
        if (rc > 0)
            rc = 0;
    }
    fl_reader_free(r);
    fl_diag_free(&scratch);
    /* An unreadable input is reported by the second pass like any other. */
    if (rc == FL_ENOTFOUND)
        rc = 0;
    fl_gate_resolve(g);
    return rc;
}

void fl_prescan_free(fl_prescan *ps)
{
    if (ps->spool) {
        unlink(ps->spool);
        fl_free(ps->spool);
    }
    fl_free(ps->inputs);
    memset(ps, 0, sizeof *ps);
}
