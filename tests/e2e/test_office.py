"""The office's view against real servers: status, show, assign, resend,
reprocess, export (folders, 汇总表.xlsx read back with openpyxl, 汇总表.csv),
the HTML report (parsed, thumbnails counted, size bounded), report_path
after a daemon cycle, remind (dry run, queued, sent, once a day) and the
daily digest, on a mailbox of twelve units."""
import csv
import hashlib
import html.parser
import io
import json
import os
import pty
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import INTAKECTL, Suite           # noqa: E402
from intake import UNITS, Intake               # noqa: E402
from mail import plain, submission             # noqa: E402
from world import World, fixtures, unique_jpegs  # noqa: E402

suite = Suite("office")
SEPT = 1664330000      # 2022-09-28 09:53 +08:00, before the deadline
LATE = 1665590400      # 2022-10-13, after it
OFFICE = "office@example.cn"
NAMES = [u[0] for u in UNITS]
FZ, XM, ZZ, QZ, SM, PT, NP, LY, ND, PINGTAN, GSL, JLY = NAMES
THUMB = '<img src="data:image/jpeg;base64,'

_photos = None


def photos():
    """Distinct JPEGs: 1024x768 ones and a few 4000x3000 'camera' ones."""
    global _photos
    if _photos is None:
        _photos = unique_jpegs(24) + unique_jpegs(3, 4000, 3000)
    return _photos


def world(**kw):
    campaign = {"digest_to": OFFICE}
    campaign.update(kw.pop("campaign", {}))
    return World(suite.cleanup, campaign=campaign, **kw)


def set_storage(w, key, value):
    """Adds a key to [storage] of the instance's intake.conf."""
    with open(w.intake.conf) as f:
        text = f.read()
    text = text.replace("[storage]\n", "[storage]\n%s = %s\n" % (key, value), 1)
    with open(w.intake.conf, "w") as f:
        f.write(text)


def mailbox(w):
    """Twelve units, as they answer: most of them, in every way."""
    fx = fixtures()
    p = photos()
    d = w.deliver
    # 福州: complete, three captioned photos (one caption with markup
    # characters) and an HD video
    d(submission("fz@fuzhou.example.cn", "福州市市场监督管理局“质量月”活动总结及图片",
                 "图1：质量月启动仪式\n图2：质量义诊现场\n图3：宣传<咨询>&服务\n",
                 [("活动总结.pdf", fx["summary.pdf"]),
                  ("IMG_0001.jpg", p[0]), ("IMG_0002.jpg", p[1]),
                  ("IMG_0003.jpg", p[24]),
                  ("宣传片.mp4", fx["video_1280x720.mp4"])]), internaldate=SEPT)
    # 厦门: Foxmail names, one photo too small
    d(submission("xm@xiamen.example.cn", "质量月活动材料", "",
                 [("厦门活动总结.docx", fx["summary.docx"]),
                  ("现场照片.jpg", p[2]),
                  ("小图.jpg", fx["photo_800x600.jpg"])], name_style="foxmail"),
      internaldate=SEPT + 60)
    # 漳州: photos with camera names and no captions, no summary
    d(submission("zz@zhangzhou.example.cn", "漳州市市场监管局质量月图片", "",
                 [("IMG_2001.jpg", p[3]), ("IMG_2002.jpg", p[4])]),
      internaldate=SEPT + 120)
    # 泉州: six captioned photos and a seventh over the limit
    body = "".join("图%d：泉州活动现场%d\n" % (i + 1, i + 1) for i in range(7))
    d(submission("qz@quanzhou.example.cn", "泉州市市场监督管理局质量月活动总结",
                 body, [("总结.ofd", fx["summary.ofd"])] +
                 [("DSC_%04d.jpg" % i, p[5 + i] if i < 5 else p[25 + i - 5])
                  for i in range(7)]), internaldate=SEPT + 180)
    # 三明: a summary whose name starts like a formula, a photo, an SD video
    d(submission("sm@sanming.example.cn", "三明市市场监督管理局质量月活动",
                 "图1：三明质量月启动", [("=1+2 总结.pdf", fx["summary.pdf"]),
                                      ("启动仪式.jpg", p[12]),
                                      ("录像.mp4", fx["video_640x480.mp4"])]),
      internaldate=SEPT + 240)
    # 莆田: late
    d(submission("pt@putian.example.cn", "莆田市市场监督管理局质量月活动总结",
                 "图1：莆田质量宣传", [("总结.pdf", fx["summary.pdf"]),
                                   ("宣传.jpg", p[13])]), internaldate=LATE)
    # 南平: a photo, then a correction that replaces it
    d(submission("np@nanping.example.cn", "南平市市场监督管理局质量月材料",
                 "图1：南平旧照片", [("总结.pdf", fx["summary.pdf"]),
                                  ("旧.jpg", p[14])]), internaldate=SEPT + 300)
    d(submission("np@nanping.example.cn", "更正：南平市市场监督管理局质量月图片",
                 "图1：南平新照片", [("新.jpg", p[15])]), internaldate=SEPT + 360)
    # 龙岩: a zip with GBK names, and a summary
    d(submission("ly@longyan.example.cn", "龙岩市市场监督管理局质量月活动总结",
                 "活动照片1.jpg：龙岩质量月现场",
                 [("照片.zip", fx["gbk_names.zip"]), ("总结.docx", fx["summary.docx"])]),
      internaldate=SEPT + 420)
    # 省工商联: from an address units.conf does not know; photo uncaptioned
    d(submission("lianluo@qq.example.com", "福建省工商业联合会质量月活动总结", "",
                 [("总结.pdf", fx["summary.pdf"]), ("IMG_5555.jpg", p[16])]),
      internaldate=SEPT + 480)
    # a stranger writes about the campaign without naming a unit: held
    d(submission("someone@example.org", "质量月活动总结", "请查收",
                 [("活动总结.pdf", fx["summary.pdf"])]), internaldate=SEPT + 540)
    # 宁德 sends nothing by mail (a paper summary and a photo by hand);
    # 平潭 and 省计量院 send nothing at all
    w.intake.once()
    ph = os.path.join(w.dir, "IMG_9001.jpg")
    with open(ph, "wb") as f:
        f.write(p[17])
    w.intake.ctl("receive", ND, "summary", "--paper", "--note", "9月30日收到纸质版")
    w.intake.ctl("add", ND, ph)


