"""Crash safety: intaked is killed with SIGKILL at seeded random moments
while it fetches, processes and answers a mailbox of submissions, and is
started again each time.  At the end (DESIGN.md §3, "kill -9 at any
instant"):

  - every message of the mailbox is recorded once and processed;
  - every raw file matches its hash, and raw/ holds nothing else;
  - the unit folders hold exactly the files of the items (active accepted
    items in 总结/图片/视频, replaced ones in .withdrawn/): no partial file,
    no orphan, no duplicate, each with the content its hash says;
  - every reply was sent; a kill between the server's 250 and the commit
    may send one reply twice, so at most one duplicate per kill;
  - the server's flags are as they were (\\Seen restored);
  - PRAGMA integrity_check and foreign_key_check are clean;
  - nothing is left running (the worker dies with the daemon);
  - and the result is the one an uncrashed intake gets from the same
    mailbox: the same verdicts, items, captions, photo numbers and replies.

A second test kills the daemon the moment the SMTP server has a reply,
so that the one duplicate the design allows does happen: the same mail,
byte for byte, and only once.

The seed is printed; CRASH_SEED=n replays a run.  CRASH_KILLS (default 25)
sets the number of kills.  tests/torture.py (make torture) runs the same
with more kills and with the IMAP and SMTP servers restarted in between.

Every kill during a worker counts as an attempt at that message (by design:
the attempt is counted before the worker starts), so twenty-five kills may well
hit one message three times; max_attempts is raised here so that what is
tested is crash safety, and test_faults.py tests max_attempts itself.
"""
import collections
import hashlib
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from dovecot import free_port                  # noqa: E402
from harness import INTAKED, Suite             # noqa: E402
from intake import UNITS, Intake               # noqa: E402
from mail import plain, submission             # noqa: E402
from world import World, fixtures, unique_jpegs  # noqa: E402

suite = Suite("crash")

SETTINGS = {
    "kills": int(os.environ.get("CRASH_KILLS", "25")),
    "server_restarts": False,  # tests/torture.py turns this on
    "max_delay": 1.5,          # seconds from a start to its kill, at most
}
ARRIVED = 1664330000           # 2022-09-28, before the deadline
LIMITS = {"max_attempts": 100}


def seed():
    s = os.environ.get("CRASH_SEED")
    return int(s) if s else random.SystemRandom().randrange(1, 2 ** 31)


# ---- the mailbox ---------------------------------------------------------

def pdf(n):
    """A distinct one-page PDF (a comment after %%EOF)."""
    return fixtures()["summary.pdf"] + b"%% intake crash test " + str(n).encode() + b"\n"


def mailbox(rounds=1):
    """Batches of messages (raw bytes, seen): what units send over a few
    days, in order.  Every kind of outcome is there: complete and partial
    submissions, duplicate and refused photos, a correction (更正) that
    replaces a summary of the same name, captions in a later mail,
    unidentified campaign mail, spam, an auto-reply, byte-identical
    redeliveries, and mail the office had read already.  More rounds send
    it all again with other content (and photos past the limit of 6)."""
    jpegs = unique_jpegs(32 * rounds)
    out = []
    for r in range(rounds):
        out += mailbox_round(r, jpegs[32 * r:32 * (r + 1)])
    return out


