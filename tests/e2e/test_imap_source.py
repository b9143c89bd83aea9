"""The IMAP message source (lib/imap.c) against a real Dovecot on loopback,
driven through build/tools/source-dump: TLS and STARTTLS, login errors,
listing in UID order with sizes and flags, byte-identical fetches, \\Seen
restored, the cursor and UIDVALIDITY, mark flag and move (with and without
MOVE/UIDPLUS/ID), a server that stops, the size limit, SINCE, folder names
in Chinese, and a mailbox large enough to trip libcurl's line limits.
"""
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import BUILD, Suite  # noqa: E402
from dovecot import Dovecot  # noqa: E402

suite = Suite("imap_source")
TOOL = os.path.join(BUILD, "tools", "source-dump")


def message(n, body=b"", extra=b""):
    """A CRLF message, as Dovecot returns it byte for byte."""
    return (b"From: unit%d@example.com\r\nTo: office@example.com\r\n"
            b"Subject: =?UTF-8?B?5rWL6K+V?= %d\r\nMessage-ID: <m%d@example.com>\r\n"
            b"Content-Type: text/plain; charset=UTF-8\r\n%s\r\n"
            b"\xe6\xb4\xbb\xe5\x8a\xa8\xe6\x80\xbb\xe7\xbb\x93 %d\r\n%s" %
            (n, n, n, extra, n, body))


def server(**kw):
    """A fresh Dovecot for one test: `with server() as dc:`; the suite's
    cleanup stops it too if the test raised."""
    dc = Dovecot(**kw)
    suite.cleanup(dc.close)
    return dc


class Run:
    """One source-dump run, its output parsed."""

    def __init__(self, dc, *opts, url=None, password_file=None, ca=None,
                 cursor=None, stdin=None, proc=None):
        if proc is None:
            args = [TOOL] + list(opts) + [
                url or dc.imaps_url, dc.user, password_file or dc.password_file,
                ca or dc.cert]
            if cursor:
                args += [str(cursor[0]), str(cursor[1])]
            t = time.monotonic()
            r = subprocess.run(args, input=stdin, capture_output=True,
                               text=True, timeout=120)
            self.seconds = time.monotonic() - t
            self.rc, out, self.err = r.returncode, r.stdout, r.stderr
        else:
            out, self.err = proc.communicate("\n", timeout=120)
            self.rc = proc.returncode
        self.out = out
        self.msgs, self.errors = [], {}
        self.uidvalidity = self.count = self.fatal = None
        for line in out.splitlines():
            kind, _, rest = line.partition("\t")
            fields = dict(f.split("=", 1) for f in rest.split("\t") if "=" in f)
            if kind == "msg":
                self.msgs.append(fields)
            elif kind == "error":
                self.errors[fields["key"]] = fields
            elif kind == "uidvalidity":
                self.uidvalidity = int(rest)
            elif kind == "count":
                self.count = int(rest)
            elif kind == "fatal":
                self.fatal = fields.get("code")

    def keys(self):
        return [m["key"] for m in self.msgs]


