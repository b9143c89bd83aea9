"""The whole pipeline against real servers: Dovecot over IMAPS, the SMTP
peer over SMTPS with AUTH, intaked --once and intakectl."""
import hashlib
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import Suite                      # noqa: E402
from mail import plain, submission             # noqa: E402
from world import World, fixtures              # noqa: E402

suite = Suite("pipeline")
FZ = "福州市市场监督管理局"
XM = "厦门市市场监督管理局"
PT = "平潭综合实验区市场监督管理局"


def world(**kw):
    return World(suite.cleanup, **kw)


@suite.test
def first_cycle_files_and_replies():
    fx = fixtures()
    w = world()
    # Fuzhou: a complete submission (summary + two captioned photos)
    w.deliver(submission(
        "fz@fuzhou.example.cn", "福州市市场监督管理局“质量月”活动总结及图片",
        "图1：质量月启动仪式\n图2：质量义诊现场\n",
        [("活动总结.pdf", fx["summary.pdf"]),
         ("IMG_0001.jpg", fx["photo_1024x768.jpg"]),
         ("IMG_0002.jpg", fx["photo_768x1024.jpg"])]))
    # Xiamen, identified by its registered address; one photo too small
    w.deliver(submission(
        "xm@xiamen.example.cn", "质量月活动材料", "",
        [("厦门活动总结.docx", fx["summary.docx"]),
         ("现场照片.jpg", fx["photo_1024x768.jpg"]),
         ("小图.jpg", fx["photo_800x600.jpg"])], name_style="foxmail"))
    # unknown sender, nothing about the campaign: held in silence
    w.deliver(plain("someone@example.org", "你好", "周末一起吃饭吗"))
    before = {uid: w.dovecot.flags(uid) for uid in w.dovecot.uids()}
    w.intake.once()

    st = {u["name"]: u for u in w.intake.status()["units"]}
    suite.eq("fz.status", st[FZ]["status"], "complete")
    suite.eq("fz.photos", st[FZ]["photos"], 2)
    suite.eq("fz.summaries", st[FZ]["summaries"], 1)
    suite.eq("fz.uncaptioned", st[FZ]["photos_uncaptioned"], 0)
    suite.eq("xm.photos", st[XM]["photos"], 1)
    suite.eq("xm.status", st[XM]["status"], "complete")
    suite.eq("pt.status", st[PT]["status"], "missing")
    suite.eq("pt.missing", st[PT]["missing"], ["summary", "photos"])

    photos = w.intake.unit_files(FZ, "图片")
    suite.eq("fz.photo_files", photos, ["01-质量月启动仪式.jpg", "02-质量义诊现场.jpg"])
    got = open(os.path.join(w.intake.state_dir, "units", FZ, "图片", photos[0]), "rb").read()
    suite.eq("fz.photo_bytes", hashlib.sha256(got).hexdigest(),
             hashlib.sha256(fx["photo_1024x768.jpg"]).hexdigest())
    suite.eq("fz.summary_files", w.intake.unit_files(FZ, "总结"), ["活动总结.pdf"])
    suite.eq("xm.summary_files", w.intake.unit_files(XM, "总结"), ["厦门活动总结.docx"])

    msgs = w.intake.messages()
    suite.eq("messages.count", len(msgs), 3)
    by_from = {m["from"]: m for m in msgs}
    xm = by_from["xm@xiamen.example.cn"]
    suite.eq("xm.verdict", xm["verdict"], "partial")
    small = [i for i in xm["items"] if i["name"] == "小图.jpg"]
    suite.check("xm.small_refused", small and not small[0]["accepted"], repr(small))
    suite.check("xm.reason", small and "800×600" in (small[0]["reason"] or "")
                and "1024×768" in small[0]["reason"], repr(small))
    other = by_from["someone@example.org"]
    suite.eq("other.kind", other["kind"], "other")
    suite.eq("other.verdict", other["verdict"], "ignored")

    # raw copies, named by their hash
    db = w.intake.db()
    for sha, in db.execute("SELECT sha256 FROM messages"):
        p = os.path.join(w.intake.state_dir, "raw", sha[:2], sha + ".eml")
        suite.check("raw." + sha[:8], os.path.exists(p) and
                    hashlib.sha256(open(p, "rb").read()).hexdigest() == sha)
    suite.eq("db.journal", db.execute("PRAGMA journal_mode").fetchone()[0], "wal")

    replies = w.replies()
    suite.eq("replies.count", len(replies), 2)
    rcpts = sorted(r["env"]["rcpt_tos"][0] for r in replies)
    suite.eq("replies.rcpts", rcpts, ["fz@fuzhou.example.cn", "xm@xiamen.example.cn"])
    for r in replies:
        m = r["msg"]
        who = r["env"]["rcpt_tos"][0].split("@")[0]
        suite.eq(who + ".auto_submitted", m["Auto-Submitted"], "auto-replied")
        suite.check(who + ".subject", str(m["Subject"]).startswith("回复："), m["Subject"])
        suite.check(who + ".in_reply_to", m["In-Reply-To"] and m["In-Reply-To"].startswith("<test-"),
                    repr(m["In-Reply-To"]))
        suite.check(who + ".message_id", m["Message-ID"] is not None)
        suite.check(who + ".tls_auth", r["env"]["tls"] and r["env"]["auth"] == "smtpuser", repr(r["env"]))
    verdicts = {r["env"]["rcpt_tos"][0]: r["msg"]["X-Intake-Verdict"] for r in replies}
    suite.eq("fz.reply_verdict", verdicts["fz@fuzhou.example.cn"], "accepted")
    suite.eq("xm.reply_verdict", verdicts["xm@xiamen.example.cn"], "partial")
    body = [r for r in replies if r["env"]["rcpt_tos"][0].startswith("xm")][0]["msg"].get_content()
    suite.check("xm.reply_reason", "800×600" in body, body[:400])

    # the server: \Seen as it was, nothing else changed
    after = {uid: w.dovecot.flags(uid) for uid in w.dovecot.uids()}
    suite.eq("imap.flags_unchanged", after, before)

    # a second cycle: nothing new, nothing sent
    w.intake.once()
    suite.eq("second.messages", len(w.intake.messages()), 3)
    suite.eq("second.replies", len(w.replies()), 2)

    # a later message is picked up; a byte-identical redelivery is not answered
    w.deliver(submission("pingtan@example.cn",
                         "平潭综合实验区市场监督管理局质量月活动总结", "",
                         [("总结.pdf", fx["summary.pdf"])]))
    w.intake.once()
    st = {u["name"]: u for u in w.intake.status()["units"]}
    suite.eq("later.pt", st[PT]["status"], "incomplete")
    suite.eq("later.pt_missing", st[PT]["missing"], ["photos"])
    suite.eq("later.replies", len(w.replies()), 3)
    raw = open(os.path.join(w.intake.state_dir, "raw",
                            *(lambda s: (s[:2], s + ".eml"))(
                                db.execute("SELECT sha256 FROM messages WHERE id=1").fetchone()[0])),
               "rb").read()
    w.deliver(raw)
    w.intake.once()
    msgs = w.intake.messages()
    suite.eq("dup.count", len(msgs), 5)
    suite.eq("dup.verdict", msgs[-1]["verdict"], "duplicate")
    suite.eq("dup.no_reply", len(w.replies()), 3)
    suite.eq("dup.photos", w.intake.unit_status(FZ)["photos"], 2)


