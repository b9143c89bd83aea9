"""smtp.c and reply_compose against a real SMTP peer (aiosmtpd on loopback).

Every case runs build/tools/smtp-send, which sends with smtp_send() (or
composes a reply with reply.c first) and exits 0 sent, 1 tempfail,
3 permfail; the peer's capture and its MAIL log say what really arrived.
"""
import base64
import os
import shutil
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from harness import BUILD, TOP, Suite  # noqa: E402
from smtpd import SmtpServer  # noqa: E402
from tls import make_cert  # noqa: E402

suite = Suite("smtp")
TOOL = os.path.join(BUILD, "tools", "smtp-send")
FROM = "7263441@example.com"
RCPT = "alice@example.com"
MESSAGE = (b"From: <7263441@example.com>\r\nTo: <alice@example.com>\r\n"
           b"Subject: test\r\n\r\nline one\r\n.a line with a leading dot\r\n"
           b"last line\r\n")

tmp = tempfile.mkdtemp(prefix="test_smtp-")
suite.cleanup(lambda: shutil.rmtree(tmp, ignore_errors=True))
CERT, KEY = make_cert(os.path.join(tmp, "tls"))
srv = SmtpServer(tmp, CERT, KEY)
suite.cleanup(srv.stop)
srv.start()

MSGFILE = os.path.join(tmp, "message.eml")
with open(MSGFILE, "wb") as f:
    f.write(MESSAGE)
PASSFILE = os.path.join(tmp, "smtp.secret")
with open(PASSFILE, "w") as f:
    f.write(srv.password + "\n")
BADPASSFILE = os.path.join(tmp, "bad.secret")
with open(BADPASSFILE, "w") as f:
    f.write("web-password\n")


def send(url, rcpt=RCPT, user=srv.user, passfile=PASSFILE, ca=CERT,
         mail_from=FROM, payload=MSGFILE, opts=()):
    """Runs smtp-send; returns (exit code, {outcome, code, text, ...})."""
    args = [TOOL] + list(opts) + [url, user, passfile, ca, mail_from, rcpt,
                                  payload]
    p = subprocess.run(args, cwd=TOP, capture_output=True, timeout=120)
    out = {}
    runs = []
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        k, _, v = line.partition("=")
        if k == "outcome" and "outcome" in out:
            runs.append(out)
            out = {}
        out[k] = v
    runs.append(out)
    out["runs"] = runs
    out["stderr"] = p.stderr.decode("utf-8", "replace")
    return p.returncode, out


def captured_since(n):
    return srv.messages()[n:]


def mails_since(n):
    return srv.mail_commands()[n:]


@suite.test
def smtps_auth():
    before, mails = len(srv.messages()), len(srv.mail_commands())
    rc, out = send(srv.url("smtps"))
    suite.eq("smtps_auth.exit", rc, 0)
    suite.eq("smtps_auth.outcome", out.get("outcome"), "sent")
    suite.eq("smtps_auth.code", out.get("code"), "250")
    got = captured_since(before)
    if not suite.eq("smtps_auth.captured", len(got), 1):
        return
    env = got[0]["env"]
    suite.eq("smtps_auth.tls", env["tls"], True)
    suite.eq("smtps_auth.auth", env["auth"], srv.user)
    suite.eq("smtps_auth.rcpt", env["rcpt_tos"], [RCPT])
    suite.eq("smtps_auth.mail_from", env["mail_from"], FROM)
    suite.eq("smtps_auth.helo is the URL path", env["helo"], "localhost")
    suite.eq("smtps_auth.bytes (dot unstuffed)", got[0]["raw"], MESSAGE)
    suite.check("smtps_auth.text has the server's reply",
                "Message accepted" in out.get("text", ""), out)
    suite.eq("smtps_auth.one MAIL", len(mails_since(mails)), 1)


@suite.test
def starttls_auth():
    before = len(srv.messages())
    rc, out = send(srv.url("starttls"), opts=["--helo", "client.test"])
    suite.eq("starttls_auth.exit", rc, 0)
    got = captured_since(before)
    if not suite.eq("starttls_auth.captured", len(got), 1):
        return
    suite.eq("starttls_auth.tls", got[0]["env"]["tls"], True)
    suite.eq("starttls_auth.auth", got[0]["env"]["auth"], srv.user)
    suite.eq("starttls_auth.helo", got[0]["env"]["helo"], "client.test")


