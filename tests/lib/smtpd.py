#!/usr/bin/python3
"""Loopback SMTP test peer (aiosmtpd, RECIPES.md §3) for tests and the demo.

As a script (run it with /usr/bin/python3: pyenv's python3 has no aiosmtpd):

    smtpd.py OUTDIR CERT KEY PLAIN STARTTLS SMTPS [NOAUTH [AUTHONCE]]

prints READY when every port listens, stops cleanly on SIGTERM or SIGINT and
prints STOPPED.  As a class:

    from smtpd import SmtpServer
    srv = SmtpServer(tmpdir, cert, key)   # cert, key: tls.make_cert(dir)
    suite.cleanup(srv.stop)
    srv.start()                           # free ports, waits for READY
    srv.plain_port, srv.starttls_port, srv.smtps_port, srv.noauth_port,
    srv.authonce_port                     # or srv.url("smtps") etc.
    srv.messages()                        # captured mail, in order
    srv.mail_commands()                   # every MAIL FROM the peer saw
    srv.stop()

Ports:
  PLAIN      no TLS offered; AUTH not offered either (aiosmtpd wants TLS)
  STARTTLS   STARTTLS offered and required before MAIL; AUTH after TLS
  SMTPS      implicit TLS; AUTH offered
  NOAUTH     implicit TLS; AUTH never offered (libcurl then skips AUTH
             silently: the case a client must not count as authenticated)
  AUTHONCE   implicit TLS; AUTH offered until one login succeeded, never
             after; the server closes each connection 0.1 s after a
             message is accepted.  A client that reconnects for its next
             message meets a server that does not authenticate it.
AUTH PLAIN/LOGIN is accepted for smtpuser / smtppass; anything else gets 535.

Fault injection by the recipient's local part:
  tempfail*@  RCPT 451            permfail*@  RCPT 550
  data4xx*@   451 after DATA '.'  data5xx*@   554 after DATA '.'
  drop*@      connection closed at RCPT without a reply

Capture: OUTDIR/NNNN.eml (the bytes as received, CRLF) and NNNN.env (JSON:
mail_from, rcpt_tos, tls, auth, helo, port); the .eml is renamed into place
last, so a test may poll for it.  OUTDIR/mail.log has one JSON line per
MAIL FROM (port, peer: the client's port, i.e. the connection, mail_from,
tls, auth), so a test can tell that a client never started a transaction,
or that it reused its connection.
"""
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time

USER = "smtpuser"
PASSWORD = "smtppass"
PYTHON = "/usr/bin/python3"


