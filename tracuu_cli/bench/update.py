"""One timed update of an index, in a process of its own (so its peak memory is its own), as `tracuu serve`
publishes articles posted over HTTP: the changes are written durably, then published.

    python -m tracuu_cli.bench.update DIR CHANGES.json   ->  {"seconds": ..., "peak_rss_mb": ..., ...}

CHANGES.json: {"put": [JSON Lines records], "delete": [ids]}. The time runs from the first durable write to
the switch of `DIR/current`, embedding included; the model is loaded before the clock starts.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    from indexer.build import publish_posted
    from indexer.format import layout
    from indexer.posted import PostedArticles
    from models.embedder import Embedder
    from tracuu.settings import Settings

    index_dir, changes = Path(argv[0]), json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    settings = Settings()
    manifest = layout.read_manifest(layout.current_version(index_dir))
    embedder = Embedder.load(manifest["model"]["name"], settings=settings)
    embedder.encode_passages(["khởi động"])  # the first run of the model session is not the update's
    started = time.perf_counter()
    posted = PostedArticles(index_dir)
    if changes.get("put"):
        posted.put([(record["id"], record) for record in changes["put"]])
    for doc_id in changes.get("delete", []):
        posted.delete(doc_id)
    summary = publish_posted(index_dir, embedder, max_segments=settings.max_segments)
    seconds = time.perf_counter() - started
    assert summary is not None
    result = {
        "seconds": round(seconds, 2),
        "peak_rss_mb": _peak_rss_mb(),
        "embedded_passages": summary.embedded_passages,
        "merged_segments": summary.merged_segments,
        "stages": {k: round(v, 2) for k, v in summary.stages.items()},
    }
    print(json.dumps(result))
    return 0


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: of its own image; getrusage's ru_maxrss keeps the peak of
    the process that forked it, here the benchmark's)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
