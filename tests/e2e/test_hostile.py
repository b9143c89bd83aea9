"""Hostile mail against the real daemon: the hostile fixture set through
Dovecot, every [limits] key, file names that try to leave the unit folder,
header injection into replies, and senders whose From failed DMARC.

Nothing here asserts how long something takes; the only clock is the
generous timeout of each intaked run, a guard against hangs."""
import base64
import hashlib
import os
import re
import subprocess
import sys
import unicodedata

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures",
                                "hostile"))
from harness import INTAKED, TOP, Suite       # noqa: E402
from intake import Intake                      # noqa: E402
from mail import plain, submission             # noqa: E402
from world import World, fixtures, unique_jpegs  # noqa: E402
import gen as hostile                          # noqa: E402

suite = Suite("hostile")
FZ = "福州市市场监督管理局"
FZ_ADDR = "fz@fuzhou.example.cn"
HANG_GUARD = 1800   # seconds for one intaked run over the whole set
# what a worker's error says when it did not refuse but died
DIED = ("crashed", "killed", "signal", "longer than the limit",
        "without a result", "lost the worker")


def world(**kw):
    return World(suite.cleanup, **kw)


def asan_build():
    """The sanitizer build skips the worker's RLIMIT_AS (worker.c)."""
    r = subprocess.run(["ldd", INTAKED], stdout=subprocess.PIPE)
    return b"libasan" in r.stdout


def unique_pdf(n):
    return fixtures()["summary.pdf"] + b"\n%% intake test copy %d\n" % n


def good_submission(n):
    return submission(FZ_ADDR, "福州市市场监督管理局质量月活动总结",
                      "图1：质量月启动仪式",
                      [("活动总结.pdf", unique_pdf(1000 + n))],
                      message_id="<good-%d@fuzhou.example.cn>" % n)


def by_message_id(msgs):
    return {m["message_id"]: m for m in msgs if m["message_id"]}


def maildir(path, raws):
    """A Maildir holding raws, in order (names sort by sequence)."""
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
    for i, raw in enumerate(raws):
        with open(os.path.join(path, "new", "1664500000.M%05dP1.hostile"
                               % i), "wb") as f:
            f.write(raw)
    return path


def died(m):
    err = m.get("error") or ""
    return any(w in err for w in DIED)


# ---- the hostile set ---------------------------------------------------

@suite.test
def hostile_set():
    fx = fixtures()
    made = hostile.messages(fx)
    corpus = hostile.corpus()
    w = world(limits={"max_attempts": 1})
    raws = [raw for _, raw, _ in made]
    names = [name for name, _, _ in made]
    for name, path in corpus:
        with open(path, "rb") as f:
            raws.append(f.read())
        names.append(name)
    raws.append(good_submission(1))
    names.append("good")
    suite.check("set.size", len(raws) >= 41, len(raws))
    w.dovecot.append_many(raws)
    r = w.intake.once(check=False, timeout=HANG_GUARD)
    suite.eq("set.exit", r.returncode, 0)

    msgs = w.intake.messages()
    suite.eq("set.all_recorded", len(msgs), len(raws))
    states = {}
    for name, m in zip(names, msgs):
        states.setdefault(m["state"], []).append(name)
    suite.eq("set.none_pending", states.get("pending", []), [])
    suite.eq("set.none_died",
             [(n, m["error"]) for n, m in zip(names, msgs) if died(m)], [])
    for m, name in zip(msgs, names):
        if m["state"] == "failed":
            suite.check("set.reason." + name, m["error"], repr(m))

    # the refusals name the limit, the refused items say why
    for (name, _, expect), m in zip(made, msgs):
        if expect is None:
            continue
        kind, words = expect
        if kind == "error":
            suite.check("expect.%s" % name, m["state"] == "failed" and
                        words in (m["error"] or ""),
                        "%s: %r" % (m["state"], m["error"]))
        else:
            reasons = [i["reason"] or "" for i in m["items"]
                       if not i["accepted"]]
            suite.check("expect.%s" % name,
                        any(words in r for r in reasons),
                        "%s %r" % (m["state"], reasons or m["error"]))

    # the daemon went on: the last message, an ordinary one, was filed
    good = msgs[-1]
    suite.eq("good.verdict", (good["state"], good["verdict"], good["unit"]),
             ("processed", "accepted", FZ))
    suite.eq("good.filed", w.intake.unit_files(FZ, "总结"), ["活动总结.pdf"])
    rcpts = [x["env"]["rcpt_tos"] for x in w.replies()]
    suite.check("good.replied", [FZ_ADDR] in rcpts, rcpts)
    # ... and it still works: a second cycle, a status
    r = w.intake.once(check=False, timeout=HANG_GUARD)
    suite.eq("again.exit", r.returncode, 0)
    suite.eq("again.recorded", len(w.intake.messages()), len(raws))
    suite.eq("again.status", w.intake.unit_status(FZ)["summaries"], 1)
    # no worker left behind, nothing under work/
    work = os.path.join(w.intake.state_dir, "work")
    suite.eq("work.empty", os.listdir(work) if os.path.isdir(work) else [],
             [])
    for name, m in zip(names, msgs):
        print("# %s: %s %s %s" % (name, m["state"], m["verdict"],
                                  m["error"] or ""))
    print("# %d hostile messages: %s" % (
        len(raws) - 1, ", ".join("%s %d" % (k, len(v))
                                 for k, v in sorted(states.items()))))


