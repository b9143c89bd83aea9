"""What arrives outside the mailbox: intakectl add (a downloaded large
attachment, files from a USB stick), receive (a paper summary) and
withdraw, against the real pipeline: Dovecot over IMAPS, the SMTP peer,
intaked --once and intakectl."""
import csv
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
import gen                                     # noqa: E402
from harness import Suite, INTAKECTL           # noqa: E402
from mail import submission                    # noqa: E402
from world import World, fixtures              # noqa: E402

suite = Suite("manual")
FZ = "福州市市场监督管理局"
XM = "厦门市市场监督管理局"
PT = "平潭综合实验区市场监督管理局"
LY = "龙岩市市场监督管理局"
BEFORE = 1664330000        # 2022-09-28, before the deadline
QQ_LINK = ("https://mail.qq.com/cgi-bin/ftnExs_download?"
           "k=2a3b4c5d6e7f&t=exs_ftn_download&code=1a2b3c4d")


def world(**kw):
    return World(suite.cleanup, **kw)


def sha(data):
    return hashlib.sha256(data).hexdigest()


def put(w, name, data):
    """A file as the office has it on disk (a download, a USB stick)."""
    d = os.path.join(w.dir, "office")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def ctl(w, *args):
    return w.intake.ctl(*args, check=False)


def show(w, unit):
    return json.loads(w.intake.ctl("show", unit, "--json").stdout)


def item(w, unit, id):
    for it in show(w, unit)["items"]:
        if it["id"] == id:
            return it
    return None


def db_item(w, id):
    db = w.intake.db()
    db.row_factory = lambda c, r: {d[0]: v for d, v in zip(c.description, r)}
    return db.execute("SELECT * FROM items WHERE id=?", (id,)).fetchone()


def out(r):
    return r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")


def outbox_count(w):
    return w.intake.db().execute("SELECT COUNT(*) FROM outbox").fetchone()[0]


_photo_dir = []


def photos(n, start=0):
    """n distinct acceptable JPEGs (cjpeg, one size each)."""
    if not _photo_dir:
        _photo_dir.append(tempfile.mkdtemp(prefix="intake-manual-"))
        suite.cleanup(lambda: shutil.rmtree(_photo_dir[0], ignore_errors=True))
    d = _photo_dir[0]
    res = []
    for k in range(start, start + n):
        p = os.path.join(d, "p%d.jpg" % k)
        if not os.path.exists(p):
            gen.jpeg(p, 1024 + 8 * k, 768)
        with open(p, "rb") as f:
            res.append(f.read())
    return res


def link_item(w, msg, name):
    """The link item the pipeline recorded for a QQ 超大附件 in msg."""
    links = [i for i in msg["items"] if i["type"] == "link"]
    suite.eq("link.recorded", [(i["name"], i["url"]) for i in links],
             [(name, QQ_LINK)])
    return links[0]["id"] if links else 0