def start_waiting(dc, *opts):
    """source-dump --wait: opened, waiting for a line on stdin."""
    p = subprocess.Popen([TOOL, "--wait"] + list(opts) +
                         [dc.imaps_url, dc.user, dc.password_file, dc.cert],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    suite.cleanup(lambda: p.poll() is None and p.kill())
    first = p.stdout.readline()
    return p, first


def logouts(dc, sessions=1):
    """(body_count, body_bytes) of each finished IMAP session, once the
    log holds at least sessions of them (Dovecot writes the line after
    our client has gone: wait up to 10 s for it)."""
    deadline = time.monotonic() + 10
    while True:
        found = [(int(a), int(b)) for a, b in re.findall(
            r"Logged out .*body_count=(\d+) body_bytes=(\d+)", dc.log_text())]
        if len(found) >= sessions or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


@suite.test
def tool_built():
    suite.check("tool_built", os.access(TOOL, os.X_OK), TOOL + " missing")


@suite.test
def imaps_list_fetch_restore():
    with server() as dc:
        raws = [message(1), message(2, b"x" * 3000), message(3, b"\xe5\x9b\xbe1\r\n")]
        uids = [dc.append(raws[0]), dc.append(raws[1], seen=True), dc.append(raws[2])]
        out = tempfile.mkdtemp(prefix="source-dump-")
        suite.cleanup(lambda: shutil.rmtree(out, ignore_errors=True))
        r = Run(dc, "--out", out)
        suite.eq("imaps.rc", r.rc, 0)
        suite.eq("imaps.uidvalidity", r.uidvalidity, dc.uidvalidity())
        suite.eq("imaps.keys_in_uid_order", r.keys(), [str(u) for u in uids])
        suite.eq("imaps.uids", [int(m["uid"]) for m in r.msgs], uids)
        suite.eq("imaps.sizes", [int(m["size"]) for m in r.msgs], [len(x) for x in raws])
        suite.eq("imaps.seen", [m["seen"] for m in r.msgs], ["0", "1", "0"])
        suite.check("imaps.flags_has_seen", "\\Seen" in r.msgs[1]["flags"].split(),
                    r.msgs[1]["flags"])
        got = []
        for u in uids:
            with open(os.path.join(out, "%d.eml" % u), "rb") as f:
                got.append(f.read())
        suite.check("imaps.bytes_identical", got == raws, "fetched bytes differ")
        suite.eq("imaps.sha256", [m["sha256"] for m in r.msgs],
                 [hashlib.sha256(x).hexdigest() for x in raws])
        suite.eq("imaps.flags_restored", [dc.flags(u) for u in uids],
                 [[], ["\\Seen"], []])
        suite.check("imaps.id_sent", "ID sent: name=intake" in dc.log_text(),
                    "no ID in the log")
        # without the restore, the download would have left \Seen behind
        r = Run(dc, "--no-restore")
        suite.eq("imaps.fetch_sets_seen", [dc.flags(u) for u in uids],
                 [["\\Seen"]] * 3)


@suite.test
def starttls():
    with server() as dc:
        uid = dc.append(message(1))
        r = Run(dc, url=dc.imap_url)
        suite.eq("starttls.rc", r.rc, 0)
        suite.eq("starttls.keys", r.keys(), [str(uid)])
        logins = re.findall(r"Login: user=<testuser>.*", dc.log_text())
        suite.check("starttls.logged_in_over_tls",
                    logins and all("TLS" in l for l in logins), logins)


@suite.test
def no_starttls_no_login():
    with server(tls=False) as dc:
        dc.append(message(1))
        r = Run(dc, url=dc.imap_url, ca="-")
        suite.eq("no_starttls.rc", r.rc, 1)
        suite.eq("no_starttls.code", r.fatal, "connection")
        suite.check("no_starttls.says_starttls", "STARTTLS" in r.err, r.err)
        suite.check("no_starttls.no_login", "Login: user=" not in dc.log_text(),
                    "the password went out in clear")
        r = Run(dc, "--insecure", url=dc.imap_url, ca="-")
        suite.eq("no_starttls.insecure_allowed", (r.rc, r.count), (0, 1))


@suite.test
def wrong_password():
    with server() as dc:
        bad = os.path.join(dc.dir, "bad-password")
        with open(bad, "w") as f:
            f.write("web-password\n")
        r = Run(dc, password_file=bad)
        suite.eq("wrong_password.rc", r.rc, 1)
        suite.eq("wrong_password.code", r.fatal, "auth")
        suite.check("wrong_password.says_authorization_code", "授权码" in r.err, r.err)
        suite.check("wrong_password.server_text", "AUTHENTICATIONFAILED" in r.err, r.err)
        suite.check("wrong_password.no_secret", "web-password" not in r.err + r.out,
                    "password in the output")


@suite.test
def untrusted_certificate():
    with server() as dc:
        r = Run(dc, ca="-")
        suite.eq("untrusted.code", (r.rc, r.fatal), (1, "connection"))
        suite.check("untrusted.says_certificate",
                    "certificate" in r.err and "ca_file" in r.err, r.err)


@suite.test
def missing_mailbox():
    with server() as dc:
        r = Run(dc, url=dc.url("imaps", "Nope"))
        suite.eq("missing_mailbox.code", (r.rc, r.fatal), (1, "permanent"))
        suite.check("missing_mailbox.server_text", "doesn't exist" in r.err, r.err)


@suite.test
def cursor():
    with server() as dc:
        uids = [dc.append(message(i)) for i in range(4)]
        v = dc.uidvalidity()
        suite.eq("cursor.after_2", Run(dc, "--no-fetch", cursor=(uids[1], v)).keys(),
                 [str(u) for u in uids[2:]])
        # UID n:* matches the highest UID even when it is below n
        suite.eq("cursor.at_end", Run(dc, "--no-fetch", cursor=(uids[3], v)).keys(), [])
        suite.eq("cursor.beyond_end", Run(dc, "--no-fetch", cursor=(uids[3] + 50, v)).keys(), [])
        suite.eq("cursor.zero", len(Run(dc, "--no-fetch", cursor=(0, v)).keys()), 4)


@suite.test
def uidvalidity_change():
    with server() as dc:
        uids = [dc.append(message(i)) for i in range(3)]
        v = dc.uidvalidity()
        r = Run(dc, "--no-fetch", cursor=(uids[2], v - 1))
        suite.eq("uidvalidity.other_lists_all", r.keys(), [str(u) for u in uids])
        dc.set_uidvalidity(v + 7)
        r = Run(dc, "--no-fetch", cursor=(uids[2], v))
        suite.eq("uidvalidity.new_value", r.uidvalidity, v + 7)
        suite.eq("uidvalidity.changed_lists_all", len(r.keys()), 3)
        nv = dc.recreate_inbox()
        r = Run(dc, "--no-fetch", cursor=(uids[2], v + 7))
        suite.eq("uidvalidity.recreated", (r.uidvalidity, len(r.keys())), (nv, 3))


@suite.test
def uidvalidity_guard_mid_session():
    """Mailbox recreated while we are connected: refuse, do not fetch
    whatever now has that UID."""
    with server() as dc:
        dc.append(message(1))
        p, first = start_waiting(dc)
        suite.check("guard.opened", first.startswith("uidvalidity"), first)
        dc.recreate_inbox()
        r = Run(dc, proc=p)
        suite.eq("guard.code", (r.rc, r.fatal), (1, "temporary"))
        suite.check("guard.says_uidvalidity", "UIDVALIDITY" in r.err, r.err)


@suite.test
def mark_flag():
    with server() as dc:
        uids = [dc.append(message(i)) for i in range(2)]
        r = Run(dc, "--mark", "flag")
        suite.eq("mark_flag.rc", r.rc, 0)
        suite.eq("mark_flag.default_keyword", [dc.flags(u) for u in uids], [["$Filed"]] * 2)
        r = Run(dc, "--mark", "flag:Intake_Done", "--no-fetch")
        suite.eq("mark_flag.keyword", dc.flags(uids[0]), ["$Filed", "Intake_Done"])
        r = Run(dc, "--mark", "flag:bad keyword", "--no-fetch")
        suite.eq("mark_flag.bad_keyword", (r.rc, r.errors.get(str(uids[0]), {}).get("code")),
                 (1, "config"))


@suite.test
def mark_move():
    with server() as dc:
        uids = [dc.append(message(i)) for i in range(3)]
        r = Run(dc, "--mark", "move:Archive", cursor=(uids[0], dc.uidvalidity()))
        suite.eq("mark_move.rc", r.rc, 0)
        suite.eq("mark_move.inbox", dc.uids(), uids[:1])
        suite.eq("mark_move.archive", len(dc.uids("Archive")), 2)
        # a folder that does not exist yet: TRYCREATE, CREATE, again
        r = Run(dc, "--mark", "move:已处理/2022")
        suite.eq("mark_move.new_folder_rc", r.rc, 0)
        suite.check("mark_move.created", "已处理/2022" in dc.mailboxes(), dc.mailboxes())
        suite.eq("mark_move.moved", (dc.uids(), len(dc.uids("已处理/2022"))), ([], 1))


@suite.test
def mark_move_without_move():
    """COPY + \\Deleted + UID EXPUNGE when MOVE is not offered; no ID
    when ID is not offered."""
    with server(capabilities="IMAP4rev1 LITERAL+ UIDPLUS") as dc:
        kept = dc.append(message(0))
        dc.doveadm("flags", "add", "-u", dc.user, "\\Deleted", "mailbox", "INBOX",
                   "uid", str(kept))
        uids = [dc.append(message(i)) for i in range(1, 3)]
        r = Run(dc, "--mark", "move:Archive", cursor=(kept, dc.uidvalidity()))
        suite.eq("copy_expunge.rc", r.rc, 0)
        # UID EXPUNGE: what the office had deleted stays until it expunges
        suite.eq("copy_expunge.inbox", dc.uids(), [kept])
        suite.eq("copy_expunge.archive", len(dc.uids("Archive")), 2)
        suite.check("copy_expunge.no_id", "ID sent" not in dc.log_text(), "ID sent")


@suite.test
def mark_move_without_uidplus():
    """Without UIDPLUS there is no UID EXPUNGE, and a bare EXPUNGE would
    take what the office deleted too: the original stays, \\Deleted."""
    with server(capabilities="IMAP4rev1 LITERAL+") as dc:
        kept = dc.append(message(0))
        dc.doveadm("flags", "add", "-u", dc.user, "\\Deleted", "mailbox", "INBOX",
                   "uid", str(kept))
        uid = dc.append(message(1))
        r = Run(dc, "--mark", "move:Archive", cursor=(kept, dc.uidvalidity()))
        suite.eq("copy_only.rc", r.rc, 0)
        suite.eq("copy_only.inbox", dc.uids(), [kept, uid])
        suite.check("copy_only.deleted", "\\Deleted" in dc.flags(uid), dc.flags(uid))
        suite.eq("copy_only.archive", len(dc.uids("Archive")), 1)


@suite.test
def server_stopped():
    with server() as dc:
        dc.stop()
        r = Run(dc)
        suite.eq("stopped.code", (r.rc, r.fatal), (1, "connection"))
        suite.check("stopped.says_connect", "cannot connect" in r.err, r.err)
        suite.check("stopped.quick", r.seconds < 10, r.seconds)


@suite.test
def server_stops_mid_session():
    with server() as dc:
        dc.append(message(1))
        p, first = start_waiting(dc)
        suite.check("stops_mid.opened", first.startswith("uidvalidity"), first)
        dc.stop()
        t = time.monotonic()
        r = Run(dc, proc=p)
        suite.eq("stops_mid.code", (r.rc, r.fatal), (1, "connection"))
        suite.check("stops_mid.quick", time.monotonic() - t < 10, "hung")


@suite.test
def server_restarts_mid_session():
    """A dropped connection is made again, with CAPABILITY and ID first."""
    with server() as dc:
        uid = dc.append(message(1))
        p, first = start_waiting(dc)
        suite.check("restart_mid.opened", first.startswith("uidvalidity"), first)
        dc.stop()
        dc.start()
        r = Run(dc, proc=p)
        suite.eq("restart_mid.rc", r.rc, 0)
        suite.eq("restart_mid.keys", r.keys(), [str(uid)])
        suite.eq("restart_mid.id_again", dc.log_text().count("ID sent: name=intake"), 2)


@suite.test
def size_limit():
    with server() as dc:
        small, big = message(1), message(2, b"y" * 5000)
        u1, u2 = dc.append(small), dc.append(big)
        r = Run(dc, "--max-bytes", "1000")
        suite.eq("limit.rc", r.rc, 1)
        suite.eq("limit.small_fetched", r.msgs[0]["sha256"], hashlib.sha256(small).hexdigest())
        e = r.errors.get(str(u2), {})
        suite.eq("limit.code", e.get("code"), "limit")
        suite.check("limit.not_downloaded", "not downloaded" in e.get("message", ""), e)
        # Dovecot counts what it sent: one body, the small one
        suite.eq("limit.server_sent", logouts(dc)[-1:], [(1, len(small))])
        suite.eq("limit.flags", [dc.flags(u1), dc.flags(u2)], [[], []])
        # RFC822.SIZE lied (or the message grew): stopped during the download
        r = Run(dc, "--max-bytes", "1000", "--ignore-size", cursor=(u1, dc.uidvalidity()))
        e = r.errors.get(str(u2), {})
        suite.eq("limit.stream_code", e.get("code"), "limit")
        suite.check("limit.stream_stopped", "download stopped" in e.get("message", ""), e)
        suite.check("limit.stream_bounded", int(r.msgs[0]["bytes"]) <= 1000, r.msgs)
        suite.eq("limit.stream_seen_restored", dc.flags(u2), [])


@suite.test
def since():
    with server() as dc:
        t0 = 1664582400  # 2022-10-01 00:00:00 UTC
        dates = [t0 - 3 * 86400, t0 - 60, t0, t0 + 3600]
        uids = [dc.append(message(i), internaldate=d) for i, d in enumerate(dates)]
        r = Run(dc, "--no-fetch", "--since", str(t0))
        suite.eq("since.rc", r.rc, 0)
        suite.eq("since.keys", r.keys(), [str(u) for u in uids[2:]])
        suite.eq("since.internaldate", [int(m["internaldate"]) for m in r.msgs], dates[2:])
        r = Run(dc, "--no-fetch")
        suite.eq("since.all_dates", [int(m["internaldate"]) for m in r.msgs], dates)


@suite.test
def chinese_mailbox():
    with server() as dc:
        dc.create_mailbox("收件箱/活动总结")
        uid = dc.append(message(1), mailbox="收件箱/活动总结")
        for name, url in (("utf8", dc.url("imaps", "收件箱/活动总结")),
                          ("percent", dc.url("imaps", urllib.parse.quote("收件箱/活动总结"))),
                          ("mutf7", dc.url("imaps", "&ZTZO9nux-/&bTtSqGA7ftM-"))):
            r = Run(dc, url=url)
            suite.eq("chinese_mailbox." + name, (r.rc, r.keys()), (0, [str(uid)]))


@suite.test
def many_messages():
    """6000 messages: more than one SEARCH window and hundreds of FETCH
    batches; libcurl 7.88 would cut a single SEARCH line of that size and
    refuse a FETCH response of that many lines."""
    with server() as dc:
        uids = dc.append_many([message(i) for i in range(6000)])
        r = Run(dc, "--no-fetch")
        got = [int(k) for k in r.keys()]
        suite.eq("many.rc", r.rc, 0)
        suite.eq("many.all_once_in_order", got, uids)
        r = Run(dc, "--no-fetch", cursor=(uids[-11], dc.uidvalidity()))
        suite.eq("many.cursor", [int(k) for k in r.keys()], uids[-10:])
        r = Run(dc, "--no-fetch", cursor=(uids[100], dc.uidvalidity()))
        suite.eq("many.cursor_deep", len(r.keys()), len(uids) - 101)


suite.main()