# ---- every limit, end to end --------------------------------------------

def zip_of(members):
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(zipfile.ZipInfo(name, (2022, 9, 30, 10, 12, 0)),
                        data)
    return buf.getvalue()


def sub(subject, attachments, n, headers=None):
    return submission(FZ_ADDR, "福州市市场监督管理局质量月" + subject, "",
                      attachments, headers=headers,
                      message_id="<limit-%d@fuzhou.example.cn>" % n)


def limit_cases():
    """(label, [limits], message over the limit, ("error"|"item", words)).
    Each runs in its own intake over a Maildir, with an ordinary message
    after it."""
    fx = fixtures()
    pdf = unique_pdf
    return [
        ("max_header_bytes", {"max_header_bytes": 1024},
         sub("长邮件头", [("a.pdf", pdf(1))], 1,
             headers={"X-Long": "x" * 2000}),
         ("error", "max_header_bytes")),
        ("max_parts", {"max_parts": 5},
         sub("附件多", [("%d.pdf" % i, pdf(10 + i)) for i in range(6)], 2),
         ("error", "max_parts")),
        ("max_depth", {"max_depth": 3},
         hostile.deep_multipart(3, 6), ("error", "max_depth")),
        ("max_decoded_bytes", {"max_decoded_bytes": 4096},
         sub("大附件", [("big.pdf", pdf(4) + b"0" * 10000)], 4),
         ("error", "max_decoded_bytes")),
        ("max_archive_members", {"max_archive_members": 2},
         sub("压缩包", [("三个.zip", zip_of([("%d.txt" % i, b"x" * 100)
                                            for i in range(3)]))], 5),
         ("item", "个的上限")),
        ("max_archive_bytes", {"max_archive_bytes": 1024},
         sub("压缩包", [("大.zip", zip_of([("a.txt", b"y" * 5000)]))], 6),
         ("item", "解压后超过")),
        ("max_archive_ratio", {"max_archive_ratio": 100},
         sub("压缩包", [("bomb.zip", fx["bomb.zip"])], 7),
         ("item", "压缩炸弹")),
        ("max_photo_pixels", {"max_photo_pixels": 500000},
         sub("图片", [("开幕式.jpg", fx["photo_1024x768.jpg"])], 8),
         ("item", "像素总数超出")),
        ("max_jpeg_scans", {"max_jpeg_scans": 5},
         sub("图片", [("开幕式.jpg", fx["photo_progressive_1280x960.jpg"])], 9),
         ("item", "结构过于复杂")),
        ("max_jpeg_memory", {"max_jpeg_memory": 1048576},
         sub("图片", [("开幕式.jpg", fx["photo_progressive_1280x960.jpg"])],
             10), ("item", "结构过于复杂")),
        ("worker_seconds", {"worker_seconds": 1, "video_probe_seconds": 1},
         sub("图片", [("%d.jpg" % i, hostile.slow_jpeg(fx))
                    for i in range(1, 9)], 11),
         ("error", "worker_seconds")),
    ]


@suite.test
def each_limit():
    d = os.path.join(suite_tmp(), "limits")
    for label, limits, raw, (kind, words) in limit_cases():
        md = maildir(os.path.join(d, label, "Maildir"),
                     [raw, good_submission(1)])
        lim = {"max_attempts": 1}
        lim.update(limits)
        it = Intake(os.path.join(d, label, "intake"),
                    mailbox_url="maildir:" + md, limits=lim)
        r = it.once(check=False, timeout=HANG_GUARD)
        suite.eq(label + ".exit", r.returncode, 0)
        msgs = it.messages()
        suite.eq(label + ".recorded", len(msgs), 2)
        if len(msgs) != 2:
            continue
        m, good = msgs
        if kind == "error":
            suite.check(label + ".refused", m["state"] == "failed" and
                        words in (m["error"] or ""),
                        "%s %r" % (m["state"], m["error"]))
        else:
            reasons = [i["reason"] or "" for i in m["items"]
                       if not i["accepted"]]
            suite.check(label + ".refused", m["state"] == "processed" and
                        any(words in x for x in reasons),
                        "%s %r %r" % (m["state"], reasons, m["error"]))
        suite.eq(label + ".next", (good["state"], good["verdict"]),
                 ("processed", "accepted"))


_tmp = []


def suite_tmp():
    if not _tmp:
        import shutil
        import tempfile
        d = tempfile.mkdtemp(prefix="intake-hostile-")
        _tmp.append(d)
        suite.cleanup(lambda: shutil.rmtree(d, ignore_errors=True))
    return _tmp[0]