def mailbox_round(r, jpeg):
    fx = fixtures()
    units = UNITS
    first, second, third, fourth = [], [], [], []

    def pdf_r(n):
        return pdf(1000 * r + n)

    for i, (name, _cat, _aliases, addr) in enumerate(units):
        first.append(submission(
            addr, "%s“质量月”活动总结及图片（%d）" % (name, r + 1),
            "图1：质量月启动仪式%d\n图2：质量义诊进社区%d\n" % (i, i),
            [("活动总结.pdf", pdf_r(i)),
             ("IMG_%04d.jpg" % (2 * i), jpeg[2 * i]),
             ("IMG_%04d.jpg" % (2 * i + 1), jpeg[2 * i + 1])]))
    for i, (name, _cat, _aliases, addr) in enumerate(units[:8]):
        atts = [("DSC_%04d.jpg" % i, jpeg[24 + i]),          # uncaptioned
                ("again.jpg", jpeg[2 * i]),                  # a duplicate
                ("小图.jpg", fx["photo_800x600.jpg"])]       # too small
        if i < 3:
            atts.append(("活动视频.mp4", fx["video_1280x720.mp4"]))
        second.append(submission(addr, "%s质量月补充材料（%d）" % (name, r + 1), "", atts))
    second.append(plain("someone@example.org", "发票", "代开各类发票 %d" % r))
    second.append(submission("noreply@example.org", "自动回复：质量月",
                             "我正在休假 %d" % r, headers={"Auto-Submitted": "auto-replied"}))
    for i, (name, _cat, _aliases, addr) in enumerate(units[:4]):
        third.append(submission(addr, "%s质量月活动总结（更正%d）" % (name, r + 1), "",
                                [("活动总结.pdf", pdf_r(100 + i))]))
    for i, (name, _cat, _aliases, addr) in enumerate(units[4:8]):
        third.append(plain(addr, "图片说明", "图%d：标准化宣传%d" % (3 + 3 * r, i)))
    fourth.append(submission("stranger@example.org", "质量月活动总结", "请查收 %d" % r,
                             [("总结.pdf", pdf_r(200))]))
    fourth.append(submission("stranger2@example.org", "关于质量月活动", "附件 %d" % r,
                             [("材料.pdf", pdf_r(201))]))
    fourth.append(first[0])                      # byte-identical redelivery
    fourth.append(first[5])
    fourth.append(plain("colleague@example.org", "周五开会", "下午三点 %d" % r))
    return [[(raw, False) for raw in first], [(raw, False) for raw in second],
            [(raw, i == 0) for i, raw in enumerate(third)],
            [(raw, i == 4) for i, raw in enumerate(fourth)]]


def deliver(w, batch):
    """Appends a batch; returns {uid: seen}."""
    out = {}
    for raw, seen in batch:
        out[w.dovecot.append(raw, seen=seen, internaldate=ARRIVED)] = seen
    return out


# ---- processes -----------------------------------------------------------