@suite.test
def link_fulfilled_by_a_download():
    fx = fixtures()
    w = world(rules={"video_required": "true"})
    w.deliver(submission(
        "fz@fuzhou.example.cn", "福州市市场监督管理局质量月活动总结、图片及视频",
        "图1：质量月启动仪式\n\n视频较大，以超大附件发送：\n"
        "从QQ邮箱发来的超大附件\n活动视频.mp4 (1.2G, 2022年10月13日 10:00 到期)\n"
        "进入下载页面：" + QQ_LINK + "\n",
        [("活动总结.pdf", fx["summary.pdf"]),
         ("IMG_0001.jpg", fx["photo_1024x768.jpg"])]), internaldate=BEFORE)
    w.intake.once()
    msg = w.intake.messages()[0]
    link = link_item(w, msg, "活动视频.mp4")
    u = w.intake.unit_status(FZ)
    suite.eq("before.status", u["status"], "incomplete")
    suite.eq("before.missing", u["missing"], ["video"])
    suite.eq("before.links", u["links"], 1)
    replies = len(w.replies())

    video = put(w, "活动视频.mp4", fx["video_1280x720.mp4"])
    r = ctl(w, "add", FZ, video, "--link", str(link))
    suite.eq("add.exit", r.returncode, 0)
    text = out(r)
    suite.check("add.says_link", "link %d fulfilled" % link in text, text)
    suite.check("add.says_complete", FZ + ": complete" in text, text)
    u = w.intake.unit_status(FZ)
    suite.eq("after.status", u["status"], "complete")
    suite.eq("after.videos", u["videos"], 1)
    suite.eq("after.links", u["links"], 0)
    suite.eq("after.missing", u["missing"], [])
    # the link arrived in time: the download made later is not late
    suite.eq("after.late", u["late"], False)
    suite.eq("after.files", w.intake.unit_files(FZ, "视频"), ["活动视频.mp4"])
    with open(os.path.join(w.intake.state_dir, "units", FZ, "视频",
                           "活动视频.mp4"), "rb") as f:
        suite.eq("after.bytes", sha(f.read()), sha(fx["video_1280x720.mp4"]))

    items = show(w, FZ)["items"]
    new = [i for i in items if i["origin"] == "manual"]
    suite.eq("item.count", len(new), 1)
    new = new[0] if new else {}
    suite.eq("item.type", new.get("type"), "video")
    suite.eq("item.accepted", new.get("accepted"), True)
    suite.eq("item.size", (new.get("width"), new.get("height")), (1280, 720))
    suite.eq("item.path", new.get("path"), "units/%s/视频/活动视频.mp4" % FZ)
    suite.eq("link.state", item(w, FZ, link)["state"], "replaced")
    row = db_item(w, new.get("id", 0)) or {}
    suite.check("item.added_by", row.get("added_by"), repr(row))
    suite.check("item.note_names_link",
                "条目 %d" % link in (row.get("note") or ""), repr(row))
    suite.eq("item.message", row.get("message"), None)
    suite.eq("item.received", row.get("received"), BEFORE)
    lrow = db_item(w, link)
    suite.check("link.note", "条目 %d" % new.get("id", 0) in (lrow["note"] or ""),
                repr(lrow))

    # no --notify: nothing queued, nothing sent
    suite.eq("quiet.outbox", outbox_count(w), replies)
    w.intake.once()
    suite.eq("quiet.replies", len(w.replies()), replies)

    # the link is fulfilled: not again; a summary is no link
    r = ctl(w, "add", FZ, video, "--link", str(link))
    suite.eq("again.exit", r.returncode, 2)
    suite.check("again.says", "already" in out(r), out(r))
    summary = [i for i in items if i["type"] == "summary"][0]
    r = ctl(w, "add", FZ, video, "--link", str(summary["id"]))
    suite.eq("not_link.exit", r.returncode, 2)
    suite.check("not_link.says", "not a large-file link" in out(r), out(r))
    r = ctl(w, "add", XM, video, "--link", str(link))
    suite.eq("other_unit.exit", r.returncode, 2)
    suite.eq("refusals.nothing_added", len(show(w, FZ)["items"]), len(items))


