"""Every kind of file a unit sends, through intaked --once against real
servers, judged as DESIGN.md §4 says; and a unit's dossier across several
messages (photo limit, corrections, duplicates, lateness)."""
import calendar
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import Suite                      # noqa: E402
from mail import plain, submission             # noqa: E402
from world import World, fixtures, unique_jpegs  # noqa: E402

suite = Suite("checks")
FZ = "福州市市场监督管理局"
QZ = "泉州市市场监督管理局"
ZZ = "漳州市市场监督管理局"
SEPT = 1664330000      # 2022-09-28, before the deadline
LATE = 1665590400      # 2022-10-13, after it


def items_by_name(w):
    out = {}
    for m in w.intake.messages():
        for i in m["items"]:
            out[i["name"]] = i
    return out


@suite.test
def every_kind_of_file():
    fx = fixtures()
    w = World(suite.cleanup)
    files = [
        ("a_1024x768.jpg", fx["photo_1024x768.jpg"]),
        ("b_768x1024.jpg", fx["photo_768x1024.jpg"]),
        ("c_1023x768.jpg", fx["photo_1023x768.jpg"]),
        ("d_progressive.jpg", fx["photo_progressive_1280x960.jpg"]),
        ("e_truncated.jpg", fx["photo_truncated.jpg"]),
        ("f_png.jpg", fx["png_named.jpg"]),
        ("hd.mp4", fx["video_1280x720.mp4"]),
        ("sd.mp4", fx["video_640x480.mp4"]),
        ("总结.pdf", fx["summary.pdf"]),
        ("总结.docx", fx["summary.docx"]),
        ("空文件.doc", b""),
        ("照片.zip", fx["gbk_names.zip"]),
        ("炸弹.zip", fx["bomb.zip"]),
        ("程序.exe", b"MZ\x90\x00" + b"\x00" * 200),
    ]
    w.deliver(submission("fz@fuzhou.example.cn", "福州市市场监督管理局质量月材料",
                         "", files, name_style="foxmail"), internaldate=SEPT)
    w.intake.once()
    it = items_by_name(w)
    expect = {
        "a_1024x768.jpg": ("photo", True, None),
        "b_768x1024.jpg": ("photo", True, None),
        "c_1023x768.jpg": ("photo", False, "1023×768"),
        "d_progressive.jpg": ("photo", True, None),
        "e_truncated.jpg": ("photo", False, "损坏"),
        "f_png.jpg": ("photo", False, "PNG"),
        "hd.mp4": ("video", True, None),
        "sd.mp4": ("video", False, "640×480"),
        "总结.pdf": ("summary", True, None),
        "总结.docx": ("summary", True, None),
        "空文件.doc": (None, False, "空"),
        # the zip holds a_1024x768.jpg again, under a GBK name
        "活动照片1.jpg": ("photo", False, "内容相同"),
        "说明.txt": ("summary", True, None),
        "炸弹.zip": ("other", False, "炸弹.zip"),
        "程序.exe": ("other", False, "程序.exe"),
    }
    for name, (typ, ok, why) in expect.items():
        got = it.get(name)
        if not suite.check("item." + name, got is not None, "no item; have %s" % sorted(it)):
            continue
        if typ is not None:
            suite.eq("type." + name, got["type"], typ)
        suite.eq("accepted." + name, got["accepted"], ok)
        if why is not None:
            suite.check("reason." + name, why in (got["reason"] or ""), got["reason"])
    a = it["a_1024x768.jpg"]
    suite.eq("size.a", (a["width"], a["height"]), (1024, 768))
    v = it["hd.mp4"]
    suite.eq("size.hd", (v["width"], v["height"]), (1280, 720))
    u = w.intake.unit_status(FZ)
    suite.eq("unit.photos", u["photos"], 3)
    suite.eq("unit.videos", u["videos"], 1)
    suite.eq("unit.summaries", u["summaries"], 3)
    suite.eq("unit.late", u["late"], False)
    suite.eq("verdict", w.intake.messages()[0]["verdict"], "partial")
    rep = w.replies()[0]["msg"].get_content()
    suite.check("reply.names_refusal", "1023×768" in rep and "程序.exe" in rep, rep[:600])


