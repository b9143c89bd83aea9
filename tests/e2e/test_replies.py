"""Replies people trust, and no mail loops (issue 4): retries with backoff
against the SMTP peer's fault injection, failures the office can see, a
corpus of auto-generated mail that is never answered, bounces of our own
replies matched back to them, two intakes mailing each other, header
injection through the reply, and the per-sender daily limit."""
import base64
import email.header
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import Suite, TOP                 # noqa: E402
from intake import UNITS                       # noqa: E402
from mail import submission                    # noqa: E402
from world import World, fixtures, unique_jpegs  # noqa: E402

suite = Suite("replies")
FZ = "福州市市场监督管理局"
XM = "厦门市市场监督管理局"
OWN = "7263441@qq.com"
AUTO_GEN = os.path.join(TOP, "tests", "fixtures", "auto", "gen.py")


def world(units=None, **kw):
    """A world whose units.conf gives the units in units (name -> the
    addresses) instead of the usual ones."""
    table = [(n, c, a, (units or {}).get(n, addr)) for n, c, a, addr in UNITS]
    return World(suite.cleanup, units=table, **kw)


def fz_mail(sender, n=1, subject=None, **kw):
    fx = fixtures()
    return submission(sender, subject or "%s质量月活动照片%d" % (FZ, n),
                      "图1：质量月启动仪式\n",
                      [("IMG_%04d.jpg" % n, fx["photo_1024x768.jpg"])],
                      message_id="<replies-%d.%s>" % (n, sender), **kw)


def outbox(it, rcpt=None):
    """Outbox rows as dicts, by id."""
    db = it.db()
    try:
        cols = ["id", "message", "rcpt", "rfc_id", "state", "attempts",
                "next_attempt", "last_code", "last_error", "kind", "unit"]
        sql = "SELECT %s FROM outbox" % ", ".join(cols)
        args = ()
        if rcpt is not None:
            sql += " WHERE rcpt=?"
            args = (rcpt,)
        return [dict(zip(cols, r)) for r in db.execute(sql + " ORDER BY id", args)]
    finally:
        db.close()


def make_due(it):
    db = it.db()
    db.execute("UPDATE outbox SET next_attempt=0 WHERE state='queued'")
    db.commit()
    db.close()


def timed_once(it):
    t0 = int(time.time())
    it.once()
    return t0, int(time.time()) + 1


@suite.test
def retry_with_backoff():
    """4xx at RCPT, 4xx after DATA and a dropped connection: queued again
    with 1, 2, 4 ... minutes' delay, at most an hour; a good address in
    the same cycles is sent once."""
    faulty = {FZ: "tempfail-fz@fuzhou.example.cn",
              XM: "data4xx-xm@xiamen.example.cn",
              "漳州市市场监督管理局": "drop-zz@zhangzhou.example.cn"}
    w = world(units=faulty)
    for n, addr in enumerate(faulty.values(), 1):
        w.deliver(fz_mail(addr, n, subject="质量月活动照片"))
    w.deliver(fz_mail("qz@quanzhou.example.cn", 9, subject="泉州市市场监督管理局质量月活动照片"))
    texts = {"tempfail": "Simulated temporary failure",
             "data4xx": "Simulated temp failure after DATA", "drop": None}
    codes = {"tempfail": 451, "data4xx": 451}
    delay = 60
    for cycle in range(1, 9):
        if cycle > 1:
            make_due(w.intake)
        t0, t1 = timed_once(w.intake)
        rows = {r["rcpt"].split("-")[0]: r for r in outbox(w.intake)
                if r["rcpt"] in faulty.values()}
        suite.eq("c%d.rows" % cycle, sorted(rows), sorted(texts))
        for k, r in rows.items():
            if cycle > 2 and k != "tempfail":
                continue
            name = "c%d.%s" % (cycle, k)
            suite.eq(name + ".state", r["state"], "queued")
            suite.eq(name + ".attempts", r["attempts"], cycle)
            suite.check(name + ".next_attempt",
                        t0 + delay <= r["next_attempt"] <= t1 + delay,
                        "next_attempt-now=%d, want %d" % (r["next_attempt"] - t0, delay))
            if k in codes:
                suite.eq(name + ".code", r["last_code"], codes[k])
                suite.check(name + ".text", texts[k] in (r["last_error"] or ""),
                            repr(r["last_error"]))
            else:
                suite.check(name + ".error", bool(r["last_error"]), repr(r))
        if cycle == 2:
            # the other two are left to wait: only tempfail is made due
            db = w.intake.db()
            db.execute("UPDATE outbox SET state='sent' WHERE rcpt IN (?, ?)",
                       (faulty[XM], faulty["漳州市市场监督管理局"]))
            db.commit()
            db.close()
        delay = min(delay * 2, 3600)
    suite.eq("capped", delay, 3600)
    # not due: a cycle does not try again
    before = len(w.smtp.mail_commands())
    w.intake.once()
    suite.eq("not_due.no_attempt", len(w.smtp.mail_commands()), before)
    suite.eq("not_due.attempts", [r["attempts"] for r in outbox(
        w.intake, faulty[FZ])], [8])
    # the good address: one reply, sent once over all these cycles
    good = [r for r in w.replies()
            if r["env"]["rcpt_tos"] == ["qz@quanzhou.example.cn"]]
    suite.eq("good.sent_once", len(good), 1)
    suite.eq("good.row", [(r["state"], r["attempts"]) for r in outbox(
        w.intake, "qz@quanzhou.example.cn")], [("sent", 1)])
    suite.eq("captured_total", len(w.replies()), 1)
    st = w.intake.status()
    suite.eq("status.failed_replies", st["failed_replies"], 0)