@suite.test
def connection_reused():
    before = len(srv.messages())
    rc, out = send(srv.url("smtps"), opts=["--count", "3"])
    suite.eq("reuse.exit", rc, 0)
    suite.eq("reuse.outcomes", [r.get("outcome") for r in out["runs"]],
             ["sent"] * 3)
    got = captured_since(before)
    suite.eq("reuse.captured", len(got), 3)
    suite.eq("reuse.one connection", len({m["env"]["peer"] for m in got}), 1)


@suite.test
def plain_without_starttls_refused():
    before, mails = len(srv.messages()), len(srv.mail_commands())
    rc, out = send(srv.url("plain"))
    suite.eq("no_starttls.exit", rc, 1)
    suite.check("no_starttls.text", "STARTTLS" in out.get("text", ""), out)
    suite.eq("no_starttls.nothing captured", len(captured_since(before)), 0)
    suite.eq("no_starttls.no MAIL", mails_since(mails), [])


@suite.test
def plain_insecure_allowed():
    before = len(srv.messages())
    rc, out = send(srv.url("plain"), user="-", passfile="-",
                   opts=["--insecure"])
    suite.eq("insecure.exit", rc, 0)
    got = captured_since(before)
    if suite.eq("insecure.captured", len(got), 1):
        suite.eq("insecure.tls", got[0]["env"]["tls"], False)
        suite.eq("insecure.auth", got[0]["env"]["auth"], None)


@suite.test
def insecure_still_uses_starttls():
    # allow_insecure only permits plain text when STARTTLS is not offered
    before = len(srv.messages())
    rc, out = send(srv.url("starttls"), user="-", passfile="-",
                   opts=["--insecure"])
    suite.eq("insecure_starttls.exit", rc, 0)
    got = captured_since(before)
    if suite.eq("insecure_starttls.captured", len(got), 1):
        suite.eq("insecure_starttls.tls", got[0]["env"]["tls"], True)


@suite.test
def untrusted_certificate():
    before, mails = len(srv.messages()), len(srv.mail_commands())
    rc, out = send(srv.url("smtps"), ca="-")
    suite.eq("untrusted_cert.exit", rc, 1)
    suite.check("untrusted_cert.text", "TLS" in out.get("text", ""), out)
    suite.eq("untrusted_cert.nothing captured", len(captured_since(before)), 0)
    suite.eq("untrusted_cert.no MAIL", mails_since(mails), [])


@suite.test
def wrong_password():
    before, mails = len(srv.messages()), len(srv.mail_commands())
    rc, out = send(srv.url("smtps"), passfile=BADPASSFILE)
    suite.eq("wrong_password.exit", rc, 3)
    suite.eq("wrong_password.code", out.get("code"), "535")
    suite.check("wrong_password.text names 授权码",
                "授权码" in out.get("text", ""), out)
    suite.eq("wrong_password.nothing captured", len(captured_since(before)), 0)
    suite.eq("wrong_password.no MAIL", mails_since(mails), [])


FAULTS = [
    # recipient, exit, outcome, code, text the server sent
    ("tempfail@example.com", 1, "tempfail", "451", "Simulated temporary"),
    ("permfail@example.com", 3, "permfail", "550",
     "5.1.1 Simulated: no such user"),
    ("data4xx@example.com", 1, "tempfail", "451", "after DATA"),
    ("data5xx@example.com", 3, "permfail", "554",
     "5.6.0 Simulated rejection after DATA"),
    ("drop@example.com", 1, "tempfail", None, None),
]


@suite.test
def faults():
    for rcpt, want_rc, outcome, code, text in FAULTS:
        name = "fault." + rcpt.split("@")[0]
        before = len(srv.messages())
        rc, out = send(srv.url("smtps"), rcpt=rcpt)
        suite.eq(name + ".exit", rc, want_rc)
        suite.eq(name + ".outcome", out.get("outcome"), outcome)
        if code is not None:
            suite.eq(name + ".code", out.get("code"), code)
        if text is not None:
            suite.check(name + ".server text", text in out.get("text", ""),
                        out)
        suite.eq(name + ".nothing captured", len(captured_since(before)), 0)