@suite.test
def worker_memory_and_attempts():
    """200,000 tiny parts in 2 MB: refused by counting boundary lines
    before GMime parses (max_parts), so a worker with little room left
    has enough; with max_parts raised out of the way GMime would spend
    ~280 MB, and the address-space limit (worker_memory) ends that worker
    only: the message fails after max_attempts, the next one is filed."""
    if asan_build():
        print("SKIP hostile.worker_memory: RLIMIT_AS is not set under ASan")
        return
    d = os.path.join(suite_tmp(), "memory")
    parts = hostile.many_parts(1, 200000)
    for label, limits in (("counted", {"max_attempts": 1}),
                          ("backstop", {"max_parts": 1000000})):
        md = maildir(os.path.join(d, label, "Maildir"),
                     [parts, good_submission(1)])
        lim = {"max_attempts": 2, "worker_memory": 320 * 1024 * 1024}
        lim.update(limits)
        it = Intake(os.path.join(d, label, "intake"),
                    mailbox_url="maildir:" + md, limits=lim)
        it.once(timeout=HANG_GUARD)
        msgs = it.messages()
        if label == "counted":
            suite.check("parts.counted", msgs[0]["state"] == "failed" and
                        "max_parts" in (msgs[0]["error"] or ""), repr(msgs[0]))
        else:
            # the first attempt failed: counted, the message waits
            suite.eq("backstop.first", msgs[0]["state"], "pending")
            it.once(timeout=HANG_GUARD)
            msgs = it.messages()
            suite.check("backstop.failed", msgs[0]["state"] == "failed" and
                        "memory" in (msgs[0]["error"] or ""), repr(msgs[0]))
        suite.eq(label + ".next", (msgs[1]["state"], msgs[1]["verdict"]),
                 ("processed", "accepted"))


@suite.test
def message_size_and_replies_per_sender():
    """max_message_bytes: not downloaded at all (IMAP: by RFC822.SIZE;
    Maildir: by the file's size), noted for the office and logged once,
    the rest goes on.  replies_per_sender:
    no more replies a day to one address."""
    small = {"max_message_bytes": 65536, "max_header_bytes": 16384}
    w = world(limits=dict(small, replies_per_sender=2))
    big = submission(FZ_ADDR, "福州市市场监督管理局质量月大邮件", "",
                     [("大.pdf", unique_pdf(1) + b"0" * 100000)])
    w.deliver(big)
    for n in range(3):
        w.deliver(good_submission(n))
    # the newest: every cycle lists it again
    w.deliver(submission(FZ_ADDR, "福州市市场监督管理局质量月大邮件（二）", "",
                         [("大2.pdf", unique_pdf(2) + b"0" * 100000)]))
    r = w.intake.once(check=False, timeout=HANG_GUARD)
    suite.eq("size.exit", r.returncode, 0)
    err = r.stderr.decode(errors="replace")
    suite.check("size.logged", "max_message_bytes" in err, err[-800:])
    msgs = w.intake.messages()
    suite.eq("size.not_recorded", len(msgs), 3)
    suite.check("size.others_filed",
                all(m["state"] == "processed" for m in msgs), repr(msgs))
    suite.eq("replies.capped", len(w.replies()), 2)
    # the office sees it, in status and the text view; the next cycle
    # leaves it alone and does not log it again
    suite.eq("size.status", w.intake.status().get("too_large_messages"), 2)
    text = w.intake.ctl("status").stdout.decode()
    suite.check("size.status_text", "过大未下载、留在邮箱中的邮件 2" in text,
                text[-300:])
    r = w.intake.once(check=False, timeout=HANG_GUARD)
    err = r.stderr.decode(errors="replace")
    suite.check("size.logged_once", "max_message_bytes" not in err, err[-800:])
    suite.eq("size.still_two", w.intake.status().get("too_large_messages"), 2)
    # the Maildir source refuses it the same way
    md = maildir(os.path.join(w.dir, "Maildir"), [big, good_submission(9)])
    it = Intake(os.path.join(w.dir, "md"), mailbox_url="maildir:" + md,
                limits=small)
    r = it.once(check=False, timeout=HANG_GUARD)
    suite.eq("size.maildir_exit", r.returncode, 0)
    suite.eq("size.maildir_recorded", len(it.messages()), 1)
    suite.eq("size.maildir_status", it.status().get("too_large_messages"), 1)


def big_mail(n, from_addr=FZ_ADDR, subject="福州市市场监督管理局质量月高清视频",
             headers=None, blocks=12000):
    return submission(from_addr, subject, "视频见附件",
                      [("活动.mp4", b"\0\1video" * blocks + b"%d" % n,
                        "video/mp4")],
                      message_id="<big-%d@fuzhou.example.cn>" % n,
                      headers=headers)


def too_large_replies(w):
    return [r for r in w.replies()
            if (r["msg"]["In-Reply-To"] or "").startswith("<big-")]