@suite.test
def permanent_failures_shown_and_resend():
    bad = {FZ: "permfail-fz@fuzhou.example.cn", XM: "data5xx-xm@xiamen.example.cn"}
    w = world(units=bad)
    w.deliver(fz_mail(bad[FZ], 1))
    w.deliver(fz_mail(bad[XM], 2, subject="厦门市市场监督管理局质量月活动照片"))
    w.intake.once()
    rows = {r["rcpt"]: r for r in outbox(w.intake)}
    want = {bad[FZ]: (550, "5.1.1 Simulated: no such user"),
            bad[XM]: (554, "Simulated rejection after DATA")}
    for rcpt, (code, text) in want.items():
        r = rows.get(rcpt, {})
        name = rcpt.split("-")[0]
        suite.eq(name + ".state", r.get("state"), "failed")
        suite.eq(name + ".attempts", r.get("attempts"), 1)
        suite.eq(name + ".code", r.get("last_code"), code)
        suite.check(name + ".server_text", text in (r.get("last_error") or ""),
                    repr(r.get("last_error")))
    suite.eq("captured", len(w.replies()), 0)
    # what the office sees
    st = w.intake.status()
    suite.eq("status.failed_replies", st.get("failed_replies"), 2)
    text = w.intake.ctl("status").stdout.decode()
    suite.check("status.text", "发送失败的回复 2" in text, text[-300:])
    # ... and which reply failed, and why (intakectl messages)
    by_id = {m["id"]: m for m in w.intake.messages()}
    for rcpt, (code, text) in want.items():
        m = by_id.get(rows.get(rcpt, {}).get("message"), {})
        name = "messages." + rcpt.split("-")[0]
        suite.eq(name + ".reply_state", m.get("reply_state"), "failed")
        suite.eq(name + ".reply_to", m.get("reply_to"), rcpt)
        suite.check(name + ".reply_error", text in (m.get("reply_error") or ""), repr(m))
    text = w.intake.ctl("messages").stdout.decode()
    suite.check("messages.text", "发送失败" in text and "Simulated" in text, text[-600:])
    # a failed reply is not tried again by itself
    before = len(w.smtp.mail_commands())
    make_due(w.intake)
    w.intake.once()
    suite.eq("no_retry", len(w.smtp.mail_commands()), before)
    # intakectl resend queues it again; the next cycle tries once more
    mid = rows[bad[FZ]]["message"]
    r = w.intake.ctl("resend", str(mid))
    suite.check("resend.says", "queued" in r.stdout.decode(), r.stdout)
    suite.eq("resend.state", outbox(w.intake, bad[FZ])[0]["state"], "queued")
    w.intake.once()
    r = outbox(w.intake, bad[FZ])[0]
    suite.eq("resend.tried", (r["state"], r["attempts"], r["last_code"]),
             ("failed", 2, 550))
    suite.eq("resend.mail_commands", len(w.smtp.mail_commands()), before + 1)
    suite.eq("resend.other_untouched", outbox(w.intake, bad[XM])[0]["attempts"], 1)
    bad_resend = w.intake.ctl("resend", "999999", check=False)
    suite.eq("resend.unknown_exit", bad_resend.returncode, 1)


