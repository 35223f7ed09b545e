#!/usr/bin/env python3
"""The postmortem draft says which filter narrowed its input and how many duplicates were
dropped (issue 13 items 1 and 2: "the report says which filter was applied"), with the same
numbers as the JSON report of `analyze` over the same arguments.

Usage: postmortem_filter.py FAULTLINE SOURCE_ROOT
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from clitest import Fail, check, run_cli

SAMPLE_REL = "tests/data/incidents/checkout-bad-deploy.json"


def main():
    faultline, root = sys.argv[1], sys.argv[2]
    try:
        with tempfile.TemporaryDirectory(prefix="fl-pm-filter-") as d:
            sample = os.path.join(root, SAMPLE_REL)
            copy = os.path.join(d, "older-export.json")  # an overlapping second export
            shutil.copy(sample, copy)
            args = ["--service", "checkout-*", "--since", "2026-07-25T03:00:00Z", sample, copy]
            run = lambda a: run_cli(faultline, a, stdin=subprocess.DEVNULL)
            rc, out, err = run(["analyze", "--format", "json"] + args)
            check(rc == 0, f"analyze: exit {rc}; {err}")
            inp = json.loads(out)["input"]
            check(inp["filter"] and inp["filtered_out"] > 0 and inp["duplicates"] > 0,
                  f"the case needs a filter and duplicates: {inp}")
            rc, md, err = run(["postmortem"] + args)
            check(rc == 0, f"postmortem: exit {rc}; {err}")
            m = re.search(r"^> Filter: `([^`]*)` \((\d+) entries outside it left out\)\.", md,
                          re.M)
            check(m, f"the draft does not name its filter:\n{md[:600]}")
            check(m.group(1) == inp["filter"] and int(m.group(2)) == inp["filtered_out"],
                  f"draft {m.groups()} vs analyze {inp['filter']!r}, {inp['filtered_out']}")
            check(f"{inp['duplicates']} duplicate entries" in md,
                  f"the draft does not count the {inp['duplicates']} duplicates")
            rc, md, err = run(["postmortem", sample])
            check(rc == 0 and "> Filter:" not in md and "duplicate entries" not in md,
                  "an unfiltered draft names a filter or duplicates")
    except Fail as e:
        print(f"FAIL postmortem_filter: {e}")
        return 1
    print("ok postmortem_filter")
    return 0


if __name__ == "__main__":
    sys.exit(main())