@suite.test
def refused_as_a_mailed_file_is():
    fx = fixtures()
    w = world()
    w.deliver(submission(
        "xm@xiamen.example.cn", "厦门市市场监督管理局质量月活动材料", "",
        [("厦门活动总结.docx", fx["summary.docx"]),
         ("现场视频.mp4", fx["video_640x480.mp4"]),
         ("小图.jpg", fx["photo_800x600.jpg"])]), internaldate=BEFORE)
    w.intake.once()
    mailed = {i["name"]: i for i in w.intake.messages()[0]["items"]}
    before = w.intake.unit_status(XM)

    r = ctl(w, "add", XM, put(w, "现场视频.mp4", fx["video_640x480.mp4"]),
            put(w, "小图.jpg", fx["photo_800x600.jpg"]),
            "--received", "2022-10-09")
    suite.eq("exit", r.returncode, 0)
    added = {i["name"]: i for i in show(w, XM)["items"]
             if i["origin"] == "manual"}
    for name in ("现场视频.mp4", "小图.jpg"):
        suite.eq(name + ".refused", added.get(name, {}).get("accepted"), False)
        suite.eq(name + ".same_reason", added.get(name, {}).get("reason"),
                 mailed[name]["reason"])
        suite.check(name + ".printed", (mailed[name]["reason"] or "-") in out(r),
                    out(r))
    suite.check("reason.figure", "640×480" in (added.get("现场视频.mp4", {})
                                               .get("reason") or ""), repr(added))
    suite.eq("nothing.filed.video", w.intake.unit_files(XM, "视频"), [])
    suite.eq("nothing.filed.photo", w.intake.unit_files(XM, "图片"), [])
    after = w.intake.unit_status(XM)
    suite.eq("counts.unchanged", (after["photos"], after["videos"]),
             (before["photos"], before["videos"]))

    # the same summary by hand is a duplicate; a good photo is taken
    r = ctl(w, "add", XM, put(w, "厦门活动总结.docx", fx["summary.docx"]),
            put(w, "质量宣传.jpg", fx["photo_1024x768.jpg"]),
            "--received", "2022-10-09 17:30")
    suite.eq("dup.exit", r.returncode, 0)
    added = {i["name"]: i for i in show(w, XM)["items"]
             if i["origin"] == "manual"}
    dup = added.get("厦门活动总结.docx", {})
    suite.eq("dup.refused", dup.get("accepted"), False)
    suite.check("dup.reason", "内容相同" in (dup.get("reason") or ""), repr(dup))
    photo = added.get("质量宣传.jpg", {})
    suite.eq("photo.caption", photo.get("caption"), "质量宣传")
    suite.eq("photo.file", w.intake.unit_files(XM, "图片"), ["01-质量宣传.jpg"])
    suite.eq("photo.late", photo.get("late"), False)
    u = w.intake.unit_status(XM)
    suite.eq("status", (u["status"], u["summaries"], u["photos"]),
             ("complete", 1, 1))


@suite.test
def paper_summary_completes_a_unit():
    fx = fixtures()
    w = world()
    w.deliver(submission(
        "pingtan@example.cn", "平潭综合实验区市场监督管理局质量月活动图片",
        "图1：标准化宣传\n图2：计量进社区\n",
        [("IMG_1.jpg", fx["photo_1024x768.jpg"]),
         ("IMG_2.jpg", fx["photo_768x1024.jpg"])]), internaldate=BEFORE)
    w.intake.once()
    u = w.intake.unit_status(PT)
    suite.eq("before.status", u["status"], "incomplete")
    suite.eq("before.missing", u["missing"], ["summary"])

    r = ctl(w, "receive", "平潭市场监管局", "summary", "--paper",
            "--note", "10月9日邮寄收到", "--received", "2022-10-09")
    suite.eq("exit", r.returncode, 0)
    suite.check("printed", "纸质版活动总结" in out(r), out(r))
    u = w.intake.unit_status(PT)
    suite.eq("after.status", u["status"], "complete")
    suite.eq("after.summaries", u["summaries"], 1)
    suite.eq("after.missing", u["missing"], [])
    suite.eq("after.late", u["late"], False)
    paper = [i for i in show(w, PT)["items"] if i["origin"] == "paper"]
    suite.eq("item.count", len(paper), 1)
    p = paper[0] if paper else {}
    suite.eq("item.fields", (p.get("type"), p.get("accepted"), p.get("path"),
                             p.get("state")),
             ("summary", True, None, "active"))
    row = db_item(w, p.get("id", 0)) or {}
    suite.check("item.note", "10月9日邮寄收到" in (row.get("note") or ""), repr(row))
    suite.check("item.added_by", row.get("added_by"), repr(row))
    suite.eq("no_mail", outbox_count(w), 1)
    suite.eq("no_folder", w.intake.unit_files(PT, "总结"), [])

    # withdrawn (entered for the wrong unit): the unit lacks it again
    r = ctl(w, "withdraw", str(p.get("id", 0)), "--reason", "登记错了单位")
    suite.eq("withdraw.exit", r.returncode, 0)
    u = w.intake.unit_status(PT)
    suite.eq("withdrawn.missing", u["missing"], ["summary"])
    suite.eq("withdrawn.state", item(w, PT, p.get("id", 0))["state"],
             "withdrawn")