@suite.test
def too_large_header_and_reply():
    """A message over max_message_bytes: only its header is read
    (BODY.PEEK[HEADER]: \\Seen stays off), its sender gets ONE reply in
    Chinese saying it was not received and how to send videos, with the
    headers of every reply; automatic mail and mail that is neither from a
    unit nor about the campaign get none; intakectl status and show list
    who sent what; the note goes when the message leaves the mailbox."""
    small = {"max_message_bytes": 65536, "max_header_bytes": 16384}
    w = world(limits=small)
    raw = big_mail(1)
    big = w.deliver(raw)
    auto = w.deliver(big_mail(2, headers={"Auto-Submitted": "auto-replied"}))
    w.deliver(big_mail(3, from_addr="promo@ads.example",
                              subject="限时优惠"))
    w.deliver(good_submission(1))
    r = w.intake.once(check=False, timeout=HANG_GUARD)
    suite.eq("big.exit", r.returncode, 0)
    err = r.stderr.decode(errors="replace")
    suite.check("big.logged", "max_message_bytes" in err, err[-800:])
    replies = too_large_replies(w)
    suite.eq("big.one_reply", len(replies), 1)
    if replies:
        m = replies[0]["msg"]
        body = m.get_body(("plain",)).get_content()
        suite.eq("big.to", replies[0]["env"]["rcpt_tos"], [FZ_ADDR])
        suite.eq("big.in_reply_to", m["In-Reply-To"], "<big-1@fuzhou.example.cn>")
        suite.check("big.references", "<big-1@fuzhou.example.cn>" in
                    (m["References"] or ""), m["References"])
        suite.eq("big.subject", m["Subject"], "回复：福州市市场监督管理局质量月高清视频")
        suite.eq("big.auto_submitted", m["Auto-Submitted"], "auto-replied")
        suite.eq("big.verdict", m["X-Intake-Verdict"], "rejected")
        suite.check("big.loop", m["X-Intake-Loop"] is not None, str(m.items()))
        kb = (len(raw) + 1023) // 1024
        suite.check("big.text", "大小约为 %d KB，超过了本邮箱可接收的上限"
                    "（64 KB），系统未能接收" % kb in body, body)
        suite.check("big.advice", "超大附件" in body and "网盘" in body and
                    "拆分" in body, body)
    suite.check("big.unseen", "\\Seen" not in w.dovecot.flags(big),
                w.dovecot.flags(big))
    suite.check("auto.unseen", "\\Seen" not in w.dovecot.flags(auto),
                w.dovecot.flags(auto))
    st = w.intake.status()
    suite.eq("big.count", st.get("too_large_messages"), 3)
    notes = {n["message_id"]: n for n in st.get("too_large", [])}
    fz = notes.get("big-1@fuzhou.example.cn") or {}
    suite.eq("big.note", (fz.get("subject"), fz.get("unit"), fz.get("size") > 65536,
                          fz.get("replied"), fz.get("message_id")),
             ("福州市市场监督管理局质量月高清视频", FZ, True, True,
              "big-1@fuzhou.example.cn"))
    suite.check("big.arrived", bool(fz.get("arrived")), repr(fz))
    suite.eq("auto.note", (notes.get("big-2@fuzhou.example.cn") or {}).get(
        "replied"), False)
    suite.eq("spam.note", (notes.get("big-3@fuzhou.example.cn") or {}).get(
        "from"), "promo@ads.example")
    suite.eq("spam.no_reply", notes["big-3@fuzhou.example.cn"]["replied"]
             if "big-3@fuzhou.example.cn" in notes else None, False)
    text = w.intake.ctl("status").stdout.decode()
    suite.check("big.status_text", "过大未下载、留在邮箱中的邮件 3" in text and
                FZ_ADDR in text and "“福州市市场监督管理局质量月高清视频”" in
                text and "已回复发件人" in text, text[-800:])
    show = w.intake.ctl("show", FZ).stdout.decode()
    suite.check("big.show", "福州市市场监督管理局质量月高清视频" in show, show)
    # the next cycles: no second reply, no second log line, \Seen still off
    for _ in range(2):
        r = w.intake.once(check=False, timeout=HANG_GUARD)
        err = r.stderr.decode(errors="replace")
        suite.check("big.logged_once", "max_message_bytes" not in err, err[-800:])
    suite.eq("big.still_one_reply", len(too_large_replies(w)), 1)
    suite.check("big.still_unseen", "\\Seen" not in w.dovecot.flags(big),
                w.dovecot.flags(big))
    # the mailbox recreated (new UIDVALIDITY, new UIDs): noted again, not
    # answered again, the note still says it was answered
    w.dovecot.recreate_inbox()
    w.intake.once(timeout=HANG_GUARD)
    suite.eq("recreated.no_reply", len(too_large_replies(w)), 1)
    st = w.intake.status()
    suite.eq("recreated.notes", sorted((n["message_id"], n["replied"])
                                       for n in st.get("too_large", [])),
             [("big-1@fuzhou.example.cn", True),
              ("big-2@fuzhou.example.cn", False),
              ("big-3@fuzhou.example.cn", False)])
    big = int(w.dovecot._fetch("uid", "INBOX", ["header", "Message-ID",
                                                "big-1@fuzhou.example.cn"])[0][0])
    w.intake.once(timeout=HANG_GUARD)
    suite.eq("recreated.still_one", len(too_large_replies(w)), 1)
    # the office deleted it in its mail client: the note goes
    w.dovecot.doveadm("expunge", "-u", w.dovecot.user, "mailbox", "INBOX",
                      "uid", str(big))
    w.intake.once(timeout=HANG_GUARD)
    st = w.intake.status()
    suite.eq("expunged.count", st.get("too_large_messages"), 2)
    suite.eq("expunged.gone", sorted(n["message_id"] for n in
                                     st.get("too_large", [])),
             ["big-2@fuzhou.example.cn", "big-3@fuzhou.example.cn"])
    suite.eq("expunged.no_reply", len(too_large_replies(w)), 1)