def generated_auto():
    d = tempfile.mkdtemp(prefix="intake-auto-")
    try:
        photo = os.path.join(d, "photo.jpg")
        with open(photo, "wb") as f:
            f.write(fixtures()["photo_1024x768.jpg"])
        out = os.path.join(d, "out")
        subprocess.run(["/usr/bin/python3", AUTO_GEN, out, photo], check=True)
        res = {}
        for name in sorted(os.listdir(out)):
            with open(os.path.join(out, name), "rb") as f:
                res[name] = f.read()
        return res
    finally:
        shutil.rmtree(d, ignore_errors=True)


@suite.test
def auto_generated_never_answered():
    mails = generated_auto()
    auto = sorted(n for n in mails if not n.startswith("control-"))
    controls = sorted(n for n in mails if n.startswith("control-"))
    suite.check("corpus.size", len(auto) >= 30, len(auto))
    suite.check("corpus.real", len([n for n in auto if n.startswith("corpus-")]) >= 25)
    w = world()
    by_id = {}
    for name in auto + controls:
        m = re.search(rb"(?im)^message-id:\s*<([^>]+)>", mails[name])
        by_id[m.group(1).decode() if m else None] = name
        w.deliver(mails[name])
    w.intake.once()
    msgs = w.intake.messages()
    suite.eq("messages", len(msgs), len(auto) + len(controls))
    answered = []
    for r in w.replies():
        irt = (r["msg"]["In-Reply-To"] or "").strip("<> ")
        answered.append(by_id.get(irt, "?" + irt))
    suite.eq("answered_only_controls", sorted(answered), controls)
    for name in controls:
        suite.check("control." + name[11:-4], name in answered)
    control_ids = {i for i, n in by_id.items() if n in controls}
    wrong = ["%s %s %s" % (m["kind"], m.get("message_id"), m.get("subject"))
             for m in msgs if m["kind"] not in ("auto", "bounce")
             and m.get("message_id") not in control_ids]
    suite.eq("kinds", wrong, [])
    # and not later either
    make_due(w.intake)
    w.intake.once()
    suite.eq("second_cycle", len(w.replies()), len(controls))
    suite.eq("outbox_rows", len(outbox(w.intake)), len(controls))


def dsn(reply_raw, rcpt, rfc822_headers=False):
    """A delivery-status report for one of our replies."""
    head = reply_raw.split(b"\r\n\r\n", 1)[0] + b"\r\n"
    inner = head if rfc822_headers else reply_raw
    ctype = b"text/rfc822-headers" if rfc822_headers else b"message/rfc822"
    return b"\r\n".join([
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example.cn>",
        b"To: " + OWN.encode(),
        b"Subject: Undelivered Mail Returned to Sender",
        b"Date: Mon, 19 Sep 2022 10:00:00 +0800",
        b"Message-ID: <dsn-" + rcpt.encode() + b">",
        b"Auto-Submitted: auto-replied",
        b"MIME-Version: 1.0",
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
        b"", b"--B", b"Content-Type: text/plain", b"",
        b"<" + rcpt.encode() + b">: host mx said: 550 5.1.1 User unknown",
        b"", b"--B", b"Content-Type: message/delivery-status", b"",
        b"Reporting-MTA: dns; mx.example.cn", b"",
        b"Final-Recipient: rfc822; " + rcpt.encode(),
        b"Action: failed", b"Status: 5.1.1", b"",
        b"--B", b"Content-Type: " + ctype, b"", inner,
        b"--B--", b""])


