/* Placeholder: the batch reader lands here. */
#include "fl_ingest.h"
