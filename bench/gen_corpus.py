#!/usr/bin/python3
"""gen_corpus.py - the benchmark's corpus, generated once and cached

usage: /usr/bin/python3 bench/gen_corpus.py [--force] DIR

Writes into DIR (build/bench-corpus by default in run.py):

  msgs/sub-NN.eml   24 submissions, one per unit of config/units.conf.example:
                    a DOCX summary and six unique 4000x3000 JPEG photos,
                    every fourth one also an HD video of about 30 MB
  msgs/large.eml    one message of about 300 MB: a DOCX, six photos and an
                    HD video of about 200 MB
  manifest.json     what each message holds, with the byte range of every
                    attachment's base64 text (the floor decodes exactly
                    those bytes), and the parameters; a manifest with other
                    parameters makes the corpus be generated again

The photos are camera-like: a smooth random scene (a 40x30 random image
scaled up bicubically) plus per-pixel noise of +-14 in every channel,
compressed by libjpeg-turbo at quality 92 (4:2:0), about 4.1 MB each:
the same bytes as cjpeg -quality 92 of the pixels as a PPM (checked), but
without piping 36 MB per photo through a pipe.  The noise makes the Huffman decoding as costly as a real photo's;
every photo has its own scene and its own noise.  They are made two at a
time (both cores).  The video is testsrc2 in H.264 (1280x720, 30 fps,
8 Mbit/s), encoded once; each message gets a stream copy with its own
metadata, so every video is a distinct file.  The large video is the base
video concatenated (stream copy) up to ~200 MB.

Messages are written the way Dovecot's LDA stores them in a Maildir: LF
line ends, base64 attachments in 76-column lines; each file's mtime is
its arrival (September 2022, inside the notice's campaign).
"""
import base64
import concurrent.futures
import email.utils
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile

from PIL import Image, ImageChops

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNITS_FILE = os.path.join(TOP, "config", "units.conf.example")

PARAMS = {
    "version": 3,
    "submissions": 24,
    "photos": 6,
    "width": 4000,
    "height": 3000,
    "noise": 14,
    "quality": 92,
    "video_every": 4,
    "video_seconds": 30,
    "video_bitrate": "8M",
    "large_video_bytes": 200 * 1000 * 1000,
}
ARRIVAL = 1663635600     # 2022-09-20 09:00 +08:00
CAPTIONS = ["质量月启动仪式", "质量义诊进社区", "企业开放日", "标准化宣传",
            "计量惠民服务", "质量知识竞赛"]
B64_CHUNK = 57 * 16384   # whole 76-column lines per encodebytes() call


def log(text):
    print("gen_corpus: " + text, flush=True)


def units():
    """(name, first address) of each unit in units.conf.example."""
    out, name = [], None
    with open(UNITS_FILE, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("[") and line.endswith("]"):
                name = line[1:-1]
            elif line.startswith("addresses") and name is not None:
                out.append((name, line.split("=", 1)[1].split(";")[0].strip()))
                name = None
    return out


# ---- photos ---------------------------------------------------------------

def make_photo(job):
    """One unique camera-like JPEG: (path, width, height, amplitude,
    quality, seed).  Runs in a worker process."""
    path, w, h, amp, quality, seed = job
    scene = Image.frombytes("RGB", (40, 30), os.urandom(40 * 30 * 3))
    scene = scene.resize((w, h), Image.BICUBIC)
    lut = [128 - amp + (v * (2 * amp + 1)) // 256 for v in range(256)] * 3
    noise = Image.frombytes("RGB", (w, h), os.urandom(w * h * 3)).point(lut)
    # libjpeg-turbo through Pillow: byte for byte what cjpeg -quality 92
    # makes of the same pixels as a PPM, without piping 36 MB per photo
    ImageChops.add(scene, noise, 1, -128).save(path, "JPEG", quality=quality)
    return path, os.path.getsize(path), seed


def make_photos(paths, p):
    jobs = [(path, p["width"], p["height"], p["noise"], p["quality"], i)
            for i, path in enumerate(paths)]
    # Pillow keeps freed image blocks for the next photo instead of
    # faulting in fresh pages each time (about a third of the CPU time)
    # (PILLOW_BLOCKS_MAX; the workers are forked and inherit it)
    Image.core.set_blocks_max(32)
    with concurrent.futures.ProcessPoolExecutor(os.cpu_count() or 2) as ex:
        for done, _ in enumerate(ex.map(make_photo, jobs), 1):
            if done % 24 == 0:
                log("%d of %d photos" % (done, len(jobs)))


# ---- video ----------------------------------------------------------------

def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"]
                   + list(args), check=True, stdin=subprocess.DEVNULL)


def make_base_video(path, p):
    ffmpeg("-f", "lavfi", "-i",
           "testsrc2=s=1280x720:r=30:d=%d" % p["video_seconds"],
           "-c:v", "libx264", "-preset", "ultrafast", "-b:v",
           p["video_bitrate"], "-maxrate", p["video_bitrate"], "-bufsize",
           "4M", "-pix_fmt", "yuv420p", path)


def copy_video(base, path, tag):
    ffmpeg("-i", base, "-c", "copy", "-metadata", "comment=" + tag, path)


def make_large_video(base, path, target, work):
    n = target // os.path.getsize(base) + 1
    lst = os.path.join(work, "concat.txt")
    with open(lst, "w") as f:
        f.write("file '%s'\n" % base * n)
    ffmpeg("-f", "concat", "-safe", "0", "-i", lst, "-c", "copy",
           "-fs", str(target), "-metadata", "comment=large", path)


# ---- documents ------------------------------------------------------------

DOCX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/'
    'vnd.openxmlformats-package.relationships+xml"/><Default Extension='
    '"xml" ContentType="application/xml"/><Override PartName="/word/'
    'document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>')
