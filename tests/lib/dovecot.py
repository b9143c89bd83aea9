"""A private Dovecot IMAP server on 127.0.0.1 for tests and the demo.

    from dovecot import Dovecot

    dc = Dovecot()                  # or Dovecot("/some/dir"): its files go there
    suite.cleanup(dc.close)         # stops the server, removes its directory
    dc.start()
    uid = dc.append(b"Subject: hi\\r\\n\\r\\nbody\\r\\n")            # unseen
    uid = dc.append(raw, seen=True, internaldate=1664000000)      # Unix time
    dc.imaps_url                    # imaps://127.0.0.1:PORT/INBOX
    dc.imap_url                     # imap://127.0.0.1:PORT/INBOX (STARTTLS)
    dc.user, dc.password, dc.password_file, dc.cert     # log in with these
    dc.flags(uid)                   # ['\\Seen', '$Filed']
    dc.uids(), dc.uidvalidity()     # what the mailbox holds
    dc.stop(); dc.start()           # restart on the same ports

The instance is self-contained (RECIPES.md §2): its own config, base_dir,
state_dir, log (dc.log_text()), users file and a self-signed certificate for
127.0.0.1 made with openssl.  Ports are free ones found by binding port 0 and
stay the same across stop()/start().  The server runs in the foreground
(`dovecot -F`) as our child, so stop() reaps it and nothing is left running.

As root, the mail user runs as nobody:nogroup (Dovecot refuses uid 0), so
the directory must be traversable: it is made mode 0755.  Messages are
dropped into the Maildir with the file's mtime set (Dovecot takes it as
the INTERNALDATE), or saved with `doveadm save` into other mailboxes.

Options: capabilities="IMAP4rev1 ..." replaces the post-login CAPABILITY
list that Dovecot advertises (to test clients without MOVE or ID);
tls=False turns TLS off (no STARTTLS, no imaps port: to test that a
client refuses to log in in clear); extra_config is appended to
dovecot.conf.  Every login's ID is logged
(imap_id_log = *), so tests can see what a client sent.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

USER = "testuser"
PASSWORD = "testpass"


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port):
    """Whether something listens on 127.0.0.1:port, read from
    /proc/net/tcp: a test connection would leave Dovecot's login process
    a half-open client that makes a quick stop() wait ~5 s."""
    want = "0100007F:%04X" % port
    try:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[1] == want and fields[3] == "0A":
                    return True
    except OSError:
        pass
    return False


class Dovecot:
    """One private Dovecot instance; see the module's docstring."""

    user = USER
    password = PASSWORD

    def __init__(self, tmpdir=None, capabilities=None, extra_config="",
                 tls=True):
        self._own_dir = tmpdir is None
        self.dir = os.path.realpath(tmpdir or tempfile.mkdtemp(prefix="dovecot-"))
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.capabilities = capabilities
        self.extra_config = extra_config
        self.tls = tls
        self.proc = None
        self.imap_port = None
        self.imaps_port = None
        self.conf = os.path.join(self.dir, "dovecot.conf")
        self.cert = os.path.join(self.dir, "tls", "cert.pem")
        self.key = os.path.join(self.dir, "tls", "key.pem")
        self.password_file = os.path.join(self.dir, "password")
        self.log = os.path.join(self.dir, "dovecot.log")
        self.maildir = os.path.join(self.dir, "mail", USER, "Maildir")
        if os.getuid() == 0:
            self.mail_uid = int(subprocess.check_output(["id", "-u", "nobody"]))
            self.mail_gid = int(subprocess.check_output(
                ["getent", "group", "nogroup"]).split(b":")[2])
        else:
            self.mail_uid, self.mail_gid = os.getuid(), os.getgid()
        self._seq = 0
        self._setup_done = False

    # ---- URLs and credentials -------------------------------------------

    def url(self, scheme="imaps", mailbox="INBOX"):
        port = self.imaps_port if scheme == "imaps" else self.imap_port
        return "%s://127.0.0.1:%d/%s" % (scheme, port, mailbox)

    @property
    def imaps_url(self):
        return self.url("imaps")

    @property
    def imap_url(self):
        return self.url("imap")

    # ---- life cycle ------------------------------------------------------

    def _setup(self):
        for sub in ("run", "state", "tls"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(self.maildir, sub), exist_ok=True)
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout", self.key, "-out", self.cert],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._chown_tree(os.path.join(self.dir, "mail"))
        with open(os.path.join(self.dir, "users"), "w") as f:
            f.write("%s:{PLAIN}%s:%d:%d::%s\n" % (
                USER, PASSWORD, self.mail_uid, self.mail_gid,
                os.path.join(self.dir, "mail", USER)))
        with open(self.password_file, "w") as f:
            f.write(PASSWORD + "\n")
        self._setup_done = True

    def _chown_tree(self, top):
        if os.getuid() != 0:
            return
        os.chown(top, self.mail_uid, self.mail_gid)
        for root, dirs, files in os.walk(top):
            for n in dirs + files:
                os.lchown(os.path.join(root, n), self.mail_uid, self.mail_gid)

    def _write_conf(self):
        d = self.dir
        login_user = "dovenull" if os.getuid() == 0 else _self_name()
        internal_user = "dovecot" if os.getuid() == 0 else _self_name()
        extra = ""
        if os.getuid() != 0:
            extra += ("default_internal_group = %s\n"
                      "service anvil {\n  chroot =\n}\n" % _group_name())
        if self.capabilities is not None:
            extra += "imap_capability = %s\n" % self.capabilities
        conf = """# private Dovecot for intake's tests (tests/lib/dovecot.py)
instance_name = intake-test-%(port)d
base_dir = %(d)s/run
state_dir = %(d)s/state
listen = 127.0.0.1
protocols = imap
log_path = %(d)s/dovecot.log
info_log_path = %(d)s/dovecot.log
debug_log_path = %(d)s/dovecot.log
default_login_user = %(login_user)s
default_internal_user = %(internal_user)s
first_valid_uid = 1
mail_location = maildir:~/Maildir
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
imap_id_log = *
passdb {
  driver = passwd-file
  args = scheme=PLAIN %(d)s/users
}
userdb {
  driver = passwd-file
  args = %(d)s/users
}
ssl = %(ssl)s
ssl_cert = <%(d)s/tls/cert.pem
ssl_key = <%(d)s/tls/key.pem
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %(imap)d
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = %(imaps)d
    ssl = %(ssl)s
  }
%(chroot)s}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Trash {
    special_use = \\Trash
    auto = create
  }
  mailbox Archive {
    special_use = \\Archive
    auto = create
  }
}
%(extra)s
%(extra_config)s
""" % dict(d=d, port=self.imaps_port, imap=self.imap_port,
           imaps=self.imaps_port if self.tls else 0,
           ssl="yes" if self.tls else "no", login_user=login_user,
           internal_user=internal_user, extra=extra,
           extra_config=self.extra_config,
           chroot="" if os.getuid() == 0 else "  chroot =\n")
        with open(self.conf, "w") as f:
            f.write(conf)

    def start(self, timeout=10.0):
        """Starts the server (again) and waits until both ports accept."""
        if self.proc is not None:
            return
        if not self._setup_done:
            self._setup()
        fresh_ports = self.imap_port is None
        for attempt in range(3):
            if fresh_ports:
                self.imap_port, self.imaps_port = free_port(), free_port()
                while self.imaps_port == self.imap_port:
                    self.imaps_port = free_port()
            self._write_conf()
            with open(os.path.join(self.dir, "dovecot.stderr"), "ab") as err:
                # its own process group: stop() ends the master's children
                # too (they outlive a SIGTERMed master, serving on)
                self.proc = subprocess.Popen(
                    ["dovecot", "-F", "-c", self.conf],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=err, start_new_session=True)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if _listening(self.imap_port) and (
                        not self.tls or _listening(self.imaps_port)):
                    return
                time.sleep(0.05)
            rc = self.proc.poll()
            self._kill()
            if rc is None or not fresh_ports:
                break
            # a port was taken between free_port() and the bind: new ports
        raise RuntimeError("dovecot did not start; log:\n" + self.log_text()[-2000:])

    def _kill(self):
        """SIGTERM to the master, then to what it leaves behind in its
        process group (login, imap, anvil, log ... outlive it), waiting
        until every one of them is gone.  Stopped right after its start,
        Dovecot can take 5 s to shut down, so whatever is left after a
        second is SIGKILLed (Maildir and Dovecot's indexes survive that)."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                pass
        _signal_group(pgid, signal.SIGTERM)
        deadline = time.monotonic() + 0.5
        while _group_alive(pgid):
            if time.monotonic() > deadline:
                _signal_group(pgid, signal.SIGKILL)
            time.sleep(0.02)
        self.proc.wait()
        self.proc = None

    def stop(self):
        """SIGTERM, then waits for the master to exit (up to ~1 s)."""
        self._kill()

    def crash(self):
        """SIGKILL to the master and every process of its group at once:
        a transfer in progress is cut where it is (stop() lets it run on
        for up to a second)."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        _signal_group(pgid, signal.SIGKILL)
        while _group_alive(pgid):
            time.sleep(0.02)
        self.proc.wait()
        self.proc = None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def close(self):
        """Stops the server and removes the directory if we made it."""
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def log_text(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # ---- the mailbox ----------------------------------------------------

    def doveadm(self, *args, input=None):
        """Runs doveadm against this instance; returns stdout (bytes)."""
        r = subprocess.run(["doveadm", "-c", self.conf] + list(args),
                           input=input, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise RuntimeError("doveadm %s: %s" % (
                " ".join(args), r.stderr.decode(errors="replace")))
        return r.stdout

    def append(self, raw, seen=False, internaldate=None, mailbox="INBOX"):
        """Adds a message (bytes, as they are: give CRLF line ends, as
        IMAP serves them) and returns its UID.

        INBOX: a Maildir drop (new/, or cur/ with the S flag when seen),
        its mtime = internaldate (Unix seconds; default now), which Dovecot
        takes as the INTERNALDATE.  Other mailboxes: doveadm save
        (internaldate is not supported there)."""
        if mailbox == "INBOX":
            self._seq += 1
            when = internaldate if internaldate is not None else time.time()
            name = "%d.M%dP%d.intake-test" % (int(when), self._seq, os.getpid())
            tmp = os.path.join(self.maildir, "tmp", name)
            with open(tmp, "wb") as f:
                f.write(raw)
            os.utime(tmp, (when, when))
            if os.getuid() == 0:
                os.chown(tmp, self.mail_uid, self.mail_gid)
            dest = os.path.join(self.maildir, "cur", name + ":2,S") if seen \
                else os.path.join(self.maildir, "new", name)
            os.rename(tmp, dest)
            return max(self.uids(mailbox))
        if internaldate is not None:
            raise ValueError("internaldate works for INBOX only")
        self.doveadm("save", "-u", USER, "-m", mailbox, input=raw)
        uid = max(self.uids(mailbox))
        if seen:
            self.doveadm("flags", "add", "-u", USER, "\\Seen",
                         "mailbox", mailbox, "uid", str(uid))
        return uid

    def append_many(self, raws, internaldate=None):
        """Drops many messages into INBOX at once (Maildir new/, mtime
        internaldate or now), faster than append(); returns their UIDs."""
        before = set(self.uids())
        when = internaldate if internaldate is not None else time.time()
        for raw in raws:
            self._seq += 1
            name = "%d.M%dP%d.intake-bulk" % (int(when), self._seq, os.getpid())
            tmp = os.path.join(self.maildir, "tmp", name)
            with open(tmp, "wb") as f:
                f.write(raw)
            os.utime(tmp, (when, when))
            if os.getuid() == 0:
                os.chown(tmp, self.mail_uid, self.mail_gid)
            os.rename(tmp, os.path.join(self.maildir, "new", name))
        return sorted(set(self.uids()) - before)

    def _fetch(self, fields, mailbox, query):
        out = self.doveadm("-f", "tab", "fetch", "-u", USER, fields,
                           "mailbox", mailbox, *query).decode()
        lines = out.splitlines()
        return [l.split("\t") for l in lines[1:] if l]

    def uids(self, mailbox="INBOX"):
        """The mailbox's UIDs, ascending."""
        return sorted(int(r[0]) for r in self._fetch("uid", mailbox, ["all"]))

    def flags(self, uid, mailbox="INBOX"):
        """The message's flags and keywords as a sorted list (without
        \\Recent, which depends on who looked first)."""
        rows = self._fetch("uid flags", mailbox, ["uid", str(uid)])
        if not rows:
            raise KeyError("no UID %d in %s" % (uid, mailbox))
        return sorted(f for f in rows[0][1].split() if f != "\\Recent")

    def internaldate(self, uid, mailbox="INBOX"):
        """INTERNALDATE as Unix seconds."""
        rows = self._fetch("date.received", mailbox, ["uid", str(uid)])
        import datetime
        return int(datetime.datetime.strptime(
            rows[0][0], "%Y-%m-%d %H:%M:%S").replace(
                tzinfo=datetime.timezone.utc).timestamp()) if rows else None

    def status(self, mailbox="INBOX"):
        """{'messages': n, 'uidvalidity': n, 'uidnext': n, 'unseen': n}"""
        out = self.doveadm("-f", "tab", "mailbox", "status", "-u", USER,
                           "messages uidvalidity uidnext unseen",
                           mailbox).decode().splitlines()
        return {k: int(v) for k, v in zip(out[0].split("\t"), out[1].split("\t"))
                if k != "mailbox"}

    def uidvalidity(self, mailbox="INBOX"):
        return self.status(mailbox)["uidvalidity"]

    def create_mailbox(self, name):
        self.doveadm("mailbox", "create", "-u", USER, name)

    def mailboxes(self):
        return sorted(self.doveadm("mailbox", "list", "-u", USER).decode().split("\n")[:-1])

    def set_uidvalidity(self, value, mailbox="INBOX"):
        """Gives the mailbox a new UIDVALIDITY (the UIDs stay)."""
        self.doveadm("mailbox", "update", "-u", USER, "--uid-validity",
                     str(value), mailbox)

    def recreate_inbox(self):
        """As if INBOX were deleted and made again: the messages and their
        flags stay, get new UIDs from 1 (not necessarily in the old order)
        and a new UIDVALIDITY.  Restarts a running server;
        returns the new UIDVALIDITY."""
        old = self.uidvalidity()
        was_running = self.running
        self.stop()
        for name in os.listdir(self.maildir):
            if name.startswith("dovecot-uidlist") or name.startswith("dovecot.index"):
                os.unlink(os.path.join(self.maildir, name))
        if was_running:
            self.start()
        new = self.uidvalidity()
        if new == old:
            self.set_uidvalidity(old + 1)
            new = old + 1
        return new


def _signal_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def _group_alive(pgid):
    """Whether any process of the group is still running (a zombie master
    that we have not reaped yet counts as gone)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[0] is the state, fields[2] the process group
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _self_name():
    import pwd
    return pwd.getpwuid(os.getuid()).pw_name


def _group_name():
    import grp
    return grp.getgrgid(os.getgid()).gr_name
