"""Real-world mail from Chinese clients and the parser test suites,
through intaked --once against the real Dovecot: old and mislabelled
charsets, 8-bit headers, encoded words where they do not belong, RFC
2231, QQ's tcmime names, HTML-only mail, broken structure, Outlook's
winmail.dat and .msg, uuencode.  Asserted on `intakectl messages --json`
(names, types, verdicts, captions) and on the unit folders."""
import base64
import binascii
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import TOP, Suite                 # noqa: E402
from mail import submission                    # noqa: E402
from world import World, fixtures, unique_jpegs  # noqa: E402

suite = Suite("realworld")
SEPT = 1664330000      # 2022-09-28, before the deadline
SHARED = os.environ.get("INTAKE_SHARED", os.path.join(TOP, "..", "shared"))
CRLF = b"\r\n"


def b64(data):
    return base64.encodebytes(data).replace(b"\n", CRLF)


def ew(text, charset):
    return "=?%s?B?%s?=" % (charset, base64.b64encode(text.encode(charset)).decode())


def raw_mail(mid, subject_bytes, parts, top=None, sender=None):
    """A multipart/mixed message by hand.  parts: list of (header lines
    as bytes, body bytes); top overrides the top Content-Type line."""
    h = [b"From: " + (sender or b"sender@163.com"),
         b"To: 7263441@qq.com",
         b"Subject: " + subject_bytes,
         b"Date: Wed, 28 Sep 2022 10:00:00 +0800",
         b"Message-ID: <" + mid.encode() + b">",
         b"MIME-Version: 1.0",
         top or b'Content-Type: multipart/mixed; boundary="=_b"']
    out = CRLF.join(h) + CRLF + CRLF + b"This is a multi-part message." + CRLF
    for hdrs, body in parts:
        out += b"--=_b" + CRLF + CRLF.join(hdrs) + CRLF + CRLF + body + CRLF
    return out + b"--=_b--" + CRLF


def text_part(text, charset="UTF-8"):
    return ([b"Content-Type: text/plain; charset=" + charset.encode(),
             b"Content-Transfer-Encoding: base64"], b64(text.encode(charset)))


def jpeg_part(ctype_line, disp_line, data):
    hdrs = [b"Content-Transfer-Encoding: base64"]
    if ctype_line is not None:
        hdrs.insert(0, ctype_line)
    if disp_line is not None:
        hdrs.append(disp_line)
    return (hdrs, b64(data))


def by_mid(w):
    return {m["message_id"]: m for m in w.intake.messages()}


def item_names(m):
    return sorted(i["name"] for i in m["items"]) if m else None


