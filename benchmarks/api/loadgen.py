"""A small HTTP/1.1 keep-alive load generator (asyncio + uvloop), loopback only.

Each connection sends one request at a time, optionally waiting a random time between
requests (uniform on [0, 2 x mean]) so that many mostly idle clients offer a chosen
rate, as CRM apps and websites do. Latency is measured per request from write to the
last byte of the response. Runs for a fixed duration and stops by itself.

    python -m benchmarks.api.loadgen --port 8000 --connections 5000 --rate 2500 \\
        --duration 60 --paths ids.txt --prefix /v1/customers/ --suffix /scores --key KEY
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

LOOPBACK = "127.0.0.1"


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0  # connection failures and non-2xx answers
    sent: int = 0
    timeline: dict[int, int] = field(default_factory=dict)  # second -> completed requests
    worst: dict[int, float] = field(default_factory=dict)  # second -> slowest request


class Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).lower()
        start = head.find(b"content-length:")
        length = 0
        if start >= 0:
            stop = head.find(b"\r\n", start)
            length = int(head[start + 15 : stop if stop >= 0 else len(head)])
        total = end + 4 + length
        if len(self.buffer) < total:
            return
        status = int(head[9:12])
        del self.buffer[:total]
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(status)

    def connection_lost(self, exc: Exception | None) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(ConnectionError("connection closed"))
        self.transport = None

    async def request(self, data: bytes) -> int:
        if self.transport is None:
            raise ConnectionError("not connected")
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await self.waiter


async def _connect(port: int) -> Connection:
    loop = asyncio.get_running_loop()
    for attempt in range(50):
        try:
            _, protocol = await loop.create_connection(Connection, LOOPBACK, port)
            return protocol
        except OSError:
            await asyncio.sleep(0.05 * (attempt + 1))
    raise ConnectionError("cannot connect")


async def run(args: argparse.Namespace) -> dict:
    paths = Path(args.paths).read_text().split() if args.paths else [args.path]
    auth = f"Authorization: Bearer {args.key}\r\n" if args.key else ""
    body = Path(args.body).read_bytes() if args.body else None
    method = "POST" if body is not None else "GET"
    requests = [
        (
            f"{method} {args.prefix}{p}{args.suffix} HTTP/1.1\r\nHost: {LOOPBACK}\r\n{auth}"
            + (
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                if body is not None
                else ""
            )
            + "\r\n"
        ).encode()
        + (body or b"")
        for p in paths[:200_000]
    ]
    stats = Stats()
    mean_wait = args.connections / args.rate if args.rate else 0.0
    connections: list[Connection] = []
    # Ramp up: the listen backlog is finite, so open connections in waves.
    for start in range(0, args.connections, args.ramp):
        batch = await asyncio.gather(
            *(_connect(args.port) for _ in range(min(args.ramp, args.connections - start))),
            return_exceptions=True,
        )
        for item in batch:
            if isinstance(item, Connection):
                connections.append(item)
            else:
                stats.errors += 1
        await asyncio.sleep(0.02)
    begin = time.perf_counter()
    deadline = begin + args.duration
    rng = random.Random(args.seed)

    async def client(connection: Connection) -> None:
        if mean_wait:
            await asyncio.sleep(
                min(rng.uniform(0, 2 * mean_wait), args.duration)
            )  # spread the first requests
        while True:
            now = time.perf_counter()
            if now >= deadline:
                return
            data = requests[rng.randrange(len(requests))]
            stats.sent += 1
            try:
                status = await asyncio.wait_for(connection.request(data), timeout=args.timeout)
            except (ConnectionError, TimeoutError, OSError):
                stats.errors += 1
                stats.statuses[0] = stats.statuses.get(0, 0) + 1
                try:
                    connection = await _connect(args.port)
                except ConnectionError:
                    return
                continue
            done = time.perf_counter()
            stats.latencies.append(done - now)
            stats.statuses[status] = stats.statuses.get(status, 0) + 1
            second = int(done - begin)
            stats.timeline[second] = stats.timeline.get(second, 0) + 1
            stats.worst[second] = max(stats.worst.get(second, 0.0), done - now)
            if not 200 <= status < 300:
                stats.errors += 1
            if mean_wait:
                await asyncio.sleep(
                    min(rng.uniform(0, 2 * mean_wait), max(0.0, deadline - time.perf_counter()))
                )

    await asyncio.gather(*(client(c) for c in connections))
    # Requests are only started before the deadline; the rate is over the window.
    elapsed = max(args.duration, time.perf_counter() - begin)
    for connection in connections:
        if connection.transport is not None:
            connection.transport.close()
    latencies = sorted(stats.latencies)

    def pct(q: float) -> float | None:
        return (
            round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 2)
            if latencies
            else None
        )

    return {
        "connections": len(connections),
        "offered_rate": args.rate or None,
        "duration_s": round(elapsed, 1),
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "max_ms": round(latencies[-1] * 1000, 2) if latencies else None,
        "errors": stats.errors,
        "statuses": {str(k): v for k, v in sorted(stats.statuses.items())},
        "per_second": [stats.timeline.get(s, 0) for s in range(int(elapsed) + 1)],
        "worst_ms_per_second": [round(stats.worst.get(s, 0.0) * 1000, 1) for s in range(int(elapsed) + 1)],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rate", type=float, default=0.0, help="offered requests/s in total; 0: no waiting")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--path", default="/")
    parser.add_argument("--paths", help="file of path parts, one per line (random choice per request)")
    parser.add_argument("--prefix", default="")
    parser.add_argument("--suffix", default="")
    parser.add_argument("--key", default="")
    parser.add_argument("--body", help="file whose bytes are POSTed as JSON")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--ramp", type=int, default=250, help="connections opened per wave")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", help="write the JSON result here too")
    args = parser.parse_args(argv)
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(run(args))
    text = json.dumps(result)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
