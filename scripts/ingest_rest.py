# End-to-end REST ingest measurement (until `hyperspace bench` exists): N clustered points of
# dimension 64, posted in batches by C client threads. Usage:
#   python3 scripts/ingest_rest.py http://127.0.0.1:50050 50000 1000 2
import json, random, sys, time, threading, urllib.request
base, n, batch, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def call(method, path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method=method,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())
call("POST", "/api/collections", {"name": "ingest", "dimension": 64, "metric": "l2"})
rnd = random.Random(1)
centres = [[rnd.uniform(-1, 1) for _ in range(64)] for _ in range(50)]
bodies = []
for start in range(0, n, batch):
    pts = []
    for i in range(start, min(n, start + batch)):
        c = centres[i % 50]
        pts.append({"id": i, "vector": [x + rnd.gauss(0, 0.15) for x in c], "payload": {"g": i % 10}})
    bodies.append(json.dumps({"points": pts}).encode())
def worker(mine):
    for b in mine:
        req = urllib.request.Request(base + "/api/collections/ingest/points", data=b, method="PUT",
                                     headers={"content-type": "application/json"})
        urllib.request.urlopen(req).read()
t = time.time()
ts = [threading.Thread(target=worker, args=(bodies[k::threads],)) for k in range(threads)]
[x.start() for x in ts]; [x.join() for x in ts]
dt = time.time() - t
print(f"{n} points in {dt:.2f}s = {n/dt:,.0f} points/s (batch {batch}, {threads} clients)")