def status_by_name(w):
    return {u["name"]: u for u in w.intake.status()["units"]}


def held_photos(w):
    return sum(u["photos"] for u in w.intake.status()["units"])


def db_rows(w, sql, *args):
    db = w.intake.db()
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


class Balance(html.parser.HTMLParser):
    """Tags must nest and close (void elements excepted)."""
    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> closes %r" % (tag, self.stack[-1:]))
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def check_html(name, path):
    with open(path, "rb") as f:
        raw = f.read()
    text = raw.decode("utf-8")
    b = Balance()
    b.feed(text)
    b.close()
    suite.check(name + ".balanced", not b.errors and not b.stack,
                "%r open %r" % (b.errors[:3], b.stack[-3:]))
    try:
        ET.fromstring(raw)
        ok, why = True, ""
    except ET.ParseError as e:
        ok, why = False, str(e)
    suite.check(name + ".xml_wellformed", ok, why)
    return text, "".join(b.text)


@suite.test
def office_views():
    fx = fixtures()
    w = world()
    mailbox(w)
    st = status_by_name(w)
    suite.eq("status.units", len(st), 12)
    suite.eq("status.fz", st[FZ]["status"], "complete")
    suite.eq("status.zz", (st[ZZ]["status"], st[ZZ]["missing"]),
             ("incomplete", ["summary", "captions"]))
    suite.eq("status.qz_photos", st[QZ]["photos"], 6)
    suite.eq("status.pt_late", st[PT]["late"], True)
    suite.eq("status.nd", (st[ND]["status"], st[ND]["summaries"], st[ND]["photos"]),
             ("incomplete", 1, 1))
    suite.eq("status.pingtan", st[PINGTAN]["status"], "missing")
    suite.eq("status.unidentified", w.intake.status()["unidentified_messages"], 1)
    text = w.intake.ctl("status").stdout.decode()
    suite.check("status.text", "未报送" in text and PINGTAN in text, text[:300])

    # show: history of the correction
    show = json.loads(w.intake.ctl("show", NP, "--json").stdout)
    states = sorted(i["state"] for i in show["items"] if i["type"] == "photo")
    suite.eq("show.history", states, ["active", "replaced"])

    # assign the held message to 平潭: filed, answered
    msgs = w.intake.messages()
    held = [m for m in msgs if m["state"] == "held"]
    suite.eq("assign.held", len(held), 1)
    replies_before = len(w.replies())
    w.intake.ctl("assign", str(held[0]["id"]), PINGTAN)
    w.intake.once()
    suite.eq("assign.status", w.intake.unit_status(PINGTAN)["status"], "incomplete")
    suite.eq("assign.replied", len(w.replies()), replies_before + 1)

    # resend the reply to 厦门
    xm = [m for m in w.intake.messages() if m["unit"] == XM][0]
    r = w.intake.ctl("resend", str(xm["id"]))
    suite.check("resend.output", b"queued" in r.stdout, r.stdout)
    w.intake.once()
    rc = [x["env"]["rcpt_tos"][0] for x in w.replies()]
    suite.eq("resend.sent_twice", rc.count("xm@xiamen.example.cn"), 2)

    # a withdrawn item is history, not a file
    qz_item = [i for m in w.intake.messages() if m["unit"] == QZ
               for i in m["items"] if i["type"] == "photo" and i["accepted"]][-1]
    w.intake.ctl("withdraw", str(qz_item["id"]), "--reason", "重复")

    check_export(w, fx)
    check_report(w)
    check_remind(w)


