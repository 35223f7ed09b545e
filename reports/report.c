/* Placeholder: the format registry and dispatcher land here. */
#include "fl_reports.h"
