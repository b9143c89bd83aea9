"""make install, the systemd units and the manual pages.

Installs into temporary DESTDIRs (PREFIX=/usr/local, /usr and /opt/intake)
and checks every file, its mode and content, the rewrite of the units'
paths, that `systemd-analyze verify --root=DESTDIR` accepts the installed
units (the root gets the system's own units and /bin/kill, as a real
system has), that systemd-sysusers and systemd-tmpfiles make the user and
the state directory from the installed snippets, the exposure score of
`systemd-analyze security --offline=true` (<= 1.5), that every manual page
renders without a warning, and that the pages document exactly the
options and commands the binaries have and every key of README.md's
configuration table.  Each kind of check is also run once on something
broken on purpose, to show that it can fail.
"""
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from harness import BUILD, INTAKECTL, INTAKED, TOP, Suite  # noqa: E402

suite = Suite("install")
tmp = tempfile.mkdtemp(prefix="test_install-")
suite.cleanup(lambda: shutil.rmtree(tmp, ignore_errors=True))

MAN_PAGES = [("intaked.8", "man8"), ("intakectl.1", "man1"),
             ("intake.conf.5", "man5")]
UNITS = ["intaked.service", "intaked@.service"]
TEMPLATES = sorted(f for f in os.listdir(os.path.join(TOP, "config",
                                                       "templates"))
                   if f.endswith(".txt"))
MAX_EXPOSURE = 1.5

# The nested make must see only what the test passes.
MAKE_ENV = {k: v for k, v in os.environ.items()
            if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "DESTDIR",
                         "PREFIX", "sysconfdir", "bindir", "mandir",
                         "intakeconfdir", "systemdunitdir", "sysusersdir",
                         "tmpfilesdir")}
RUN_ENV = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80")


def run(args, env=RUN_ENV, **kw):
    p = subprocess.run(args, capture_output=True, env=env, timeout=600, **kw)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def make(target, destdir, **variables):
    args = ["make", "-C", TOP, target, "DESTDIR=" + destdir,
            "BUILD=" + os.path.relpath(BUILD, TOP)]
    args += ["%s=%s" % kv for kv in sorted(variables.items())]
    return run(args, env=MAKE_ENV)


def layout(prefix, sysconfdir, unitdir, sysusersdir, tmpfilesdir):
    """{installed path: (mode, source file)} for one install."""
    conf = sysconfdir + "/intake"
    files = {
        prefix + "/bin/intaked": (0o755, INTAKED),
        prefix + "/bin/intakectl": (0o755, INTAKECTL),
        conf + "/intake.conf.example":
            (0o644, "config/intake.conf.example"),
        conf + "/units.conf.example": (0o644, "config/units.conf.example"),
        sysusersdir + "/intake.conf": (0o644, "systemd/intake.sysusers"),
        tmpfilesdir + "/intake.conf": (0o644, "systemd/intake.tmpfiles"),
    }
    for page, section in MAN_PAGES:
        files["%s/share/man/%s/%s" % (prefix, section, page)] = (
            0o644, "man/" + page)
    for t in TEMPLATES:
        files[conf + "/templates/" + t] = (0o644, "config/templates/" + t)
    for u in UNITS:
        files[unitdir + "/" + u] = (0o644, "systemd/" + u)
    return files


def read(path):
    with open(os.path.join(TOP, path), "rb") as f:
        return f.read()


def tree(root):
    """Every file and symlink below root, as absolute paths in the root."""
    found = set()
    for d, _, names in os.walk(root):
        for n in names:
            found.add("/" + os.path.relpath(os.path.join(d, n), root))
    return found


def check_layout(name, root, files, rewrite=lambda b: b):
    """Every file there, nothing else, with its mode and content."""
    suite.eq(name + ".files", sorted(tree(root)), sorted(files))
    bad_modes, bad_content = [], []
    for path, (mode, src) in sorted(files.items()):
        full = root + path
        if not os.path.lexists(full):
            continue
        st = os.lstat(full)
        if not stat.S_ISREG(st.st_mode) or stat.S_IMODE(st.st_mode) != mode:
            bad_modes.append("%s %o" % (path, st.st_mode))
        with open(full, "rb") as f:
            got = f.read()
        want = read(src)
        if src.startswith("systemd/intaked"):
            want = rewrite(want)
        if got != want:
            bad_content.append(path)
    suite.eq(name + ".modes", bad_modes, [])
    suite.eq(name + ".content", bad_content, [])
    bad_dirs = []
    for d, _, _ in os.walk(root):
        m = stat.S_IMODE(os.stat(d).st_mode)
        if d != root and m != 0o755:
            bad_dirs.append("%s %o" % (d, m))
    suite.eq(name + ".dir_modes", bad_dirs, [])