def check_export(w, fx):
    out = os.path.join(w.dir, "export")
    r = w.intake.ctl("export", out)
    suite.check("export.output", b"12 units" in r.stdout, r.stdout)
    suite.eq("export.folders", sorted(n for n in os.listdir(out) if "汇总表" not in n),
             sorted(NAMES))
    suite.check("export.tables", os.path.isfile(os.path.join(out, "汇总表.xlsx")) and
                os.path.isfile(os.path.join(out, "汇总表.csv")), os.listdir(out))
    suite.eq("export.no_temp", [n for n in os.listdir(out) if n.startswith(".")], [])
    # every unit's folder has what the state directory files, same bytes
    same = True
    for name in NAMES:
        for sub in ("总结", "图片", "视频"):
            a = w.intake.unit_files(name, sub)
            d = os.path.join(out, name, sub)
            b = sorted(os.listdir(d)) if os.path.isdir(d) else []
            if a != b:
                same = False
                print("  %s/%s: state %r, export %r" % (name, sub, a, b))
    suite.check("export.same_files", same)
    suite.eq("export.fz_photos", sorted(os.listdir(os.path.join(out, FZ, "图片"))),
             ["01-质量月启动仪式.jpg", "02-质量义诊现场.jpg", "03-宣传_咨询_&服务.jpg"])
    suite.eq("export.qz_photos", len(os.listdir(os.path.join(out, QZ, "图片"))), 5)
    src = os.path.join(w.intake.state_dir, "units", FZ, "图片", "01-质量月启动仪式.jpg")
    dst = os.path.join(out, FZ, "图片", "01-质量月启动仪式.jpg")
    suite.eq("export.hard_link", os.stat(dst).st_ino, os.stat(src).st_ino)
    suite.eq("export.pingtan_folder", os.path.isdir(os.path.join(out, JLY)), True)

    # the workbook, read back
    import openpyxl
    wb = openpyxl.load_workbook(os.path.join(out, "汇总表.xlsx"), read_only=True)
    suite.eq("xlsx.sheets", wb.sheetnames, ["单位", "明细"])
    units = list(wb["单位"].iter_rows(values_only=True))
    suite.eq("xlsx.unit_rows", len(units) - 1, 12)
    suite.eq("xlsx.unit_names", [u[0] for u in units[1:]], NAMES)
    rows = list(wb["明细"].iter_rows(values_only=True))
    head, rows = rows[0], rows[1:]
    col = {h: i for i, h in enumerate(head)}
    n_items = db_rows(w, "SELECT COUNT(*) FROM items WHERE unit IS NOT NULL")[0][0]
    with_items = {u for u, in db_rows(w, "SELECT DISTINCT unit FROM items WHERE unit IS NOT NULL")}
    empty = len([n for n in NAMES if n not in with_items])
    suite.eq("xlsx.one_row_per_item", len(rows), n_items + empty)
    suite.eq("xlsx.empty_unit_rows", empty, 1)   # 省计量院 only
    ids = sorted(r[col["条目编号"]] for r in rows if r[col["条目编号"]] is not None)
    suite.eq("xlsx.item_ids", ids, sorted(i for i, in db_rows(
        w, "SELECT id FROM items WHERE unit IS NOT NULL")))
    by_name = {}
    for r in rows:
        by_name.setdefault(r[col["原文件名"]], r)
    ok = by_name.get("IMG_0001.jpg")
    suite.check("xlsx.photo_row", ok is not None and ok[col["图片说明"]] == "质量月启动仪式"
                and ok[col["状态"]] == "已收录" and ok[col["分辨率"]] == "1024×768"
                and ok[col["文件大小（字节）"]] == len(photos()[0])
                and ok[col["导出文件"]] == FZ + "/图片/01-质量月启动仪式.jpg"
                and ok[col["收到时间"]] == "2022-09-28 09:53", repr(ok))
    small = by_name.get("小图.jpg")
    suite.check("xlsx.refused_row", small is not None and small[col["状态"]] == "未收录"
                and "800×600" in (small[col["未收录原因"]] or ""), repr(small))
    late = by_name.get("宣传.jpg")
    suite.check("xlsx.late_row", late is not None and late[col["逾期"]] == "逾期", repr(late))
    paper = [r for r in rows if r[col["来源"]] == "纸质"]
    suite.check("xlsx.paper_row", len(paper) == 1 and paper[0][col["单位"]] == ND
                and "纸质版" in (paper[0][col["备注"]] or ""), repr(paper))
    manual = [r for r in rows if r[col["来源"]] == "手工补录"]
    suite.check("xlsx.manual_row", len(manual) == 1 and manual[0][col["状态"]] == "已收录",
                repr(manual))
    replaced = by_name.get("旧.jpg")
    suite.check("xlsx.replaced_row", replaced is not None and
                replaced[col["状态"]] == "已被更正替换" and replaced[col["导出文件"]] is None,
                repr(replaced))
    withdrawn = [r for r in rows if r[col["状态"]] == "已撤回"]
    suite.eq("xlsx.withdrawn_row", len(withdrawn), 1)
    nobody = [r for r in rows if r[col["单位"]] == JLY]
    suite.check("xlsx.missing_unit_row", len(nobody) == 1 and nobody[0][col["单位状态"]] == "未报送"
                and nobody[0][col["类型"]] is None, repr(nobody))

    # the CSV: a BOM, the same table, formulas defused
    with open(os.path.join(out, "汇总表.csv"), "rb") as f:
        raw = f.read()
    suite.check("csv.bom", raw.startswith(b"\xef\xbb\xbf"), raw[:10])
    suite.check("csv.crlf", b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b""))
    table = list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline="")))
    suite.eq("csv.header", tuple(table[0]), tuple(head))
    suite.eq("csv.rows", len(table) - 1, len(rows))
    formula = [r for r in table if r[col["原文件名"]].endswith("总结.pdf") and "1+2" in r[col["原文件名"]]]
    suite.check("csv.formula_defused", formula and formula[0][col["原文件名"]] == "'=1+2 总结.pdf",
                repr(formula[:1]))

    # a second export into the same folder is refused; --force writes
    r = w.intake.ctl("export", out, check=False)
    suite.check("export.not_empty_refused", r.returncode == 2 and "--force" in r.stderr.decode(),
                r.stderr)
    r = w.intake.ctl("export", out, "--force", check=False)
    suite.eq("export.force", r.returncode, 0)
    inside = os.path.join(w.intake.state_dir, "units", "x", "y")
    r = w.intake.ctl("export", inside, check=False)
    suite.check("export.inside_state_refused", r.returncode == 2 and
                "state directory" in r.stderr.decode() and
                not os.path.exists(os.path.dirname(inside)), r.stderr)
    r = w.intake.ctl("export", os.path.join(w.dir, "elsewhere", "..", "intake",
                                            "state", "z"), check=False)
    suite.check("export.inside_state_dotdot", r.returncode == 2, r.stderr)
    r = w.intake.ctl("export", os.path.join(w.dir, "copied"), "--copy")
    dst = os.path.join(w.dir, "copied", FZ, "图片", "01-质量月启动仪式.jpg")
    suite.check("export.copy", os.stat(dst).st_ino != os.stat(src).st_ino and
                open(dst, "rb").read() == open(src, "rb").read())