DOCX_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>')


def make_docx(path, unit):
    paras = ["%s2022年“质量月”活动总结" % unit]
    for i in range(60):
        paras.append("（%d）按照闽质强省办〔2022〕4号通知要求，我单位组织开展了"
                     "质量月系列活动，第%d项工作情况如下：……" % (i + 1, i + 1))
    body = "".join("<w:p><w:r><w:t>%s</w:t></w:r></w:p>" % t for t in paras)
    doc = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/'
           'wordprocessingml/2006/main"><w:body>%s</w:body></w:document>'
           % body)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", DOCX_TYPES)
        zf.writestr("_rels/.rels", DOCX_RELS)
        zf.writestr("word/document.xml", doc)


# ---- messages -------------------------------------------------------------

def encoded_word(text):
    return "=?UTF-8?B?%s?=" % base64.b64encode(text.encode()).decode()


def b64_body(text):
    return base64.encodebytes(text.encode("utf-8"))


def write_attachment(out, path, name, ctype, boundary):
    """Writes one base64 part; returns (start, length) of its base64 text
    in the file."""
    out.write(("--%s\n"
               "Content-Type: %s;\n\tname=\"%s\"\n"
               "Content-Transfer-Encoding: base64\n"
               "Content-Disposition: attachment;\n\tfilename=\"%s\"\n\n"
               % (boundary, ctype, encoded_word(name), encoded_word(name))
               ).encode())
    start = out.tell()
    with open(path, "rb") as f:
        while True:
            chunk = f.read(B64_CHUNK)
            if not chunk:
                break
            out.write(base64.encodebytes(chunk))
    length = out.tell() - start
    out.write(b"\n")
    return start, length


def write_message(path, index, unit, addr, atts, when):
    """atts: (file, name, content type, kind).  Returns the manifest's
    entry for the message."""
    boundary = "----=_NextPart_%06d_BENCH_%d" % (index, int(when))
    alt = "----=_Alt_%06d_BENCH" % index
    subject = "%s2022年“质量月”活动总结及图片" % unit
    photos = [a for a in atts if a[3] == "photo"]
    text = ("您好！\n\n附件是%s“质量月”活动总结、图片%s，请查收。\n\n%s\n\n%s\n"
            % (unit, "和视频" if any(a[3] == "video" for a in atts) else "",
               "\n".join("图%d：%s" % (i + 1, CAPTIONS[i % len(CAPTIONS)])
                         for i in range(len(photos))), unit))
    html = "<div>%s</div>" % text.replace("\n", "<br>")
    entry = {"file": os.path.basename(path), "unit": unit,
             "attachments": []}
    with open(path, "wb") as out:
        head = (
            "Return-Path: <%(addr)s>\n"
            "Received: from mail.example.gov.cn (unknown [192.0.2.%(n)d])\n"
            "\tby newmx.qq.com (NewMX) with SMTP id %(n)d\n"
            "\tfor <7263441@qq.com>; %(date)s\n"
            "From: \"%(fromname)s\" <%(addr)s>\n"
            "To: \"7263441\" <7263441@qq.com>\n"
            "Subject: %(subject)s\n"
            "Date: %(date)s\n"
            "Message-ID: <bench-%(n)d-%(when)d@example.gov.cn>\n"
            "X-Mailer: Foxmail 7.2.23.116[cn]\n"
            "MIME-Version: 1.0\n"
            "Content-Type: multipart/mixed;\n\tboundary=\"%(b)s\"\n\n"
            "This is a multi-part message in MIME format.\n\n"
            "--%(b)s\n"
            "Content-Type: multipart/alternative;\n\tboundary=\"%(alt)s\"\n\n"
            "--%(alt)s\n"
            "Content-Type: text/plain;\n\tcharset=\"utf-8\"\n"
            "Content-Transfer-Encoding: base64\n\n"
            % dict(addr=addr, n=index, fromname=encoded_word(unit),
                   subject=encoded_word(subject), b=boundary, alt=alt,
                   when=when, date=email.utils.formatdate(when)))
        out.write(head.encode())
        out.write(b64_body(text))
        out.write(("\n--%s\nContent-Type: text/html;\n\tcharset=\"utf-8\"\n"
                   "Content-Transfer-Encoding: base64\n\n" % alt).encode())
        out.write(b64_body(html))
        out.write(("\n--%s--\n\n" % alt).encode())
        for f, name, ctype, kind in atts:
            start, length = write_attachment(out, f, name, ctype, boundary)
            entry["attachments"].append({
                "name": name, "kind": kind, "type": ctype,
                "size": os.path.getsize(f), "b64_offset": start,
                "b64_length": length})
        out.write(("--%s--\n" % boundary).encode())
    os.utime(path, (when, when))
    entry["bytes"] = os.path.getsize(path)
    entry["arrival"] = when
    return entry


