#!/usr/bin/python3
"""seeds.py - the fuzzers' seed inputs, beside the shared corpus

usage: /usr/bin/python3 fuzz/seeds.py DIR

Writes DIR/message, DIR/photo, DIR/archive and DIR/config (each emptied
first) from what the tests already generate: tests/fixtures/gen.py's
files, small messages carrying each of them as an attachment, the
hostile messages of tests/fixtures/hostile/gen.py (those under 256 KB),
tests/fixtures/mime and tests/fixtures/config.  fuzz/run passes these
together with ../shared/corpus/mime and ../shared/corpus/jpeg.
"""
import os
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "fixtures", "hostile"))
import gen as hostile  # noqa: E402

SEED_MAX = 256 * 1024  # bytes: larger inputs only slow the fuzzer down

PHOTO_EXT = (".jpg", ".bmp")
ARCHIVE = ("gbk_names.zip", "utf8_names.zip", "bomb.zip", "signature.rar",
           "signature.7z", "summary.docx", "summary_media.docx",
           "summary_plainzip.docx", "summary.ofd")

# Small configurations beside units.conf, imap.secret and smtp.secret,
# as fuzz_config.c lays them out.
CONFIGS = {
    "maildir.conf": "[mailbox]\nurl = maildir:/tmp/Maildir\n\n[storage]\n"
                    "state_dir = /tmp/state\nunits_file = units.conf\n",
    "limits.conf": "[mailbox]\nurl = maildir:/tmp/Maildir\n"
                   "authserv_id = mx.example.com\n\n[storage]\n"
                   "state_dir = /tmp/state\nunits_file = units.conf\n\n"
                   "[limits]\nmax_message_bytes = 1048576\n"
                   "max_header_bytes = 1024\nmax_parts = 5\nmax_depth = 3\n"
                   "max_decoded_bytes = 4096\nmax_archive_members = 2\n"
                   "max_archive_bytes = 1024\nmax_archive_ratio = 10\n"
                   "max_photo_pixels = 500000\nmax_jpeg_scans = 5\n"
                   "max_jpeg_memory = 1048576\nvideo_probe_seconds = 1\n"
                   "worker_seconds = 10\nworker_memory = 67108864\n"
                   "max_attempts = 1\nreplies_per_sender = 2\n",
    "full.conf": "[mailbox]\nurl = imaps://127.0.0.1:993/INBOX\n"
                 "username = u\npassword_file = imap.secret\n"
                 "mark = move:归档/2022\npoll_interval = 60\n\n[smtp]\n"
                 "url = smtps://127.0.0.1:465\nusername = u\n"
                 "password_file = smtp.secret\n"
                 "from = 办公室 <a@example.com>\n\n[campaign]\n"
                 "name = 质量月\nstart = 2022-08-29T00:00:00+08:00\n"
                 "deadline = 2022-10-10T23:59:59+08:00\ngrace = 2h\n"
                 "keywords = 质量月;活动总结\nlate_policy = refuse\n\n"
                 "[rules]\nphoto_max = 6\nphoto_caption = optional\n"
                 "video_required = true\n\n[storage]\n"
                 "state_dir = /tmp/state\nunits_file = units.conf\n"
                 "template_dir = /tmp\nreport_path = report.html\n",
}


def fresh(d):
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def put(d, name, data):
    if len(data) <= SEED_MAX:
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


def copy_dir(src, d):
    for name in sorted(os.listdir(src)):
        p = os.path.join(src, name)
        if os.path.isfile(p):
            with open(p, "rb") as f:
                put(d, name, f.read())


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: seeds.py DIR")
    out = sys.argv[1]
    fx_dir = tempfile.mkdtemp(prefix="intake-seeds-")
    try:
        subprocess.run(["/usr/bin/python3",
                        os.path.join(TOP, "tests", "fixtures", "gen.py"),
                        fx_dir], check=True, stdout=subprocess.DEVNULL)
        fx = hostile._fixtures(fx_dir)
    finally:
        shutil.rmtree(fx_dir, ignore_errors=True)

    msg = fresh(os.path.join(out, "message"))
    photo = fresh(os.path.join(out, "photo"))
    arc = fresh(os.path.join(out, "archive"))
    conf = fresh(os.path.join(out, "config"))

    for i, (name, data) in enumerate(sorted(fx.items())):
        if name.endswith(PHOTO_EXT) and len(data) <= SEED_MAX:
            put(photo, name, data)
        if name in ARCHIVE:
            put(arc, name, data)
        if len(data) <= SEED_MAX // 2:
            put(msg, "attach-" + name + ".eml",
                hostile.with_attachment(i + 1, name, data))
    put(photo, "scans_127.jpg", hostile.scans_jpeg())
    put(arc, "zip_many.zip", hostile.zip_many(300))
    put(arc, "zip_evil_names.zip", hostile.zip_evil_names())
    put(arc, "zip_encrypted.zip", hostile.zip_encrypted())
    for name, raw, _ in hostile.messages(fx):
        put(msg, "hostile-" + name + ".eml", raw)
    copy_dir(os.path.join(TOP, "tests", "fixtures", "mime"), msg)

    copy_dir(os.path.join(TOP, "tests", "fixtures", "config"), conf)
    with open(os.path.join(TOP, "config", "intake.conf.example"), "rb") as f:
        put(conf, "intake.conf.example", f.read())
    for name, text in CONFIGS.items():
        put(conf, name, text.encode())


if __name__ == "__main__":
    main()