@suite.test
def withdrawn_photo_frees_a_place():
    w = world()
    jpegs = photos(7)
    w.deliver(submission(
        "fz@fuzhou.example.cn", "福州市市场监督管理局质量月图片",
        "".join("图%d：活动现场%d\n" % (k + 1, k + 1) for k in range(7)),
        [("IMG_%04d.jpg" % (k + 1), jpegs[k]) for k in range(7)]),
        internaldate=BEFORE)
    w.intake.once()
    u = w.intake.unit_status(FZ)
    suite.eq("mailed.photos", u["photos"], 6)
    items = w.intake.messages()[0]["items"]
    seventh = [i for i in items if i["name"] == "IMG_0007.jpg"][0]
    suite.eq("mailed.seventh_refused", seventh["accepted"], False)
    third = [i for i in items if i["name"] == "IMG_0003.jpg"][0]
    suite.eq("mailed.third_file", os.path.basename(third["path"]),
             "03-活动现场3.jpg")

    r = ctl(w, "withdraw", str(third["id"]), "--reason", "与主题无关")
    suite.eq("withdraw.exit", r.returncode, 0)
    suite.check("withdraw.printed", ".withdrawn/03-活动现场3.jpg" in out(r), out(r))
    u = w.intake.unit_status(FZ)
    suite.eq("withdrawn.photos", u["photos"], 5)
    files = w.intake.unit_files(FZ, "图片")
    suite.check("withdrawn.file_gone", "03-活动现场3.jpg" not in files, repr(files))
    suite.eq("withdrawn.kept", w.intake.unit_files(FZ, ".withdrawn"),
             ["03-活动现场3.jpg"])
    it = item(w, FZ, third["id"])
    suite.eq("withdrawn.state", it["state"], "withdrawn")
    suite.eq("withdrawn.path", it["path"], "units/%s/.withdrawn/03-活动现场3.jpg" % FZ)
    suite.check("withdrawn.note", "与主题无关" in (db_item(w, third["id"])["note"] or ""))
    # nothing refused earlier is promoted
    suite.eq("not_promoted", item(w, FZ, seventh["id"])["accepted"], False)
    # a restart keeps the withdrawn file (the database knows it)
    w.intake.once()
    suite.eq("restart.kept", w.intake.unit_files(FZ, ".withdrawn"),
             ["03-活动现场3.jpg"])

    extra = photos(2, start=7)
    r = ctl(w, "add", FZ, put(w, "补拍照片.jpg", extra[0]),
            "--received", "2022-10-10 18:00")
    suite.eq("add.exit", r.returncode, 0)
    suite.check("add.filed", "图片/03-补拍照片.jpg" in out(r), out(r))
    suite.eq("add.photos", w.intake.unit_status(FZ)["photos"], 6)
    suite.check("add.file", "03-补拍照片.jpg" in w.intake.unit_files(FZ, "图片"))
    r = ctl(w, "add", FZ, put(w, "再来一张.jpg", extra[1]))
    suite.eq("limit.exit", r.returncode, 0)
    last = show(w, FZ)["items"][-1]
    suite.eq("limit.refused", last["accepted"], False)
    suite.check("limit.reason", "上限 6 张" in (last["reason"] or ""), repr(last))
    suite.eq("limit.photos", w.intake.unit_status(FZ)["photos"], 6)

    r = ctl(w, "withdraw", str(third["id"]))
    suite.eq("again.exit", r.returncode, 2)
    suite.check("again.says", "withdrawn already" in out(r), out(r))
    r = ctl(w, "withdraw", str(seventh["id"]))
    suite.eq("refused.exit", r.returncode, 2)
    suite.check("refused.says", "not accepted" in out(r), out(r))


