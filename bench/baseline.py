#!/usr/bin/python3
"""baseline.py - the job as a user would script it without intake

usage: /usr/bin/python3 bench/baseline.py OUTDIR MESSAGE.eml...

For every message: parse it with Python's email package (policy.default),
decode every attachment to a file under OUTDIR, and for every JPEG check
its size (longer side >= 1024, shorter side >= 768) and decode it with
Pillow in draft mode (libjpeg's DCT scaling to 1/8, as intake and
`djpeg -scale 1/8` do).  Prints one JSON line: messages, attachments,
photos, photos_ok, decoded bytes.

It does less than intake: no hashing, no video probe, no archive, no
database, no fsync, no filing into unit folders, no reply.
"""
import email
import email.policy
import json
import os
import sys

from PIL import Image


def photo_ok(path):
    with Image.open(path) as im:
        w, h = im.size
        big = max(w, h) >= 1024 and min(w, h) >= 768
        im.draft("RGB", (w // 8, h // 8))
        im.load()
    return big


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.split("\n\n")[1])
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    stats = dict(messages=0, attachments=0, photos=0, photos_ok=0,
                 decoded_bytes=0)
    for m, path in enumerate(sys.argv[2:]):
        with open(path, "rb") as f:
            msg = email.message_from_binary_file(f,
                                                 policy=email.policy.default)
        stats["messages"] += 1
        for k, part in enumerate(msg.walk()):
            if part.is_multipart() or not part.is_attachment():
                continue
            data = part.get_payload(decode=True)
            name = os.path.basename(part.get_filename() or "part")
            dst = os.path.join(out_dir, "%d-%d-%s" % (m, k, name))
            with open(dst, "wb") as out:
                out.write(data)
            stats["attachments"] += 1
            stats["decoded_bytes"] += len(data)
            if data[:3] == b"\xff\xd8\xff":
                stats["photos"] += 1
                stats["photos_ok"] += photo_ok(dst)
            del data
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