def check_report(w):
    path = os.path.join(w.dir, "report.html")
    r = w.intake.ctl("report", path)
    suite.check("report.output", b"12 units" in r.stdout, r.stdout)
    text, visible = check_html("report", path)
    want = held_photos(w)
    suite.eq("report.thumbnails", text.count(THUMB), want)
    suite.check("report.thumbnail_count_sane", want >= 15, want)
    size = os.path.getsize(path)
    total = sum(os.path.getsize(os.path.join(dp, f))
                for dp, _, fs in os.walk(os.path.join(w.intake.state_dir, "units"))
                for f in fs if f.endswith(".jpg") and "/图片" in dp)
    suite.check("report.small", size * 4 < total, "report %d bytes, photos %d" % (size, total))
    for name in NAMES:
        if name not in visible:
            suite.check("report.unit." + name, False, "missing")
    suite.check("report.units", all(n in visible for n in NAMES))
    suite.check("report.reason", "800×600" in visible and "1024×768" in visible)
    suite.check("report.caption", "质量月启动仪式" in visible)
    suite.check("report.escaped", "宣传&lt;咨询&gt;&amp;服务" in text and "宣传<咨询>" not in text)
    suite.check("report.print_css", "@media print" in text and "break-before:page" in text)
    suite.check("report.no_external", not re.search(r'(src|href)="(?!data:|#|https?://mail)', text),
                re.findall(r'(?:src|href)="[^"]{0,40}', text)[:5])
    suite.check("report.held", "someone@example.org" not in visible)  # assigned by now
    # thumbnails are cached: a second report makes none
    thumbs = os.path.join(w.intake.state_dir, "thumbs")
    n = len(os.listdir(thumbs))
    w.intake.ctl("report", path)
    suite.eq("report.cached", len(os.listdir(thumbs)), n)
    # progress on a terminal, and only there
    r = w.intake.ctl("report", path)
    suite.check("report.no_progress_off_tty", b"\r[" not in r.stderr, r.stderr)
    master, slave = pty.openpty()
    p = subprocess.run([INTAKECTL, "-c", w.intake.conf, "report", path],
                       stdout=subprocess.PIPE, stderr=slave, timeout=120)
    os.close(slave)
    got = b""
    try:
        while True:
            chunk = os.read(master, 65536)
            if not chunk:
                break
            got += chunk
    except OSError:
        pass
    os.close(master)
    suite.check("report.progress_on_tty", p.returncode == 0 and
                ("\r[%d/%d]" % (want, want)).encode() in got, got[-200:])

    # report_path: intaked rewrites the page after its cycle
    rp = os.path.join(w.dir, "live", "status.html")
    os.makedirs(os.path.dirname(rp))
    set_storage(w, "report_path", rp)
    w.intake.once()
    suite.check("report_path.written", os.path.isfile(rp))
    if os.path.isfile(rp):
        text, _ = check_html("report_path", rp)
        suite.eq("report_path.thumbnails", text.count(THUMB), want)
    suite.eq("report_path.no_temp", [n for n in os.listdir(os.path.dirname(rp))
                                     if n != "status.html"], [])


