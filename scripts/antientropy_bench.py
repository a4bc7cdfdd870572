#!/usr/bin/env python3
"""Anti-entropy timings with real processes (figures for the README and the closing note).

Starts a leader and a follower (default flags: checkpoints every 1,000 writes or 5 s,
`--anti-entropy repair`) from the release binary, loads N points of dimension 64 through
REST, corrupts one point on the follower (fault-injection route), and measures:
  - detection delay: corruption -> the follower's first checkpoint result naming the bucket;
  - repair time: the leader's repair job, started -> finished (all chunks written);
  - time to clean: corruption -> a later checkpoint on the follower finds no drift;
  - one on-demand checkpoint at this size (POST /api/admin/checkpoint, round trip).
Then checks leader and follower digests are equal.

Usage: cargo build --release && python3 scripts/antientropy_bench.py [--points 1000000]
"""
import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def start(binary, root, name, extra):
    http, grpc = free_port(), free_port()
    log = open(os.path.join(root, name + ".log"), "w")
    proc = subprocess.Popen([binary, "node", "--data-dir", os.path.join(root, name),
                             "--http-addr", f"127.0.0.1:{http}", "--grpc-addr", f"127.0.0.1:{grpc}",
                             *extra], stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{http}"
    for _ in range(600):
        try:
            urllib.request.urlopen(base + "/readyz", timeout=1).read()
            return proc, base, f"http://127.0.0.1:{grpc}"
        except Exception:
            time.sleep(0.1)
    sys.exit(f"{name} did not start; see {root}/{name}.log")


def load(base, n, threads=2, batch=5000):
    call(base, "POST", "/api/collections", {"name": "ae", "dimension": 64, "metric": "l2"})
    rnd = random.Random(1)
    centres = [[rnd.uniform(-1, 1) for _ in range(64)] for _ in range(50)]

    def worker(k):
        r = random.Random(k)
        for s in range(k * batch, n, threads * batch):
            pts = [{"id": i, "vector": [x + r.gauss(0, 0.15) for x in centres[i % 50]],
                    "payload": {"g": i % 10}} for i in range(s, min(n, s + batch))]
            call(base, "PUT", "/api/collections/ae/points", {"points": pts})
    t = time.time()
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    [x.start() for x in ts]
    [x.join() for x in ts]
    return time.time() - t


def digest(base):
    d = call(base, "GET", "/api/collections/ae/digest?u64=string")
    return d["logical_clock"], d["state_hash"], d["count"]


def check(base):
    checks = call(base, "GET", "/api/cluster")["anti_entropy"]["checks"]
    return next((c for c in checks if c["collection"] == "ae"), None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--binary", default="target/release/hyperspace")
    ap.add_argument("--id", type=int, default=777)
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="ae-bench-")
    leader, lb, lg = start(args.binary, root, "leader", [])
    follower, fb, _ = start(args.binary, root, "follower",
                            ["--role", "follower", "--leader", lg, "--enable-fault-injection"])
    try:
        took = load(lb, args.points)
        print(f"loaded {args.points:,} points in {took:.1f} s ({args.points / took:,.0f}/s)")
        while digest(fb) != digest(lb):
            time.sleep(0.2)
        t = time.time()
        answer = call(lb, "POST", "/api/admin/checkpoint", {"collection": "ae"})
        print(f"on-demand checkpoint at {args.points:,} points: {(time.time() - t) * 1000:.2f} ms "
              f"round trip (LSN {answer['checkpoints'][0]['lsn']})")
        bucket = args.id % 256
        t0 = time.time()
        call(fb, "POST", "/api/debug/collections/ae/corrupt", {"id": args.id})
        detected = repaired_at = clean = None
        while clean is None and time.time() - t0 < 120:
            c = check(fb)
            now = time.time()
            if detected is None and c and bucket in c["drifted_buckets"]:
                detected = now
            if detected and c and c["result"] == "ok":
                clean = now
            time.sleep(0.02)
        jobs = call(lb, "GET", "/api/cluster")["anti_entropy"]["repairs"]
        job = next(j for j in jobs if bucket in j["buckets"])
        repair_ms = job["finished_unix_ms"] - job["started_unix_ms"]
        print(f"detection delay: {(detected - t0):.2f} s (checkpoint interval 5 s, every 1,000 writes)")
        print(f"repair of bucket {bucket}: {repair_ms} ms, {job['points_sent']:,} points in repair records")
        print(f"corruption -> clean checkpoint: {(clean - t0):.2f} s")
        assert digest(fb)[1:] == digest(lb)[1:], "digests differ after repair"
        print("leader and follower digests equal")
    finally:
        for p in (follower, leader):
            p.terminate()
            p.wait()


if __name__ == "__main__":
    main()