@suite.test
def charsets_and_names():
    j = unique_jpegs(8)
    w = World(suite.cleanup)
    msgs = []
    # 1. labelled GB2312, written in GBK (镕 and 堃 are not in GB2312)
    msgs.append(raw_mail("gb2312@t", ew("厦门市局质量月照片（镕）", "gbk").replace("gbk", "gb2312").encode(), [
        text_part("图1：朱镕基路宣传站", "gbk"),
        jpeg_part(b'Content-Type: image/jpeg; name="%s"' % ew("宣传站堃.jpg", "gbk").replace("gbk", "GB2312").encode(),
                  b'Content-Disposition: attachment; filename="%s"' % ew("宣传站堃.jpg", "gbk").replace("gbk", "GB2312").encode(),
                  j[0])]))
    # 2. Big5 (Taiwan and Hong Kong clients)
    msgs.append(raw_mail("big5@t", ew("漳州市局 活動照片", "big5").encode(), [
        # 照片 is written alike in both scripts (the caption module
        # reads 图N, not the traditional 圖N)
        text_part("照片1：活動現場", "big5"),
        jpeg_part(b'Content-Type: image/jpeg; name="%s"' % ew("活動照片.jpg", "big5").encode(),
                  b'Content-Disposition: attachment; filename="%s"' % ew("活動照片.jpg", "big5").encode(),
                  j[1])]))
    # 3. raw 8-bit GBK headers, no encoding at all
    msgs.append(raw_mail("raw8@t", "泉州市局质量月照片".encode("gbk"), [
        text_part("见附件", "gbk"),
        jpeg_part(b'Content-Type: image/jpeg; name="' + "现场照片.jpg".encode("gbk") + b'"',
                  b'Content-Disposition: attachment; filename="' + "现场照片.jpg".encode("gbk") + b'"',
                  j[2])]))
    # 4. encoded words inside quoted parameters, UTF-8 Q encoding
    msgs.append(raw_mail("ewq@t", ew("莆田市局质量月照片", "utf-8").encode(), [
        text_part("见附件"),
        jpeg_part(b'Content-Type: image/jpeg; name="=?UTF-8?Q?=E6=8C=82=E5=9B=BE.jpg?="',
                  b'Content-Disposition: attachment; filename="=?UTF-8?Q?=E6=8C=82=E5=9B=BE.jpg?="',
                  j[3])]))
    # 5. RFC 2231 with continuations
    msgs.append(raw_mail("rfc2231@t", ew("南平市局质量月照片", "utf-8").encode(), [
        text_part("见附件"),
        jpeg_part(b"Content-Type: image/jpeg",
                  b"Content-Disposition: attachment;\r\n filename*0*=UTF-8''%E8%B4%A8%E9%87%8F;\r\n filename*1*=%E6%9C%88.jpg",
                  j[4])]))
    # 6. QQ Mail's large-attachment names: tcmime.N.N.bin on disk, the
    # real name in Content-Type's name
    msgs.append(raw_mail("tcmime@t", ew("宁德市局质量月照片", "gb18030").encode(), [
        text_part("见附件", "gb18030"),
        jpeg_part(b'Content-Type: application/octet-stream; name="%s"' % ew("宁德开幕式.jpg", "gb18030").encode(),
                  b'Content-Disposition: attachment; filename="tcmime.1907.1a2b.3c4d.bin"',
                  j[5])]))
    for raw in msgs:
        w.deliver(raw, internaldate=SEPT)
    w.intake.once()
    m = by_mid(w)
    cases = [
        ("gb2312", "gb2312@t", "厦门市市场监督管理局", ["宣传站堃.jpg"], "厦门市局质量月照片（镕）"),
        ("big5", "big5@t", "漳州市市场监督管理局", ["活動照片.jpg"], "漳州市局 活動照片"),
        ("raw8", "raw8@t", "泉州市市场监督管理局", ["现场照片.jpg"], "泉州市局质量月照片"),
        ("ewq", "ewq@t", "莆田市市场监督管理局", ["挂图.jpg"], None),
        ("rfc2231", "rfc2231@t", "南平市市场监督管理局", ["质量月.jpg"], None),
        ("tcmime", "tcmime@t", "宁德市市场监督管理局", ["宁德开幕式.jpg"], None),
    ]
    for tag, mid, unit, names, subject in cases:
        got = m.get(mid)
        if not suite.check(tag + ".seen", got is not None, sorted(m)):
            continue
        suite.eq(tag + ".unit", got["unit"], unit)
        suite.eq(tag + ".names", item_names(got), names)
        suite.eq(tag + ".accepted", [i["accepted"] for i in got["items"]], [True])
        if subject is not None:
            suite.eq(tag + ".subject", got["subject"], subject)
        suite.eq(tag + ".folder", len(w.intake.unit_files(unit, "图片")), 1)
    # captions read from GBK and Big5 bodies
    suite.eq("gb2312.caption", m["gb2312@t"]["items"][0]["caption"], "朱镕基路宣传站")
    suite.eq("big5.caption", m["big5@t"]["items"][0]["caption"], "活動現場")


