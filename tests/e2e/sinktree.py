"""Lays an NDJSON export out as a Cloud Logging sink directory (shared by the shard and gs://
tests)."""
import json
import os


def sink_tree(ndjson, root, slot_seconds=600):
    """Lays an NDJSON export out as a Cloud Logging sink does: one directory per log and day,
    one file per time slot (the sink writes hourly files; shorter slots give more files)."""
    files = {}
    with open(ndjson, "rb") as f:
        for line in f:
            e = json.loads(line)
            log = e.get("logName", "x/logs/unknown").split("/logs/")[-1].replace("%2F", "/")
            ts = e.get("timestamp", "1970-01-01T00:00:00Z")
            sec = (int(ts[14:16]) * 60 + int(ts[17:19])) // slot_seconds * slot_seconds
            key = (log, ts[:10].replace("-", "/"), "%s_%02d_%02d" % (ts[11:13], sec // 60,
                                                                     sec % 60))
            files.setdefault(key, []).append(line)
    for (log, day, slot), lines in files.items():
        d = os.path.join(root, log, day)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, slot + ".json"), "wb") as f:
            f.writelines(lines)
    return len(files)