@suite.test
def received_date_decides_lateness():
    fx = fixtures()
    w = world(campaign={"late_policy": "refuse"})
    # entered on a later day, arrived on 9 October: in time
    r = ctl(w, "add", LY, put(w, "龙岩活动总结.pdf", fx["summary.pdf"]),
            "--received", "2022-10-09")
    suite.eq("in_time.exit", r.returncode, 0)
    items = show(w, LY)["items"]
    suite.eq("in_time.accepted", items[-1]["accepted"], True)
    suite.eq("in_time.late", items[-1]["late"], False)
    # an explicit zone; 23:59:59+08:00 is the deadline itself
    r = ctl(w, "add", LY, put(w, "开幕式.jpg", fx["photo_1024x768.jpg"]),
            "--received", "2022-10-10T15:59:59Z")
    items = show(w, LY)["items"]
    suite.eq("deadline.accepted", items[-1]["accepted"], True)
    # no --received: now, long after the 2022 deadline
    r = ctl(w, "add", LY, put(w, "闭幕式.jpg", fx["photo_768x1024.jpg"]))
    suite.eq("late.exit", r.returncode, 0)
    items = show(w, LY)["items"]
    suite.eq("late.refused", items[-1]["accepted"], False)
    suite.eq("late.reason", items[-1]["reason"],
             "附件“闭幕式.jpg”于截止时间 2022-10-10 23:59 之后收到，未收录")
    suite.eq("late.nothing_filed", w.intake.unit_files(LY, "图片"),
             ["01-开幕式.jpg"])
    # paper: a minute after the deadline is late, the day before is not
    r = ctl(w, "receive", LY, "summary", "--paper",
            "--received", "2022-10-11 00:00")
    items = show(w, LY)["items"]
    suite.eq("paper_late.refused", items[-1]["accepted"], False)
    r = ctl(w, "receive", LY, "summary", "--paper",
            "--received", "2022-10-10 09:00")
    items = show(w, LY)["items"]
    suite.eq("paper.accepted", items[-1]["accepted"], True)
    u = w.intake.unit_status(LY)
    suite.eq("status", (u["status"], u["summaries"], u["photos"], u["late"]),
             ("complete", 2, 1, False))

    # accept policy: taken and flagged
    w.intake.campaign["late_policy"] = "accept"
    w.intake.write_config()
    r = ctl(w, "add", LY, put(w, "闭幕式.jpg", fx["photo_768x1024.jpg"]))
    items = show(w, LY)["items"]
    suite.eq("flagged.accepted", items[-1]["accepted"], True)
    suite.eq("flagged.late", items[-1]["late"], True)
    suite.eq("flagged.unit_late", w.intake.unit_status(LY)["late"], True)


