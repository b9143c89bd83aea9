"""A whole loopback world for end-to-end tests and the demo: a private
Dovecot (IMAPS), the SMTP peer, the generated fixtures and an intake
instance wired to both.

    w = World(suite)          # registers its own cleanup with the suite
    w.deliver(raw)            # into the Dovecot INBOX (unseen)
    w.intake.once()
    w.replies()               # what intake sent, parsed
"""
import os
import shutil
import subprocess
import tempfile

from dovecot import Dovecot
from harness import TOP
from intake import Intake
from smtpd import SmtpServer
from tls import make_cert

_fixtures = None


def fixtures():
    """The generated fixture files (tests/fixtures/gen.py), made once per
    process: a dict name -> bytes."""
    global _fixtures
    if _fixtures is None:
        d = tempfile.mkdtemp(prefix="intake-fixtures-")
        try:
            subprocess.run(["/usr/bin/python3",
                            os.path.join(TOP, "tests", "fixtures", "gen.py"), d],
                           check=True, stdout=subprocess.DEVNULL)
            _fixtures = {}
            for name in os.listdir(d):
                p = os.path.join(d, name)
                if os.path.isfile(p):
                    with open(p, "rb") as f:
                        _fixtures[name] = f.read()
        finally:
            shutil.rmtree(d, ignore_errors=True)
    return _fixtures


class World:
    def __init__(self, cleanup=None, keep=False, **intake_args):
        self.dir = tempfile.mkdtemp(prefix="intake-e2e-")
        os.chmod(self.dir, 0o755)
        self.keep = keep
        self.dovecot = Dovecot(os.path.join(self.dir, "dovecot"))
        cert, key = make_cert(os.path.join(self.dir, "tls"))
        self.smtp = SmtpServer(os.path.join(self.dir, "smtp"), cert, key)
        os.makedirs(self.smtp.dir, exist_ok=True)
        # registered first: a failed start still stops what did start
        if cleanup is not None:
            cleanup(self.close)
        self.dovecot.start()
        self.smtp.start()
        self.smtp_cert = cert
        # the office's client trusts both test CAs
        bundle = os.path.join(self.dir, "ca.pem")
        with open(bundle, "w") as out:
            for p in (self.dovecot.cert, cert):
                with open(p) as f:
                    out.write(f.read())
        self.ca = bundle
        args = dict(mailbox_url=self.dovecot.imaps_url,
                    imap=(self.dovecot.user, self.dovecot.password),
                    ca_file=bundle,
                    smtp_url=self.smtp.url("smtps"),
                    smtp=(self.smtp.user, self.smtp.password))
        args.update(intake_args)
        self.intake = Intake(os.path.join(self.dir, "intake"), **args)

    def deliver(self, raw, **kw):
        return self.dovecot.append(raw, **kw)

    def replies(self):
        return self.smtp.messages()

    def close(self):
        self.smtp.stop()
        self.dovecot.close()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def unique_jpegs(n, width=1024, height=768):
    """n different JPEGs (cjpeg from generated PPMs): each has its own
    pattern, so no two share a hash."""
    out = []
    for k in range(n):
        row = bytes(((x * (k + 3) + k * 37) & 0xff) for x in range(width * 3))
        ppm = b"P6 %d %d 255\n" % (width, height) + b"".join(
            row[(y * (k + 1)) % 97:] + row[:(y * (k + 1)) % 97] for y in range(height))
        r = subprocess.run(["cjpeg", "-quality", "80"], input=ppm,
                           stdout=subprocess.PIPE, check=True)
        out.append(r.stdout)
    return out
