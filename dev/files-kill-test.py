#!/usr/bin/env python3
"""Kills the service (java -jar JAR serve) with SIGKILL under 4 concurrent /events clients, KILLS
times at a random moment once each run has 300 acknowledged (3,000 with BATCH), restarts it, and
counts every acknowledged event_id in the files sink's NDJSON files. With BATCH, the clients send
/batch requests of BATCH events of about 1 KB each, each with its own event_id: appends of the
files sink then span several of its direct-I/O buffers.

Usage: dev/files-kill-test.py target/trellis-ingress.jar /tmp/kill-test/data 6 [BATCH]
"""
import glob, json, os, random, shutil, signal, socket, subprocess, sys, threading, time, uuid, http.client

jar, data, kills = sys.argv[1], sys.argv[2], int(sys.argv[3])
batch = int(sys.argv[4]) if len(sys.argv) > 4 else 0
shutil.rmtree(data, ignore_errors=True)
os.makedirs(data)
out = subprocess.run(["java", "-jar", jar, "keys", "create", "--data-dir", data, "--org", "crash"],
                     capture_output=True, text=True, check=True).stdout
key = out.strip().splitlines()[-1].strip()
acked, lock = set(), threading.Lock()

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def start(run):
    port = free_port()
    log = open(f"{data}/../run-{run}.log", "w")
    p = subprocess.Popen(["java", "-Xmx256m", "-jar", jar, "serve", "--data-dir", data, "--port", str(port),
                          "--set", "admin.port=0", "--set", "auth.demo-key=false",
                          "--set", "spool.batch-max-age=50ms"], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 300
    while time.time() < deadline:
        if p.poll() is not None:
            sys.exit(f"service exited at start, see run-{run}.log")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close(); return p, port
        except OSError:
            time.sleep(0.1)
    p.kill(); sys.exit("no port")

def client(port, stop, counter):
    i = 0
    while not stop.is_set():
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            while not stop.is_set():
                i += 1
                headers = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
                if batch:
                    ids = [str(uuid.uuid4()) for _ in range(batch)]
                    items = [{"event": "pageview", "event_id": e, "n": i, "pad": "p" * 1000} for e in ids]
                    c.request("POST", "/batch", body=json.dumps({"batch": items}), headers=headers)
                else:
                    c.request("POST", "/events", body=json.dumps({"event": "pageview", "n": i}),
                              headers=headers)
                r = c.getresponse(); body = r.read()
                if r.status == 200:
                    with lock:
                        if batch:
                            acked.update(ids); counter[0] += batch
                        else:
                            acked.add(json.loads(body)["event_id"]); counter[0] += 1
        except Exception:
            time.sleep(0.05)

for run in range(kills):
    p, port = start(run)
    stop, counter = threading.Event(), [0]
    ts = [threading.Thread(target=client, args=(port, stop, counter)) for _ in range(4)]
    [t.start() for t in ts]
    while counter[0] < (3000 if batch else 300):
        time.sleep(0.01)
    time.sleep(random.uniform(0, 1.5))
    os.kill(p.pid, signal.SIGKILL); p.wait()
    stop.set(); [t.join() for t in ts]
    print(f"run {run}: killed with SIGKILL after {counter[0]} acknowledged in this run", flush=True)

p, port = start("final")
def stored():
    counts = {}
    for f in glob.glob(f"{data}/events/**/*.ndjson", recursive=True):
        for line in open(f, encoding="utf-8"):
            if line.strip():
                i = json.loads(line)["event_id"]; counts[i] = counts.get(i, 0) + 1
    return counts
deadline = time.time() + 300
while time.time() < deadline and not acked <= set(stored()):
    time.sleep(1)
p.send_signal(signal.SIGTERM); p.wait(60)
counts = stored()
lines = sum(counts.values())
print(f"{kills} kills, {len(acked)} events acknowledged, {lines} stored lines, "
      f"{sum(1 for i in acked if i not in counts)} lost, {lines - len(counts)} duplicate lines, "
      f"{sum(1 for v in counts.values() if v > 1)} events stored more than once")
