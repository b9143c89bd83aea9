#!/usr/bin/python3
"""run.py - make bench: intake against the alternatives, side by side

usage: /usr/bin/python3 bench/run.py [--build DIR] [--corpus DIR]
                                     [--sets submissions,large] [--keep]

Generates the corpus once (bench/gen_corpus.py, cached in --corpus), then
for each set of messages ("submissions": 24 unit submissions; "large": one
300 MB message) measures, one after the other:

  maildir   intaked --once over a Maildir (url = maildir:/path) holding
            the set: wall time, CPU (user + sys of the whole process tree,
            from os.wait4: the daemon and every worker it forked and
            reaped), peak RSS (ru_maxrss of that tree: the largest process
            in it), messages/s and MB/s;
  imaps     the same set delivered into a private Dovecot's Maildir (files
            dropped into new/ with S= and W= sizes, as Dovecot's LDA names
            them) and fetched over IMAPS on 127.0.0.1; the server's CPU is
            reported beside intaked's;
  baseline  bench/baseline.py: Python's email package and Pillow doing the
            same job as a user would script it;
  floor     `base64 -d` of every attachment's base64 text and
            `djpeg -scale 1/8` of every photo: CPU time only.

Every intake run is checked (every message processed, every photo,
summary and video accepted), so a fast run that did nothing fails the
benchmark.  After the IMAPS run of the submissions set, three more cycles
check the fetch manners with Dovecot's rawlog: one connection per cycle,
only new UIDs fetched, RFC822.SIZE checked before a message over
max_message_bytes is downloaded, nothing downloaded twice.

Prints a table with the ratios against the goals and writes
bench/results.json.  Exit status 0 when every run was correct (goals
missed are reported, not fatal), 1 otherwise.
"""
import argparse
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
BENCH = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
import gen_corpus                      # noqa: E402
from dovecot import Dovecot           # noqa: E402

PY = "/usr/bin/python3"
MIB = 1024 * 1024
MAX_MESSAGE = 400 * MIB
WORKER_MEMORY = 1024 * MIB   # [limits] worker_memory, left at its default
GOALS = {
    "wall_vs_baseline": 0.5,   # intake wall / baseline wall, at most
    "cpu_vs_floor": 1.3,       # intake CPU / floor CPU, at most
    "peak_rss_mib": 64,        # any intake process, below
    "large_mb_s": 100,         # the 300 MB message, at least
    "imaps_vs_maildir": 1.5,   # IMAPS wall / Maildir wall, at most
}
CLK = os.sysconf("SC_CLK_TCK")


def log(text):
    print("bench: " + text, flush=True)


# ---- measuring ------------------------------------------------------------

class Sampler(threading.Thread):
    """Polls the process tree under pid every 100 ms for the largest VmPeak
    (address space, what RLIMIT_AS limits) and VmHWM (peak RSS) of any
    process in it.  Short-lived processes can be missed between polls, so
    these are lower bounds; ru_maxrss from wait4 is the exact RSS.  The
    poll is not free: at every 20 ms it cost the measured run up to a
    quarter of its CPU time on two cores (the large message's Maildir
    path, 1.73 s of CPU against 1.34 s unobserved)."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.vmpeak = self.vmhwm = 0
        self.done = threading.Event()

    def tree(self):
        kids = {}
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % p) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            kids.setdefault(ppid, []).append(int(p))
        out, todo = [], [self.pid]
        while todo:
            p = todo.pop()
            out.append(p)
            todo.extend(kids.get(p, ()))
        return out

    def run(self):
        while not self.done.wait(0.1):
            for p in self.tree():
                try:
                    with open("/proc/%d/status" % p) as f:
                        for line in f:
                            if line.startswith("VmPeak:"):
                                self.vmpeak = max(self.vmpeak,
                                                  int(line.split()[1]))
                            elif line.startswith("VmHWM:"):
                                self.vmhwm = max(self.vmhwm,
                                                 int(line.split()[1]))
                except OSError:
                    pass


def run_tree(argv, stdin=None, stdout=None, stderr=None, sample=False,
             feed=None):
    """Runs argv to its end.  Returns wall, user, sys (seconds), maxrss
    (KiB) of the process and everything it reaped, rc, and the sampler's
    figures.  feed(pipe_fd) writes the child's stdin when given."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.PIPE if feed else stdin,
                         stdout=stdout, stderr=stderr)
    s = None
    if sample:
        s = Sampler(p.pid)
        s.start()
    if feed:
        try:
            feed(p.stdin.fileno())
        finally:
            p.stdin.close()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    r = dict(wall=wall, user=ru.ru_utime, sys=ru.ru_stime,
             cpu=ru.ru_utime + ru.ru_stime, maxrss_kib=ru.ru_maxrss,
             rc=p.returncode)
    if s is not None:
        s.done.set()
        s.join()
        r["vmpeak_kib"] = s.vmpeak
        r["vmhwm_kib"] = s.vmhwm
    return r