@suite.test
def auth_not_advertised():
    before, mails = len(srv.messages()), len(srv.mail_commands())
    rc, out = send(srv.url("noauth"))
    suite.eq("noauth.exit", rc, 3)
    suite.check("noauth.not sent", out.get("outcome") != "sent", out)
    suite.check("noauth.text", "did not authenticate" in out.get("text", ""),
                out)
    suite.eq("noauth.nothing captured", len(captured_since(before)), 0)
    suite.eq("noauth.no MAIL FROM", mails_since(mails), [])
    # Without a user, the same server is fine.
    rc, out = send(srv.url("noauth"), user="-", passfile="-")
    suite.eq("noauth.without user.exit", rc, 0)


@suite.test
def auth_lost_on_reconnect():
    # First message: AUTH offered, accepted, sent; the server then closes
    # the connection.  Second: the kept connection is dead, libcurl opens a
    # new one, where AUTH is no longer offered: the message must not go.
    before, mails = len(srv.messages()), len(srv.mail_commands())
    rc, out = send(srv.url("authonce"), opts=["--count", "2",
                                               "--pause-ms", "500"])
    suite.eq("reconnect.exit", rc, 3)
    suite.eq("reconnect.outcomes", [r.get("outcome") for r in out["runs"]],
             ["sent", "permfail"])
    suite.check("reconnect.text",
                "did not authenticate" in out["runs"][-1].get("text", ""), out)
    suite.eq("reconnect.one captured", len(captured_since(before)), 1)
    mails_seen = mails_since(mails)
    suite.eq("reconnect.second try was on a new connection",
             len({m["peer"] for m in mails_seen}), len(mails_seen))


@suite.test
def stale_connection_retried():
    # The server closes after each message; each next message finds the
    # kept connection dead and goes out on a new one.
    before = len(srv.messages())
    rc, out = send(srv.url("authonce"), user="-", passfile="-",
                   opts=["--count", "3", "--pause-ms", "400"])
    suite.eq("stale.exit", rc, 0)
    suite.eq("stale.outcomes", [r.get("outcome") for r in out["runs"]],
             ["sent"] * 3)
    got = captured_since(before)
    suite.eq("stale.captured", len(got), 3)
    suite.eq("stale.three connections", len({m["env"]["peer"] for m in got}),
             3)


@suite.test
def bad_addresses_refused_before_connecting():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    url = "smtps://127.0.0.1:%d" % listener.getsockname()[1]
    cases = [
        ("rcpt crlf", {"rcpt": "alice@example.com\r\nRCPT TO:<evil@x.org>"}),
        ("rcpt lf", {"rcpt": "alice@example.com\nevil@x.org"}),
        ("rcpt angle", {"rcpt": "alice@example.com>"}),
        ("rcpt space", {"rcpt": "alice@example.com evil@x.org"}),
        ("from cr", {"mail_from": "me@example.com\rX"}),
        ("from angle", {"mail_from": "<me@example.com>"}),
        ("rcpt no at", {"rcpt": "alice"}),
    ]
    try:
        for name, kw in cases:
            rc, out = send(url, **kw)
            suite.eq("badaddr.%s.exit" % name, rc, 3)
            suite.check("badaddr.%s.text" % name,
                        "not sent" in out.get("text", ""), out)
        try:
            conn, _ = listener.accept()
            conn.close()
            connected = True
        except BlockingIOError:
            connected = False
        suite.eq("badaddr.no connection made", connected, False)
    finally:
        listener.close()


def encoded_word(text):
    return "=?UTF-8?B?%s?=" % base64.b64encode(text.encode()).decode()


