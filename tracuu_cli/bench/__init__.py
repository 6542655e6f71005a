"""`tracuu bench`: measures embedding throughput, query latency in-process and over HTTP, index build
time, size, server memory and recall against exact search, on this machine (docs/performance.md)."""