@suite.test
def bounce_of_our_reply():
    w = world()
    w.deliver(fz_mail("fz@fuzhou.example.cn", 1))
    w.deliver(fz_mail("xm@xiamen.example.cn", 2, subject=XM + "质量月活动照片"))
    w.intake.once()
    replies = {r["env"]["rcpt_tos"][0]: r for r in w.replies()}
    suite.eq("replies", sorted(replies), ["fz@fuzhou.example.cn", "xm@xiamen.example.cn"])
    if len(replies) != 2:
        return
    w.deliver(dsn(replies["fz@fuzhou.example.cn"]["raw"], "fz@fuzhou.example.cn"))
    w.deliver(dsn(replies["xm@xiamen.example.cn"]["raw"], "xm@xiamen.example.cn",
                  rfc822_headers=True))
    w.intake.once()
    suite.eq("no_reply_to_bounces", len(w.replies()), 2)
    for rcpt, unit in (("fz@fuzhou.example.cn", FZ), ("xm@xiamen.example.cn", XM)):
        name = rcpt.split("@")[0]
        rows = outbox(w.intake, rcpt)
        suite.eq(name + ".state", [r["state"] for r in rows], ["failed"])
        suite.check(name + ".why", rows and "退信" in (rows[0]["last_error"] or ""),
                    repr(rows))
        db = w.intake.db()
        und = db.execute("SELECT undeliverable FROM units WHERE name=?",
                         (unit,)).fetchone()
        db.close()
        suite.eq(name + ".undeliverable", und and und[0], rcpt)
        import json as _json
        shown = _json.loads(w.intake.ctl("show", unit, "--json").stdout)
        suite.eq(name + ".show_undeliverable", shown.get("undeliverable"), [rcpt])
        text = w.intake.ctl("show", unit).stdout.decode()
        suite.check(name + ".show_text", "退信地址" in text and rcpt in text, text[:300])
    st = w.intake.status()
    suite.eq("status.failed_replies", st.get("failed_replies"), 2)
    text = w.intake.ctl("status").stdout.decode()
    suite.check("status.text", "发送失败的回复 2" in text, text[-300:])
    subs = {m["from"]: m for m in w.intake.messages() if m["kind"] == "submission"}
    for rcpt in ("fz@fuzhou.example.cn", "xm@xiamen.example.cn"):
        m = subs.get(rcpt, {})
        suite.eq("messages.%s.reply_state" % rcpt[:2], m.get("reply_state"), "failed")
        suite.check("messages.%s.reply_error" % rcpt[:2], "退信" in (m.get("reply_error") or ""),
                    repr(m))
    bounces = [m for m in w.intake.messages() if m["kind"] == "bounce"]
    suite.eq("messages.bounces", len(bounces), 2)
    suite.check("messages.error", all("bounce of one of our replies" in (m["error"] or "")
                                      for m in bounces), repr(bounces))
    # a bounce of something else matches nothing
    w.deliver(dsn(b"Message-ID: <not-ours@example.cn>\r\nSubject: x\r\n\r\nx\r\n",
                  "qz@quanzhou.example.cn"))
    w.intake.once()
    st = w.intake.status()
    suite.eq("foreign_bounce.failed_replies", st.get("failed_replies"), 2)
    foreign = [m for m in w.intake.messages() if m.get("message_id") == "dsn-qz@quanzhou.example.cn"]
    suite.check("foreign_bounce.kind", foreign and foreign[0]["kind"] == "bounce"
                and not foreign[0]["error"], repr(foreign))


@suite.test
def two_intakes_do_not_loop():
    a_addr, b_addr = "office-a@a.example.cn", "office-b@b.example.cn"
    a = world(units={FZ: b_addr}, from_addr=a_addr)
    b = world(units={FZ: a_addr}, from_addr=b_addr)
    # each gets a genuine submission from the other's address
    a.deliver(fz_mail(b_addr, 1))
    b.deliver(fz_mail(a_addr, 2))
    moved = {id(a): 0, id(b): 0}
    for rnd in range(4):
        a.intake.once()
        b.intake.once()
        for src, dst in ((a, b), (b, a)):
            new = src.replies()[moved[id(src)]:]
            moved[id(src)] += len(new)
            for r in new:
                dst.deliver(r["raw"])
    suite.eq("a.replies", len(a.replies()), 1)
    suite.eq("b.replies", len(b.replies()), 1)
    for x, name in ((a, "a"), (b, "b")):
        kinds = sorted(m["kind"] for m in x.intake.messages())
        suite.eq(name + ".kinds", kinds, ["auto", "submission"])


def enc(text):
    return "=?UTF-8?B?%s?=" % base64.b64encode(text.encode()).decode()


HEADER_NAMES = re.compile(rb"^([A-Za-z0-9-]+):")


