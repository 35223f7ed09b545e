/* gs://BUCKET/PREFIX as a batch input: the objects under PREFIX, listed and streamed through
 * the Cloud Storage JSON API (objects.list, objects.get alt=media). Internal to ingest/. */
#ifndef FL_GCS_H
#define FL_GCS_H

#include "ingest_internal.h"

typedef struct fl_gcs fl_gcs;

/* True for "gs://..." */
bool fl_gcs_is_url(const char *s);
/* emulator_host: STORAGE_EMULATOR_HOST as Google's client libraries read it ("host:port" or
 * "http://host:port"; requests then go there without credentials), or NULL for
 * storage.googleapis.com with the credentials of the live sources (fl_auth). */
/* auth: where credentials come from (the CLI fills it from the environment); borrowed. */
int fl_gcs_new(fl_gcs **out, const char *emulator_host, const fl_auth_env *auth);
void fl_gcs_free(fl_gcs *g);
/* Appends gs://BUCKET/NAME for every object whose name starts with PREFIX (the API's name
 * order; names ending in "/" are folder placeholders and skipped), following nextPageToken.
 * Problems go to diag as unreadable. Returns 0, FL_ENOTFOUND (nothing could be listed) or
 * FL_ENOMEM. */
int fl_gcs_list(fl_gcs *g, const char *url, fl_pathlist *list, fl_diag *diag);
/* Starts the download of one object. Returns 0 with *src set (its reads resume a broken
 * transfer with a Range request), or FL_ENOTFOUND / FL_EIO with errbuf filled. */
int fl_gcs_open(fl_gcs *g, const char *url, fl_stream_source *src, char *errbuf, size_t errlen);

#endif