@suite.test
def restart_does_not_reread():
    fx = fixtures()
    w = world()
    w.deliver(submission("fz@fuzhou.example.cn", "福州市局质量月图片",
                         "1、开幕式", [("IMG_1.jpg", fx["photo_1024x768.jpg"])]))
    w.intake.once()
    db = w.intake.db()
    cursor = db.execute("SELECT uidvalidity, last_uid FROM cursor").fetchall()
    suite.eq("cursor", cursor, [(w.dovecot.uidvalidity(), max(w.dovecot.uids()))])
    # a new process, same state: nothing fetched again
    r = w.intake.once("-v")
    suite.check("restart.no_fetch", b"fetched" not in r.stderr, r.stderr.decode()[-500:])
    suite.eq("restart.messages", len(w.intake.messages()), 1)
    suite.eq("restart.replies", len(w.replies()), 1)
    suite.eq("restart.caption", w.intake.unit_files(FZ, "图片"), ["01-开幕式.jpg"])


@suite.test
def captions_in_a_later_mail():
    fx = fixtures()
    w = world()
    w.deliver(submission("fz@fuzhou.example.cn", "福州市市场监督管理局质量月图片", "",
                         [("IMG_1.jpg", fx["photo_1024x768.jpg"])]))
    w.intake.once()
    u = w.intake.unit_status(FZ)
    suite.eq("uncaptioned.count", u["photos_uncaptioned"], 1)
    suite.check("uncaptioned.missing", "captions" in u["missing"], repr(u["missing"]))
    suite.eq("uncaptioned.file", w.intake.unit_files(FZ, "图片"), ["01.jpg"])
    # a later mail that only carries the caption
    w.deliver(plain("fz@fuzhou.example.cn", "补充图片说明", "图1：质量月广场宣传活动"))
    w.intake.once()
    u = w.intake.unit_status(FZ)
    suite.eq("captioned.count", u["photos_uncaptioned"], 0)
    suite.eq("captioned.file", w.intake.unit_files(FZ, "图片"), ["01-质量月广场宣传活动.jpg"])
    msgs = w.intake.messages()
    suite.eq("captioned.kind", msgs[-1]["kind"], "submission")
    suite.eq("captioned.verdict", msgs[-1]["verdict"], "accepted")
    replies = w.replies()
    suite.eq("captioned.replies", len(replies), 2)
    body = replies[-1]["msg"].get_content()
    suite.check("captioned.reply_lists", "质量月广场宣传活动" in body, body[:500])