def check_remind(w):
    st = status_by_name(w)
    lacking = [n for n in NAMES if st[n]["status"] != "complete"]
    # 省计量院's only address bounced
    db = w.intake.db()
    db.execute("INSERT INTO units(name, undeliverable) VALUES(?, 'jly@example.cn')", (JLY,))
    db.commit()
    db.close()
    outbox = lambda: db_rows(w, "SELECT kind, unit, rcpt FROM outbox WHERE kind='reminder' ORDER BY id")
    # intaked queues the office's digest itself once a day (from 08:00 in
    # the campaign's zone); remind queues it when the daemon has not yet
    digests = lambda: db_rows(w, "SELECT kind, unit, rcpt FROM outbox WHERE kind='digest'")
    digest_before = digests()

    r = w.intake.ctl("remind", "--dry-run")
    out = r.stdout.decode()
    suite.eq("dry_run.queued_nothing", outbox(), [])
    tos = re.findall(r"^To: (.*)$", out, re.M)
    suite.check("dry_run.to_zz", "zz@zhangzhou.example.cn" in tos, tos)
    suite.check("dry_run.not_complete", "fz@fuzhou.example.cn" not in tos, tos)
    suite.check("dry_run.learned", "lianluo@qq.example.com" in tos and "gsl@example.cn" in tos, tos)
    suite.check("dry_run.digest", (OFFICE in tos) == (digest_before == []), tos)
    suite.check("dry_run.decoded", "Subject: 提醒：请报送2022年“质量月”活动材料" in out
                and "仍缺：活动总结、图片文字说明" in out and "2022年10月10日" in out
                and "=?" not in out, out[:1500])
    suite.check("dry_run.no_address", JLY in out and "没有可用的邮箱地址" in out, out[-600:])
    suite.eq("dry_run.last_reminded",
             db_rows(w, "SELECT COUNT(*) FROM units WHERE last_reminded IS NOT NULL")[0][0], 0)

    r = w.intake.ctl("remind")
    rows = outbox()
    reminders = [x for x in rows if x[0] == "reminder"]
    reminded_units = sorted({x[1] for x in reminders})
    suite.eq("remind.units", reminded_units, sorted(n for n in lacking if n != JLY))
    suite.check("remind.gsl_two", sorted(x[2] for x in reminders if x[1] == GSL) ==
                ["gsl@example.cn", "lianluo@qq.example.com"], reminders)
    suite.eq("remind.digest", digests(), [("digest", None, OFFICE)])
    suite.eq("remind.last_reminded",
             db_rows(w, "SELECT COUNT(*) FROM units WHERE last_reminded IS NOT NULL")[0][0],
             len(reminded_units))
    # once a day: nothing new
    r = w.intake.ctl("remind")
    suite.eq("remind.once_a_day", len(outbox()), len(rows))
    suite.check("remind.once_a_day_said", "今天已提醒过" in r.stdout.decode(), r.stdout)

    # intaked sends them
    before = len(w.replies())
    w.intake.once()
    sent = w.replies()[before:]
    suite.eq("remind.sent", len(sent), len(rows) + (1 if digest_before == [] else 0))
    zz = [x for x in sent if x["env"]["rcpt_tos"] == ["zz@zhangzhou.example.cn"]]
    if suite.check("remind.zz_sent", len(zz) == 1, [x["env"] for x in sent]):
        m = zz[0]["msg"]
        body = m.get_content()
        suite.check("remind.subject", str(m["Subject"]).startswith("提醒"), m["Subject"])
        suite.eq("remind.no_verdict", m["X-Intake-Verdict"], None)
        # not a response to a message (RFC 3834 section 5)
        suite.eq("remind.auto_generated", m["Auto-Submitted"], "auto-generated")
        suite.check("remind.body", ZZ in body and "活动总结" in body and "图片文字说明" in body
                    and "2022年10月10日" in body, body[:600])
    dg = [x for x in w.replies() if x["env"]["rcpt_tos"] == [OFFICE]]
    if suite.check("digest.sent", len(dg) == 1):
        m = dg[0]["msg"]
        body = m.get_content()
        suite.check("digest.subject", str(m["Subject"]).startswith("【日报】") and
                    "已齐全" in str(m["Subject"]), m["Subject"])
        suite.check("digest.body", JLY in body and "未报送" in body and "不完整" in body,
                    body[:800])
    states = db_rows(w, "SELECT DISTINCT state FROM outbox WHERE kind<>'reply'")
    suite.eq("remind.outbox_sent", states, [("sent",)])