def add_system(root):
    """What a real system has and verify needs: the system's units
    (sysinit.target, network-online.target...) and /bin/kill."""
    shutil.copytree("/usr/lib/systemd/system",
                    root + "/usr/lib/systemd/system", symlinks=True,
                    dirs_exist_ok=True)
    os.makedirs(root + "/usr/bin", exist_ok=True)
    shutil.copy2(shutil.which("kill") or "/bin/kill", root + "/usr/bin/kill")
    if not os.path.lexists(root + "/bin"):
        os.symlink("usr/bin", root + "/bin")


def verify(root, unit_paths, manpath):
    env = dict(RUN_ENV, MANPATH=manpath)
    return run(["systemd-analyze", "verify", "--root=" + root] + unit_paths,
               env=env)


def unit_values(text):
    """{key: [values]} of a unit file (every line kept, in order)."""
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;[" or "=" not in line:
            continue
        k, _, v = line.partition("=")
        values.setdefault(k.strip(), []).append(v.strip())
    return values


def exposure(unit_file):
    rc, out, err = run(["systemd-analyze", "security", "--offline=true",
                        unit_file])
    m = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", out)
    return (float(m.group(1)) if m else None), rc, err


# ---- PREFIX=/usr/local: the checked-in units, installed as they are ----

D1 = os.path.join(tmp, "local")
FILES1 = layout("/usr/local", "/etc", "/usr/local/lib/systemd/system",
                "/usr/local/lib/sysusers.d", "/usr/local/lib/tmpfiles.d")


@suite.test
def install_usr_local():
    rc, out, err = make("install", D1, PREFIX="/usr/local")
    suite.eq("local.make_rc", rc, 0) or print(out[-2000:], err[-2000:],
                                              file=sys.stderr)
    check_layout("local", D1, FILES1)


@suite.test
def verify_usr_local():
    add_system(D1)
    unitdir = D1 + "/usr/local/lib/systemd/system/"
    man = D1 + "/usr/local/share/man"
    rc, out, err = verify(D1, [unitdir + u for u in UNITS], man)
    suite.eq("verify.rc", rc, 0)
    suite.eq("verify.stderr", err.strip(), "")
    # controls: a bad value is reported (verify still exits 0 for it),
    # a missing binary fails
    with open(unitdir + "intaked.service") as f:
        broken = f.read().replace("ProtectSystem=strict",
                                  "ProtectSystem=strictest")
    with open(unitdir + "intaked-broken.service", "w") as f:
        f.write(broken)
    rc, out, err = verify(D1, [unitdir + "intaked-broken.service"], man)
    os.unlink(unitdir + "intaked-broken.service")
    suite.check("verify.control_bad_value", "strictest" in err, err)
    os.rename(D1 + "/usr/local/bin/intaked", D1 + "/intaked.away")
    rc, out, err = verify(D1, [unitdir + "intaked.service"], man)
    os.rename(D1 + "/intaked.away", D1 + "/usr/local/bin/intaked")
    suite.check("verify.control_no_binary",
                rc != 0 and "/usr/local/bin/intaked" in err, err)
    rc, out, err = verify(D1, [unitdir + "intaked.service"],
                          os.path.join(tmp, "nowhere"))
    suite.check("verify.control_no_man_page", "intaked(8)" in err, err)


@suite.test
def sysusers_and_tmpfiles():
    rc, out, err = run(["systemd-sysusers", "--root=" + D1])
    suite.eq("sysusers.rc", rc, 0)
    users = {}
    if os.path.exists(D1 + "/etc/passwd"):
        with open(D1 + "/etc/passwd") as f:
            for line in f:
                fields = line.rstrip("\n").split(":")
                users[fields[0]] = fields
    u = users.get("intake")
    suite.check("sysusers.user", u is not None, "no intake in %r" % users)
    if u is None:
        return
    suite.eq("sysusers.system_uid", int(u[2]) < 1000, True)
    suite.eq("sysusers.home", u[5], "/var/lib/intake")
    suite.check("sysusers.no_login", u[6].endswith("nologin"), u[6])
    rc, out, err = run(["systemd-tmpfiles", "--root=" + D1, "--create"])
    suite.eq("tmpfiles.rc", rc, 0)
    st = os.stat(D1 + "/var/lib/intake")
    suite.eq("tmpfiles.state_dir", (stat.S_ISDIR(st.st_mode),
                                    stat.S_IMODE(st.st_mode), st.st_uid,
                                    st.st_gid),
             (True, 0o750, int(u[2]), int(u[3])))
    # the units run as the user the snippet makes
    for unit in UNITS:
        with open(os.path.join(TOP, "systemd", unit)) as f:
            v = unit_values(f.read())
        suite.eq("units.user." + unit, (v.get("User"), v.get("Group")),
                 (["intake"], ["intake"]))


@suite.test
def units_hardened():
    required = {
        "Type": "notify",
        "ProtectSystem": "strict",
        "CapabilityBoundingSet": "",
        "NoNewPrivileges": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "ProtectHome": "yes",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
        "MemoryDenyWriteExecute": "yes",
    }
    for unit in UNITS:
        with open(os.path.join(TOP, "systemd", unit)) as f:
            v = unit_values(f.read())
        got = {k: (v.get(k) or [None])[-1] for k in required}
        suite.eq("units.%s.hardening" % unit, got, required)
        suite.check("units.%s.no_dynamic_user" % unit,
                    v.get("DynamicUser", ["no"])[-1] in ("no", "false"),
                    v.get("DynamicUser"))
        filters = v.get("SystemCallFilter", [])
        suite.check("units.%s.syscall_filter" % unit,
                    "@system-service" in filters and not any(
                        f.startswith("~") and ("@resources" in f or
                                               "setrlimit" in f or
                                               "prlimit" in f)
                        for f in filters),
                    "workers need setrlimit(RLIMIT_AS): %r" % filters)
        creds = sorted(c.split(":")[0] for c in v.get("LoadCredential", []))
        suite.eq("units.%s.credentials" % unit, creds, ["imap", "smtp"])
        want_state = "intake/%i" if "@" in unit else "intake"
        suite.eq("units.%s.state_dir" % unit, v.get("StateDirectory"),
                 [want_state])
        conf = "/etc/intake/%i.conf" if "@" in unit else \
            "/etc/intake/intake.conf"
        suite.eq("units.%s.exec" % unit, v.get("ExecStart"),
                 ["/usr/local/bin/intaked -c " + conf])


@suite.test
def security_exposure():
    for unit in UNITS:
        score, rc, err = exposure(os.path.join(TOP, "systemd", unit))
        print("exposure %s: %s" % (unit, score), file=sys.stderr)
        suite.check("security.%s" % unit,
                    score is not None and score <= MAX_EXPOSURE,
                    "exposure %s > %s (rc %d) %s" % (score, MAX_EXPOSURE, rc,
                                                      err.strip()[:300]))
    # control: the same service without its hardening scores far worse
    plain = os.path.join(tmp, "plain.service")
    with open(plain, "w") as f:
        f.write("[Service]\nType=notify\nUser=intake\n"
                "ExecStart=/usr/local/bin/intaked\n")
    score, rc, err = exposure(plain)
    suite.check("security.control_unhardened",
                score is not None and score > MAX_EXPOSURE, score)


# ---- the manual pages ----

CJK = re.compile(r"can't find special character 'u(3[0-9A-F]{3}|"
                 r"[4-9][0-9A-F]{3}|FF[0-9A-F]{2})'")


def render(path, env=RUN_ENV):
    return run(["man", "--warnings", "-l", path], env=env)


@suite.test
def man_pages_render():
    for page, section in MAN_PAGES:
        path = "%s/usr/local/share/man/%s/%s" % (D1, section, page)
        rc, out, err = render(path)
        suite.eq("man.%s.rc" % page, rc, 0)
        suite.eq("man.%s.warnings" % page, err.strip(), "")
        name = page.rsplit(".", 1)[0]
        suite.check("man.%s.name" % page,
                    re.search(r"^NAME\n\s+%s\b.* - " % re.escape(name), out,
                              re.M), out[:300])
        stray = [l for l in out.splitlines() if re.match(r"\s*\.[A-Z]", l)]
        suite.eq("man.%s.no_stray_requests" % page, stray, [])
        rc, out, err = run(["lexgrog", path])
        suite.eq("man.%s.whatis" % page, rc, 0)
        # a terminal without UTF-8 only lacks the CJK glyphs
        env = dict(RUN_ENV, LC_ALL="C")
        rc, out, err = render(path, env)
        other = [l for l in err.splitlines() if not CJK.search(l)]
        suite.eq("man.%s.ascii_warnings" % page, other, [])
    bad = os.path.join(tmp, "bad.1")
    with open(bad, "w") as f:
        f.write(".TH BAD 1\n.SH NAME\nbad \\- broken\n.XX\n\\[nosuch]\n")
    rc, out, err = render(bad)
    suite.check("man.control_warns", "XX" in err and "nosuch" in err, err)


def man_source(page):
    with open(os.path.join(TOP, "man", page), encoding="utf-8") as f:
        return f.read()


def roff_text(line):
    """The text of one roff line: macro name and font escapes dropped."""
    if line.startswith("."):
        parts = line.split(None, 1)
        line = parts[1] if len(parts) > 1 else ""
    line = re.sub(r"\\f[BIRP]", "", line)
    line = line.replace("\\-", "-").replace("\\e", "\\").replace('"', "")
    return line.replace("\\ ", " ").replace("\\&", "")


def sections(src):
    """{.SH title: [lines]} of a page's source."""
    out, cur = {}, None
    for line in src.splitlines():
        if line.startswith(".SH "):
            cur = roff_text(line).strip()
            out[cur] = []
        elif cur is not None:
            out[cur].append(line)
    return out


def tags(lines):
    """The text of every .TP tag (the line after .TP)."""
    return [roff_text(lines[i + 1]) for i, l in enumerate(lines[:-1])
            if l.startswith(".TP")]


def help_options(text):
    """Long options (and short ones) listed by a GOption --help."""
    opts = set()
    for line in text.splitlines():
        m = re.match(r"\s+(-\w, )?(--[\w-]+)", line)
        if m:
            opts.add(m.group(2))
            if m.group(1):
                opts.add(m.group(1)[:2])
    return opts


@suite.test
def man_pages_match_binaries():
    rc, out, err = run([INTAKED, "--help"])
    have = help_options(out)
    documented = set()
    for t in tags(sections(man_source("intaked.8")).get("OPTIONS", [])):
        documented |= set(re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", t))
    suite.check("man.intaked.options_found", len(have) >= 8, have)
    suite.eq("man.intaked.options", sorted(documented), sorted(have))

    rc, out, err = run([INTAKECTL, "--help"])
    commands = set(re.findall(r"^  (\w+)\s", out, re.M))
    cmd_tags = {}
    for t in tags(sections(man_source("intakectl.1")).get("COMMANDS", [])):
        cmd_tags[t.split()[0]] = t
    suite.check("man.intakectl.commands_found", len(commands) >= 7, out)
    suite.eq("man.intakectl.commands", sorted(cmd_tags), sorted(commands))
    # intakectl --help: each command's line (and the line below it)
    listed, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"^  (\w+)\s", line)
        if m:
            cur = m.group(1)
            listed[cur] = line
        elif cur is not None and line.startswith("   "):
            listed[cur] += line
    missing, unlisted, usage = [], [], []
    for c in sorted(commands):
        rc, out, err = run([INTAKECTL, c, "--help"])
        for o in help_options(out) - {"--help", "-h"}:
            if o not in cmd_tags.get(c, ""):
                missing.append("%s %s" % (c, o))
            if o not in listed.get(c, ""):
                unlisted.append("%s %s" % (c, o))
        # "intakectl add [OPTION…] UNIT FILE...", the command named once
        first = out.split("\n\n", 1)[0].split()
        if first[1:3] != ["intakectl", c] or first.count(c) != 1:
            usage.append(" ".join(first))
    suite.eq("man.intakectl.command_options", missing, [])
    suite.eq("help.intakectl.command_options", unlisted, [])
    suite.eq("help.intakectl.usage_lines", usage, [])


def readme_tables():
    """(config keys by group, placeholders) from README.md's tables."""
    with open(os.path.join(TOP, "README.md"), encoding="utf-8") as f:
        lines = f.read().splitlines()
    keys, placeholders, group, table = {}, set(), None, None
    for line in lines:
        if not line.startswith("|"):
            table = None
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[:2] == ["group", "key"]:
            table = "config"
        elif cells[:1] == ["placeholder"]:
            table = "placeholders"
        elif table == "config" and not set(cells[0]) <= set("-: "):
            group = cells[0] or group
            for k in cells[1].split(","):
                keys.setdefault(group, set()).add(k.strip())
        elif table == "placeholders":
            placeholders |= set(re.findall(r"\{\{(\w+)\}\}", cells[0]))
    return keys, placeholders


def example_keys():
    keys, group = {}, None
    with open(os.path.join(TOP, "config", "intake.conf.example"),
              encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                group = line.strip("[]")
            elif line and not line.startswith("#") and "=" in line:
                keys.setdefault(group, set()).add(line.split("=")[0].strip())
    return keys


@suite.test
def man_conf_matches_readme():
    secs = sections(man_source("intake.conf.5"))
    readme_keys, readme_ph = readme_tables()
    suite.check("man.conf.readme_parsed",
                len(readme_keys) == 6 and len(readme_ph) >= 10,
                (readme_keys, readme_ph))
    for source, keys in (("readme", readme_keys), ("example",
                                                    example_keys())):
        missing = []
        for group, names in sorted(keys.items()):
            documented = set()
            for t in tags(secs.get("[%s]" % group, [])):
                documented |= set(re.findall(r"[a-z_]+", t))
            missing += ["[%s] %s" % (group, k) for k in sorted(names)
                        if k not in documented]
        suite.eq("man.conf.keys_of_" + source, missing, [])
    used = set()
    for t in TEMPLATES:
        used |= set(re.findall(r"\{\{(\w+)\}\}",
                               read("config/templates/" + t).decode()))
    documented = set()
    for t in tags(secs.get("REPLY TEMPLATES", [])):
        documented |= set(re.findall(r"\{\{(\w+)\}\}", t))
    suite.eq("man.conf.placeholders", sorted((readme_ph | used) -
                                             documented), [])
    unit_keys = set()
    for t in tags(secs.get("UNITS FILE", [])):
        unit_keys |= set(t.split())
    suite.eq("man.conf.units_keys",
             sorted({"category", "aliases", "addresses"} - unit_keys), [])


# ---- other prefixes: the paths in the units are rewritten ----

@suite.test
def install_opt():
    d = os.path.join(tmp, "opt")
    rc, out, err = make("install", d, PREFIX="/opt/intake",
                        sysconfdir="/etc/opt")
    suite.eq("opt.make_rc", rc, 0) or print(err[-2000:], file=sys.stderr)

    def rewrite(b):
        return b.replace(b"/usr/local/bin/", b"/opt/intake/bin/").replace(
            b"/etc/intake/", b"/etc/opt/intake/")
    files = layout("/opt/intake", "/etc/opt", "/opt/intake/lib/systemd/system",
                   "/opt/intake/lib/sysusers.d", "/opt/intake/lib/tmpfiles.d")
    check_layout("opt", d, files, rewrite)
    unitdir = d + "/opt/intake/lib/systemd/system/"
    for unit in UNITS:
        with open(unitdir + unit) as f:
            text = f.read()
        v = unit_values(text)
        conf = "/etc/opt/intake/" + ("%i" if "@" in unit else "intake")
        suite.eq("opt.%s.exec" % unit,
                 (v.get("ExecStartPre"), v.get("ExecStart")),
                 (["/opt/intake/bin/intaked -c %s.conf --check-config" % conf],
                  ["/opt/intake/bin/intaked -c %s.conf" % conf]))
        suite.check("opt.%s.no_old_paths" % unit,
                    "/usr/local" not in text and "/etc/intake/" not in text,
                    text)
        suite.check("opt.%s.credentials" % unit, all(
            c.split(":", 1)[1].startswith("/etc/opt/intake/")
            for c in v.get("LoadCredential", ["-:-"])), v.get("LoadCredential"))
    # systemd does not search /opt: link the units in as `systemctl link`
    # does (relative links, which verify --root can follow), then verify
    add_system(d)
    os.makedirs(d + "/etc/systemd/system")
    for unit in UNITS:
        os.symlink("../../../opt/intake/lib/systemd/system/" + unit,
                   d + "/etc/systemd/system/" + unit)
    rc, out, err = verify(d, [d + "/etc/systemd/system/" + u for u in UNITS],
                          d + "/opt/intake/share/man")
    suite.eq("opt.verify.rc", rc, 0)
    suite.eq("opt.verify.stderr", err.strip(), "")


@suite.test
def install_usr():
    d = os.path.join(tmp, "usr")
    rc, out, err = make("install", d, PREFIX="/usr")
    suite.eq("usr.make_rc", rc, 0) or print(err[-2000:], file=sys.stderr)

    def rewrite(b):
        return b.replace(b"/usr/local/bin/", b"/usr/bin/")
    files = layout("/usr", "/etc", "/lib/systemd/system",
                   "/usr/lib/sysusers.d", "/usr/lib/tmpfiles.d")
    check_layout("usr", d, files, rewrite)


@suite.test
def uninstall():
    d = os.path.join(tmp, "un")
    rc1 = make("install", d, PREFIX="/usr/local")[0]
    rc2 = make("install", d, PREFIX="/usr/local")[0]
    suite.eq("uninstall.install_twice", (rc1, rc2), (0, 0))
    with open(d + "/etc/intake/intake.conf", "w") as f:
        f.write("# the office's own configuration\n")
    rc, out, err = make("uninstall", d, PREFIX="/usr/local")
    suite.eq("uninstall.rc", rc, 0)
    suite.eq("uninstall.left", sorted(tree(d)), ["/etc/intake/intake.conf"])


suite.main()