def proc_times(pid):
    """utime + stime + cutime + cstime of pid, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / CLK


# ---- intake ---------------------------------------------------------------

def write_config(d, url, imap=None, ca=None, limits=None):
    lim = {"max_message_bytes": MAX_MESSAGE}
    lim.update(limits or {})
    lines = ["[mailbox]", "url = " + url, "poll_interval = 60"]
    if imap:
        secret = os.path.join(d, "imap.secret")
        with open(secret, "w") as f:
            f.write(imap[1] + "\n")
        os.chmod(secret, 0o600)
        lines += ["username = " + imap[0], "password_file = " + secret]
    if ca:
        lines.append("ca_file = " + ca)
    lines += ["", "[campaign]", "name = 2022年“质量月”活动",
              "start = 2022-08-29T00:00:00+08:00",
              "deadline = 2022-10-10T23:59:59+08:00",
              "keywords = 质量月;活动总结",
              "", "[storage]", "state_dir = " + os.path.join(d, "state"),
              "units_file = " + gen_corpus.UNITS_FILE,
              "template_dir = " + os.path.join(TOP, "config", "templates"),
              "", "[limits]"]
    lines += ["%s = %s" % kv for kv in sorted(lim.items())]
    conf = os.path.join(d, "intake.conf")
    with open(conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    return conf


def run_intaked(intaked, conf, logname):
    with open(logname, "ab") as err:
        return run_tree([intaked, "-c", conf, "--once"],
                        stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                        sample=True)


def verify(state_dir, msgs):
    """What the intake run must have done; a list of problems."""
    want_photo = sum(sum(a["kind"] == "photo" for a in m["attachments"])
                     for m in msgs)
    want_video = sum(sum(a["kind"] == "video" for a in m["attachments"])
                     for m in msgs)
    db = sqlite3.connect(os.path.join(state_dir, "intake.db"))
    try:
        states = dict(db.execute(
            "SELECT state, count(*) FROM messages GROUP BY state"))
        acc = dict(db.execute(
            "SELECT type, count(*) FROM items WHERE accepted = 1 "
            "GROUP BY type"))
        errors = [r[0] for r in db.execute(
            "SELECT error FROM messages WHERE error IS NOT NULL")]
    finally:
        db.close()
    bad = []
    if states.get("processed", 0) != len(msgs):
        bad.append("messages %s, %d expected processed" % (states, len(msgs)))
    for kind, n in (("photo", want_photo), ("video", want_video),
                    ("summary", len(msgs))):
        if acc.get(kind, 0) != n:
            bad.append("%d %s accepted, %d expected" % (acc.get(kind, 0),
                                                         kind, n))
    return bad + ["error: %s" % e for e in errors]


def maildir_name(i, e, vsize):
    return "%d.M%dP%d.bench,S=%d,W=%d" % (e["arrival"], i, os.getpid(),
                                          e["bytes"], vsize)


def vsize(path):
    """The size with CRLF line ends (Dovecot's W=, RFC822.SIZE)."""
    n = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(8 * MIB)
            if not b:
                return os.path.getsize(path) + n
            n += b.count(b"\n")


def deliver(maildir, msgs, corpus, sizes, first=0):
    """Hard links into maildir/new (the files are read, never written)."""
    for i, e in enumerate(msgs, first):
        os.link(os.path.join(corpus, "msgs", e["file"]),
                os.path.join(maildir, "new",
                             maildir_name(i, e, sizes[e["file"]])))


def scenario_maildir(ctx, name, msgs):
    d = os.path.join(ctx.run_dir, name + "-maildir")
    md = os.path.join(d, "Maildir")
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(md, sub))
    deliver(md, msgs, ctx.corpus, ctx.sizes)
    conf = write_config(d, "maildir:" + md)
    r = run_intaked(ctx.intaked, conf, os.path.join(d, "intaked.log"))
    r["problems"] = verify(os.path.join(d, "state"), msgs)
    if r["rc"] != 0:
        r["problems"].append("intaked exited %d" % r["rc"])
    if not ctx.keep:
        shutil.rmtree(d)
    return r