@suite.test
def qq_large_file_link():
    w = World(suite.cleanup)
    body = ("您好，视频较大，用超大附件发送。\n\n从QQ邮箱发来的超大附件\n\n"
            "泉州质量月宣传片.mp4 (1.25G, 2022年10月20日 10:15 到期)\n"
            "进入下载页面：https://mail.qq.com/cgi-bin/ftnExs_download?"
            "k=0a3b5c&t=exs_ftn_download&code=7c2e\n")
    w.deliver(plain("qz@quanzhou.example.cn", "泉州市局质量月视频", body),
              internaldate=SEPT)
    w.intake.once()
    m = w.intake.messages()[0]
    suite.eq("link.verdict", m["verdict"], "accepted")
    links = [i for i in m["items"] if i["type"] == "link"]
    suite.eq("link.count", len(links), 1)
    if links:
        suite.eq("link.name", links[0]["name"], "泉州质量月宣传片.mp4")
        suite.check("link.url", links[0]["url"].startswith(
            "https://mail.qq.com/cgi-bin/ftnExs_download?k=0a3b5c"), links[0]["url"])
    u = w.intake.unit_status(QZ)
    suite.eq("link.status_links", u["links"], 1)
    suite.eq("link.videos", u["videos"], 0)
    rep = w.replies()[0]["msg"].get_content()
    suite.check("link.reply", "已登记" in rep, rep[:500])
    # the same link again is not a second item
    w.deliver(plain("qz@quanzhou.example.cn", "泉州市局质量月视频（再发）", body),
              internaldate=SEPT + 60)
    w.intake.once()
    suite.eq("link.once", w.intake.unit_status(QZ)["links"], 1)


@suite.test
def custom_prefix_link():
    """[rules] link_prefixes: a configured file-sharing service's link is a
    link item like QQ's; a look-alike host is not; a bad prefix stops the
    daemon with the file, group and key."""
    from harness import INTAKED
    w = World(suite.cleanup, rules={"link_prefixes": "https://pan.example.gov.cn/s/"})
    body = ("您好，视频较大，已上传省政务网盘。\n"
            "漳州质量月宣传片.mp4（1.2G，2022年10月20日 18:00 到期）\n"
            "下载：https://pan.example.gov.cn/s/8f3a2b?from=mail 提取码：k9m2\n"
            "\n\n\n\n\n\n备用（勿用）：https://pan.example.gov.cn.evil.com/s/8f3a2b\n")
    w.deliver(plain("zz@zhangzhou.example.cn", "漳州市局质量月视频", body),
              internaldate=SEPT)
    w.intake.once()
    m = w.intake.messages()[0]
    suite.eq("custom_link.verdict", m["verdict"], "accepted")
    links = [i for i in m["items"] if i["type"] == "link"]
    suite.eq("custom_link.count", len(links), 1)
    if links:
        suite.eq("custom_link.name", links[0]["name"], "漳州质量月宣传片.mp4")
        suite.eq("custom_link.url", links[0]["url"],
                 "https://pan.example.gov.cn/s/8f3a2b?from=mail")
        suite.eq("custom_link.accepted", links[0]["accepted"], True)
        # what is written near the link: size, 提取码 and expiry (+08:00)
        note, expires = w.intake.db().execute(
            "SELECT note, expires FROM items WHERE id=?", (links[0]["id"],)).fetchone()
        suite.check("custom_link.note", "k9m2" in (note or "") and "1.2G" in (note or ""),
                    note)
        suite.eq("custom_link.expires", expires,
                 calendar.timegm((2022, 10, 20, 10, 0, 0)))
    u = w.intake.unit_status(ZZ)
    suite.eq("custom_link.status_links", u["links"], 1)
    rep = w.replies()[0]["msg"].get_content()
    suite.check("custom_link.reply", "已登记" in rep, rep[:500])
    # without the key the same kind of link is ordinary text
    w.intake.rules = {}
    w.intake.write_config()
    w.deliver(plain("zz@zhangzhou.example.cn", "漳州市局质量月视频（二）",
                    body.replace("8f3a2b", "9d4c3e")), internaldate=SEPT + 60)
    w.intake.once()
    second = w.intake.messages()[1]
    suite.eq("custom_link.unconfigured", [i for i in second["items"]
                                          if i["type"] == "link"], [])
    suite.eq("custom_link.unconfigured_status", w.intake.unit_status(ZZ)["links"], 1)
    # a bad prefix: the daemon refuses to start, naming file, group and key
    w.intake.rules = {"link_prefixes": "https://pan.example.gov.cn/s/;pan.example.gov.cn/t/"}
    w.intake.write_config()
    for what, r in (("check", w.intake.run(INTAKED, "--check-config", check=False)),
                    ("once", w.intake.once(check=False))):
        err = r.stderr.decode()
        suite.eq("custom_link.bad_%s.exit" % what, r.returncode, 2)
        suite.check("custom_link.bad_%s.names" % what,
                    w.intake.conf in err and "[rules] link_prefixes" in err
                    and "pan.example.gov.cn/t/" in err, err)