@suite.test
def reprocess_replies_only_when_the_verdict_changes():
    fx = fixtures()
    p = photos()
    w = world(campaign={"digest_to": None})
    w.deliver(submission("fz@fuzhou.example.cn", "福州市市场监督管理局质量月活动总结",
                         "图1：启动仪式", [("总结.pdf", fx["summary.pdf"]),
                                       ("IMG_1.jpg", p[0])]), internaldate=SEPT)
    w.deliver(submission("qz@quanzhou.example.cn", "泉州市市场监督管理局质量月活动总结",
                         "图1：现场", [("总结.pdf", fx["summary.pdf"]),
                                    ("IMG_1.jpg", p[24])]), internaldate=SEPT)
    w.deliver(submission("xm@xiamen.example.cn", "厦门市市场监督管理局质量月活动",
                         "", [("小图.jpg", fx["photo_800x600.jpg"]),
                              ("总结.pdf", fx["summary.pdf"])]), internaldate=SEPT)
    w.intake.once()
    suite.eq("first.replies", len(w.replies()), 3)
    before = {m["id"]: m["verdict"] for m in w.intake.messages()}

    # the same rules: every message decided again, no mail
    w.intake.ctl("reprocess", "--all")
    w.intake.once()
    suite.eq("same_rules.verdicts", {m["id"]: m["verdict"] for m in w.intake.messages()}, before)
    suite.eq("same_rules.no_new_replies", len(w.replies()), 3)

    # stricter rules: 1024x768 is now too small; only changed verdicts mail
    w.intake.rules = {"photo_min_long": "1200", "photo_min_short": "900"}
    w.intake.write_config()
    w.intake.ctl("reprocess", "--all")
    w.intake.once()
    after = {m["id"]: m["verdict"] for m in w.intake.messages()}
    changed = sorted(i for i in after if after[i] != before[i])
    suite.eq("stricter.changed", [before[i] + ">" + after[i] for i in changed],
             ["accepted>partial"])
    suite.eq("stricter.replies", len(w.replies()), 3 + len(changed))
    st = w.intake.unit_status(QZ)
    suite.eq("stricter.qz_kept", st["photos"], 1)