# ---- IMAPS ----------------------------------------------------------------

def dovecot_idle(dc, timeout=10):
    """Waits until the server's per-connection processes (imap,
    imap-login) have exited, so their CPU is in the master's cutime."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = False
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % p) as f:
                    head, rest = f.read().rsplit(")", 1)
                fields = rest.split()
            except (OSError, ValueError):
                continue
            comm = head.split("(", 1)[1]
            if int(fields[1]) == dc.proc.pid and comm in ("imap",
                                                          "imap-login"):
                busy = True
        if not busy:
            return
        time.sleep(0.05)


def log_since(path, offset):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read().decode(errors="replace")


def session_facts(text):
    """Logins and the logout lines' fetch counters in a piece of the
    Dovecot log."""
    logins = len(re.findall(r"imap-login: (?:Info: )?Login: user=<", text))
    counts = [dict((k, int(v)) for k, v in
                   re.findall(r"(body_count|body_bytes|hdr_count)=(\d+)", l))
              for l in text.splitlines() if "Logged out" in l]
    return dict(logins=logins,
                body_count=sum(c.get("body_count", 0) for c in counts),
                body_bytes=sum(c.get("body_bytes", 0) for c in counts))


def rawlog_commands(rawdir, before):
    """The client's commands in the rawlog files made since before."""
    cmds = []
    for n in sorted(set(os.listdir(rawdir)) - before):
        if n.endswith(".in"):
            with open(os.path.join(rawdir, n), "rb") as f:
                for line in f.read().decode(errors="replace").splitlines():
                    # "<timestamp> <tag> <command>"
                    line = re.sub(r"^\d+\.\d+ ", "", line.strip())
                    if re.match(r"\S+ (LOGIN|AUTHENTICATE)\b", line, re.I):
                        line = line.split(" ", 1)[0] + " <login>"
                    cmds.append(line)
    return cmds


def body_fetches(cmds):
    return [c for c in cmds if re.search(r"FETCH \S+ BODY(\.PEEK)?\[\]", c,
                                         re.I)]


def scenario_imaps(ctx, name, msgs, checks=False):
    d = os.path.join(ctx.run_dir, name + "-imaps")
    os.makedirs(d)
    dc = Dovecot(os.path.join(d, "dovecot"))
    res = {}
    try:
        dc.start()
        deliver(dc.maildir, msgs, ctx.corpus, ctx.sizes)
        if len(dc.uids()) != len(msgs):    # Dovecot indexes the new mail
            raise RuntimeError("Dovecot lists %d messages, %d delivered"
                               % (len(dc.uids()), len(msgs)))
        it = os.path.join(d, "intake")
        os.makedirs(it)
        imap = (dc.user, dc.password)
        conf = write_config(it, dc.imaps_url, imap, dc.cert)
        dovelog = os.path.getsize(dc.log)
        server0 = proc_times(dc.proc.pid)
        intlog = os.path.join(it, "intaked.log")
        res = run_intaked(ctx.intaked, conf, intlog)
        dovecot_idle(dc)
        res["server_cpu"] = proc_times(dc.proc.pid) - server0
        res["session"] = session_facts(log_since(dc.log, dovelog))
        res["problems"] = verify(os.path.join(it, "state"), msgs)
        if res["rc"] != 0:
            res["problems"].append("intaked exited %d" % res["rc"])
        res["curl"] = curl_fetch(dc)
        if checks:
            res["fetch"] = fetch_checks(ctx, dc, it, conf, intlog, imap, msgs)
    finally:
        dc.close()
        if not ctx.keep:
            shutil.rmtree(d, ignore_errors=True)
    return res