@suite.test
def dossier_across_messages():
    fx = fixtures()
    w = World(suite.cleanup)
    p = unique_jpegs(9)
    # five photos, then three more: the limit of six holds across messages
    w.deliver(submission("fz@fuzhou.example.cn", "福州市局质量月图片（一）",
                         "".join("图%d：活动%d\n" % (i, i) for i in range(1, 6)),
                         [("IMG_%d.jpg" % i, p[i - 1]) for i in range(1, 6)]),
              internaldate=SEPT)
    w.deliver(submission("fz@fuzhou.example.cn", "福州市局质量月图片（二）",
                         "图1：补充一\n图2：补充二\n图3：补充三\n",
                         [("IMG_%d.jpg" % i, p[i - 1]) for i in range(6, 9)]),
              internaldate=SEPT + 60)
    w.intake.once()
    u = w.intake.unit_status(FZ)
    suite.eq("limit.photos", u["photos"], 6)
    second = w.intake.messages()[1]
    refused = [i for i in second["items"] if not i["accepted"]]
    suite.eq("limit.refused", len(refused), 2)
    suite.check("limit.reason", refused and "6" in (refused[0]["reason"] or ""),
                refused and refused[0]["reason"])
    suite.eq("limit.verdict", second["verdict"], "partial")
    # the same photo again: a duplicate, not a new one, not a fault
    w.deliver(submission("fz@fuzhou.example.cn", "福州市局质量月图片（重发）", "",
                         [("again.jpg", p[0])]), internaldate=SEPT + 120)
    w.intake.once()
    third = w.intake.messages()[2]
    suite.eq("dup.accepted", third["items"][0]["accepted"], False)
    suite.check("dup.reason", "内容相同" in (third["items"][0]["reason"] or ""),
                third["items"][0]["reason"])
    suite.eq("dup.photos", w.intake.unit_status(FZ)["photos"], 6)
    # a correction replaces the earlier photos; history is kept
    w.deliver(submission("fz@fuzhou.example.cn", "【更正】福州市局质量月图片",
                         "图1：更正后的开幕式\n", [("new.jpg", p[8])]),
              internaldate=SEPT + 180)
    w.intake.once()
    u = w.intake.unit_status(FZ)
    suite.eq("correction.photos", u["photos"], 1)
    suite.eq("correction.files", w.intake.unit_files(FZ, "图片"), ["01-更正后的开幕式.jpg"])
    show = w.intake.ctl("show", FZ, "--json").stdout
    import json
    states = [i["state"] for i in json.loads(show)["items"] if i["type"] == "photo"]
    suite.check("correction.history", states.count("replaced") == 6, repr(states))


@suite.test
def late_policy():
    fx = fixtures()
    w = World(suite.cleanup)
    w.deliver(submission("fz@fuzhou.example.cn", "福州市局质量月总结", "",
                         [("总结.pdf", fx["summary.pdf"])]), internaldate=LATE)
    w.intake.once()
    u = w.intake.unit_status(FZ)
    suite.eq("accept.late", u["late"], True)
    suite.eq("accept.summaries", u["summaries"], 1)
    w2 = World(suite.cleanup, campaign={"late_policy": "refuse"})
    w2.deliver(submission("fz@fuzhou.example.cn", "福州市局质量月总结", "",
                          [("总结.pdf", fx["summary.pdf"])]), internaldate=LATE)
    w2.intake.once()
    m = w2.intake.messages()[0]
    suite.eq("refuse.verdict", m["verdict"], "rejected")
    suite.check("refuse.reason", "截止" in (m["items"][0]["reason"] or ""), m["items"][0]["reason"])
    suite.eq("refuse.summaries", w2.intake.unit_status(FZ)["summaries"], 0)


suite.main()