@suite.test
def import_from_files():
    fx = fixtures()
    w = world()
    path = os.path.join(w.dir, "sub.eml")
    with open(path, "wb") as f:
        f.write(submission("ly@longyan.example.cn", "龙岩市市场监督管理局质量月活动总结",
                           "", [("总结.pdf", fx["summary.pdf"])]))
    r = w.intake.ctl("import", path)
    suite.check("import.output", b"message 1" in r.stdout, r.stdout)
    u = w.intake.unit_status("龙岩市市场监督管理局")
    suite.eq("import.summaries", u["summaries"], 1)
    suite.eq("import.source", w.intake.db().execute("SELECT source FROM messages").fetchone()[0], "import")
    # queued, sent by the daemon's next cycle
    suite.eq("import.not_sent_yet", len(w.replies()), 0)
    w.intake.once()
    suite.eq("import.sent", len(w.replies()), 1)


@suite.test
def campaign_start_and_maildir_source():
    fx = fixtures()
    w = world(campaign={"start": "2022-08-29T00:00:00+08:00"})
    old = w.deliver(submission("fz@fuzhou.example.cn", "福州市局去年的质量月总结", "",
                               [("旧总结.pdf", fx["summary.pdf"])]),
                    internaldate=1630000000)          # 2021-08-26
    w.deliver(submission("fz@fuzhou.example.cn", "福州市局质量月总结", "",
                         [("总结.pdf", fx["summary.pdf"])]),
              internaldate=1664330000)                # 2022-09-28
    w.intake.once()
    msgs = w.intake.messages()
    suite.eq("start.count", len(msgs), 1)
    suite.eq("start.subject", msgs and msgs[0]["subject"], "福州市局质量月总结")
    suite.eq("start.old_untouched", w.dovecot.flags(old), [])
    # the same intake over a Maildir (the demo's and the benchmark's source)
    md = os.path.join(w.dir, "Maildir")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(md, sub))
    with open(os.path.join(md, "new", "1664330000.M1P1.test"), "wb") as f:
        f.write(submission("xm@xiamen.example.cn", "厦门市局质量月总结", "",
                           [("总结.pdf", fx["summary.pdf"])]))
    from intake import Intake
    it = Intake(os.path.join(w.dir, "md-intake"), mailbox_url="maildir:" + md)
    it.once()
    it.once()
    suite.eq("maildir.messages", len(it.messages()), 1)
    suite.eq("maildir.summaries", it.unit_status(XM)["summaries"], 1)


@suite.test
def bad_config_and_signals():
    import signal
    import subprocess
    from harness import INTAKED
    w = world()
    with open(w.intake.conf, "a") as f:
        f.write("\n[rules]\nphoto_max = six\n")
    r = w.intake.run(INTAKED, "--check-config", check=False)
    suite.eq("config.exit", r.returncode, 2)
    err = r.stderr.decode()
    suite.check("config.names_key", "[rules] photo_max" in err and "intake.conf" in err, err)
    w.intake.write_config()
    r = w.intake.run(INTAKED, "--check-config", check=False)
    suite.eq("config.ok", r.returncode, 0)
    # a warning (here: [smtp] from is not the login) names the file once
    warnings = [l for l in r.stderr.decode().splitlines() if "warning" in l]
    suite.check("config.warning", warnings and all(
        l.count(w.intake.conf) == 1 and "[smtp] from" in l for l in warnings),
        warnings)
    # SIGTERM: the daemon finishes and exits 0, leaving nothing running
    p = subprocess.Popen([INTAKED, "-c", w.intake.conf], stderr=subprocess.PIPE)
    time.sleep(2)
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = None
    err = p.stderr.read().decode()
    p.stderr.close()
    suite.eq("sigterm.exit", rc, 0)
    suite.check("sigterm.logged", "stopped" in err, err[-300:])
    # one daemon per state directory
    p1 = subprocess.Popen([INTAKED, "-c", w.intake.conf], stderr=subprocess.DEVNULL)
    time.sleep(1)
    r = w.intake.run(INTAKED, check=False, timeout=30)
    p1.send_signal(signal.SIGTERM)
    p1.wait(timeout=30)
    suite.eq("lock.exit", r.returncode, 1)
    suite.check("lock.message", b"another intaked" in r.stderr, r.stderr)


suite.main()
