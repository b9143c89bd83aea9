#!/usr/bin/python3
"""make demo: intaked for real against loopback servers.

Starts a private Dovecot (IMAPS) and an SMTP server (SMTPS with AUTH) in a
temporary directory, delivers sample submissions from several units
(generated JPEGs of several sizes, a PDF and a DOCX summary, one photo too
small, a video link-free HD MP4, a mail from an unknown sender), runs
`intaked --once`, prints `intakectl status` and the subject and verdict of
every reply, and stops everything it started.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from mail import plain, submission   # noqa: E402
from world import World, fixtures    # noqa: E402


def banner(text):
    print("\n\033[1m== %s\033[0m" % text, flush=True)


def main():
    cleanups = []
    keep = "--keep" in sys.argv
    try:
        banner("starting Dovecot (IMAPS) and an SMTP server on 127.0.0.1")
        w = World(cleanups.append, keep=keep)
        print("mailbox %s, smtp %s, state %s" % (
            w.dovecot.imaps_url, w.smtp.url("smtps"), w.intake.state_dir))
        fx = fixtures()
        banner("delivering sample submissions")
        mails = [
            submission("fz@fuzhou.example.cn",
                       "福州市市场监督管理局“质量月”活动总结及图片",
                       "您好！附件是我局质量月活动总结和图片。\n"
                       "图1：质量月启动仪式\n图2：质量义诊进社区\n",
                       [("福州市质量月活动总结.pdf", fx["summary.pdf"]),
                        ("IMG_0001.jpg", fx["photo_4000x3000.jpg"]),
                        ("IMG_0002.jpg", fx["photo_768x1024.jpg"]),
                        ("质量月宣传片.mp4", fx["video_1280x720.mp4"])],
                       from_name="福州市市场监管局"),
            submission("xm@xiamen.example.cn", "质量月活动材料（厦门）",
                       "请查收。",
                       [("厦门市质量月总结.docx", fx["summary.docx"]),
                        ("企业开放日.jpg", fx["photo_1024x768.jpg"]),
                        ("小图.jpg", fx["photo_800x600.jpg"])],
                       name_style="foxmail"),
            submission("gsl@example.cn", "省工商联质量月图片", "",
                       [("DSC_0001.jpg", fx["photo_progressive_1280x960.jpg"])]),
            plain("someone@example.org", "周末聚餐", "周六晚上有空吗？"),
        ]
        # delivered on 28 September 2022, before the notice's deadline
        for i, m in enumerate(mails):
            w.deliver(m, internaldate=1664330000 + 600 * i)
        print("%d messages in the INBOX" % len(mails))
        banner("intaked --once")
        r = w.intake.once(check=False)
        sys.stdout.write(r.stderr.decode(errors="replace"))
        if r.returncode != 0:
            print("intaked exited %d" % r.returncode)
            return 1
        banner("intakectl status")
        sys.stdout.write(w.intake.ctl("status").stdout.decode())
        banner("replies sent")
        for rep in w.replies():
            m = rep["msg"]
            print("to %-24s %-14s %s" % (rep["env"]["rcpt_tos"][0],
                                         m["X-Intake-Verdict"], m["Subject"]))
        first = w.replies()[1]["msg"] if len(w.replies()) > 1 else None
        if first is not None:
            banner("one reply, as the unit reads it")
            print(first.get_content())
        banner("files by unit")
        top = os.path.join(w.intake.state_dir, "units")
        for unit in sorted(os.listdir(top)):
            for sub in sorted(os.listdir(os.path.join(top, unit))):
                for f in sorted(os.listdir(os.path.join(top, unit, sub))):
                    print("units/%s/%s/%s" % (unit, sub, f))
        if keep:
            print("\nkept: %s" % w.dir)
        return 0
    finally:
        banner("stopping the servers")
        for c in reversed(cleanups):
            c()


if __name__ == "__main__":
    sys.exit(main())