def ours(conf):
    """Pids of live processes run with our configuration (intaked and its
    forked workers)."""
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
            with open("/proc/%s/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if conf.encode() in argv and state != "Z":
            pids.append(int(pid))
    return pids


def wait_gone(conf, timeout=10.0):
    """Waits until nothing runs with conf; kills and returns what did not
    go by itself."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not ours(conf):
            return []
        time.sleep(0.02)
    left = ours(conf)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left


def start(intake, log):
    log.write(("=== start %.3f\n" % time.time()).encode())
    log.flush()
    return subprocess.Popen([INTAKED, "-c", intake.conf, "-v"],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)


def phase(lines):
    """Where a run was when it was killed, from its last log line."""
    for line in reversed(lines):
        if ": fetched " in line or "restoring \\Seen" in line:
            return "fetch"
        if (" accepted, " in line or "attempt " in line
                or "not a submission" in line or "no reply" in line
                or "unidentified" in line):
            return "process"
        if "reply <" in line:
            return "reply"
        if "cycle:" in line:
            return "idle"
        if "started" in line or "recovery" in line:
            return "start"
    return "start"


def cycle_done(logpath, mark):
    """Whether the run whose log starts at mark has finished a cycle."""
    with open(logpath, "rb") as f:
        f.seek(mark)
        return b"]: cycle: " in f.read()


def stop_smtp(srv, captured):
    """The SMTP peer stopped; what it captured is kept in captured (a new
    peer numbers its captures from 1 again)."""
    if srv.proc is not None:
        srv.stop()
        captured += srv.messages()
        srv.clear()


def start_smtp(srv):
    """The SMTP peer started again on the same ports."""
    srv._launch([srv.plain_port, srv.starttls_port, srv.smtps_port,
                 srv.noauth_port, srv.authonce_port], 15)


# ---- what the state must be ---------------------------------------------

def sha_of(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def files_under(top):
    out = []
    for root, dirs, files in os.walk(top):
        for n in files:
            out.append(os.path.relpath(os.path.join(root, n), os.path.dirname(top)))
    return sorted(out)


def snapshot(intake):
    """What the database says, in terms that do not depend on timing."""
    db = intake.db()
    uid = {mid: key for mid, key in db.execute("SELECT id, source_key FROM messages")}
    msgs = {}
    for row in db.execute(
            "SELECT source_key, state, kind, verdict, unit, message_id,"
            " duplicate_of FROM messages"):
        msgs[row[0]] = row[1:6] + (uid.get(row[6]),)
    items = collections.defaultdict(list)
    for row in db.execute(
            "SELECT message, unit, name, type, accepted, reason, sha256,"
            " caption, number, late, state FROM items ORDER BY id"):
        items[uid[row[0]]].append(row[1:])
    outbox = collections.defaultdict(list)
    for row in db.execute("SELECT message, kind, rcpt, verdict FROM outbox"):
        outbox[uid.get(row[0])].append(row[1:])
    db.close()
    return msgs, dict(items), dict(outbox)


def problems_of_state(w, it, kills, flags_want, replies):
    """Every invariant of the crashed intake's final state; a list of
    what is wrong (empty when all holds)."""
    bad = []
    db = it.db()
    sd = it.state_dir
    rows = db.execute("SELECT id, source_key, sha256, state, attempts FROM messages").fetchall()
    keys = [r[1] for r in rows]
    server = [str(u) for u in w.dovecot.uids()]
    if sorted(keys, key=int) != server:
        bad.append("messages recorded %s, server has %s" % (sorted(keys, key=int), server))
    dups = [k for k, n in collections.Counter(keys).items() if n > 1]
    if dups:
        bad.append("recorded twice: %s" % dups)
    for mid, key, sha, state, attempts in rows:
        if state not in ("processed", "held"):
            bad.append("message %d (UID %s) is %s after %d attempts" % (mid, key, state, attempts))
        p = os.path.join(sd, "raw", sha[:2], sha + ".eml")
        if not os.path.isfile(p) or sha_of(p) != sha:
            bad.append("raw file of message %d missing or wrong" % mid)
    raw = set(os.path.basename(p)[:-4] for p in files_under(os.path.join(sd, "raw")))
    if raw != set(r[2] for r in rows):
        bad.append("raw/ holds %s besides the messages" % sorted(raw - set(r[2] for r in rows)))
    left = [p for d in ("tmp", "work") for p in files_under(os.path.join(sd, d))]
    if left:
        bad.append("left in tmp/ or work/: %s" % left)
    # the unit folders: exactly the items' files, with their content
    want = {}
    for path, sha, state, accepted in db.execute(
            "SELECT path, sha256, state, accepted FROM items WHERE path IS NOT NULL"):
        if path in want:
            bad.append("two items share %s" % path)
        want[path] = sha
        aside = "/.withdrawn/" in path
        if state == "active" and (not accepted or aside):
            bad.append("active item at %s (accepted %d)" % (path, accepted))
        if state != "active" and not aside:
            bad.append("%s item still at %s" % (state, path))
    have = files_under(os.path.join(sd, "units"))
    for p in have:
        if p not in want:
            bad.append("orphan file %s" % p)
        elif sha_of(os.path.join(sd, p)) != want[p]:
            bad.append("%s does not hold what its item's hash says" % p)
    for p in want:
        if p not in have:
            bad.append("item file %s is missing" % p)
    n_active = db.execute("SELECT COUNT(*) FROM items WHERE state='active' AND accepted=1"
                          " AND path IS NOT NULL").fetchone()[0]
    n_filed = len([p for p in have if "/.withdrawn/" not in p])
    if n_active != n_filed:
        bad.append("%d active accepted items, %d files" % (n_active, n_filed))
    # replies: every one sent, duplicates only from kills
    out = db.execute("SELECT rfc_id, state, message FROM outbox").fetchall()
    for rfc, state, mid in out:
        if state != "sent":
            bad.append("reply <%s> of message %s is %s" % (rfc, mid, state))
    per_msg = collections.Counter(mid for _, _, mid in out)
    if any(n > 1 for n in per_msg.values()):
        bad.append("more than one reply queued for messages %s"
                   % [m for m, n in per_msg.items() if n > 1])
    got = collections.Counter(str(r["msg"]["Message-ID"]).strip("<>") for r in replies)
    ids = set(rfc for rfc, _, _ in out)
    for rfc in ids:
        if got[rfc] == 0:
            bad.append("reply <%s> never arrived" % rfc)
    stray = [m for m in got if m not in ids]
    if stray:
        bad.append("replies that no outbox row knows: %s" % stray)
    extra = sum(n - 1 for n in got.values() if n > 1)
    if extra > kills:
        bad.append("%d duplicate replies for %d kills" % (extra, kills))
    # the server as it was
    for uid, seen in flags_want.items():
        f = w.dovecot.flags(uid)
        if ("\\Seen" in f) != seen:
            bad.append("UID %d has flags %s, \\Seen should be %s" % (uid, f, seen))
    # the database itself
    ic = db.execute("PRAGMA integrity_check").fetchall()
    if ic != [("ok",)]:
        bad.append("integrity_check: %s" % ic)
    fk = db.execute("PRAGMA foreign_key_check").fetchall()
    if fk:
        bad.append("foreign_key_check: %s" % fk)
    db.close()
    return bad, extra


def compare(crashed, control):
    """The crashed intake's result against the uncrashed one's."""
    bad = []
    (m1, i1, o1), (m2, i2, o2) = crashed, control
    for key in sorted(set(m1) | set(m2), key=int):
        if m1.get(key) != m2.get(key):
            bad.append("UID %s: %r, uncrashed %r" % (key, m1.get(key), m2.get(key)))
        if i1.get(key) != i2.get(key):
            bad.append("UID %s items: %r, uncrashed %r" % (key, i1.get(key), i2.get(key)))
        if sorted(o1.get(key, [])) != sorted(o2.get(key, [])):
            bad.append("UID %s replies: %r, uncrashed %r" % (key, o1.get(key), o2.get(key)))
    return bad


# ---- the run ---------------------------------------------------------------

def crash_run(name, settings):
    s = seed()
    rng = random.Random(s)
    kills = settings["kills"]
    print("crash.%s: CRASH_SEED=%d, %d kills%s" % (
        name, s, kills, ", server restarts" if settings["server_restarts"] else ""),
        flush=True)
    w = World(suite.cleanup, limits=LIMITS)
    it = w.intake
    # the mail arrives a little before most runs, in its order, so that
    # every run finds work and the kills land in every phase of a cycle
    msgs = [m for batch in mailbox(settings.get("rounds", 1)) for m in batch]
    n_msgs = len(msgs)
    runs = max(1, min(n_msgs, kills * 3 // 4))
    arrive = {k: msgs[k * n_msgs // runs:(k + 1) * n_msgs // runs] for k in range(runs)}
    flags_want = {}
    logpath = os.path.join(w.dir, "intaked.log")
    log = open(logpath, "ab")
    suite.cleanup(log.close)
    suite.cleanup(lambda: wait_gone(it.conf, 1))
    phases = collections.Counter()
    trouble = []
    imap_down = smtp_down = None
    busy = []
    captured = []
    t0 = time.monotonic()
    for k in range(kills):
        if k in arrive:
            if not w.dovecot.running:   # doveadm needs the server
                w.dovecot.start()
                imap_down = None
            flags_want.update(deliver(w, arrive[k]))
        if settings["server_restarts"]:
            # the IMAP or SMTP server goes away for a run or two, or
            # restarts while the daemon runs
            if imap_down is not None and k >= imap_down:
                w.dovecot.start()
                imap_down = None
            if smtp_down is not None and k >= smtp_down:
                start_smtp(w.smtp)
                smtp_down = None
            r = rng.random()
            if r < 0.06 and imap_down is None:
                w.dovecot.stop()
                imap_down = k + rng.randint(1, 2)
            elif r < 0.12 and smtp_down is None:
                stop_smtp(w.smtp, captured)
                smtp_down = k + rng.randint(1, 2)
        mark = os.path.getsize(logpath)
        t_start = time.monotonic()
        p = start(it, log)
        # a moment while the daemon is busy: how long a cycle takes is
        # learnt from the runs that finished theirs
        reach = settings["max_delay"]
        if busy and k % 4:
            reach = min(reach, 1.1 * sorted(busy[-5:])[len(busy[-5:]) // 2])
        # now and then the end of the cycle, where the replies go out
        low = 0.75 * reach if rng.random() < 0.3 else 0.02
        delay = rng.uniform(low, reach)
        restart_at = delay / 2 if settings["server_restarts"] and rng.random() < 0.15 else None
        idle = False
        while not idle and time.monotonic() - t_start < delay:
            if restart_at is not None and time.monotonic() - t_start >= restart_at:
                # a server restarts under the running daemon
                restart_at = None
                if rng.random() < 0.5 and w.dovecot.running:
                    w.dovecot.stop()
                    w.dovecot.start()
                elif w.smtp.proc is not None:
                    stop_smtp(w.smtp, captured)
                    start_smtp(w.smtp)
            time.sleep(0.01)
            if cycle_done(logpath, mark):
                busy.append(time.monotonic() - t_start)
                idle = True
        if idle:
            # done before its moment came: killed while it waits
            time.sleep(rng.uniform(0, 0.2))
        if p.poll() is not None:
            trouble.append("run %d: intaked exited by itself with %d" % (k, p.returncode))
        p.kill()
        p.wait()
        left = wait_gone(it.conf)
        if left:
            trouble.append("run %d: %s still running after the kill" % (k, left))
        with open(logpath, "rb") as f:
            f.seek(mark)
            where = "idle" if idle else phase(f.read().decode(errors="replace").splitlines())
        phases[where] += 1
    # the rest, then a clean run to the end
    for k in sorted(arrive):
        if k >= kills:
            flags_want.update(deliver(w, arrive[k]))
    if not w.dovecot.running:
        w.dovecot.start()
    if w.smtp.proc is None:
        start_smtp(w.smtp)
    crash_seconds = time.monotonic() - t0
    for _ in range(3):
        # replies deferred by a server restart wait for their backoff:
        # the test does not wait that long
        db = it.db()
        db.execute("UPDATE outbox SET next_attempt=0 WHERE state='queued'")
        db.commit()
        db.close()
        r = it.once("-v", check=False)
        log.write(r.stderr)
        done = it.db().execute(
            "SELECT (SELECT COUNT(*) FROM messages WHERE state='pending')"
            " + (SELECT COUNT(*) FROM outbox WHERE state='queued')").fetchone()[0]
        if r.returncode == 0 and done == 0:
            break
    print("crash.%s: %d messages, %d kills in %.0f s; killed during %s" % (
        name, n_msgs, kills, crash_seconds,
        ", ".join("%s %d" % kv for kv in sorted(phases.items()))), flush=True)
    suite.check(name + ".processes", not trouble, "; ".join(trouble))
    bad, extra = problems_of_state(w, it, kills, flags_want, captured + w.replies())
    print("crash.%s: %d duplicate replies, at most %d attempts at one message" % (
        name, extra, it.db().execute("SELECT MAX(attempts) FROM messages").fetchone()[0]),
        flush=True)
    suite.check(name + ".state", not bad,
                "CRASH_SEED=%d: %s" % (s, "; ".join(bad[:20])))
    # the same mailbox, no crash: the same result
    crashed = snapshot(it)
    control = Intake(os.path.join(w.dir, "control"), mailbox_url=w.dovecot.imaps_url,
                     imap=(w.dovecot.user, w.dovecot.password), ca_file=w.ca,
                     smtp_url="smtps://127.0.0.1:%d" % free_port(),
                     smtp=(w.smtp.user, w.smtp.password), limits=LIMITS)
    control.once()
    diff = compare(crashed, snapshot(control))
    suite.check(name + ".same_as_uncrashed", not diff,
                "CRASH_SEED=%d: %s" % (s, "; ".join(diff[:10])))


@suite.test
def kill_nine():
    crash_run("kill_nine", SETTINGS)


@suite.test
def kill_between_250_and_commit():
    """The daemon killed the moment the SMTP server has a reply, before
    the daemon can record it sent: the reply goes out again after the
    restart, the same mail byte for byte (its Message-ID was made when it
    was queued), and only that one.  The one duplicate the design allows."""
    w = World(suite.cleanup)
    it = w.intake
    outdir = w.smtp.outdir
    log = open(os.path.join(w.dir, "intaked.log"), "ab")
    suite.cleanup(log.close)
    suite.cleanup(lambda: wait_gone(it.conf, 1))
    kills = hit = 0
    for n in range(5):
        for i in range(3):
            w.deliver(submission(UNITS[i][3], "%s质量月活动总结 %d" % (UNITS[i][0], n), "",
                                 [("总结%d.pdf" % n, pdf(100 * n + i))]), internaldate=ARRIVED)
        before = set(os.listdir(outdir))
        p = start(it, log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and p.poll() is None:
            if any(f.endswith(".eml") for f in set(os.listdir(outdir)) - before):
                break
            time.sleep(0.0005)
        p.kill()
        p.wait()
        kills += 1
        wait_gone(it.conf)
        it.once()
        got = collections.Counter(r["raw"] for r in w.replies())
        hit = sum(c - 1 for c in got.values())
        if hit:
            break
    replies = w.replies()
    ids = collections.Counter(str(r["msg"]["Message-ID"]) for r in replies)
    raws = collections.Counter(r["raw"] for r in replies)
    out = it.db().execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall()
    print("crash.250: %d kill(s), %d reply sent twice" % (kills, hit), flush=True)
    suite.check("250.window_hit", hit >= 1, "no kill landed between a 250 and its commit")
    suite.check("250.at_most_one_per_kill", hit <= kills, (hit, kills))
    suite.eq("250.same_bytes", sorted(ids.values()), sorted(raws.values()))
    suite.eq("250.all_sent", out, [("sent", len(ids))])
    suite.eq("250.one_reply_each", len(ids), 3 * kills)


if __name__ == "__main__":
    suite.main()