@suite.test
def notify_queues_the_usual_reply():
    fx = fixtures()
    w = world()
    subject = "福州市市场监督管理局质量月活动总结及视频"
    w.deliver(submission(
        "fz@fuzhou.example.cn", subject,
        "视频以超大附件发送：\n活动视频.mp4 (1.2G)\n进入下载页面：" + QQ_LINK + "\n",
        [("活动总结.pdf", fx["summary.pdf"])],
        message_id="<notify-1@fuzhou.example.cn>"), internaldate=BEFORE)
    w.intake.once()
    suite.eq("mailed.replies", len(w.replies()), 1)
    link = link_item(w, w.intake.messages()[0], "活动视频.mp4")
    r = ctl(w, "add", "福州市局", put(w, "活动视频.mp4", fx["video_1280x720.mp4"]),
            put(w, "质量义诊.jpg", fx["photo_1024x768.jpg"]),
            put(w, "小图.jpg", fx["photo_800x600.jpg"]),
            "--link", str(link), "--notify")
    suite.eq("add.exit", r.returncode, 0)
    suite.check("add.says_queued", "queued for fz@fuzhou.example.cn" in out(r),
                out(r))
    # queued only: intaked sends it
    suite.eq("queued.not_sent", len(w.replies()), 1)
    w.intake.once()
    replies = w.replies()
    suite.eq("sent.count", len(replies), 2)
    m = replies[-1]["msg"] if len(replies) > 1 else {}
    env = replies[-1]["env"] if len(replies) > 1 else {}
    suite.eq("sent.rcpt", env.get("rcpt_tos"), ["fz@fuzhou.example.cn"])
    suite.eq("sent.verdict", m["X-Intake-Verdict"], "partial")
    suite.eq("sent.auto", m["Auto-Submitted"], "auto-replied")
    # it answers the mail that brought the link
    suite.eq("sent.in_reply_to", m["In-Reply-To"], "<notify-1@fuzhou.example.cn>")
    suite.eq("sent.subject", str(m["Subject"]), "回复：" + subject)
    body = m.get_content() if len(replies) > 1 else ""
    suite.check("sent.lists_photo", "质量义诊.jpg" in body and "说明：质量义诊" in body,
                body[:600])
    suite.check("sent.lists_video", "活动视频.mp4" in body and "1280×720" in body,
                body[:600])
    suite.check("sent.reason", "800×600" in body, body[:600])
    suite.check("sent.downloaded", "已由办公室下载" in body, body[:800])
    suite.check("sent.complete", "材料已齐全" in body, body[:900])

    # a paper summary can be announced the same way
    r = ctl(w, "receive", FZ, "summary", "--paper", "--notify")
    suite.eq("paper.exit", r.returncode, 0)
    w.intake.once()
    replies = w.replies()
    suite.eq("paper.sent", len(replies), 3)
    body = replies[-1]["msg"].get_content() if len(replies) > 2 else ""
    suite.check("paper.body", "纸质版" in body, body[:600])

    # a unit with no address and no mail: --notify is refused up front
    w2_units = [u for u in w.intake.units]
    w.intake.units = [(n, c, a, "" if n == LY else ad) for n, c, a, ad in w2_units]
    w.intake.write_config()
    r = ctl(w, "add", LY, put(w, "龙岩总结.pdf", fx["summary.pdf"]), "--notify")
    suite.eq("no_address.exit", r.returncode, 2)
    suite.check("no_address.says", "no address" in out(r), out(r))
    suite.eq("no_address.nothing", show(w, LY)["items"], [])

    # an intake without [smtp] sends no mail: --notify is refused
    w.intake.smtp_url = None
    w.intake.write_config()
    r = ctl(w, "receive", FZ, "summary", "--paper", "--notify")
    suite.eq("no_smtp.exit", r.returncode, 2)
    suite.check("no_smtp.says", "sends no mail" in out(r), out(r))