# ---- the whole corpus -----------------------------------------------------

def generate(top, p):
    msgs = os.path.join(top, "msgs")
    work = os.path.join(top, "work")
    for d in (msgs, work):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    us = units()
    if len(us) < p["submissions"] + 1:
        sys.exit("gen_corpus: %s has %d units, %d needed"
                 % (UNITS_FILE, len(us), p["submissions"] + 1))
    n_sub, n_ph = p["submissions"], p["photos"]
    photo = [[os.path.join(work, "p%02d-%d.jpg" % (m, k)) for k in range(n_ph)]
             for m in range(n_sub + 1)]
    t0 = time.monotonic()
    log("%d photos of %dx%d" % (len(photo) * n_ph, p["width"], p["height"]))
    make_photos([x for row in photo for x in row], p)
    log("photos done in %.0f s; videos" % (time.monotonic() - t0))
    base = os.path.join(work, "base.mp4")
    make_base_video(base, p)
    large_video = os.path.join(work, "large.mp4")
    make_large_video(base, large_video, p["large_video_bytes"], work)

    manifest = {"params": p, "messages": []}
    for m in range(n_sub + 1):
        unit, addr = us[m]
        large = m == n_sub
        atts = [(os.path.join(work, "summary-%d.docx" % m),
                 "%s质量月活动总结.docx" % unit,
                 "application/vnd.openxmlformats-officedocument."
                 "wordprocessingml.document", "summary")]
        make_docx(atts[0][0], unit)
        for k in range(n_ph):
            atts.append((photo[m][k], "IMG_202209%02d_%02d%02d%02d.jpg"
                         % (10 + k, 9 + k, m, k), "image/jpeg", "photo"))
        if large:
            atts.append((large_video, "质量月活动全程记录.mp4", "video/mp4",
                         "video"))
        elif m % p["video_every"] == 0:
            v = os.path.join(work, "v%02d.mp4" % m)
            copy_video(base, v, "unit-%d" % m)
            atts.append((v, "质量月宣传片.mp4", "video/mp4", "video"))
        name = "large.eml" if large else "sub-%02d.eml" % (m + 1)
        entry = write_message(os.path.join(msgs, name), m + 1, unit, addr,
                              atts, ARRIVAL + 600 * m)
        entry["set"] = "large" if large else "submissions"
        manifest["messages"].append(entry)
    shutil.rmtree(work)
    with open(os.path.join(top, "manifest.json.tmp"), "w") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)
    os.rename(os.path.join(top, "manifest.json.tmp"),
              os.path.join(top, "manifest.json"))
    total = sum(e["bytes"] for e in manifest["messages"])
    log("%d messages, %.0f MB, in %.0f s" % (
        len(manifest["messages"]), total / 1e6, time.monotonic() - t0))
    return manifest


def load(top, force=False):
    """The corpus's manifest, generating the corpus first when it is
    missing, incomplete or made with other parameters."""
    path = os.path.join(top, "manifest.json")
    if not force and os.path.exists(path):
        with open(path) as f:
            manifest = json.load(f)
        ok = manifest.get("params") == PARAMS
        for e in manifest["messages"] if ok else ():
            p = os.path.join(top, "msgs", e["file"])
            ok = ok and os.path.isfile(p) and os.path.getsize(p) == e["bytes"]
        if ok:
            return manifest
    os.makedirs(top, exist_ok=True)
    if os.path.exists(path):
        os.unlink(path)
    return generate(top, dict(PARAMS))


def main():
    args = [a for a in sys.argv[1:] if a != "--force"]
    if len(args) != 1:
        sys.exit(__doc__.split("\n\n")[1])
    m = load(os.path.abspath(args[0]), "--force" in sys.argv)
    print("%d messages in %s" % (len(m["messages"]), args[0]))


if __name__ == "__main__":
    main()