@suite.test
def composed_reply():
    before = len(srv.messages())
    subject = encoded_word("x\r\nBcc: evil@x")
    rc, out = send(srv.url("smtps"), payload=subject,
                   opts=["--compose", "--original-id", "orig-1@unit.example",
                         "--references",
                         "<root@unit.example> junk <bad id@x>"])
    suite.eq("compose.exit", rc, 0)
    got = captured_since(before)
    if not suite.eq("compose.captured", len(got), 1):
        return
    raw, msg, env = got[0]["raw"], got[0]["msg"], got[0]["env"]
    suite.eq("compose.one recipient", env["rcpt_tos"], [RCPT])
    suite.check("compose.crlf only",
                b"\n" not in raw.replace(b"\r\n", b""), raw[:200])
    suite.check("compose.7bit", all(b < 0x80 for b in raw), "8-bit bytes")
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    names = [l.split(":", 1)[0].lower() for l in head.split("\r\n")
             if l and l[0] not in " \t"]
    suite.eq("compose.header names", sorted(names), sorted([
        "date", "from", "to", "subject", "message-id", "in-reply-to",
        "references", "auto-submitted", "x-intake-loop",
        "x-intake-verdict", "mime-version", "content-type",
        "content-transfer-encoding"]))
    suite.eq("compose.no bcc", msg.get_all("Bcc"), None)
    suite.eq("compose.subject", str(msg["Subject"]), "回复：x Bcc: evil@x")
    suite.eq("compose.to", str(msg["To"]), RCPT)
    suite.eq("compose.from address", msg["From"].addresses[0].addr_spec, FROM)
    suite.eq("compose.from name", msg["From"].addresses[0].display_name,
             "省质量强省工作联席会议办公室")
    suite.eq("compose.message-id", str(msg["Message-ID"]),
             "<%s>" % out.get("message-id"))
    suite.check("compose.message-id domain",
                out.get("message-id", "").endswith("@example.com"), out)
    suite.eq("compose.in-reply-to", str(msg["In-Reply-To"]),
             "<orig-1@unit.example>")
    suite.eq("compose.references", " ".join(str(msg["References"]).split()),
             "<root@unit.example> <orig-1@unit.example>")
    suite.eq("compose.auto-submitted", str(msg["Auto-Submitted"]),
             "auto-replied")
    suite.eq("compose.verdict", str(msg["X-Intake-Verdict"]), "accepted")
    suite.eq("compose.loop", str(msg["X-Intake-Loop"]), FROM)
    suite.eq("compose.content-type", msg.get_content_type(), "text/plain")
    suite.eq("compose.charset", msg.get_content_charset(), "utf-8")
    suite.eq("compose.encoding", str(msg["Content-Transfer-Encoding"]),
             "base64")
    body = msg.get_content()
    suite.check("compose.body item line",
                "✓ 图片“主会场.jpg”（1600×1200）说明：质量月启动仪式" in body,
                body)
    suite.check("compose.body unit", body.startswith("福州市市场监督管理局："),
                body[:100])
    suite.check("compose.body automatic reply", "本邮件为系统自动回复" in body,
                body)


@suite.test
def test_login():
    p = subprocess.run([TOOL, "--test-login", srv.url("starttls"), srv.user,
                        PASSFILE, CERT], cwd=TOP, capture_output=True,
                       timeout=60)
    report = p.stdout.decode("utf-8", "replace")
    suite.eq("login.exit", p.returncode, 0)
    suite.check("login.tls", "tls: STARTTLS" in report, report)
    suite.check("login.capabilities", "AUTH" in report, report)
    suite.check("login.authenticated",
                "authenticated as %s" % srv.user in report, report)
    p = subprocess.run([TOOL, "--test-login", srv.url("noauth"), srv.user,
                        PASSFILE, CERT], cwd=TOP, capture_output=True,
                       timeout=60)
    report = p.stdout.decode("utf-8", "replace")
    suite.eq("login.noauth.exit", p.returncode, 3)
    suite.check("login.noauth.report", "NOT authenticated" in report, report)
    p = subprocess.run([TOOL, "--test-login", srv.url("smtps"), srv.user,
                        BADPASSFILE, CERT], cwd=TOP, capture_output=True,
                       timeout=60)
    report = p.stdout.decode("utf-8", "replace")
    suite.eq("login.wrong password.exit", p.returncode, 3)
    suite.check("login.wrong password.授权码", "授权码" in report, report)


suite.main()