def bare():
    """An instance with an empty Maildir and an SMTP server it never needs:
    intakectl import, assign and reprocess run without servers (replies
    are only queued)."""
    d = tempfile.mkdtemp(prefix="intake-e2e-")
    suite.cleanup(lambda: shutil.rmtree(d, ignore_errors=True))
    md = os.path.join(d, "Maildir")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(md, sub))
    it = Intake(os.path.join(d, "intake"), mailbox_url="maildir:" + md,
                smtp_url="smtp://127.0.0.1:9",
                campaign={"digest_to": None})
    it.dir_eml = d
    return it


def import_raw(it, name, raw):
    path = os.path.join(it.dir_eml, name)
    with open(path, "wb") as f:
        f.write(raw)
    return it.ctl("import", path)


def ctl_out(r):
    return r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")


def outbox_rows(it):
    db = it.db()
    try:
        return db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    finally:
        db.close()


@suite.test
def a_duplicate_is_never_processed_again():
    fx = fixtures()
    it = bare()
    raw = submission("fz@fuzhou.example.cn", "福州市市场监督管理局质量月活动总结",
                     "图1：启动仪式", [("总结.pdf", fx["summary.pdf"]),
                                   ("IMG_1.jpg", photos()[0])])
    import_raw(it, "a.eml", raw)
    r = import_raw(it, "again.eml", raw)
    suite.check("dup.imported", b"duplicate" in r.stdout, r.stdout)
    msgs = {m["id"]: m for m in it.messages()}
    orig, dup = msgs[1], msgs[2]
    suite.eq("dup.verdict", dup["verdict"], "duplicate")
    # every field but unit is the original's (DESIGN §6: only unit is null)
    for k in ("kind", "message_id", "from", "subject"):
        suite.eq("dup.json_" + k, dup[k], orig[k])
    suite.eq("dup.json_kind_value", dup["kind"], "submission")
    text = it.ctl("messages").stdout.decode()
    suite.check("dup.text_kind", "submission/duplicate" in text, text)
    replies = outbox_rows(it)
    files = it.unit_files(FZ, "图片")

    r = it.ctl("reprocess", "2", check=False)
    suite.eq("dup.reprocess_exit", r.returncode, 2)
    suite.check("dup.reprocess_says", "message 2 is a copy of message 1: "
                "reprocess 1 instead" in ctl_out(r), ctl_out(r))
    r = it.ctl("assign", "2", XM, check=False)
    suite.eq("dup.assign_exit", r.returncode, 2)
    suite.check("dup.assign_says", "message 2 is a copy of message 1: "
                "assign 1 instead" in ctl_out(r), ctl_out(r))
    after = {m["id"]: m for m in it.messages()}
    suite.eq("dup.untouched", (after[2]["verdict"], after[2]["items"],
                               after[2]["unit"]), ("duplicate", [], None))
    suite.eq("dup.no_reply", outbox_rows(it), replies)
    suite.eq("dup.files", it.unit_files(FZ, "图片"), files)
    suite.eq("dup.xm_nothing", it.unit_files(XM, "图片"), [])

    # an id that does not exist is a usage error, as withdraw's is
    for args in (("reprocess", "999"), ("assign", "999", XM)):
        r = it.ctl(*args, check=False)
        suite.eq("missing.%s_exit" % args[0], r.returncode, 2)
        suite.check("missing.%s_says" % args[0],
                    "no message 999" in ctl_out(r), ctl_out(r))
    suite.eq("missing.nothing_queued", outbox_rows(it), replies)


