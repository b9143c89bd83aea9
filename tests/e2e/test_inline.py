"""Pictures embedded in an HTML body (multipart/related, cid:), as Foxmail
and QQ Mail send them, through intaked --once against the real servers: a
real photo counts as a photo; signature logos and icons are dropped
without an item or a word in the reply; an inline picture too small to be
a photo but too big to be decoration is refused with its reason, and so is
a photo pasted as a PNG, with the size libmagic reads of it.

Where the line lies (lib/check.c): an inline picture that fails the photo
rules is decoration when its pixel area is under a quarter of
photo_min_long × photo_min_short (196608 px with the defaults: 512×384
is refused, 511×384 is dropped)."""
import base64
import os
import struct
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import Suite                      # noqa: E402
from world import World, unique_jpegs          # noqa: E402

suite = Suite("inline")
FZ = "福州市市场监督管理局"
XM = "厦门市市场监督管理局"
SEPT = 1664330000      # 2022-09-28, before the deadline
CRLF = b"\r\n"


def b64(data):
    return base64.encodebytes(data).replace(b"\n", CRLF)


def ew(text, charset="GB2312"):
    return "=?%s?B?%s?=" % (charset, base64.b64encode(text.encode(charset)).decode())


def png(w, h):
    """A w×h RGB PNG (a signature logo or an icon)."""
    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body +
                struct.pack(">I", zlib.crc32(kind + body)))
    raw = b"".join(b"\x00" + bytes((x * 7 + y * 3) & 0xFF
                                   for x in range(w) for _ in range(3))
                   for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def big_png(w, h):
    """A w×h PNG of one repeated row: only its header is read (libmagic)."""
    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body +
                struct.pack(">I", zlib.crc32(kind + body)))
    row = b"\x00" + bytes((x * 7) & 0xFF for x in range(w * 3))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(row * h, 6)) + chunk(b"IEND", b""))


def foxmail(sender, subject, text, html, images, mid):
    """multipart/related around multipart/alternative (text + HTML), then
    the pictures by Content-ID, GB2312 throughout, as Foxmail 7 writes
    it.  images: (name, bytes, ctype, cid, disposition or None)."""
    out = [b"From: " + ew(FZ if sender.startswith("fz") else XM).encode() +
           b" <" + sender.encode() + b">",
           b"To: 7263441@qq.com",
           b"Subject: " + ew(subject).encode(),
           b"Date: Wed, 28 Sep 2022 10:15:00 +0800",
           b"X-Priority: 3",
           b"X-Mailer: Foxmail 7.2.23.116[cn]",
           b"Mime-Version: 1.0",
           b"Message-ID: <" + mid.encode() + b">",
           b"Content-Type: multipart/related;",
           b'\ttype="multipart/alternative";',
           b'\tboundary="----=_001_NextPart572182624333_=----"',
           b"", b"This is a multi-part message in MIME format.", b"",
           b"------=_001_NextPart572182624333_=----",
           b"Content-Type: multipart/alternative;",
           b'\tboundary="----=_002_NextPart572182624333_=----"', b"",
           b"------=_002_NextPart572182624333_=----",
           b"Content-Type: text/plain;", b'\tcharset="GB2312"',
           b"Content-Transfer-Encoding: base64", b"",
           b64(text.encode("gb2312")),
           b"------=_002_NextPart572182624333_=----",
           b"Content-Type: text/html;", b'\tcharset="GB2312"',
           b"Content-Transfer-Encoding: base64", b"",
           b64(html.encode("gb2312")),
           b"------=_002_NextPart572182624333_=------", b""]
    for name, data, ctype, cid, disp in images:
        out += [b"------=_001_NextPart572182624333_=----",
                b"Content-Type: " + ctype.encode() + b";",
                b'\tname="' + ew(name).encode() + b'"',
                b"Content-Transfer-Encoding: base64"]
        if disp:
            out.append(b"Content-Disposition: " + disp.encode() +
                       b'; filename="' + ew(name).encode() + b'"')
        out += [b"Content-ID: <" + cid.encode() + b">", b"", b64(data)]
    out += [b"------=_001_NextPart572182624333_=------", b""]
    return CRLF.join(out)


def signature():
    """Foxmail's signature block: a logo and an icon, by cid."""
    return ('<div><img src="cid:_Foxmail.1@qq.com" width="120" height="40">'
            '<br><img src="cid:_Foxmail.2@qq.com" width="32" height="32">'
            '福州市市场监督管理局 办公室</div>')


def decorations():
    logo = unique_jpegs(1, 120, 40)[0]
    return [("logo.jpg", logo, "image/jpeg", "_Foxmail.1@qq.com", None),
            ("icon.png", png(32, 32), "image/png", "_Foxmail.2@qq.com",
             "inline")]