@suite.test
def html_only_qq_style():
    j = unique_jpegs(1)
    w = World(suite.cleanup)
    html = ("<html><body><div>您好！</div><div><br></div>"
            "<div>三明市市场监督管理局报送质量月材料</div>"
            "<div>图1：质量宣传进社区</div>"
            "<div><br></div><div>--</div><div><span>小王</span></div>"
            "</body></html>")
    raw = raw_mail("html@t", ew("质量月材料", "gb18030").encode(), [
        ([b"Content-Type: text/html; charset=GB18030",
          b"Content-Transfer-Encoding: base64"], b64(html.encode("gb18030"))),
        jpeg_part(b'Content-Type: image/jpeg; name="IMG_0001.jpg"',
                  b'Content-Disposition: attachment; filename="IMG_0001.jpg"', j[0])],
        sender=b"someone-unknown@qq.com")
    w.deliver(raw, internaldate=SEPT)
    w.intake.once()
    m = by_mid(w).get("html@t")
    if not suite.check("html.seen", m is not None):
        return
    unit = "三明市市场监督管理局"
    suite.eq("html.unit", m["unit"], unit)
    suite.eq("html.names", item_names(m), ["IMG_0001.jpg"])
    suite.eq("html.caption", m["items"][0]["caption"] if m["items"] else None, "质量宣传进社区")
    suite.eq("html.folder", w.intake.unit_files(unit, "图片"), ["01-质量宣传进社区.jpg"])


@suite.test
def odd_structure():
    fx = fixtures()
    j = unique_jpegs(3)
    w = World(suite.cleanup)
    unit = "平潭综合实验区市场监督管理局"
    subj = ew("平潭市场监管局质量月材料", "utf-8").encode()
    # no closing boundary: the last part runs to the end of the message
    raw = raw_mail("noclose@t", subj, [
        text_part("见附件"),
        jpeg_part(b"Content-Type: image/jpeg", b'Content-Disposition: attachment; filename="a1.jpg"', j[0])])
    raw = raw[:raw.rindex(b"--=_b--")]
    w.deliver(raw, internaldate=SEPT)
    # a part with no Content-Type at all, only its disposition
    w.deliver(raw_mail("noctype@t", subj, [
        text_part("见附件"),
        jpeg_part(None, b'Content-Disposition: attachment; filename="a2.jpg"', j[1])]),
        internaldate=SEPT)
    # a document sent inline, and one as application/octet-stream
    w.deliver(raw_mail("inline@t", subj, [
        text_part("见附件"),
        (['Content-Type: application/pdf; name="活动总结.pdf"'.encode(),
          'Content-Disposition: inline; filename="活动总结.pdf"'.encode(),
          b"Content-Transfer-Encoding: base64"], b64(fx["summary.pdf"])),
        (['Content-Type: application/octet-stream; name="总结.docx"'.encode(),
          'Content-Disposition: attachment; filename="总结.docx"'.encode(),
          b"Content-Transfer-Encoding: base64"], b64(fx["summary.docx"]))]),
        internaldate=SEPT)
    # the boundary in the header is not the one the body uses: a person
    # sees one text; nothing fails
    w.deliver(raw_mail("wrongb@t", subj, [text_part("见附件"),
                                          jpeg_part(b"Content-Type: image/jpeg", None, j[2])],
                       top=b'Content-Type: multipart/mixed; boundary="other"'),
              internaldate=SEPT)
    w.intake.once()
    m = by_mid(w)
    for mid, names, types in [("noclose@t", ["a1.jpg"], ["photo"]),
                              ("noctype@t", ["a2.jpg"], ["photo"]),
                              ("inline@t", ["总结.docx", "活动总结.pdf"], ["summary", "summary"])]:
        got = m.get(mid)
        if not suite.check(mid + ".seen", got is not None, sorted(m)):
            continue
        suite.eq(mid + ".unit", got["unit"], unit)
        suite.eq(mid + ".names", item_names(got), names)
        suite.eq(mid + ".types", sorted(i["type"] for i in got["items"]), types)
        suite.check(mid + ".accepted", all(i["accepted"] for i in got["items"]), got["items"])
    wb = m.get("wrongb@t")
    suite.check("wrongb.processed", wb is not None and wb["state"] == "processed",
                wb and (wb["state"], wb["error"]))
    suite.eq("odd.photos", len(w.intake.unit_files(unit, "图片")), 2)