@suite.test
def assign_moves_the_files_with_the_message():
    fx = fixtures()
    it = bare()
    p = photos()
    import_raw(it, "a.eml", submission(
        "fz@fuzhou.example.cn", "福州市市场监督管理局质量月活动总结",
        "图1：启动仪式", [("总结.pdf", fx["summary.pdf"]), ("IMG_1.jpg", p[0])]))
    suite.eq("filed.fz", len(it.unit_files(FZ, "图片")), 1)
    it.ctl("assign", "1", XM)
    suite.eq("assign.old_folder", it.unit_files(FZ, "图片"), [])
    suite.eq("assign.old_summary", it.unit_files(FZ, "总结"), [])
    suite.eq("assign.new_folder", len(it.unit_files(XM, "图片")), 1)
    show = json.loads(it.ctl("show", FZ, "--json").stdout)
    suite.eq("assign.old_show", show["items"], [])
    # every file under units/ is one an item owns
    db = it.db()
    known = {r[0] for r in db.execute("SELECT path FROM items WHERE path IS NOT NULL")}
    db.close()
    on_disk = set()
    for root, _, names in os.walk(os.path.join(it.state_dir, "units")):
        for n in names:
            on_disk.add(os.path.relpath(os.path.join(root, n), it.state_dir))
    suite.eq("assign.no_orphans", on_disk - known, set())
    # reprocess after a change of units keeps it there and leaves no orphans
    it.ctl("reprocess", "1")
    suite.eq("reprocess.new_folder", len(it.unit_files(XM, "图片")), 1)
    suite.eq("reprocess.old_folder", it.unit_files(FZ, "图片"), [])


@suite.test
def last_received_counts_items_entered_by_hand():
    it = bare()
    it.ctl("receive", ND, "summary", "--paper", "--received", "2022-10-09 10:00")
    path = os.path.join(it.dir_eml, "IMG_9001.jpg")
    with open(path, "wb") as f:
        f.write(photos()[1])
    it.ctl("add", LY, path, "--received", "2022-09-30 08:30")
    st = {u["name"]: u for u in it.status()["units"]}
    suite.eq("last.paper", st[ND]["last_received"], "2022-10-09T10:00:00+08:00")
    suite.eq("last.added", st[LY]["last_received"], "2022-09-30T08:30:00+08:00")
    suite.eq("last.none", st[PINGTAN]["last_received"], None)
    text = it.ctl("status").stdout.decode()
    line = [l for l in text.splitlines() if ND in l]
    suite.check("last.text", line and "最近 2022-10-09 10:00" in line[0], line)
    # a withdrawn item no longer counts
    added = [i for i in json.loads(it.ctl("show", LY, "--json").stdout)["items"]]
    it.ctl("withdraw", str(added[0]["id"]))
    suite.eq("last.withdrawn", it.unit_status(LY)["last_received"], None)



@suite.test
def no_password_needed():
    """intakectl never logs in: a password_file that is gone is no error
    (man intakectl, NOTES)."""
    it = bare()
    it.imap = ("intake", "secret")
    it.write_config()
    os.remove(os.path.join(it.dir, "imap.secret"))
    r = it.ctl("status", "--json", check=False)
    suite.eq("nopw.status", (r.returncode, r.stderr), (0, b""))
    r = it.ctl("import", "/nonexistent.eml", check=False)
    suite.eq("nopw.import_missing_exit", r.returncode, 1)


suite.main()
