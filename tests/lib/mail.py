"""Submissions as units send them, for the end-to-end tests and the demo.

    raw = submission("fz@fuzhou.gov.cn", "福州市市场监督管理局质量月活动总结",
                     "图1：质量月启动仪式", [("活动总结.pdf", pdf_bytes),
                                              ("IMG_0001.jpg", jpeg_bytes)])

Attachments are (name, bytes) or (name, bytes, "type/subtype").  name_style
chooses how file names are written: "rfc2231" (Python's default, as Outlook
and Thunderbird write them), "foxmail" (filename="=?GBK?B?...?=", as QQ
Mail and Foxmail write them) or "raw-gbk" (8-bit GBK with no encoding at
all).  The result is bytes with CRLF line ends.
"""
import base64
import email.policy
import email.utils
import mimetypes
import itertools
from email.message import EmailMessage

_seq = itertools.count(1)


def _guess(name):
    t, _ = mimetypes.guess_type(name)
    return t or "application/octet-stream"


def submission(from_addr, subject, body="", attachments=(), date=None,
               message_id=None, headers=None, name_style="rfc2231",
               from_name=None):
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = email.utils.formataddr((from_name, from_addr)) if from_name else from_addr
    msg["To"] = "7263441@qq.com"
    msg["Subject"] = subject
    msg["Date"] = date or email.utils.formatdate(localtime=False)
    msg["Message-ID"] = message_id or "<test-%d.%s>" % (next(_seq), from_addr)
    for k, v in (headers or {}).items():
        msg[k] = v
    msg.set_content(body or "")
    placeholders = []
    for i, att in enumerate(attachments):
        name, data = att[0], att[1]
        ctype = att[2] if len(att) > 2 else _guess(name)
        maintype, subtype = ctype.split("/", 1)
        if name_style == "rfc2231":
            msg.add_attachment(data, maintype=maintype, subtype=subtype,
                               filename=name)
        else:
            token = "@@NAME%d@@" % i
            placeholders.append((token, name))
            msg.add_attachment(data, maintype=maintype, subtype=subtype,
                               filename=token)
    raw = msg.as_bytes()
    for token, name in placeholders:
        if name_style == "foxmail":
            enc = "=?GBK?B?%s?=" % base64.b64encode(name.encode("gbk")).decode()
            raw = raw.replace(token.encode(), enc.encode())
        else:
            raw = raw.replace(token.encode(), name.encode("gbk"))
    return raw


def plain(from_addr, subject, body, headers=None, message_id=None):
    """A message with no attachment."""
    return submission(from_addr, subject, body, (), headers=headers,
                      message_id=message_id)