@suite.test
def outlook_and_uuencode():
    fx = fixtures()
    j = unique_jpegs(1)
    w = World(suite.cleanup)
    # mimekit's rich-text.eml: a photo inside winmail.dat
    with open(os.path.join(SHARED, "corpus", "mime", "mimekit", "tnef", "rich-text.eml"), "rb") as f:
        rich = f.read()
    head, sep, body = rich.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = rich.partition(b"\n\n")
    lines = [ln for ln in head.splitlines()
             if not ln.lower().startswith((b"subject:", b"from:", b"message-id:"))]
    # drop folded continuations of removed headers: keep it simple,
    # rebuild with the new ones first
    rich = CRLF.join([b"From: ly@longyan.example.cn", b"Subject: " + ew("龙岩市局质量月照片", "utf-8").encode(),
                      b"Message-ID: <tnef@t>"] + lines) + CRLF + CRLF + body
    w.deliver(rich, internaldate=SEPT)
    # an Outlook .msg attached
    w.deliver(submission("jly@example.cn", "省计量院质量月材料", "见附件",
                         [("会议纪要.msg", fx["outlook.msg"], "application/vnd.ms-outlook")],
                         message_id="<msg@t>"), internaldate=SEPT)
    # uuencode in the body (old clients)
    uu = b"begin 644 uu_photo.jpg\r\n"
    data = j[0]
    for k in range(0, len(data), 45):
        uu += binascii.b2a_uu(data[k:k + 45]).replace(b"\n", CRLF)
    uu += b"`\r\nend\r\n"
    w.deliver(b"From: gsl@example.cn\r\nTo: 7263441@qq.com\r\nSubject: " +
              ew("省工商联质量月照片", "utf-8").encode() +
              b"\r\nMessage-ID: <uu@t>\r\nDate: Wed, 28 Sep 2022 10:00:00 +0800\r\n"
              b"Content-Type: text/plain; charset=us-ascii\r\n\r\nsee below\r\n\r\n" + uu,
              internaldate=SEPT)
    w.intake.once()
    m = by_mid(w)
    t = m.get("tnef@t")
    if suite.check("tnef.seen", t is not None, sorted(m)):
        suite.eq("tnef.unit", t["unit"], "龙岩市市场监督管理局")
        photo = [i for i in t["items"] if i["name"] == "kitten-playing-with-a-christmas-tree.jpg"]
        suite.check("tnef.photo", len(photo) == 1 and photo[0]["type"] == "photo"
                    and photo[0]["accepted"], t["items"])
        suite.check("tnef.no_winmail_item", all(i["name"] != "winmail.dat" for i in t["items"]),
                    item_names(t))
        suite.eq("tnef.folder", len(w.intake.unit_files("龙岩市市场监督管理局", "图片")), 1)
    o = m.get("msg@t")
    if suite.check("msg.seen", o is not None, sorted(m)):
        suite.eq("msg.names", item_names(o), ["会议纪要.msg"])
        reason = o["items"][0]["reason"] if o["items"] else ""
        suite.check("msg.reason", "Outlook 邮件文件（.msg）无法处理，请将其中的附件直接作为附件发送"
                    in (reason or ""), reason)
        suite.eq("msg.verdict", o["verdict"], "rejected")
    u = m.get("uu@t")
    if suite.check("uu.seen", u is not None, sorted(m)):
        suite.eq("uu.names", item_names(u), ["uu_photo.jpg"])
        suite.eq("uu.accepted", [i["accepted"] for i in u["items"]], [True])
        suite.eq("uu.unit", u["unit"], "福建省工商业联合会")


suite.main()