def serve(argv):
    """The server process (the script's main)."""
    import asyncio
    import itertools
    import ssl
    import threading
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

    outdir, cert, key = argv[0], argv[1], argv[2]
    ports = [int(x) for x in argv[3:]]
    if len(ports) not in (3, 4, 5):
        sys.exit("usage: smtpd.py OUTDIR CERT KEY PLAIN STARTTLS SMTPS "
                 "[NOAUTH [AUTHONCE]]")
    os.makedirs(outdir, exist_ok=True)
    seq = itertools.count(1)
    lock = threading.Lock()
    authonce = {"port": ports[4] if len(ports) == 5 else None, "done": False}

    def state(server, session):
        return {
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "auth": (session.auth_data.login.decode()
                     if session.authenticated and session.auth_data else None),
            "port": server.transport.get_extra_info("sockname")[1],
            "peer": server.transport.get_extra_info("peername")[1],
        }

    class Handler:
        async def handle_MAIL(self, server, session, envelope, address,
                              mail_options):
            line = dict(state(server, session), mail_from=address)
            with lock, open(os.path.join(outdir, "mail.log"), "a") as f:
                f.write(json.dumps(line) + "\n")
            envelope.mail_from = address
            envelope.mail_options.extend(mail_options)
            return "250 OK"

        async def handle_RCPT(self, server, session, envelope, address,
                              rcpt_options):
            local = address.split("@")[0].lower()
            if local.startswith("tempfail"):
                return "451 4.3.0 Simulated temporary failure"
            if local.startswith("permfail"):
                return "550 5.1.1 Simulated: no such user"
            if local.startswith("drop"):
                server.transport.close()  # the socket is gone: no reply
                return "421 closing"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            locs = [r.split("@")[0].lower() for r in envelope.rcpt_tos]
            if any(l.startswith("data4xx") for l in locs):
                return "451 4.3.0 Simulated temp failure after DATA"
            if any(l.startswith("data5xx") for l in locs):
                return "554 5.6.0 Simulated rejection after DATA"
            with lock:
                n = next(seq)
            base = os.path.join(outdir, "%04d" % n)
            with open(base + ".eml.tmp", "wb") as f:
                f.write(envelope.original_content)
            env = dict(state(server, session), mail_from=envelope.mail_from,
                       rcpt_tos=envelope.rcpt_tos, helo=session.host_name)
            with open(base + ".env", "w") as f:
                json.dump(env, f)
            os.rename(base + ".eml.tmp", base + ".eml")
            if env["port"] == authonce["port"]:
                asyncio.get_running_loop().call_later(
                    0.1, server.transport.close)
            return "250 2.0.0 Message accepted id=%04d" % n

    def auth(server, session, envelope, mechanism, data):
        ok = (isinstance(data, LoginPassword)
              and data.login == USER.encode()
              and data.password == PASSWORD.encode())
        # handled=False on failure: otherwise aiosmtpd sends no reply at all
        if ok:
            if server.transport.get_extra_info("sockname")[1] == \
                    authonce["port"]:
                authonce["done"] = True
            return AuthResult(success=True, auth_data=data)
        return AuthResult(success=False, handled=False)

    class AuthOnce(Controller):
        def factory(self):
            # implicit TLS with auth_require_tls: AUTH is not offered
            kw = dict(self.SMTP_kwargs, auth_require_tls=authonce["done"])
            return SMTP(self.handler, **kw)

    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    common = dict(authenticator=auth, auth_require_tls=True,
                  auth_required=False, data_size_limit=64 * 1024 * 1024,
                  hostname="127.0.0.1")
    ctrls = [
        Controller(Handler(), port=ports[0], **common),
        Controller(Handler(), port=ports[1], tls_context=tls,
                   require_starttls=True, **common),
        # implicit TLS: aiosmtpd does not count it as TLS for AUTH
        Controller(Handler(), port=ports[2], ssl_context=tls,
                   **dict(common, auth_require_tls=False)),
    ]
    if len(ports) >= 4:
        # ... which is how this port never offers AUTH
        ctrls.append(Controller(Handler(), port=ports[3], ssl_context=tls,
                                **common))
    if len(ports) == 5:
        ctrls.append(AuthOnce(Handler(), port=ports[4], ssl_context=tls,
                              **common))
    # before the threads start, or SIGTERM kills us before sigwait sees it
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    for c in ctrls:
        c.start()
    print("READY", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    for c in ctrls:
        c.stop()
    print("STOPPED", flush=True)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    """The peer as a child process on free ports; see the module's doc."""

    user = USER
    password = PASSWORD

    def __init__(self, tmpdir, cert, key):
        self.dir = tmpdir
        self.outdir = os.path.join(tmpdir, "smtp-out")
        self.cert = cert
        self.key = key
        self.proc = None
        self.plain_port = self.starttls_port = None
        self.smtps_port = self.noauth_port = self.authonce_port = None
        self._errlog = None

    def start(self, timeout=15):
        last = None
        for _ in range(3):  # a free port may be taken before we bind it
            ports = []
            while len(ports) < 5:
                p = free_port()
                if p not in ports:
                    ports.append(p)
            try:
                self._launch(ports, timeout)
                return self
            except RuntimeError as e:
                last = e
        raise last

    def _launch(self, ports, timeout):
        os.makedirs(self.outdir, exist_ok=True)
        self._errlog = open(os.path.join(self.dir, "smtpd.err"), "ab")
        self.proc = subprocess.Popen(
            [PYTHON, os.path.abspath(__file__), self.outdir, self.cert,
             self.key] + [str(p) for p in ports],
            stdout=subprocess.PIPE, stderr=self._errlog)
        deadline = time.monotonic() + timeout
        line = b""
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if r:
                line = self.proc.stdout.readline()
                break
            if self.proc.poll() is not None:
                break
        if line.strip() != b"READY":
            self.stop()
            raise RuntimeError("smtpd.py did not start: %s"
                               % self.log_text()[-2000:])
        (self.plain_port, self.starttls_port, self.smtps_port,
         self.noauth_port, self.authonce_port) = ports

    def stop(self):
        """Stops the child and waits for it (idempotent)."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.proc.stdout.close()
            self.proc = None
        if self._errlog is not None:
            self._errlog.close()
            self._errlog = None

    def log_text(self):
        try:
            with open(os.path.join(self.dir, "smtpd.err"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def url(self, kind):
        """smtp://127.0.0.1:PORT for "plain", "starttls"; smtps:// for
        "smtps", "noauth", "authonce"."""
        port = {"plain": self.plain_port, "starttls": self.starttls_port,
                "smtps": self.smtps_port, "noauth": self.noauth_port,
                "authonce": self.authonce_port}[kind]
        scheme = "smtp" if kind in ("plain", "starttls") else "smtps"
        return "%s://127.0.0.1:%d" % (scheme, port)

    def messages(self):
        """Captured messages in order: dicts with raw (bytes), msg (an
        email.message.EmailMessage) and env (the .env JSON)."""
        import email
        import email.policy
        out = []
        if not os.path.isdir(self.outdir):
            return out
        for name in sorted(os.listdir(self.outdir)):
            if not name.endswith(".eml"):
                continue
            base = os.path.join(self.outdir, name[:-4])
            with open(base + ".eml", "rb") as f:
                raw = f.read()
            with open(base + ".env") as f:
                env = json.load(f)
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            out.append({"raw": raw, "msg": msg, "env": env})
        return out

    def mail_commands(self):
        """Every MAIL FROM seen, in order (dicts: port, peer, mail_from,
        tls, auth)."""
        try:
            with open(os.path.join(self.outdir, "mail.log")) as f:
                return [json.loads(l) for l in f if l.strip()]
        except OSError:
            return []

    def clear(self):
        """Forgets what was captured so far (the numbering goes on)."""
        if os.path.isdir(self.outdir):
            for name in os.listdir(self.outdir):
                os.unlink(os.path.join(self.outdir, name))


if __name__ == "__main__":
    serve(sys.argv[1:])
