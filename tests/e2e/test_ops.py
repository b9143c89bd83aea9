"""Operations: intaked --test-login against the real servers, with a right
and a wrong password; intakectl run as root works as the state
directory's owner; --version and every command's --help."""
import os
import pwd
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import INTAKECTL, INTAKED, Suite   # noqa: E402
from world import World                          # noqa: E402

suite = Suite("ops")


@suite.test
def test_login():
    w = World(suite.cleanup)
    r = w.intake.run(INTAKED, "--test-login", check=False, timeout=120)
    out = r.stdout.decode()
    suite.eq("good.exit", r.returncode, 0)
    suite.check("good.mailbox", "mailbox %s: ok" % w.dovecot.imaps_url in out, out)
    suite.check("good.smtp", "smtp %s: ok" % w.smtp.url("smtps") in out, out)
    # wrong IMAP and SMTP passwords: exit 1, and the authorization code hint
    w.intake.imap = (w.dovecot.user, "wrong")
    w.intake.smtp = (w.smtp.user, "wrong")
    w.intake.write_config()
    r = w.intake.run(INTAKED, "--test-login", check=False, timeout=120)
    out = r.stdout.decode()
    suite.eq("bad.exit", r.returncode, 1)
    suite.check("bad.mailbox", "mailbox %s: FAILED" % w.dovecot.imaps_url in out, out)
    suite.check("bad.hint", "授权码" in out, out)
    suite.check("bad.smtp", "smtp %s: FAILED" % w.smtp.url("smtps") in out, out)
    suite.check("bad.no_password", "wrong" not in out.replace("wrong password", ""), out)
    # an untrusted certificate says so
    w.intake.imap = (w.dovecot.user, w.dovecot.password)
    w.intake.ca_file = None
    w.intake.smtp_ca_file = None
    w.intake.write_config()
    r = w.intake.run(INTAKED, "--test-login", check=False, timeout=120)
    out = r.stdout.decode()
    suite.eq("tls.exit", r.returncode, 1)
    suite.check("tls.says", "ca_file" in out or "certificate" in out, out)


@suite.test
def intakectl_as_root_becomes_owner():
    if os.getuid() != 0:
        print("SKIP ops.root: not root")
        return
    w = World(suite.cleanup)
    nobody = pwd.getpwnam("nobody")
    os.makedirs(w.intake.state_dir, exist_ok=True)
    os.chown(w.intake.state_dir, nobody.pw_uid, nobody.pw_gid)
    # the config must be readable to load it before switching (as root)
    w.intake.ctl("status")
    owners = {os.stat(os.path.join(w.intake.state_dir, n)).st_uid
              for n in os.listdir(w.intake.state_dir)}
    suite.eq("root.files_owned", owners, {nobody.pw_uid})
    suite.check("root.db", os.path.exists(os.path.join(w.intake.state_dir, "intake.db")))


@suite.test
def version_and_help():
    r = subprocess.run([INTAKED, "--version"], stdout=subprocess.PIPE)
    suite.check("intaked.version", r.returncode == 0 and r.stdout.startswith(b"intaked "), r.stdout)
    r = subprocess.run([INTAKECTL, "--help"], stdout=subprocess.PIPE)
    # a command's line starts with two spaces and its name; a line that
    # carries on a long one starts with more
    cmds = [l.split()[0] for l in r.stdout.decode().splitlines()
            if l.startswith("  ") and not l.startswith("   ") and l.split()]
    suite.check("intakectl.commands", len(cmds) >= 13, cmds)
    for c in cmds:
        r = subprocess.run([INTAKECTL, c, "--help"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        suite.check("help." + c, r.returncode == 0 and b"Usage" in r.stdout,
                    r.stdout[:200] + r.stderr[:200])


suite.main()