def curl_fetch(dc):
    """The download alone: the curl program fetching every message of
    the mailbox to /dev/null over one IMAPS connection (BODY[], as
    intaked does), with the server's CPU beside it."""
    argv = ["curl", "-sS", "--user", "%s:%s" % (dc.user, dc.password),
            "--cacert", dc.cert]
    for uid in dc.uids():
        argv += ["%s;UID=%d" % (dc.imaps_url, uid), "-o", "/dev/null"]
    server0 = proc_times(dc.proc.pid)
    r = run_tree(argv, stdin=subprocess.DEVNULL)
    dovecot_idle(dc)
    r["server_cpu"] = proc_times(dc.proc.pid) - server0
    return r


def fetch_checks(ctx, dc, it, conf, intlog, imap, msgs):
    """Three more cycles, with Dovecot's rawlog on: nothing new; a message
    over max_message_bytes and a small one; nothing new again."""
    rawdir = os.path.join(dc.dir, "rawlog")
    os.makedirs(rawdir)
    os.chown(rawdir, dc.mail_uid, dc.mail_gid)
    dc.stop()
    dc.extra_config += "\nrawlog_dir = %s\n" % rawdir
    dc.start()
    out = {"first_cycle": None, "cycles": []}

    def cycle(label):
        before = set(os.listdir(rawdir))
        off = os.path.getsize(dc.log)
        ilog = os.path.getsize(intlog)
        r = run_intaked(ctx.intaked, conf, intlog)
        dovecot_idle(dc)
        cmds = rawlog_commands(rawdir, before)
        c = dict(label=label, rc=r["rc"],
                 session=session_facts(log_since(dc.log, off)),
                 commands=cmds, body_fetches=body_fetches(cmds),
                 intaked_log=log_since(intlog, ilog).splitlines())
        out["cycles"].append(c)
        return c

    c2 = cycle("again, nothing new")
    # a message over the limit (a copy of the largest submission) and,
    # after it, a small new one
    big = max(msgs, key=lambda e: e["bytes"])
    limit = (big["bytes"] // MIB) // 2 * MIB
    write_config(it, dc.imaps_url, imap, dc.cert,
                 {"max_message_bytes": limit})
    deliver(dc.maildir, [big], ctx.corpus, ctx.sizes, first=1000)
    over_uid = max(dc.uids())
    small = os.path.join(dc.dir, "small.eml")
    with open(small, "wb") as f:
        f.write(("From: %s\nTo: 7263441@qq.com\nSubject: =?UTF-8?B?5Zu+"
                 "54mH6K+05piO?=\nDate: Wed, 21 Sep 2022 09:00:00 +0800\n"
                 "Message-ID: <bench-small@example.gov.cn>\n"
                 "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
                 "\n%s 图1：质量月启动仪式\n" % (big["unit"], big["unit"])
                 ).encode())
    os.utime(small, (big["arrival"] + 60, big["arrival"] + 60))
    os.link(small, os.path.join(dc.maildir, "new", "%d.M2000P%d.bench" % (
        big["arrival"] + 60, os.getpid())))
    small_uid = max(dc.uids())
    c3 = cycle("a message over max_message_bytes (%d MiB), then a small one"
               % (limit // MIB))
    c4 = cycle("again, nothing new")
    ok_size = any(re.search(r"UID FETCH [0-9,:]*\b%d\b[0-9,:]* \(.*RFC822\.SIZE"
                            % over_uid, c) for c in c3["commands"])
    out.update(
        over_uid=over_uid, small_uid=small_uid, over_bytes=big["bytes"],
        limit=limit,
        one_connection_per_cycle=all(
            c["session"]["logins"] == 1 for c in out["cycles"]),
        nothing_refetched=not c2["body_fetches"] and not c4["body_fetches"],
        only_new_fetched=[b.split(" ", 1)[1] for b in c3["body_fetches"]],
        size_listed_before_download=ok_size,
        over_limit_not_downloaded=not any(
            re.search(r"\b%d BODY" % over_uid, b)
            for b in c3["body_fetches"] + c4["body_fetches"]),
        over_limit_logged=any("not downloaded" in l
                              for l in c3["intaked_log"]))
    return out


# ---- the alternatives -----------------------------------------------------

def scenario_baseline(ctx, name, msgs):
    out = os.path.join(ctx.run_dir, name + "-baseline")
    paths = [os.path.join(ctx.corpus, "msgs", e["file"]) for e in msgs]
    with open(os.path.join(ctx.run_dir, name + "-baseline.json"), "wb") as o:
        r = run_tree([PY, os.path.join(BENCH, "baseline.py"), out] + paths,
                     stdin=subprocess.DEVNULL, stdout=o)
    with open(os.path.join(ctx.run_dir, name + "-baseline.json")) as f:
        r["result"] = json.loads(f.read() or "{}")
    want = sum(sum(a["kind"] == "photo" for a in e["attachments"])
               for e in msgs)
    r["problems"] = [] if r["rc"] == 0 and r["result"].get("photos_ok") == \
        want else ["baseline: rc %d, %s" % (r["rc"], r["result"])]
    shutil.rmtree(out, ignore_errors=True)
    return r


def scenario_floor(ctx, name, msgs):
    """base64 -d of each attachment's base64 text (the exact bytes, sent
    with sendfile into the pipe) into a file, djpeg -scale 1/8 of each
    photo.  The sum of the children's CPU."""
    out = os.path.join(ctx.run_dir, name + "-floor")
    os.makedirs(out)
    tot = dict(wall=0.0, user=0.0, sys=0.0, cpu=0.0, maxrss_kib=0, rc=0)
    t0 = time.monotonic()
    for e in msgs:
        fd = os.open(os.path.join(ctx.corpus, "msgs", e["file"]), os.O_RDONLY)
        try:
            for k, a in enumerate(e["attachments"]):
                dst = os.path.join(out, "%d" % k)

                def feed(pipe, a=a):
                    off, left = a["b64_offset"], a["b64_length"]
                    while left > 0:
                        n = os.sendfile(pipe, fd, off, left)
                        off += n
                        left -= n

                with open(dst, "wb") as o:
                    runs = [run_tree(["base64", "-d"], stdout=o, feed=feed)]
                if a["kind"] == "photo":
                    runs.append(run_tree(["djpeg", "-scale", "1/8",
                                          "-outfile", "/dev/null", dst],
                                         stdin=subprocess.DEVNULL))
                for r in runs:
                    for k2 in ("user", "sys", "cpu"):
                        tot[k2] += r[k2]
                    tot["maxrss_kib"] = max(tot["maxrss_kib"],
                                            r["maxrss_kib"])
                    tot["rc"] = tot["rc"] or r["rc"]
        finally:
            os.close(fd)
        for n in os.listdir(out):
            os.unlink(os.path.join(out, n))
    tot["wall"] = time.monotonic() - t0
    tot["problems"] = [] if tot["rc"] == 0 else ["floor: a command failed"]
    os.rmdir(out)
    return tot


# ---- report ---------------------------------------------------------------

def machine():
    info = {"nproc": os.cpu_count(), "kernel": platform.release()}
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                info["memory_mib"] = int(line.split()[1]) // 1024
    with open("/proc/loadavg") as f:
        info["loadavg_start"] = f.read().split()[:3]
    ver = {}
    for name, argv in (("dovecot", ["dovecot", "--version"]),
                       ("python", [PY, "--version"])):
        ver[name] = subprocess.run(argv, stdout=subprocess.PIPE,
                                   text=True).stdout.strip()
    for pkg in ("libgmime-3.0-0", "libjpeg62-turbo", "libcurl4",
                "libssl3", "python3-pil", "coreutils"):
        ver[pkg] = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Version}", pkg],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True).stdout
    info["versions"] = ver
    return info


def ratio(a, b):
    return a / b if b else float("inf")


def summarize(results):
    rows, goals = [], {}
    for name, s in results["sets"].items():
        mb = s["bytes"] / 1e6
        for method in ("maildir", "imaps", "curl", "baseline", "floor"):
            r = s.get(method)
            if method == "curl":
                r = (s.get("imaps") or {}).get("curl")
            if r is None:
                continue
            rows.append(dict(
                set=name, method=method, wall=r["wall"], cpu=r["cpu"],
                server_cpu=r.get("server_cpu"),
                rss_mib=r["maxrss_kib"] / 1024,
                msg_s=s["messages"] / r["wall"], mb_s=mb / r["wall"]))
        m, i, b, f = (s.get(k) for k in ("maildir", "imaps", "baseline",
                                         "floor"))
        g = {}
        if m and b:
            g["wall_vs_baseline"] = ratio(m["wall"], b["wall"])
        if m and f:
            g["cpu_vs_floor"] = ratio(m["cpu"], f["cpu"])
        if m and i:
            g["imaps_vs_maildir"] = ratio(i["wall"], m["wall"])
        rss = [r["maxrss_kib"] / 1024 for r in (m, i) if r]
        if rss:
            g["peak_rss_mib"] = max(rss)
        if name == "large" and m:
            g["large_mb_s"] = mb / m["wall"]
        goals[name] = g
    return rows, goals


def goal_ok(key, value):
    limit = GOALS[key]
    if key == "large_mb_s":
        return value >= limit
    if key == "peak_rss_mib":
        return value < limit
    return value <= limit


def print_table(rows, goals):
    print()
    print("%-12s %-9s %8s %8s %8s %9s %7s %8s" % (
        "set", "method", "wall s", "CPU s", "srv CPU", "RSS MiB", "msg/s",
        "MB/s"))
    for r in rows:
        print("%-12s %-9s %8.2f %8.2f %8s %9s %7.2f %8.1f" % (
            r["set"], r["method"], r["wall"], r["cpu"],
            "%.2f" % r["server_cpu"] if r["server_cpu"] is not None else "",
            "%.1f" % r["rss_mib"] if r["method"] in ("maildir", "imaps",
                                                     "baseline") else "",
            r["msg_s"], r["mb_s"]))
    print()
    names = {"wall_vs_baseline": "intake wall / baseline wall",
             "cpu_vs_floor": "intake CPU / floor CPU",
             "imaps_vs_maildir": "IMAPS wall / Maildir wall",
             "peak_rss_mib": "peak RSS of intake, MiB",
             "large_mb_s": "MB/s on the large message"}
    for name, g in goals.items():
        for key, value in g.items():
            op = {"large_mb_s": ">=", "peak_rss_mib": "<"}.get(key, "<=")
            print("%-12s %-30s %8.2f   goal %s %-5g %s" % (
                name, names[key], value, op, GOALS[key],
                "ok" if goal_ok(key, value) else "MISSED"))
    print()


class Ctx:
    pass


def main():
    ap = argparse.ArgumentParser(
        description="intake against Python's email + Pillow and against "
        "base64 -d + djpeg (bench/README.md)")
    ap.add_argument("--build", default=os.path.join(TOP, "build"),
                    help="where intaked is; the run directory goes there "
                    "too (default: build)")
    ap.add_argument("--corpus", default=None,
                    help="the corpus, generated when missing (default: "
                    "BUILD/bench-corpus)")
    ap.add_argument("--sets", default="submissions,large",
                    help="comma-separated: submissions, large")
    ap.add_argument("--methods", default="maildir,imaps,baseline,floor",
                    help="comma-separated: maildir, imaps (with curl), "
                    "baseline, floor")
    ap.add_argument("--keep", action="store_true",
                    help="keep the run directory (several GB)")
    ap.add_argument("--output", default=os.path.join(BENCH, "results.json"),
                    help="the results (default: bench/results.json)")
    args = ap.parse_args()
    ctx = Ctx()
    ctx.keep = args.keep
    ctx.intaked = os.path.join(os.path.abspath(args.build), "intaked")
    ctx.corpus = os.path.abspath(args.corpus or os.path.join(
        args.build, "bench-corpus"))
    ctx.run_dir = os.path.join(os.path.abspath(args.build), "bench-run")
    if not os.access(ctx.intaked, os.X_OK):
        sys.exit("bench: %s is missing: make all first" % ctx.intaked)
    t0 = time.monotonic()
    results = {"machine": machine(), "goals": GOALS, "sets": {}}
    t1 = time.monotonic()
    manifest = gen_corpus.load(ctx.corpus)
    results["corpus"] = {"params": manifest["params"], "dir": ctx.corpus,
                         "load_or_generate_s": time.monotonic() - t1}
    shutil.rmtree(ctx.run_dir, ignore_errors=True)
    os.makedirs(ctx.run_dir)
    os.chmod(ctx.run_dir, 0o755)
    methods = args.methods.split(",")
    problems = []
    try:
        ctx.sizes = {}
        for e in manifest["messages"]:
            # also reads the corpus into the page cache: every method
            # starts from warm files
            ctx.sizes[e["file"]] = vsize(os.path.join(ctx.corpus, "msgs",
                                                      e["file"]))
        for name in args.sets.split(","):
            msgs = [e for e in manifest["messages"] if e["set"] == name]
            s = results["sets"][name] = dict(
                messages=len(msgs), bytes=sum(e["bytes"] for e in msgs),
                attachments=sum(len(e["attachments"]) for e in msgs))
            log("%s: %d messages, %.0f MB" % (name, len(msgs),
                                               s["bytes"] / 1e6))
            for method in methods:
                log("%s: %s" % (name, method))
                if method == "maildir":
                    r = scenario_maildir(ctx, name, msgs)
                elif method == "imaps":
                    r = scenario_imaps(ctx, name, msgs,
                                       checks=name == "submissions")
                elif method == "baseline":
                    r = scenario_baseline(ctx, name, msgs)
                else:
                    r = scenario_floor(ctx, name, msgs)
                s[method] = r
                log("  wall %.2f s, CPU %.2f s" % (r["wall"], r["cpu"]))
                for p in r.get("problems", []):
                    problems.append("%s %s: %s" % (name, method, p))
                    log("  PROBLEM: " + p)
    finally:
        if not ctx.keep:
            shutil.rmtree(ctx.run_dir, ignore_errors=True)
    with open("/proc/loadavg") as f:
        results["machine"]["loadavg_end"] = f.read().split()[:3]
    rows, goals = summarize(results)
    results["table"] = rows
    results["ratios"] = goals
    results["problems"] = problems
    results["seconds"] = time.monotonic() - t0
    m = results["machine"]
    print("\nmachine: %d x %s, %d MiB, load %s at start, %s at end" % (
        m["nproc"], m["cpu"], m["memory_mib"], " ".join(m["loadavg_start"]),
        " ".join(m["loadavg_end"])))
    print_table(rows, goals)
    for name, st in results["sets"].items():
        for method in ("maildir", "imaps"):
            r = st.get(method)
            if r and r.get("vmpeak_kib"):
                print("%-12s %-9s address space of any intake process "
                      "(VmPeak, sampled): %d MiB; worker_memory (RLIMIT_AS) "
                      "%d MiB" % (name, method, r["vmpeak_kib"] // 1024,
                                  WORKER_MEMORY // MIB))
            if r and r.get("session"):
                print("%-12s %-9s IMAP logins %d, bodies fetched %d "
                      "(%d bytes)" % (name, method, r["session"]["logins"],
                                      r["session"]["body_count"],
                                      r["session"]["body_bytes"]))
    fetch = results["sets"].get("submissions", {}).get("imaps", {}).get(
        "fetch")
    if fetch:
        print("fetch manners (Dovecot rawlog):")
        for key in ("one_connection_per_cycle", "nothing_refetched",
                    "size_listed_before_download",
                    "over_limit_not_downloaded", "over_limit_logged"):
            print("  %-30s %s" % (key, fetch[key]))
        print("  %-30s %s" % ("bodies fetched in cycle 3",
                              fetch["only_new_fetched"]))
    tmp = args.output + ".tmp"
    with open(tmp, "w") as f:
        json.dump(results, f, ensure_ascii=False, indent=1)
    os.rename(tmp, args.output)
    print("%s written; %.0f s in all; %s" % (
        os.path.relpath(args.output), results["seconds"],
        "%d problem(s)" % len(problems) if problems else "no problems"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
