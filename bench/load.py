"""A load generator in its own process: N keep-alive clients POSTing payments.

    python -m bench.load URL API_KEY CLIENTS COUNT
Prints one JSON line: {"seconds", "count", "statuses", "p50_ms", "p99_ms"}.
Uses http.client (one persistent connection per client thread), not a framework.
"""

from __future__ import annotations

import http.client
import json
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from urllib.parse import urlsplit


def main() -> int:
    url, api_key, clients, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    parts = urlsplit(url)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    tag = uuid.uuid4().hex[:8]
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}

    def client(index: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        mine, codes = [], Counter()
        for i in range(index, count, clients):
            body = json.dumps(
                {"order_id": f"load_{tag}_{i}", "amount": 1000, "currency": "INR", "method": "upi"}
            )
            started = time.perf_counter()
            conn.request("POST", "/api/v1/payments", body, headers)
            response = conn.getresponse()
            response.read()
            mine.append((time.perf_counter() - started) * 1000)
            codes[response.status] += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            statuses.update(codes)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    latencies.sort()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "count": count,
                "statuses": dict(statuses),
                "p50_ms": round(statistics.median(latencies), 2),
                "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