@suite.test
def too_large_long_and_hostile_header():
    """A header of 120 KB (read in two chunks of at most 64 KiB: libcurl
    passes the literal through its header stream, which it limits to 300
    KB a response; the Subject at its end), and a header whose lines look
    like the ends of IMAP commands ("A012 OK"): libcurl reads a custom
    command's response as lines, so such a line can end the response
    early; the rest must not reach the next command (the connection is
    closed), the cycle goes on."""
    limits = {"max_message_bytes": 262144, "max_header_bytes": 200000}
    w = world(limits=limits)
    pad = b"".join(b"Received: from relay%04d.example.cn (relay%04d "
                   b"[10.0.%d.%d]) by mx.example.cn with ESMTPS;"
                   b" Mon, 26 Sep 2022 10:00:00 +0800\r\n"
                   % (i, i, i // 250, i % 250) for i in range(1000))
    long_raw = pad + big_mail(4, subject="福州市市场监督管理局质量月长邮件头",
                              blocks=40000)
    long_uid = w.deliver(long_raw)
    fake = b"".join(b"%c%03d OK done\r\n" % (c, i)
                    for c in b"AB" for i in range(120))
    hostile_raw = big_mail(5, from_addr="xm@xiamen.example.cn",
                           subject="厦门市市场监督管理局质量月视频",
                           blocks=40000)
    cut = hostile_raw.index(b"Subject:")
    hostile_raw = hostile_raw[:cut] + fake + hostile_raw[cut:]
    hostile_uid = w.deliver(hostile_raw)
    w.deliver(good_submission(2))
    r = w.intake.once(check=False, timeout=HANG_GUARD)
    suite.eq("long.exit", r.returncode, 0)
    err = r.stderr.decode(errors="replace")
    st = w.intake.status()
    notes = {n["message_id"]: n for n in st.get("too_large", [])}
    long_note = notes.get("big-4@fuzhou.example.cn") or {}
    suite.eq("long.note", (long_note.get("subject"), long_note.get("unit"),
                           long_note.get("replied")),
             ("福州市市场监督管理局质量月长邮件头", FZ, True))
    suite.eq("long.count", st.get("too_large_messages"), 2)
    suite.check("long.size", len(pad) > 65536 + 4096, len(pad))
    # a fake "A0nn OK" cut the response short (the header is not used) or
    # did not match curl's tag (the header was read whole)
    hostile_note = notes.get("big-5@fuzhou.example.cn") or {}
    suite.check("hostile.cut_or_whole",
                ("ended early" in err and hostile_note.get("from") is None) or
                hostile_note.get("subject") == "厦门市市场监督管理局质量月视频",
                repr(hostile_note) + err[-600:])
    suite.eq("hostile.next_fine",
             [m["state"] for m in w.intake.messages()], ["processed"])
    suite.check("hostile.unseen",
                "\\Seen" not in w.dovecot.flags(hostile_uid) and
                "\\Seen" not in w.dovecot.flags(long_uid),
                repr((w.dovecot.flags(hostile_uid), w.dovecot.flags(long_uid))))
    r = w.intake.once(check=False, timeout=HANG_GUARD)
    suite.eq("hostile.again", r.returncode, 0)
    suite.eq("hostile.replies_once", len(too_large_replies(w)),
             len([n for n in notes.values() if n["replied"]]))


@suite.test
def too_large_old_template_dir():
    """A template_dir from before too_large.txt: the message is noted with
    its sender, nobody is answered about it, the log says why, and the
    messages after it are fetched and answered as ever."""
    import shutil
    small = {"max_message_bytes": 65536, "max_header_bytes": 16384}
    w = world(limits=small)
    old = os.path.join(w.dir, "old-templates")
    shutil.copytree(os.path.join(TOP, "config", "templates"), old)
    os.unlink(os.path.join(old, "too_large.txt"))
    with open(w.intake.conf) as f:
        conf = re.sub(r"(?m)^template_dir = .*$", "template_dir = " + old,
                      f.read())
    with open(w.intake.conf, "w") as f:
        f.write(conf)
    w.deliver(big_mail(6))
    w.deliver(good_submission(3))
    r = w.intake.once(check=False, timeout=HANG_GUARD)
    err = r.stderr.decode(errors="replace")
    suite.eq("oldtpl.exit", r.returncode, 0)
    suite.check("oldtpl.logged", "too_large.txt" in err, err[-800:])
    notes = w.intake.status().get("too_large", [])
    suite.eq("oldtpl.note", [(n["from"], n["replied"]) for n in notes],
             [(FZ_ADDR, False)])
    suite.eq("oldtpl.next", [m["state"] for m in w.intake.messages()],
             ["processed"])
    suite.eq("oldtpl.replies", [r["msg"]["In-Reply-To"] for r in w.replies()],
             ["<good-3@fuzhou.example.cn>"])


@suite.test
def too_large_maildir_header():
    """The Maildir source reads the header block of a file too large to
    fetch; the note goes when the file is gone."""
    small = {"max_message_bytes": 65536, "max_header_bytes": 16384}
    md = maildir(os.path.join(suite_tmp(), "Maildir-toolarge"), [big_mail(7)])
    it = Intake(os.path.join(os.path.dirname(md), "md-toolarge"),
                mailbox_url="maildir:" + md, limits=small)
    r = it.once(check=False, timeout=HANG_GUARD)
    suite.eq("maildir.exit", r.returncode, 0)
    notes = it.status().get("too_large", [])
    suite.eq("maildir.note", [(n["from"], n["unit"], n["replied"]) for n in notes],
             [(FZ_ADDR, FZ, False)])
    name = os.listdir(os.path.join(md, "new"))[0]
    os.unlink(os.path.join(md, "new", name))
    it.once(timeout=HANG_GUARD)
    suite.eq("maildir.gone", it.status().get("too_large_messages"), 0)


# ---- file names -----------------------------------------------------------

EVIL_NAMES = [
    "../../etc/x.pdf",
    "/abs/path.pdf",
    "..\\..\\windows\\win.pdf",
    "cr\r\nlf.pdf",
    "\u202eevil\u202dfdp.pdf",
    "CON.pdf",
    "com1.pdf",
    "zero\u200bwidth.pdf",
    ".hidden.pdf",
    "trailing.pdf. . ",
    "长" * 330 + ".pdf",
    "Report.pdf",
    "report.pdf",
    "caf\u00e9.pdf",
    "cafe\u0301.pdf",
    "tab\there.pdf",
    "..",
]
EVIL_PHOTOS = ["../../../../tmp/intake-evil.jpg", "\u202e\r\n/CON.jpg"]

BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
           "\u200e\u200f\u061c")
ZERO_WIDTH = set("\u200b\u200c\u200d\u2060\ufeff")
RESERVED = re.compile(r"^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$", re.I)


def rfc2231_part(name, data, ctype):
    """An attachment part named with RFC 2231 (any bytes, percent-encoded:
    CR, LF and '/' reach the parser as they are)."""
    enc = "".join(chr(b) if chr(b).isascii() and chr(b).isalnum()
                  else "%%%02X" % b for b in name.encode("utf-8"))
    body = base64.encodebytes(data).decode().replace("\n", "\r\n")
    return ("--x\r\nContent-Type: %s\r\n"
            "Content-Transfer-Encoding: base64\r\n"
            "Content-Disposition: attachment; filename*=UTF-8''%s\r\n\r\n"
            "%s\r\n" % (ctype, enc, body))


def unsafe(name):
    """Why a name written to disk is unsafe, or None."""
    if "/" in name or "\\" in name or name in (".", ".."):
        return "path"
    if name.startswith("."):
        return "dot"
    if any(ord(c) < 0x20 or ord(c) == 0x7f for c in name):
        return "control"
    if set(name) & BIDI:
        return "bidi"
    if set(name) & ZERO_WIDTH:
        return "zero width"
    if unicodedata.normalize("NFC", name) != name:
        return "not NFC"
    if RESERVED.match(name):
        return "reserved"
    if name.endswith((".", " ")):
        return "trailing"
    if len(name.encode("utf-8")) > 180:
        return "too long"
    return None


@suite.test
def file_names():
    w = world()
    pdfs = [unique_pdf(100 + i) for i in range(len(EVIL_NAMES))]
    jpegs = unique_jpegs(len(EVIL_PHOTOS))
    parts = [rfc2231_part(n, d, "application/pdf")
             for n, d in zip(EVIL_NAMES, pdfs)]
    parts += [rfc2231_part(n, d, "image/jpeg")
              for n, d in zip(EVIL_PHOTOS, jpegs)]
    raw = ("From: %s\r\nTo: 7263441@qq.com\r\n"
           "Subject: =?UTF-8?B?%s?=\r\nDate: Fri, 30 Sep 2022 10:12:00 +0800\r\n"
           "Message-ID: <names@fuzhou.example.cn>\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed; boundary=\"x\"\r\n\r\n"
           "--x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n附件\r\n"
           % (FZ_ADDR, base64.b64encode(
               "福州市市场监督管理局质量月活动总结".encode()).decode())
           + "".join(parts) + "--x--\r\n").encode()
    w.deliver(raw)
    w.intake.once(timeout=HANG_GUARD)
    msgs = w.intake.messages()
    suite.eq("names.recorded", len(msgs), 1)
    items = msgs[0]["items"] if msgs else []
    summaries = [i for i in items if i["type"] == "summary" and i["accepted"]]
    photos = [i for i in items if i["type"] == "photo" and i["accepted"]]
    suite.eq("names.summaries", len(summaries), len(EVIL_NAMES))
    suite.eq("names.photos", len(photos), len(EVIL_PHOTOS))

    state = os.path.realpath(w.intake.state_dir)
    unit_dir = os.path.join(state, "units", FZ)
    found = {}
    for root, dirs, files in os.walk(os.path.join(state, "units")):
        for n in dirs + files:
            p = os.path.join(root, n)
            suite.check("names.no_link." + n, not os.path.islink(p), p)
        for n in files:
            p = os.path.join(root, n)
            rel = os.path.relpath(p, unit_dir)
            suite.check("names.inside." + rel[:40],
                        not rel.startswith("..") and
                        rel.split(os.sep)[0] in ("总结", "图片"), p)
            suite.eq("names.safe." + rel[:40], unsafe(n), None)
            with open(p, "rb") as f:
                found[hashlib.sha256(f.read()).hexdigest()] = rel
    for it in summaries + photos:
        p = os.path.realpath(os.path.join(state, it["path"] or ""))
        suite.check("names.path." + it["name"][:30],
                    p.startswith(unit_dir + os.sep) and os.path.isfile(p),
                    it["path"])
    sent = [hashlib.sha256(d).hexdigest() for d in pdfs + jpegs]
    suite.eq("names.every_file_once", sorted(found), sorted(sent))
    suite.eq("names.distinct_files", len(set(found.values())), len(sent))
    for outside in ("/etc/x.pdf", "/abs", "/tmp/intake-evil.jpg",
                    os.path.join(os.path.dirname(state), "etc"),
                    os.path.join(state, "units", "etc")):
        suite.check("names.not_created." + outside,
                    not os.path.exists(outside), outside)
    # nothing but the database, raw/ and units/ at the top of state_dir
    extra = sorted(set(os.listdir(state)) -
                   {"intake.db", "intake.db-wal", "intake.db-shm", "raw",
                    "units", "work", "tmp", "intaked.lock",
                    "process.lock"})
    suite.eq("names.state_dir_top", extra, [])


# ---- header injection -----------------------------------------------------

def b64w(text):
    return "=?UTF-8?B?%s?=" % base64.b64encode(text.encode()).decode()


INJECT = [
    # label, headers (after Date), expected recipient or None (no reply)
    ("from_name", {"From": "%s <%s>" % (
        b64w("福州\r\nBcc: evil1@evil.example"), FZ_ADDR)}, FZ_ADDR),
    ("subject", {"Subject": b64w(
        "福州市市场监督管理局质量月\r\nBcc: evil2@evil.example\r\n"
        "X-Injected: yes")}, FZ_ADDR),
    ("reply_to_two", {"Reply-To": "a@reply.example, evil3@evil.example"},
     "a@reply.example"),
    ("reply_to_encoded", {"Reply-To": b64w(
        "a@x.example\r\nRCPT TO:<evil4@evil.example>")}, None),
    ("reply_to_quoted", {"Reply-To": '"a@x.example\r\n RCPT TO:'
                         '<evil5@evil.example>"@reply.example'}, None),
    ("reply_to_angle", {"Reply-To": "<a@x.example>\r\n"
                        " RCPT TO:<evil6@evil.example>"}, "a@x.example"),
    ("message_id", {"Message-ID": "<%s@x.example>" % b64w(
        "id\r\nBcc: evil7@evil.example"),
        "References": "<a@b> " + b64w("\r\nBcc: evil8@evil.example")},
     FZ_ADDR),
    ("from_addr_encoded", {"From": b64w(
        "%s\r\nRCPT TO:<evil9@evil.example>" % FZ_ADDR)}, None),
]


def inject_raw(n, headers):
    h = {"From": FZ_ADDR, "To": "7263441@qq.com",
         "Subject": "福州市市场监督管理局质量月活动总结",
         "Date": "Fri, 30 Sep 2022 10:12:00 +0800",
         "Message-ID": "<inject-%d@fuzhou.example.cn>" % n}
    h.update(headers)
    text = "".join("%s: %s\r\n" % kv for kv in h.items())
    text += ("MIME-Version: 1.0\r\n"
             "Content-Type: multipart/mixed; boundary=\"x\"\r\n\r\n"
             "--x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n总结\r\n")
    return (text.encode() + rfc2231_part("总结%d.pdf" % n, unique_pdf(200 + n),
                                         "application/pdf").encode()
            + b"--x--\r\n")


HEADER_LINE = re.compile(rb"^[!-9;-~]+:")


@suite.test
def injection():
    w = world()
    for n, (label, headers, _) in enumerate(INJECT):
        w.deliver(inject_raw(n, headers))
    w.intake.once(timeout=HANG_GUARD)
    msgs = w.intake.messages()
    suite.eq("inject.recorded", len(msgs), len(INJECT))
    replies = w.replies()
    for r in replies:
        env = r["env"]
        suite.eq("inject.one_rcpt.%s" % r["msg"]["Message-ID"],
                 len(env["rcpt_tos"]), 1)
        for a in env["rcpt_tos"]:
            suite.check("inject.rcpt_clean." + a,
                        "evil" not in a and not re.search(r"[\s<>]", a), a)
        head = r["raw"].split(b"\r\n\r\n", 1)[0]
        for line in head.split(b"\r\n"):
            suite.check("inject.header_line", HEADER_LINE.match(line) or
                        line[:1] in (b" ", b"\t"), line[:80])
            name = line.split(b":", 1)[0].lower()
            suite.check("inject.no_header." + name.decode(errors="replace"),
                        name not in (b"bcc", b"x-injected", b"rcpt to") and
                        b"evil" not in name, line[:80])
        suite.eq("inject.to_is_rcpt", r["msg"]["To"].addresses[0].addr_spec
                 if r["msg"]["To"] else None, env["rcpt_tos"][0])
        for hname in ("Subject", "In-Reply-To", "References"):
            v = str(r["msg"][hname] or "")
            suite.check("inject.%s_one_line" % hname,
                        "\r" not in v and "\n" not in v, repr(v[:120]))
    everyone = [a for r in replies for a in r["env"]["rcpt_tos"]]
    suite.check("inject.no_evil", not any("evil" in a for a in everyone),
                everyone)
    for cmd in w.smtp.mail_commands():
        suite.eq("inject.mail_from", cmd["mail_from"], "7263441@qq.com")
    # each message got the reply it should, to the address it should (an
    # unusable Reply-To or From means no reply at all; replies go out in
    # the order of the messages)
    suite.eq("inject.rcpts", everyone,
             [want for _, _, want in INJECT if want is not None])
    for n, (label, _, want) in enumerate(INJECT):
        irt = [r["msg"]["In-Reply-To"] for r in replies
               if "inject-%d@" % n in str(r["msg"]["In-Reply-To"] or "")]
        if label != "message_id":
            suite.eq("inject.%s.replied" % label, len(irt),
                     0 if want is None else 1)


# ---- sender trust (Authentication-Results) --------------------------------

AUTHSERV = "mx.intake.test"


@suite.test
def sender_trust():
    w = world(mailbox={"authserv_id": AUTHSERV})
    cases = [
        # label, Authentication-Results, trusted
        ("dmarc_fail", AUTHSERV + "; spf=pass smtp.mailfrom=evil.example; "
         "dkim=none; dmarc=fail (p=none) header.from=fuzhou.example.cn",
         False),
        ("spf_dkim_fail", AUTHSERV + "; spf=fail smtp.mailfrom="
         "fuzhou.example.cn; dkim=fail header.d=fuzhou.example.cn", False),
        ("other_server", "evil.example; dmarc=fail", True),
        ("dmarc_pass", AUTHSERV + "; spf=pass; dkim=pass; dmarc=pass", True),
        ("no_header", None, True),
    ]
    for n, (label, ar, _) in enumerate(cases):
        headers = {"Authentication-Results": ar} if ar else {}
        # no unit name in the subject: only the address could tell
        w.deliver(submission(FZ_ADDR, "质量月活动总结", "",
                             [("总结%d.pdf" % n, unique_pdf(300 + n))],
                             headers=headers,
                             message_id="<trust-%d@fuzhou.example.cn>" % n))
    w.intake.once(timeout=HANG_GUARD)
    msgs = by_message_id(w.intake.messages())
    for n, (label, _, trusted) in enumerate(cases):
        m = msgs.get("trust-%d@fuzhou.example.cn" % n)
        if not suite.check("trust.%s.recorded" % label, m is not None):
            continue
        suite.eq("trust.%s.shown" % label, m["from_trusted"], trusted)
        suite.eq("trust.%s.unit" % label, m["unit"], FZ if trusted else None)
        suite.eq("trust.%s.state" % label, m["state"],
                 "processed" if trusted else "held")
    r = w.intake.ctl("messages")
    suite.check("trust.text", "未通过验证" in r.stdout.decode(),
                r.stdout.decode()[:400])
    db = w.intake.db()
    suite.eq("trust.db", sorted(db.execute(
        "SELECT message_id, untrusted_from FROM messages").fetchall()),
        sorted(("trust-%d@fuzhou.example.cn" % n, 0 if t else 1)
               for n, (_, _, t) in enumerate(cases)))


@suite.test
def sender_trust_of_ignored_mail():
    """An auto-reply is recorded with what the receiving server said of
    its From, like any message: trusted without a failing verdict."""
    w = world(mailbox={"authserv_id": AUTHSERV})
    for n, ar in enumerate((None, AUTHSERV + "; dmarc=fail header.from=fuzhou.example.cn")):
        headers = {"Auto-Submitted": "auto-replied"}
        if ar:
            headers["Authentication-Results"] = ar
        w.deliver(plain(FZ_ADDR, "自动回复：质量月", "我休假了。", headers=headers,
                        message_id="<auto-trust-%d@fuzhou.example.cn>" % n))
    w.intake.once(timeout=HANG_GUARD)
    msgs = by_message_id(w.intake.messages())
    for n, trusted in enumerate((True, False)):
        m = msgs.get("auto-trust-%d@fuzhou.example.cn" % n)
        if suite.check("autotrust.%d.recorded" % n, m is not None):
            suite.eq("autotrust.%d.kind" % n, m["kind"], "auto")
            suite.eq("autotrust.%d.shown" % n, m["from_trusted"], trusted)
    suite.eq("autotrust.no_reply", len(w.replies()), 0)


suite.main()
