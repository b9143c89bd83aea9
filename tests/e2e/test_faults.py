"""Faults, against the real servers: the IMAP server down at start (with
backoff), stopped in the middle of a download, a connection dropped inside
a literal (a scripted loopback peer: no real server does that on demand),
a recreated mailbox (new UIDVALIDITY), a full disk (a real tmpfs), a
message whose worker times out or runs out of memory, a worker killed
before or after its commit (tests/faults/slow_worker.c stalls it there),
start-up recovery, SIGHUP (also while the process lock is awaited),
SIGTERM in the middle of a message, sd_notify and intakectl beside a
running intaked."""
import fcntl
import hashlib
import json
import os
import re
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import BUILD, INTAKECTL, INTAKED, Suite  # noqa: E402
from intake import UNITS, Intake               # noqa: E402
from mail import plain, submission             # noqa: E402
from world import World, fixtures, unique_jpegs  # noqa: E402

suite = Suite("faults")
FZ = "福州市市场监督管理局"
XM = "厦门市市场监督管理局"
ARRIVED = 1664330000   # 2022-09-28


def _sanitized():
    """Whether the programs are built with AddressSanitizer (which sets no
    address-space limit on workers, and runs slower)."""
    try:
        with open(INTAKED, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


SANITIZED = _sanitized()
SLOW_WORKER = os.path.join(BUILD, "faults", "libslow_worker.so")


def stall_env(where, seconds=8):
    """The environment that makes intaked's worker stall at where
    (tests/faults/slow_worker.c); ASan must let the library load first."""
    asan = os.environ.get("ASAN_OPTIONS", "")
    return {"LD_PRELOAD": SLOW_WORKER, "INTAKE_FAULT_STALL": where,
            "INTAKE_FAULT_SECONDS": str(seconds),
            "ASAN_OPTIONS": (asan + ":" if asan else "") + "verify_asan_link_order=0"}


def unit_files_all(state_dir):
    out = []
    for root, _, files in os.walk(os.path.join(state_dir, "units")):
        out += [os.path.relpath(os.path.join(root, f), state_dir) for f in files]
    return sorted(out)


def world(**kw):
    return World(suite.cleanup, **kw)


def pdf(n):
    return fixtures()["summary.pdf"] + b"%% faults " + str(n).encode() + b"\n"


def fz_mail(n, body="", extra=()):
    return submission("fz@fuzhou.example.cn", "%s质量月活动总结 %d" % (FZ, n), body,
                      [("总结%d.pdf" % n, pdf(n))] + list(extra))


class Daemon:
    """intaked running as a daemon, its log in a file."""

    def __init__(self, intake, *args, env=None):
        self.intake = intake
        self.logpath = os.path.join(intake.dir, "intaked-%d.log" % time.monotonic_ns())
        self.log = open(self.logpath, "wb")
        e = dict(os.environ)
        e.update(env or {})
        self.proc = subprocess.Popen([INTAKED, "-c", intake.conf, "-v"] + list(args),
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log, env=e)
        suite.cleanup(self.stop)

    def text(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_for(self, pattern, timeout=30, count=1):
        """Waits until the log matches pattern (a regex) count times."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(re.findall(pattern, self.text())) >= count:
                return True
            if self.proc.poll() is not None:
                return len(re.findall(pattern, self.text())) >= count
            time.sleep(0.05)
        return False

    def cycles(self):
        return len(re.findall(r"\]: cycle: ", self.text()))

    def signal(self, sig):
        self.proc.send_signal(sig)

    @property
    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """SIGTERM, and the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.log.closed:
            self.log.close()
        return self.proc.returncode


def sha_ok(state_dir, sha):
    p = os.path.join(state_dir, "raw", sha[:2], sha + ".eml")
    with open(p, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest() == sha


def leftovers(state_dir):
    out = []
    for d in ("tmp", "work"):
        for root, _, files in os.walk(os.path.join(state_dir, d)):
            out += files
    return out


def msg_rows(it):
    return it.db().execute(
        "SELECT source_key, state, sha256, attempts FROM messages ORDER BY id").fetchall()


def world_dir():
    """A temporary directory for tests that need no World."""
    import shutil
    import tempfile
    d = tempfile.mkdtemp(prefix="intake-faults-")
    suite.cleanup(lambda: shutil.rmtree(d, ignore_errors=True))
    return d


# ---- a scripted IMAP peer ----------------------------------------------------

class ImapPeer:
    """Just enough IMAP4rev1 for libcurl and intake, on 127.0.0.1 without
    TLS (intake runs it with allow_insecure): CAPABILITY, LOGIN,
    AUTHENTICATE PLAIN, SELECT/EXAMINE, NOOP, UID SEARCH, UID FETCH of
    FLAGS INTERNALDATE RFC822.SIZE or BODY[], UID STORE, LOGOUT.  As
    Dovecot does, a BODY[] fetch sets \\Seen before the data is sent.
    cut = {uid: n}: the first n BODY[] fetches of uid send half of the
    literal and drop the connection."""

    UIDVALIDITY = 1234

    def __init__(self, messages, cut=None):
        self.messages = {i + 1: raw for i, raw in enumerate(messages)}
        self.flags = {uid: set() for uid in self.messages}
        self.cut = dict(cut or {})
        self.commands = []
        self.lock = threading.Lock()
        peer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                peer.serve(self.rfile, self.wfile, self.connection)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        suite.cleanup(self.close)

    @property
    def url(self):
        return "imap://127.0.0.1:%d/INBOX" % self.port

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def _uids(spec, universe):
        out = []
        for part in spec.split(","):
            if ":" in part:
                a, b = part.split(":")
                hi = max(universe) if universe else 0
                a = hi if a == "*" else int(a)
                b = hi if b == "*" else int(b)
                lo, hi2 = min(a, b), max(a, b)
                out += [u for u in universe if lo <= u <= hi2]
            else:
                out.append(int(part))
        return sorted(set(u for u in out if u in universe))

    def serve(self, rfile, wfile, conn):
        def say(line):
            wfile.write(line.encode() + b"\r\n")
            wfile.flush()

        say("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] scripted peer ready")
        while True:
            raw = rfile.readline()
            if not raw:
                return
            line = raw.decode(errors="replace").rstrip("\r\n")
            with self.lock:
                self.commands.append(line)
            tag, _, rest = line.partition(" ")
            cmd, _, args = rest.partition(" ")
            cmd = cmd.upper()
            uids = sorted(self.messages)
            if cmd == "CAPABILITY":
                say("* CAPABILITY IMAP4rev1 AUTH=PLAIN")
                say(tag + " OK done")
            elif cmd == "LOGIN":
                say(tag + " OK logged in")
            elif cmd == "AUTHENTICATE":
                if " " not in args:
                    say("+ ")
                    rfile.readline()
                say(tag + " OK logged in")
            elif cmd in ("SELECT", "EXAMINE"):
                say("* FLAGS (\\Seen \\Flagged)")
                say("* %d EXISTS" % len(uids))
                say("* OK [UIDVALIDITY %d] ok" % self.UIDVALIDITY)
                say("* OK [UIDNEXT %d] ok" % (max(uids) + 1))
                say(tag + " OK [READ-WRITE] selected")
            elif cmd in ("NOOP", "CHECK"):
                say(tag + " OK done")
            elif cmd == "LOGOUT":
                say("* BYE bye")
                say(tag + " OK done")
                return
            elif cmd == "UID":
                sub, _, a = args.partition(" ")
                sub = sub.upper()
                if sub == "SEARCH":
                    m = re.search(r"UID (\S+)", a)
                    found = self._uids(m.group(1), uids) if m else uids
                    say("* SEARCH" + "".join(" %d" % u for u in found))
                    say(tag + " OK done")
                elif sub == "FETCH" and "BODY[]" in a.upper():
                    uid = int(a.split()[0])
                    data = self.messages[uid]
                    self.flags[uid].add("\\Seen")
                    say("* %d FETCH (UID %d BODY[] {%d}" % (uids.index(uid) + 1, uid, len(data)))
                    if self.cut.get(uid, 0) > 0:
                        self.cut[uid] -= 1
                        wfile.write(data[:len(data) // 2])
                        wfile.flush()
                        conn.shutdown(socket.SHUT_RDWR)
                        return
                    wfile.write(data)
                    say(")")
                    say(tag + " OK done")
                elif sub == "FETCH":
                    spec = a.split()[0]
                    for uid in self._uids(spec, uids):
                        say("* %d FETCH (UID %d FLAGS (%s) INTERNALDATE \"28-Sep-2022 10:00:00 +0800\" "
                            "RFC822.SIZE %d)" % (uids.index(uid) + 1, uid,
                                                 " ".join(sorted(self.flags[uid])),
                                                 len(self.messages[uid])))
                    say(tag + " OK done")
                elif sub == "STORE":
                    spec, op, fl = a.split(" ", 2)
                    names = set(fl.strip("()").split())
                    for uid in self._uids(spec, uids):
                        if op.startswith("-"):
                            self.flags[uid] -= names
                        else:
                            self.flags[uid] |= names
                    say(tag + " OK done")
                else:
                    say(tag + " BAD not scripted")
            else:
                say(tag + " BAD not scripted")


# ---- the tests ---------------------------------------------------------------

@suite.test
def dropped_inside_a_literal():
    """The connection dies in the middle of a message's literal: nothing of
    it is recorded, its \\Seen is restored, the message before it is
    processed, and the next cycle fetches it whole, once."""
    raws = [fz_mail(1), fz_mail(2, extra=[("IMG_1.jpg", fixtures()["photo_1024x768.jpg"])]),
            fz_mail(3)]
    peer = ImapPeer(raws, cut={2: 1})
    it = Intake(os.path.join(world_dir(), "peer"), mailbox_url=peer.url,
                imap=("user", "secret"), mailbox={"allow_insecure": "true"})
    r = it.once("-v", check=False)
    err = r.stderr.decode(errors="replace")
    suite.eq("literal.first_exit", r.returncode, 1)
    suite.check("literal.logged", "fetching UID 2" in err, err[-800:])
    rows = msg_rows(it)
    suite.eq("literal.first_recorded", [(k, s) for k, s, _, _ in rows], [("1", "processed")])
    suite.eq("literal.no_spool", leftovers(it.state_dir), [])
    suite.eq("literal.seen_restored", peer.flags[2], set())
    suite.check("literal.store_sent", any("UID STORE 2 -FLAGS" in c for c in peer.commands),
                peer.commands[-10:])
    cursor = it.db().execute("SELECT last_uid FROM cursor").fetchone()[0]
    suite.eq("literal.cursor", cursor, 1)
    r = it.once("-v", check=False)
    suite.eq("literal.second_exit", r.returncode, 0)
    rows = msg_rows(it)
    suite.eq("literal.all_once", [(k, s) for k, s, _, _ in rows],
             [("1", "processed"), ("2", "processed"), ("3", "processed")])
    suite.check("literal.hashes", all(sha_ok(it.state_dir, sha) for _, _, sha, _ in rows))
    suite.eq("literal.raw_is_whole", [hashlib.sha256(r_).hexdigest() for r_ in raws],
             [sha for _, _, sha, _ in rows])
    suite.eq("literal.flags_at_end", [peer.flags[u] for u in (1, 2, 3)], [set(), set(), set()])
    suite.eq("literal.files", it.unit_files(FZ, "总结"), ["总结1.pdf", "总结2.pdf", "总结3.pdf"])


@suite.test
def imap_down_at_start_with_backoff():
    """The server is down when intaked starts: each failed cycle doubles
    the pause (20 s, 40 s, ... from poll_interval 10), the daemon keeps
    running, and the first good cycle takes the mail and resets it."""
    w = world()
    w.dovecot.stop()
    d = Daemon(w.intake)
    suite.check("down.first", d.wait_for(r"unreachable 1 cycle\(s\) in a row: next attempt in 20 s"),
                d.text()[-1000:])
    suite.check("down.says_why", "error: cannot connect to IMAP server 127.0.0.1:" in d.text(),
                d.text()[-600:])
    d.signal(signal.SIGHUP)   # reload, and a cycle now
    suite.check("down.second", d.wait_for(r"unreachable 2 cycle\(s\) in a row: next attempt in 40 s"),
                d.text()[-600:])
    d.signal(signal.SIGHUP)
    suite.check("down.third", d.wait_for(r"unreachable 3 cycle\(s\) in a row: next attempt in 80 s"),
                d.text()[-600:])
    d.signal(signal.SIGHUP)
    suite.check("down.capped", d.wait_for(r"unreachable 4 cycle\(s\) in a row: next attempt in 100 s"),
                d.text()[-600:])
    suite.check("down.alive", d.alive)
    w.dovecot.start()
    w.deliver(fz_mail(1), internaldate=ARRIVED)
    d.signal(signal.SIGHUP)
    suite.check("down.back", d.wait_for(r"mailbox reachable again after 4 failed cycle"),
                d.text()[-600:])
    suite.check("down.fetched", d.wait_for(r"cycle: 1 new, 0 duplicate, 1 processed"),
                d.text()[-600:])
    suite.eq("down.stop", d.stop(), 0)
    suite.eq("down.processed", [(k, s) for k, s, _, _ in msg_rows(w.intake)], [("1", "processed")])
    suite.eq("down.replied", len(w.replies()), 1)


def spooled(state_dir):
    """Bytes of the largest download in progress (tmp/spool-*)."""
    tmp = os.path.join(state_dir, "tmp")
    sizes = [0]
    try:
        for name in os.listdir(tmp):
            if name.startswith("spool-"):
                try:
                    sizes.append(os.path.getsize(os.path.join(tmp, name)))
                except OSError:
                    pass
    except OSError:
        pass
    return max(sizes)


@suite.test
def imap_stopped_mid_fetch():
    """Dovecot stops while large messages are downloaded: what was fetched
    whole is recorded and processed, nothing half, no spool left; the
    next cycle takes the rest once, and every message ends unseen as it
    was (a \\Seen set by an interrupted BODY[] is restored)."""
    w = world()
    big = os.urandom(6 * 1024 * 1024)
    raws = [fz_mail(i, extra=[("现场录像%d.bin" % i, big + bytes([i]))]) for i in range(8)]
    w.dovecot.append_many(raws, internaldate=ARRIVED)
    db_path = os.path.join(w.intake.state_dir, "intake.db")

    def recorded():
        try:
            return w.intake.db().execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        except Exception:
            return 0

    attempts = 0
    while attempts < 3:
        attempts += 1
        before = recorded() if os.path.exists(db_path) else 0
        p = subprocess.Popen([INTAKED, "-c", w.intake.conf, "--once", "-v"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        n = before
        # one message recorded and the next one well into its download
        while time.monotonic() < deadline and p.poll() is None and \
                (n == before or spooled(w.intake.state_dir) < (1 << 20)):
            if os.path.exists(db_path):
                n = recorded()
            time.sleep(0.01)
        w.dovecot.crash()
        _, err = p.communicate(timeout=120)
        err = err.decode(errors="replace")
        if "fetching UID" in err or n == len(raws):
            break
        w.dovecot.start()
    suite.check("midfetch.cut_in_a_download", "fetching UID" in err, err[-800:])
    suite.eq("midfetch.exit", p.returncode, 1)
    rows = msg_rows(w.intake)
    suite.check("midfetch.some_not_all", 0 < len(rows) < len(raws), len(rows))
    suite.check("midfetch.whole", all(sha_ok(w.intake.state_dir, sha) for _, _, sha, _ in rows))
    suite.check("midfetch.processed", all(s == "processed" for _, s, _, _ in rows), rows)
    suite.eq("midfetch.no_spool", leftovers(w.intake.state_dir), [])
    w.dovecot.start()
    w.intake.once()
    rows = msg_rows(w.intake)
    suite.eq("midfetch.all_once", sorted(int(k) for k, _, _, _ in rows), w.dovecot.uids())
    suite.eq("midfetch.hashes", sorted(sha for _, _, sha, _ in rows),
             sorted(hashlib.sha256(r).hexdigest() for r in raws))
    suite.eq("midfetch.unseen", [w.dovecot.flags(u) for u in w.dovecot.uids()],
             [[] for _ in raws])
    suite.eq("midfetch.replies", len(w.replies()), len(raws))


@suite.test
def uidvalidity_change():
    """The mailbox is recreated (new UIDVALIDITY, new UIDs): listing it again
    finds the same messages by their hash, re-keys them, processes nothing
    twice and sends no reply again; a new message is taken once."""
    w = world()
    for i in range(3):
        w.deliver(fz_mail(i, body="图1：开幕式" if i == 0 else ""), internaldate=ARRIVED)
    w.deliver(plain("someone@example.org", "你好", "周末一起吃饭吗"), internaldate=ARRIVED)
    w.intake.once()
    before = w.intake.db().execute(
        "SELECT id, sha256, state, verdict FROM messages ORDER BY id").fetchall()
    replies = len(w.replies())
    old = w.dovecot.uidvalidity()
    new = w.dovecot.recreate_inbox()
    suite.check("uidv.changed", new != old, (old, new))
    r = w.intake.once("-v")
    err = r.stderr.decode()
    suite.check("uidv.logged", "UIDVALIDITY changed" in err, err[-600:])
    db = w.intake.db()
    suite.eq("uidv.same_messages", db.execute(
        "SELECT id, sha256, state, verdict FROM messages ORDER BY id").fetchall(), before)
    suite.eq("uidv.rekeyed", db.execute(
        "SELECT DISTINCT uidvalidity FROM messages").fetchall(), [(new,)])
    keys = sorted(int(k) for k, in db.execute("SELECT source_key FROM messages"))
    suite.eq("uidv.new_keys", keys, w.dovecot.uids())
    suite.eq("uidv.cursor", db.execute("SELECT uidvalidity, last_uid FROM cursor").fetchone(),
             (new, max(w.dovecot.uids())))
    suite.eq("uidv.no_new_reply", len(w.replies()), replies)
    suite.eq("uidv.files", w.intake.unit_files(FZ, "总结"), ["总结0.pdf", "总结1.pdf", "总结2.pdf"])
    w.deliver(fz_mail(9), internaldate=ARRIVED)
    w.intake.once()
    suite.eq("uidv.new_message", len(w.intake.messages()), 5)
    suite.eq("uidv.new_reply", len(w.replies()), replies + 1)
    suite.eq("uidv.unseen", [w.dovecot.flags(u) for u in w.dovecot.uids()], [[]] * 5)


def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0750" % size,
                        "tmpfs", path], stderr=subprocess.PIPE)
    if r.returncode != 0:
        return r.stderr.decode(errors="replace").strip() or "mount failed"
    suite.cleanup(lambda: subprocess.run(["umount", "-l", path]))
    return None


def fill(path, leave):
    """Fills the file system of path until about leave bytes are free;
    returns the filler's path."""
    filler = os.path.join(path, "filler")
    st = os.statvfs(path)
    room = st.f_bavail * st.f_frsize - leave
    with open(filler, "ab") as f:
        chunk = b"\0" * 65536
        try:
            while room > 0:
                f.write(chunk[:min(room, len(chunk))])
                room -= min(room, len(chunk))
            f.flush()
            os.fsync(f.fileno())
        except OSError:
            pass
    return filler


@suite.test
def disk_full():
    """The state directory on a small tmpfs: with the disk full the message
    is not fetched (the log says why, \\Seen is restored, the daemon keeps
    running); with room for the download but not for processing it waits
    without spending an attempt; once there is room it is processed and
    answered, once."""
    w = world(limits={"max_attempts": 1})
    sd = w.intake.state_dir
    why = mount_tmpfs(sd, "16m")
    if why:
        print("SKIP faults.disk_full: cannot mount a tmpfs: %s" % why)
        return
    photo = fixtures()["photo_4000x3000.jpg"]   # about 2 MB: a big message
    d = Daemon(w.intake)
    suite.check("full.started", d.wait_for(r"\]: cycle: "), d.text()[-400:])
    uid = w.deliver(fz_mail(1), internaldate=ARRIVED)
    filler = fill(sd, 0)
    d.signal(signal.SIGHUP)
    suite.check("full.fetch_refused", d.wait_for(
        r"cycle: .*(No space left on device|database or disk is full)"),
                d.text()[-800:])
    suite.check("full.cycle_logged", d.wait_for(r"\]: cycle: ", count=2), d.text()[-400:])
    suite.check("full.alive", d.alive)
    suite.eq("full.not_recorded", msg_rows(w.intake), [])
    suite.eq("full.unseen", w.dovecot.flags(uid), [])
    suite.eq("full.no_spool", leftovers(sd), [])
    os.unlink(filler)
    d.signal(signal.SIGHUP)
    suite.check("full.then_processed", d.wait_for(r"cycle: 1 new, 0 duplicate, 1 processed"),
                d.text()[-800:])
    # room for the download, not for processing
    raw = fz_mail(2, extra=[("IMG_9.jpg", photo)])
    uid2 = w.deliver(raw, internaldate=ARRIVED)
    filler = fill(sd, len(raw) + 160 * 1024)
    n = d.cycles()
    d.signal(signal.SIGHUP)
    suite.check("full.waits", d.wait_for(r"message 2: waiting: .* \(disk full\)"),
                d.text()[-800:])
    suite.check("full.waited_cycle", d.wait_for(r"\]: cycle: ", count=n + 1), d.text()[-400:])
    rows = msg_rows(w.intake)
    suite.eq("full.recorded_pending", [(k, s, a) for k, s, _, a in rows],
             [(str(uid), "processed", 1), (str(uid2), "pending", 0)])
    suite.check("full.alive2", d.alive)
    os.unlink(filler)
    d.signal(signal.SIGHUP)
    suite.check("full.then_done", d.wait_for(r"cycle: 0 new, 0 duplicate, 1 processed"),
                d.text()[-800:])
    # room by the first look, then the worker runs out: an archive whose
    # member expands to 4 MB; the attempt is given back
    zraw = fz_mail(3, extra=[("材料.zip", text_zip(4 * 1024 * 1024))])
    uid3 = w.deliver(zraw, internaldate=ARRIVED)
    filler = fill(sd, len(zraw) + 1024 * 1024)
    n = d.cycles()
    d.signal(signal.SIGHUP)
    suite.check("full.worker_ran_out", d.wait_for(
        r"message 3: .*No space left on device.*; not counted as an attempt: the disk is full"),
        d.text()[-800:])
    suite.check("full.worker_cycle", d.wait_for(r"\]: cycle: ", count=n + 1), d.text()[-400:])
    suite.eq("full.given_back", msg_rows(w.intake)[2][1:4:2], ("pending", 0))
    suite.eq("full.no_work_left", leftovers(sd), [])
    os.unlink(filler)
    d.signal(signal.SIGHUP)
    suite.check("full.then_archive", d.wait_for(r"cycle: 0 new, 0 duplicate, 1 processed",
                                                count=2), d.text()[-800:])
    suite.check("full.replied", d.wait_for(r"reply <[^>]*> to \S+ sent", count=3),
                d.text()[-400:])
    suite.eq("full.stop", d.stop(), 0)
    rows = msg_rows(w.intake)
    suite.eq("full.end", [(k, s, a) for k, s, _, a in rows],
             [(str(uid), "processed", 1), (str(uid2), "processed", 1),
              (str(uid3), "processed", 1)])
    suite.eq("full.replies", len(w.replies()), 3)
    suite.eq("full.photo_filed", w.intake.unit_files(FZ, "图片"), ["01.jpg"])
    suite.eq("full.unseen_end", [w.dovecot.flags(u) for u in (uid, uid2, uid3)], [[], [], []])


def text_zip(size):
    """A zip of one text file of about size bytes that deflates well."""
    import io
    import zipfile
    line = "质量月活动总结：第%07d行，开展质量宣传、义诊和企业开放日活动。\n"
    text = "".join(line % i for i in range(size // len((line % 0).encode()) + 1)).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("活动总结.txt", text)
    return buf.getvalue()


def many_parts(n):
    """A message of n tiny MIME parts: GMime needs far more memory for it
    than its size suggests (DESIGN.md §9)."""
    b = "b0undary"
    parts = "".join("--%s\r\nContent-Type: text/plain\r\n\r\nx%d\r\n" % (b, i) for i in range(n))
    return ("From: fz@fuzhou.example.cn\r\nTo: 7263441@qq.com\r\n"
            "Subject: %s质量月活动总结\r\nMessage-ID: <parts-%d@example.cn>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=%s\r\n\r\n"
            "%s--%s--\r\n" % (FZ, n, b, parts, b)).encode()


def failed_after_three(w, name, bad, goods, reason):
    """Delivers goods[0], bad, goods[1]; runs three cycles; the bad one
    ends failed with reason after 3 attempts, the others are answered."""
    uids = [w.deliver(goods[0], internaldate=ARRIVED), w.deliver(bad, internaldate=ARRIVED),
            w.deliver(goods[1], internaldate=ARRIVED)]
    keys = [str(u) for u in uids]
    replies = len(w.replies())
    logs = []
    for run in range(3):
        r = w.intake.once(check=False, timeout=180)
        logs.append(r.stderr.decode(errors="replace"))
        rows = {k: (s, a) for k, s, _, a in msg_rows(w.intake)}
        if run == 0:
            # the rest went on in the same cycle; the attempt is on record
            suite.eq(name + ".first_cycle", [rows[k] for k in keys],
                     [("processed", 1), ("pending", 1), ("processed", 1)])
            suite.eq(name + ".replies_at_once", len(w.replies()), replies + 2)
    log = "".join(logs)
    suite.eq(name + ".states", [rows[k] for k in keys],
             [("processed", 1), ("failed", 3), ("processed", 1)])
    err = w.intake.db().execute("SELECT error FROM messages WHERE source_key=?",
                                (keys[1],)).fetchone()[0]
    suite.check(name + ".reason", err and reason in err, err)
    suite.check(name + ".logged", all("attempt %d of 3" % n in log for n in (1, 2, 3)), log[-1500:])
    state = {str(m["id"]): m["state"] for m in w.intake.messages()}
    ids = [str(i) for i, in w.intake.db().execute(
        "SELECT id FROM messages WHERE source_key IN (?,?,?) ORDER BY id", keys)]
    suite.eq(name + ".intakectl", [state[i] for i in ids], ["processed", "failed", "processed"])
    suite.eq(name + ".no_more_replies", len(w.replies()), replies + 2)
    # a fourth cycle leaves it alone
    w.intake.once(check=False, timeout=60)
    suite.eq(name + ".stays", w.intake.db().execute(
        "SELECT state, attempts FROM messages WHERE source_key=?", (keys[1],)).fetchone(),
        ("failed", 3))


@suite.test
def bad_messages_do_not_block():
    """A message whose worker times out, then one whose worker runs out of
    address space (GMime on 50,000 tiny parts, DESIGN.md §9): each ends
    failed with its reason after max_attempts (3) attempts, each attempt
    counted before the worker starts, and the messages around it are
    processed and answered in the same cycle."""
    # max_parts and max_header_bytes (the parts' headers) high enough
    # for the message to reach the worker
    w = world(limits={"worker_seconds": 2, "video_probe_seconds": 1,
                      "max_parts": 1000000, "max_header_bytes": 64 << 20})
    failed_after_three(w, "timeout", many_parts(40000), [fz_mail(1), fz_mail(2)],
                       "worker ran longer than the limit of 2 seconds")
    if SANITIZED:
        print("SKIP faults.memory: an AddressSanitizer build sets no address-space limit",
              flush=True)
        return
    w.intake.limits = {"worker_memory": 256 * 1024 * 1024,
                       "max_jpeg_memory": 64 * 1024 * 1024, "max_parts": 1000000,
                       "max_header_bytes": 64 << 20}
    w.intake.write_config()
    failed_after_three(w, "memory", many_parts(50000), [fz_mail(3), fz_mail(4)],
                       "memory limit is 256 MiB")


@suite.test
def killed_after_its_commit():
    """A worker killed at its time limit after its transaction committed
    (it stalls closing the database): the message stays processed, its
    items filed and its one reply sent; it is not marked failed, even on
    its last attempt, and not processed again."""
    w = world(limits={"worker_seconds": 2, "max_attempts": 1})
    w.deliver(fz_mail(1), internaldate=ARRIVED)
    r = w.intake.once("-v", check=False, env=stall_env("close"))
    err = r.stderr.decode(errors="replace")
    suite.check("aftercommit.stalled", "stalls at close" in err, err[-800:])
    suite.eq("aftercommit.exit", r.returncode, 0)
    row = w.intake.db().execute("SELECT state, verdict, attempts, error FROM messages").fetchone()
    suite.eq("aftercommit.state", row, ("processed", "accepted", 1, None))
    suite.check("aftercommit.logged", "processed, but its worker then ended badly" in err,
                err[-800:])
    suite.eq("aftercommit.filed", w.intake.unit_files(FZ, "总结"), ["总结1.pdf"])
    suite.eq("aftercommit.replies", len(w.replies()), 1)
    w.intake.once()
    suite.eq("aftercommit.again", w.intake.db().execute(
        "SELECT state, attempts FROM messages").fetchone(), ("processed", 1))
    suite.eq("aftercommit.no_second_reply", len(w.replies()), 1)


@suite.test
def killed_before_its_commit():
    """A worker killed after filing its files but before its transaction:
    its work directory and the files it filed are removed at once, not at
    the next start, and the attempt counts (max_attempts 1: failed)."""
    w = world(limits={"worker_seconds": 2, "max_attempts": 1})
    w.deliver(fz_mail(2, extra=[("IMG_1.jpg", fixtures()["photo_1024x768.jpg"])]),
              internaldate=ARRIVED)
    r = w.intake.once("-v", check=False, env=stall_env("begin"))
    err = r.stderr.decode(errors="replace")
    suite.check("beforecommit.stalled", "stalls at begin" in err, err[-800:])
    row = w.intake.db().execute("SELECT state, attempts, error FROM messages").fetchone()
    suite.eq("beforecommit.state", row[:2], ("failed", 1))
    suite.check("beforecommit.reason", row[2] and "worker_seconds" in row[2], row)
    suite.eq("beforecommit.no_work_left", leftovers(w.intake.state_dir), [])
    suite.eq("beforecommit.no_files_left", unit_files_all(w.intake.state_dir), [])
    suite.eq("beforecommit.no_items", w.intake.db().execute(
        "SELECT COUNT(*) FROM items").fetchone()[0], 0)


@suite.test
def sighup_while_waiting_for_the_lock():
    """SIGHUP while intaked waits at start for the process lock (intakectl
    holds it): the wait goes on, the daemon starts once the lock is free."""
    w = world()
    w.intake.once()
    lock = open(os.path.join(w.intake.state_dir, "process.lock"), "a")
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        d = Daemon(w.intake)
        time.sleep(1.0)
        d.signal(signal.SIGHUP)
        time.sleep(0.5)
        suite.check("locksig.alive", d.alive, d.text()[-600:])
        suite.check("locksig.waited", not re.search(r"\]: cycle: ", d.text()), d.text()[-600:])
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
    suite.check("locksig.started", d.wait_for(r"\]: cycle: "), d.text()[-600:])
    suite.check("locksig.no_error", "Interrupted system call" not in d.text(), d.text()[-600:])
    suite.eq("locksig.stop", d.stop(), 0)
    # SIGTERM while a cycle waits for the lock to process what it
    # fetched: the daemon stops at once, no error, the message waits
    d = Daemon(w.intake)
    suite.check("lockterm.first_cycle", d.wait_for(r"\]: cycle: "), d.text()[-600:])
    lock = open(os.path.join(w.intake.state_dir, "process.lock"), "a")
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        w.deliver(fz_mail(5), internaldate=ARRIVED)
        d.signal(signal.SIGHUP)        # a cycle now
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(msg_rows(w.intake)) < 1:
            time.sleep(0.05)
        time.sleep(0.5)                # then it waits for the lock
        t0 = time.monotonic()
        rc = d.stop()
        suite.eq("lockterm.exit", rc, 0)
        suite.check("lockterm.prompt", time.monotonic() - t0 < 10, time.monotonic() - t0)
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
    suite.check("lockterm.no_error", "cannot lock" not in d.text(), d.text()[-600:])
    suite.eq("lockterm.waits", [r[1] for r in msg_rows(w.intake)], ["pending"])


@suite.test
def startup_recovery():
    """At start-up, what a crash leaves is removed: spool files, work
    directories, temp files and files no item owns under units/; a
    replaced item whose file was not moved aside yet is moved; a pending
    \\Seen restore and one owed for a download never recorded are
    replayed.  Files the database knows stay."""
    w = world()
    uid1 = w.deliver(fz_mail(1, extra=[("IMG_1.jpg", fixtures()["photo_1024x768.jpg"])]),
                     internaldate=ARRIVED)
    w.intake.once()
    sd = w.intake.state_dir
    unit = os.path.join(sd, "units", FZ)
    kept = sorted(os.listdir(os.path.join(unit, "总结"))) + sorted(os.listdir(os.path.join(unit, "图片")))
    planted = [os.path.join(unit, "总结", "orphan.pdf"), os.path.join(unit, "图片", ".tmp-0badc0de"),
               os.path.join(unit, "图片", "07-未提交.jpg"), os.path.join(sd, "tmp", "spool-AbCdEf"),
               os.path.join(sd, "work", "17", "part-1.bin"),
               os.path.join(sd, "units", "新单位", "总结", "x.pdf")]
    for p in planted:
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(b"left by a crash")
    # a correction committed, its replaced summary not moved aside yet,
    # its replaced photo moved but the new place not recorded
    db = w.intake.db()
    db.execute("UPDATE items SET state='replaced' WHERE type IN ('summary', 'photo')")
    os.makedirs(os.path.join(unit, ".withdrawn"))
    os.rename(os.path.join(unit, "图片", "01.jpg"), os.path.join(unit, ".withdrawn", "01.jpg"))
    # \Seen set by a fetch, restore pending; and one owed by a download
    # that never got recorded
    uid2 = w.deliver(fz_mail(2), internaldate=ARRIVED)
    w.dovecot.doveadm("flags", "add", "-u", w.dovecot.user, "\\Seen",
                      "mailbox", "INBOX", "uid", str(uid1))
    db.execute("UPDATE messages SET restore_seen=1 WHERE source_key=?", (str(uid1),))
    uid3 = w.deliver(fz_mail(3), internaldate=ARRIVED)
    w.dovecot.doveadm("flags", "add", "-u", w.dovecot.user, "\\Seen",
                      "mailbox", "INBOX", "uid", str(uid3))
    db.execute("INSERT INTO seen_owed(mailbox, uidvalidity, source_key) VALUES(?,?,?)",
               (w.intake.mailbox_url, w.dovecot.uidvalidity(), str(uid3)))
    # uid3 is above the cursor: it would be listed \Seen and never restored
    db.commit()
    r = w.intake.once("-v")
    err = r.stderr.decode()
    suite.eq("recover.planted_gone", [p for p in planted if os.path.exists(p)], [])
    suite.check("recover.logged", "removed 4 file(s) under units/" in err, err[-800:])
    suite.check("recover.aside_logged", "moved aside" in err, err[-800:])
    paths = [p for p, in db.execute("SELECT path FROM items WHERE message=1 ORDER BY type")]
    suite.eq("recover.aside", paths, ["units/%s/.withdrawn/01.jpg" % FZ,
                                      "units/%s/.withdrawn/%s" % (FZ, kept[0])])
    suite.check("recover.aside_files", all(os.path.isfile(os.path.join(sd, p)) for p in paths))
    suite.eq("recover.moved", [sorted(os.listdir(os.path.join(unit, d))) for d in ("总结", "图片")],
             [["总结2.pdf", "总结3.pdf"], []])
    suite.eq("recover.seen_restored", [w.dovecot.flags(u) for u in (uid1, uid2, uid3)],
             [[], [], []])
    suite.eq("recover.owed_gone", db.execute("SELECT COUNT(*) FROM seen_owed").fetchone()[0], 0)
    suite.eq("recover.all", [(k, s) for k, s, _, _ in msg_rows(w.intake)],
             [(str(uid1), "processed"), (str(uid2), "processed"), (str(uid3), "processed")])


@suite.test
def sighup_reload():
    """SIGHUP reloads units.conf: a unit added there is used at once; a
    broken configuration is refused with the reason, and the daemon keeps
    running with the one it had."""
    w = world()
    d = Daemon(w.intake)
    suite.check("hup.started", d.wait_for(r"\]: cycle: "), d.text()[-400:])
    new = ("福建省标准化研究院", "直属单位", "省标院", "bzy@example.cn")
    w.intake.units = UNITS + [new]
    w.intake.write_config()
    d.signal(signal.SIGHUP)
    suite.check("hup.reloaded", d.wait_for(r"configuration reloaded \(13 units\)"), d.text()[-400:])
    suite.check("hup.cycle", d.wait_for(r"\]: cycle: ", count=2), d.text()[-400:])
    w.deliver(submission("bzy@example.cn", "质量月活动总结", "", [("总结.pdf", pdf(7))]),
              internaldate=ARRIVED)
    d.signal(signal.SIGHUP)
    suite.check("hup.processed", d.wait_for(r"unit 福建省标准化研究院, accepted"), d.text()[-600:])
    suite.eq("hup.filed", w.intake.unit_files(new[0], "总结"), ["总结.pdf"])
    # a broken configuration: refused, the old one kept
    with open(w.intake.conf, "a") as f:
        f.write("\n[rules]\nphoto_max = six\n")
    d.signal(signal.SIGHUP)
    suite.check("hup.refused", d.wait_for(r"reload refused, keeping the running configuration: "
                                          r".*\[rules\] photo_max"), d.text()[-600:])
    n = d.cycles()
    suite.check("hup.still_cycles", d.wait_for(r"\]: cycle: ", count=n + 1), d.text()[-400:])
    w.deliver(submission("bzy@example.cn", "质量月图片", "图1：标准宣贯",
                         [("IMG_1.jpg", fixtures()["photo_1024x768.jpg"])]), internaldate=ARRIVED)
    d.signal(signal.SIGHUP)
    suite.check("hup.old_config_works", d.wait_for(r"unit 福建省标准化研究院, accepted", count=2),
                d.text()[-600:])
    suite.check("hup.replied", d.wait_for(r"reply <.*> to bzy@example.cn sent", count=2),
                d.text()[-600:])
    suite.check("hup.alive", d.alive)
    suite.eq("hup.stop", d.stop(), 0)
    suite.eq("hup.replies", len(w.replies()), 2)


def children(pid):
    """The live child processes of pid (the daemon's worker)."""
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(p))
    return out


@suite.test
def sigterm_finishes_the_message():
    """SIGTERM while a worker runs: the message is finished and committed,
    then the daemon exits 0; the messages after it wait for the next run."""
    w = world()
    jpegs = [fixtures()["photo_4000x3000.jpg"]] + unique_jpegs(5, 2000, 1500)
    w.deliver(fz_mail(1, body="图1：一\n", extra=[("IMG_%d.jpg" % i, j) for i, j in enumerate(jpegs)]),
              internaldate=ARRIVED)
    w.deliver(fz_mail(2), internaldate=ARRIVED)
    w.deliver(fz_mail(3), internaldate=ARRIVED)
    # the first's worker takes 4 s more: the second is downloaded and
    # recorded beside it, then the stop comes while the fetch waits for it
    d = Daemon(w.intake, env=stall_env("begin", 4))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and d.alive and not (
            children(d.proc.pid) and len(msg_rows(w.intake)) >= 2):
        time.sleep(0.01)
    suite.check("term.in_worker", children(d.proc.pid), d.text()[-400:])
    d.signal(signal.SIGTERM)
    rc = d.stop()
    suite.eq("term.exit", rc, 0)
    rows = msg_rows(w.intake)
    suite.eq("term.first_done", rows[0][1] if rows else None, "processed")
    # the second downloads beside the first's worker; nothing after it
    suite.check("term.no_more_downloads", len(rows) <= 2, rows)
    suite.check("term.rest_waits", all(r[1] == "pending" for r in rows[1:]), rows)
    suite.check("term.stopped", "stopped" in d.text(), d.text()[-400:])
    w.intake.once()
    suite.eq("term.then", [s for _, s, _, _ in msg_rows(w.intake)],
             ["processed", "processed", "processed"])


@suite.test
def sd_notify():
    """READY=1 after start-up, STATUS= with the last cycle's time and counts
    after every cycle, WATCHDOG=1 with WATCHDOG_USEC set, STOPPING=1."""
    w = world()
    w.deliver(fz_mail(1), internaldate=ARRIVED)
    path = os.path.join(w.dir, "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    suite.cleanup(sock.close)
    sock.settimeout(0.2)
    d = Daemon(w.intake, env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"})
    got = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            got.append(sock.recv(4096).decode())
        except socket.timeout:
            pass
        if sum("WATCHDOG=1" in g for g in got) >= 3 and any("STATUS=" in g for g in got):
            break
    suite.eq("notify.stop", d.stop(), 0)
    try:
        while True:
            got.append(sock.recv(4096).decode())
    except (socket.timeout, BlockingIOError):
        pass
    suite.check("notify.ready_first", got and got[0] == "READY=1", got[:3])
    status = [g for g in got if g.startswith("STATUS=")]
    suite.check("notify.status", status and re.match(
        r"STATUS=last cycle \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(\d+s\): 1 new, 1 processed, "
        r"0 failed, 1 replies sent; 0 pending, 0 failed in all$", status[0]), status)
    suite.check("notify.watchdog", sum(g == "WATCHDOG=1" for g in got) >= 3, got)
    suite.check("notify.stopping", got and got[-1] == "STOPPING=1", got[-3:])
    # the mailbox unreachable: STATUS says so
    w.dovecot.stop()
    d = Daemon(w.intake, env={"NOTIFY_SOCKET": path})
    got = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any("STATUS=" in g for g in got):
        try:
            got.append(sock.recv(4096).decode())
        except socket.timeout:
            pass
    d.stop()
    status = [g for g in got if g.startswith("STATUS=")]
    suite.check("notify.status_unreachable", status and
                "mailbox unreachable, next attempt in 20s" in status[0], status)
    suite.check("notify.no_watchdog_unasked", not any("WATCHDOG" in g for g in got), got)


@suite.test
def first_start_together():
    """intaked and several intakectl started together on a new state
    directory: one of them creates the database, none fails."""
    w = world()
    procs = [subprocess.Popen([INTAKED, "-c", w.intake.conf, "--once"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)]
    for _ in range(6):
        procs.append(subprocess.Popen([INTAKECTL, "-c", w.intake.conf, "status", "--json"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    out = [(p.wait(timeout=120), p.communicate()[1].decode(errors="replace")[-300:])
           for p in procs]
    suite.eq("together.all_ok", [rc for rc, _ in out], [0] * len(procs))
    errors = [l for _, e in out for l in e.splitlines() if "fatal" in l or "error" in l]
    suite.eq("together.no_error", errors, [])
    suite.eq("together.version", w.intake.db().execute("PRAGMA user_version").fetchone()[0], 5)


@suite.test
def migration_from_version_3():
    """A database of schema version 3 (before messages too large to
    download were noted) is taken forward by the next start, its data
    kept."""
    w = world()
    w.deliver(fz_mail(1), internaldate=ARRIVED)
    w.intake.once()
    db = w.intake.db()
    db.execute("DROP TABLE too_large")
    db.execute("PRAGMA user_version = 3")
    db.commit()
    db.close()
    r = w.intake.ctl("status", "--json")
    suite.eq("migrate.too_large", json.loads(r.stdout).get("too_large_messages"), 0)
    db = w.intake.db()
    suite.eq("migrate.version", db.execute("PRAGMA user_version").fetchone()[0], 5)
    suite.eq("migrate.kept", db.execute("SELECT COUNT(*) FROM messages").fetchone()[0], 1)


@suite.test
def migration_from_version_4():
    """A database of schema version 4 (messages too large to download
    noted without their header) is taken forward by the next start: its
    notes are kept, shown without a sender, and not answered."""
    w = world()
    w.deliver(fz_mail(1), internaldate=ARRIVED)
    w.intake.once()
    db = w.intake.db()
    db.execute("DROP TABLE too_large")
    db.execute("CREATE TABLE too_large ("
               "  mailbox TEXT NOT NULL,"
               "  uidvalidity INTEGER NOT NULL,"
               "  source_key TEXT NOT NULL,"
               "  size INTEGER NOT NULL,"
               "  arrived INTEGER NOT NULL,"
               "  noted INTEGER NOT NULL,"
               "  PRIMARY KEY (mailbox, uidvalidity, source_key))")
    db.execute("INSERT INTO too_large VALUES('old-mailbox', 1, '9', 200000000,"
               " ?, ?)", (ARRIVED, ARRIVED))
    db.execute("PRAGMA user_version = 4")
    db.commit()
    db.close()
    r = w.intake.ctl("status", "--json")
    st = json.loads(r.stdout)
    suite.eq("migrate4.count", st.get("too_large_messages"), 1)
    suite.eq("migrate4.note", [(n["from"], n["subject"], n["size"], n["replied"])
                               for n in st.get("too_large", [])],
             [(None, None, 200000000, False)])
    db = w.intake.db()
    suite.eq("migrate4.version", db.execute("PRAGMA user_version").fetchone()[0], 5)
    suite.eq("migrate4.columns",
             [c[1] for c in db.execute("PRAGMA table_info(too_large)")][6:],
             ["from_addr", "subject", "unit", "message_id", "reply_id"])
    suite.eq("migrate4.kept", db.execute("SELECT COUNT(*) FROM messages").fetchone()[0], 1)
    text = w.intake.ctl("status").stdout.decode()
    suite.check("migrate4.text", "发件人不明" in text, text[-400:])


@suite.test
def intakectl_beside_a_cycle():
    """intakectl status and messages answer while intaked runs a long cycle
    (WAL and a busy timeout): they neither fail nor wait for the cycle."""
    w = world()
    jpegs = unique_jpegs(12)
    raws = [submission(u[3], "%s质量月活动总结" % u[0], "图1：启动仪式",
                       [("总结.pdf", pdf(i)), ("IMG_%d.jpg" % i, jpegs[i])])
            for i, u in enumerate(UNITS)]
    raws += [fz_mail(100 + i) for i in range(12)]
    w.dovecot.append_many(raws, internaldate=ARRIVED)
    d = Daemon(w.intake)
    slow, fails, answers, seen_counts = [], [], 0, set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and d.cycles() == 0:
        for args in (["status", "--json"], ["messages", "--json"]):
            t = time.monotonic()
            r = subprocess.run([INTAKECTL, "-c", w.intake.conf] + args,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            dt = time.monotonic() - t
            if r.returncode != 0:
                fails.append(r.stderr.decode(errors="replace")[-300:])
                continue
            answers += 1
            out = json.loads(r.stdout)
            if args[0] == "messages":
                seen_counts.add(sum(1 for m in out if m["state"] == "processed"))
            if dt > (6 if SANITIZED else 2):
                slow.append(round(dt, 2))
    suite.check("ctl.cycle_done", d.cycles() >= 1, d.text()[-400:])
    suite.eq("ctl.no_failure", fails, [])
    suite.check("ctl.answered_during", answers >= 6 and len(seen_counts) >= 3,
                (answers, sorted(seen_counts)))
    suite.eq("ctl.never_slow", slow, [])
    suite.eq("ctl.stop", d.stop(), 0)
    suite.eq("ctl.all", len(w.intake.messages()), len(raws))


suite.main()