@suite.test
def header_injection_in_replies():
    w = world()
    evil_subject = enc(FZ + "质量月\r\nBcc: evil1@example.org\r\nX-Evil: 1")
    evil_name = enc("张三\r\nBcc: evil2@example.org")
    raws = [
        fz_mail("fz@fuzhou.example.cn", 1, subject=None,
                headers={"X-Dummy": "1"}),
    ]
    # built by hand: the Subject and From as a hostile client writes them
    fx = fixtures()
    photo = base64.encodebytes(fx["photo_1024x768.jpg"]).replace(b"\n", b"\r\n")
    for n, (frm, subj, extra) in enumerate([
            ("fz@fuzhou.example.cn", evil_subject, ""),
            ("%s <xm@xiamen.example.cn>" % evil_name, XM + "质量月", ""),
            ("zz@zhangzhou.example.cn", "漳州市市场监督管理局质量月",
             "Reply-To: %s <qz@quanzhou.example.cn>\r\n" % enc("a\r\nCc: evil3@example.org")),
            ("sm@sanming.example.cn", "三明市市场监督管理局质量月",
             "Reply-To: \"sm\r\n Bcc: evil4@example.org\" <sm@sanming.example.cn>\r\n"),
            ("pt@putian.example.cn", "莆田市市场监督管理局质量月",
             "Reply-To: =?UTF-8?Q?pt=0D=0A?=@putian.example.cn\r\n"),
    ], 2):
        raws.append(("From: %s\r\nTo: %s\r\nSubject: %s\r\n%s"
                     "Date: Mon, 19 Sep 2022 10:00:00 +0800\r\n"
                     "Message-ID: <inj-%d@example.cn>\r\nMIME-Version: 1.0\r\n"
                     "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n"
                     "--B\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n"
                     "图1：质量月启动仪式\r\n--B\r\nContent-Type: image/jpeg\r\n"
                     "Content-Disposition: attachment; filename=\"a.jpg\"\r\n"
                     "Content-Transfer-Encoding: base64\r\n\r\n"
                     % (frm, OWN, subj, extra, n)).encode() + photo + b"--B--\r\n")
    for raw in raws:
        w.deliver(raw)
    w.intake.once()
    replies = w.replies()
    sent = [r for r in outbox(w.intake) if r["state"] == "sent"]
    # an encoded word in Reply-To is no address to answer: that one
    # message gets no reply
    suite.eq("replies", len(replies), 5)
    suite.eq("outbox_sent", len(sent), 5)
    allowed = {"fz@fuzhou.example.cn", "xm@xiamen.example.cn",
               "qz@quanzhou.example.cn", "sm@sanming.example.cn"}
    # the envelope as intake gave it
    for row in sent:
        suite.check("rcpt." + row["rcpt"][:8], row["rcpt"] in allowed and
                    "\r" not in row["rcpt"] and "\n" not in row["rcpt"], repr(row["rcpt"]))
    suite.eq("rcpts_distinct", len({r["rcpt"] for r in sent}), 4)
    for r in replies:
        rcpts = r["env"]["rcpt_tos"]
        who = rcpts[0].split("@")[0].strip() if rcpts else "?"
        suite.eq(who + ".one_rcpt", len(rcpts), 1)
        head = r["raw"].split(b"\r\n\r\n", 1)[0]
        unfolded = re.sub(rb"\r\n[ \t]", b" ", head).split(b"\r\n")
        names = [l.split(b":", 1)[0].strip().lower().decode("latin-1") for l in unfolded]
        suite.check(who + ".well_formed", all(HEADER_NAMES.match(l) for l in unfolded),
                    repr(unfolded))
        suite.eq(who + ".no_injected_header",
                 [n for n in names if n in ("bcc", "cc", "x-evil")], [])
        suite.eq(who + ".each_once", sorted(set(names)), sorted(names))
        subject = [l for l in unfolded if l.lower().startswith(b"subject:")]
        value = str(email.header.make_header(email.header.decode_header(
            subject[0].split(b":", 1)[1].decode("ascii").strip()))) if subject else ""
        suite.check(who + ".subject_one_line", subject and "\r" not in value
                    and "\n" not in value and value.startswith("回复"), repr(value))
        # To: exactly the envelope recipient (a display name is dropped)
        to = [l for l in unfolded if l.lower().startswith(b"to:")]
        sent_to = [o["rcpt"].encode() for o in sent]
        suite.check(who + ".to_is_rcpt", to and to[0][3:].strip() in sent_to
                    and to[0].count(b"@") == 1, repr(to))
    suite.check("envelope_from", all(c["mail_from"] == OWN
                                     for c in w.smtp.mail_commands()))