@suite.test
def photo_and_signature():
    w = World(suite.cleanup)
    photo = unique_jpegs(1, 1280, 960)[0]
    text = "各位好：\n福州市局质量月活动照片见正文。\n图1：质量开放日活动现场\n"
    html = ('<div>各位好：</div><div>福州市局质量月活动照片见正文。</div>'
            '<div><img src="cid:part1.5F3A2B10@fuzhou.example.cn"></div>'
            '<div>图1：质量开放日活动现场</div>' + signature())
    w.deliver(foxmail("fz@fuzhou.example.cn", "福州市局质量月活动照片", text, html,
                      [("IMG_20220928_101500.jpg", photo, "image/jpeg",
                        "part1.5F3A2B10@fuzhou.example.cn", None)] + decorations(),
                      "202209281015000001@fuzhou.example.cn"),
              internaldate=SEPT)
    w.intake.once()
    m = w.intake.messages()[0]
    suite.eq("photo.verdict", m["verdict"], "accepted")
    names = [(i["name"], i["type"], i["accepted"]) for i in m["items"]]
    suite.eq("photo.items", names, [("IMG_20220928_101500.jpg", "photo", True)])
    if m["items"]:
        it = m["items"][0]
        suite.eq("photo.size", (it["width"], it["height"]), (1280, 960))
        suite.eq("photo.caption", it["caption"], "质量开放日活动现场")
    u = w.intake.unit_status(FZ)
    suite.eq("photo.status_photos", u["photos"], 1)
    suite.eq("photo.files", w.intake.unit_files(FZ, "图片"), ["01-质量开放日活动现场.jpg"])
    replies = w.replies()
    suite.eq("photo.one_reply", len(replies), 1)
    rep = replies[0]["msg"].get_content() if replies else ""
    suite.check("photo.reply_photo", "质量开放日活动现场" in rep, rep[:800])
    # decoration leaves no trace: no name, no refusal, no figure
    for word in ("logo", "icon", "120×40", "32×32", "PNG", "分辨率", "未收录", "不符合"):
        suite.check("photo.reply_silent." + word, word not in rep, rep[:800])


@suite.test
def too_small_to_be_a_photo():
    """A picture too small for a photo but far too big for a logo is refused
    with the figure; the line between the two, as lib/check.c draws it."""
    w = World(suite.cleanup)
    small, edge_in, edge_out = (unique_jpegs(1, 800, 600)[0],
                                unique_jpegs(1, 512, 384)[0],
                                unique_jpegs(1, 511, 384)[0])
    suite.check("small.bytes", len(small) > 50000, len(small))
    text = "厦门市局质量月活动照片。\n图1：计量进社区\n"
    html = ('<div>厦门市局质量月活动照片。</div>'
            '<img src="cid:a@xm"><img src="cid:b@xm"><img src="cid:c@xm">'
            '<div>图1：计量进社区</div>' + signature())
    w.deliver(foxmail("xm@xiamen.example.cn", "厦门市局质量月活动照片", text, html,
                      [("现场800.jpg", small, "image/jpeg", "a@xm", "inline"),
                       ("边界512.jpg", edge_in, "image/jpeg", "b@xm", None),
                       ("边界511.jpg", edge_out, "image/jpeg", "c@xm", None)]
                      + decorations(), "202209281015000002@xiamen.example.cn"),
              internaldate=SEPT)
    w.intake.once()
    m = w.intake.messages()[0]
    items = {i["name"]: i for i in m["items"]}
    suite.eq("small.items", sorted(items), ["现场800.jpg", "边界512.jpg"])
    for name, figure in (("现场800.jpg", "800×600"), ("边界512.jpg", "512×384")):
        it = items.get(name)
        if not suite.check("small.item." + name, it is not None, sorted(items)):
            continue
        suite.eq("small.type." + name, it["type"], "photo")
        suite.eq("small.accepted." + name, it["accepted"], False)
        suite.check("small.reason." + name,
                    figure in (it["reason"] or "") and "1024×768" in (it["reason"] or ""),
                    it["reason"])
    suite.eq("small.verdict", m["verdict"], "rejected")
    suite.eq("small.status_photos", w.intake.unit_status(XM)["photos"], 0)
    replies = w.replies()
    rep = replies[0]["msg"].get_content() if replies else ""
    suite.check("small.reply_reason",
                "图片“现场800.jpg”分辨率为 800×600，低于要求的 1024×768" in rep, rep[:800])
    suite.check("small.reply_edge", "512×384" in rep, rep[:800])
    for word in ("边界511", "511×384", "logo", "icon", "120×40", "32×32", "PNG"):
        suite.check("small.reply_silent." + word, word not in rep, rep[:800])



@suite.test
def pasted_png():
    """A photo pasted into the body as a PNG (a screenshot, or QQ Mail's
    paste) is refused with its format and size; the PNG icon of the
    signature stays silent."""
    w = World(suite.cleanup)
    text = "福州市局质量月活动照片。\n图1：质量开放日\n"
    html = ('<div>福州市局质量月活动照片。</div><img src="cid:shot@fz">'
            '<div>图1：质量开放日</div>' + signature())
    w.deliver(foxmail("fz@fuzhou.example.cn", "福州市局质量月活动照片", text, html,
                      [("image001.png", big_png(1600, 1200), "image/png",
                        "shot@fz", "inline")] + decorations(),
                      "202209281015000003@fuzhou.example.cn"),
              internaldate=SEPT)
    w.intake.once()
    m = w.intake.messages()[0]
    items = {i["name"]: i for i in m["items"]}
    suite.eq("png.items", sorted(items), ["image001.png"])
    it = items.get("image001.png")
    if suite.check("png.item", it is not None, sorted(items)):
        suite.eq("png.type", it["type"], "photo")
        suite.eq("png.accepted", it["accepted"], False)
        suite.eq("png.size", (it["width"], it["height"]), (1600, 1200))
    suite.eq("png.verdict", m["verdict"], "rejected")
    replies = w.replies()
    rep = replies[0]["msg"].get_content() if replies else ""
    suite.check("png.reply_reason",
                "图片“image001.png”实际为 PNG 格式（1600×1200），请提供 JPG 格式的照片"
                in rep, rep[:800])
    for word in ("icon", "32×32", "logo", "120×40"):
        suite.check("png.reply_silent." + word, word not in rep, rep[:800])


suite.main()
