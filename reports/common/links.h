/* Console links for a cause: the Logs Explorer query of its errors around the onset, and the
 * Cloud Run revisions page of its service. URL forms as the console uses them:
 *   https://console.cloud.google.com/logs/query;query=ENC;timeRange=START%2FEND?project=P
 *   https://console.cloud.google.com/run/detail/REGION/SERVICE/revisions?project=P
 * Both need the project (from the entries' resource labels); the revision page also needs
 * the region (the --region of the cause's gcloud commands). */
#ifndef FL_LINKS_H
#define FL_LINKS_H

#include "fl_result.h"

#define FL_LINK_MAX 2048

/* Fills explorer and revision_page (FL_LINK_MAX bytes each); either is "" when it cannot be
 * built. Returns true if at least one link was built. */
bool fl_cause_links(const fl_result *r, const fl_cause *c, char *explorer, char *revision_page);

#endif