@suite.test
def per_sender_daily_limit():
    w = world(limits={"replies_per_sender": 2})
    jpegs = unique_jpegs(4)
    for n in range(3):
        w.deliver(submission("fz@fuzhou.example.cn", "%s质量月活动照片%d" % (FZ, n),
                             "图1：质量月启动仪式\n", [("IMG_%d.jpg" % n, jpegs[n])]))
    w.deliver(submission("xm@xiamen.example.cn", XM + "质量月活动照片", "",
                         [("IMG.jpg", jpegs[3])]))
    w.intake.once()
    rc = sorted(r["env"]["rcpt_tos"][0] for r in w.replies())
    suite.eq("replies", rc, ["fz@fuzhou.example.cn"] * 2 + ["xm@xiamen.example.cn"])
    fz = [m for m in w.intake.messages() if m["from"] == "fz@fuzhou.example.cn"]
    suite.eq("all_filed", sorted(m["kind"] for m in fz), ["submission"] * 3)
    suite.eq("fz.photos", w.intake.unit_status(FZ)["photos"], 3)
    # the next one that day gets no reply either
    w.deliver(submission("fz@fuzhou.example.cn", FZ + "质量月补充照片", "",
                         [("IMG_x.jpg", unique_jpegs(5)[4])]))
    w.intake.once()
    suite.eq("still_two", len([r for r in w.replies()
                               if r["env"]["rcpt_tos"] == ["fz@fuzhou.example.cn"]]), 2)
    # a day later the count starts again
    db = w.intake.db()
    db.execute("UPDATE outbox SET created=created-86401")
    db.commit()
    db.close()
    w.deliver(submission("fz@fuzhou.example.cn", FZ + "质量月第二天", "",
                         [("IMG_y.jpg", unique_jpegs(6)[5])]))
    w.intake.once()
    suite.eq("next_day", len([r for r in w.replies()
                              if r["env"]["rcpt_tos"] == ["fz@fuzhou.example.cn"]]), 3)


@suite.test
def x_auto_response_suppress_alone_is_answered():
    w = world()
    w.deliver(fz_mail("fz@fuzhou.example.cn", 1,
                      headers={"X-Auto-Response-Suppress": "All",
                               "Auto-Submitted": "no"}))
    w.deliver(fz_mail("xm@xiamen.example.cn", 2, subject=XM + "质量月活动照片",
                      headers={"X-Auto-Response-Suppress": "DR, RN, NRN, OOF, AutoReply"}))
    w.intake.once()
    rc = sorted(r["env"]["rcpt_tos"][0] for r in w.replies())
    suite.eq("answered", rc, ["fz@fuzhou.example.cn", "xm@xiamen.example.cn"])
    for r in w.replies():
        suite.eq("auto_submitted." + r["env"]["rcpt_tos"][0][:2],
                 r["msg"]["Auto-Submitted"], "auto-replied")
        suite.check("loop_header." + r["env"]["rcpt_tos"][0][:2],
                    r["msg"]["X-Intake-Loop"] is not None)


@suite.test
def forgotten_attachments_are_named():
    """A unit's campaign mail without any attachment is told so, not sent
    a refusal with an empty list of reasons."""
    w = world()
    w.deliver(submission("fz@fuzhou.example.cn", FZ + "质量月活动总结",
                         "附件是我单位的活动总结，请查收。\n", [],
                         message_id="<forgot.fz@fuzhou.example.cn>"))
    w.intake.once()
    replies = w.replies()
    if not suite.eq("one reply", len(replies), 1):
        return
    body = replies[0]["msg"].get_content()
    suite.check("says no attachment", "本邮件未带任何附件" in body, body)
    suite.eq("verdict", replies[0]["msg"]["X-Intake-Verdict"], "rejected")
    suite.check("missing listed", "活动总结" in body and "图片" in body, body)


if __name__ == "__main__":
    suite.main()