@suite.test
def shown_in_export_and_report():
    fx = fixtures()
    w = world()
    ctl(w, "add", FZ, put(w, "质量义诊.jpg", fx["photo_1024x768.jpg"]),
        put(w, "总结.pdf", fx["summary.pdf"]), "--received", "2022-10-09")
    ctl(w, "receive", XM, "summary", "--paper", "--received", "2022-10-08")
    ids = {i["name"]: i["id"] for i in show(w, FZ)["items"]}
    r = ctl(w, "withdraw", str(ids.get("总结.pdf", 0)))
    suite.eq("withdraw.exit", r.returncode, 0)
    u = w.intake.unit_status(FZ)
    suite.eq("status.fz", (u["photos"], u["summaries"]), (1, 0))
    suite.eq("status.xm", w.intake.unit_status(XM)["summaries"], 1)

    exp = os.path.join(w.dir, "export")
    r = ctl(w, "export", exp)
    suite.eq("export.exit", r.returncode, 0)
    with open(os.path.join(exp, "汇总表.csv"), encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    by_name = {row["原文件名"]: row for row in rows if row["原文件名"]}
    photo = by_name.get("质量义诊.jpg", {})
    suite.eq("export.photo_origin", photo.get("来源"), "手工补录")
    suite.eq("export.photo_file", photo.get("导出文件"),
             FZ + "/图片/01-质量义诊.jpg")
    suite.check("export.photo_exists", os.path.exists(
        os.path.join(exp, FZ, "图片", "01-质量义诊.jpg")))
    suite.eq("export.withdrawn", by_name.get("总结.pdf", {}).get("状态"),
             "已撤回")
    suite.eq("export.paper_origin",
             by_name.get("纸质版活动总结", {}).get("来源"), "纸质")
    suite.eq("export.paper_unit",
             by_name.get("纸质版活动总结", {}).get("单位"), XM)

    html = os.path.join(w.dir, "report.html")
    r = ctl(w, "report", html)
    suite.eq("report.exit", r.returncode, 0)
    with open(html, encoding="utf-8") as f:
        page = f.read()
    suite.check("report.manual", "手工补录" in page, page[:300])
    suite.check("report.paper", "纸质版活动总结" in page, page[:300])


@suite.test
def errors_are_usage_errors():
    fx = fixtures()
    w = world()
    pdf = put(w, "总结.pdf", fx["summary.pdf"])
    cases = [
        ("unknown_unit", ["add", "福州", pdf], "no unit"),
        ("no_file", ["add", FZ], "needs"),
        ("missing_file", ["add", FZ, pdf + ".gone"], "not a readable file"),
        ("bad_date", ["add", FZ, pdf, "--received", "2022-13-01"], "not a date"),
        ("bad_time", ["add", FZ, pdf, "--received", "2022-10-09 25:00"],
         "not a date"),
        ("future_date", ["add", FZ, pdf, "--received", "2099-01-01"],
         "in the future"),
        ("unknown_link", ["add", FZ, pdf, "--link", "999"], "no item 999"),
        ("bad_link", ["add", FZ, pdf, "--link", "abc"], "not an item id"),
        ("receive_unknown_unit", ["receive", "某单位", "summary", "--paper"],
         "no unit"),
        ("receive_no_paper", ["receive", FZ, "summary"], "--paper"),
        ("receive_photo", ["receive", FZ, "photo", "--paper"], "only a summary"),
        ("receive_bad_date", ["receive", FZ, "summary", "--paper",
                              "--received", "10/09"], "not a date"),
        ("withdraw_unknown", ["withdraw", "999"], "no item 999"),
        ("withdraw_bad_id", ["withdraw", "x1"], "not an item id"),
        ("withdraw_none", ["withdraw"], "needs one ITEM"),
    ]
    for name, args, says in cases:
        r = ctl(w, *args)
        suite.eq(name + ".exit", r.returncode, 2)
        suite.check(name + ".says", says in r.stderr.decode(errors="replace"),
                    out(r))
    db = w.intake.db()
    suite.eq("nothing.items", db.execute("SELECT COUNT(*) FROM items").fetchone()[0], 0)
    suite.eq("nothing.files", w.intake.unit_files(FZ, "总结"), [])


@suite.test
def add_waits_for_the_processing_lock():
    fx = fixtures()
    w = world()
    w.intake.ctl("status")          # creates the state directory
    lock = open(os.path.join(w.intake.state_dir, "process.lock"), "a+")
    fcntl.flock(lock, fcntl.LOCK_EX)
    p = subprocess.Popen([INTAKECTL, "-c", w.intake.conf, "add", FZ,
                          put(w, "开幕式.jpg", fx["photo_1024x768.jpg"])],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(1.0)
        suite.eq("waits", p.poll(), None)
        suite.eq("waits.nothing", w.intake.unit_files(FZ, "图片"), [])
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
    suite.eq("then.exit", p.wait(timeout=60), 0)
    p.stdout.close()
    p.stderr.close()
    suite.eq("then.filed", w.intake.unit_files(FZ, "图片"), ["01-开幕式.jpg"])


suite.main()
