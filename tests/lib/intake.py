"""One intake instance for a test or the demo: its configuration, state
directory and the two programs.

    it = Intake(tmpdir, mailbox_url=dc.imaps_url, imap=(user, pwfile),
                ca_file=dc.cert, smtp_url=..., smtp=(user, pwfile))
    it.once()                       # intaked --once, checked exit status
    it.status()                     # intakectl status --json, parsed
    it.messages()                   # intakectl messages --json, parsed
    it.ctl("show", "福州市市场监督管理局")
    it.db()                         # sqlite3 connection to intake.db

INTAKE_WRAPPER, when set, is a command line put in front of every run of
intaked and intakectl, e.g. "valgrind --error-exitcode=99 -q" (tests/run
sets it for the valgrind pass).
"""
import json
import os
import shlex
import sqlite3
import subprocess
import sys

from harness import INTAKED, INTAKECTL, TOP

UNITS = [
    ("福州市市场监督管理局", "设区市", "福州市局;福州市市场监管局", "fz@fuzhou.example.cn"),
    ("厦门市市场监督管理局", "设区市", "厦门市局;厦门市市场监管局", "xm@xiamen.example.cn"),
    ("漳州市市场监督管理局", "设区市", "漳州市局;漳州市市场监管局", "zz@zhangzhou.example.cn"),
    ("泉州市市场监督管理局", "设区市", "泉州市局;泉州市市场监管局", "qz@quanzhou.example.cn"),
    ("三明市市场监督管理局", "设区市", "三明市局;三明市市场监管局", "sm@sanming.example.cn"),
    ("莆田市市场监督管理局", "设区市", "莆田市局;莆田市市场监管局", "pt@putian.example.cn"),
    ("南平市市场监督管理局", "设区市", "南平市局;南平市市场监管局", "np@nanping.example.cn"),
    ("龙岩市市场监督管理局", "设区市", "龙岩市局;龙岩市市场监管局", "ly@longyan.example.cn"),
    ("宁德市市场监督管理局", "设区市", "宁德市局;宁德市市场监管局", "nd@ningde.example.cn"),
    ("平潭综合实验区市场监督管理局", "设区市", "平潭市场监管局;平潭综合实验区市场监管局", "pingtan@example.cn"),
    ("福建省工商业联合会", "省直有关部门", "省工商联", "gsl@example.cn"),
    ("福建省计量科学研究院", "直属单位", "省计量院", "jly@example.cn"),
]


class Intake:
    def __init__(self, dir, mailbox_url, imap=None, ca_file=None,
                 smtp_url=None, smtp=None, smtp_ca_file=None,
                 campaign=None, rules=None, limits=None, mailbox=None,
                 units=UNITS, from_addr="7263441@qq.com"):
        self.dir = os.path.realpath(dir)
        os.makedirs(self.dir, exist_ok=True)
        self.state_dir = os.path.join(self.dir, "state")
        self.conf = os.path.join(self.dir, "intake.conf")
        self.units_file = os.path.join(self.dir, "units.conf")
        self.mailbox_url = mailbox_url
        self.imap = imap
        self.ca_file = ca_file
        self.smtp_url = smtp_url
        self.smtp = smtp
        self.smtp_ca_file = smtp_ca_file or ca_file
        self.from_addr = from_addr
        self.campaign = {
            "name": "2022年“质量月”活动",
            "deadline": "2022-10-10T23:59:59+08:00",
            "keywords": "质量月;活动总结",
            "late_policy": "accept",
        }
        self.campaign.update(campaign or {})
        self.rules = rules or {}
        self.limits = limits or {}
        self.mailbox = mailbox or {}
        self.units = units
        self.write_config()

    def _secret(self, name, value):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(value + "\n")
        os.chmod(path, 0o600)
        return path

    def write_config(self):
        lines = ["[mailbox]", "url = %s" % self.mailbox_url]
        if self.imap:
            lines += ["username = %s" % self.imap[0],
                      "password_file = %s" % self._secret("imap.secret", self.imap[1])]
        if self.ca_file:
            lines.append("ca_file = %s" % self.ca_file)
        lines.append("poll_interval = 10")
        for k, v in self.mailbox.items():
            lines.append("%s = %s" % (k, v))
        if self.smtp_url:
            lines += ["", "[smtp]", "url = %s" % self.smtp_url,
                      "from = 福建省质量强省工作联席会议办公室 <%s>" % self.from_addr]
            if self.smtp:
                lines += ["username = %s" % self.smtp[0],
                          "password_file = %s" % self._secret("smtp.secret", self.smtp[1])]
            if self.smtp_ca_file:
                lines.append("ca_file = %s" % self.smtp_ca_file)
        lines += ["", "[campaign]"]
        lines += ["%s = %s" % kv for kv in self.campaign.items() if kv[1] is not None]
        if self.rules:
            lines += ["", "[rules]"] + ["%s = %s" % kv for kv in self.rules.items()]
        lines += ["", "[storage]", "state_dir = %s" % self.state_dir,
                  "units_file = %s" % self.units_file,
                  "template_dir = %s" % os.path.join(TOP, "config", "templates")]
        if self.limits:
            lines += ["", "[limits]"] + ["%s = %s" % kv for kv in self.limits.items()]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(self.units_file, "w") as f:
            for name, cat, aliases, addrs in self.units:
                f.write("[%s]\ncategory = %s\naliases = %s\naddresses = %s\n\n"
                        % (name, cat, aliases, addrs))

    def run(self, prog, *args, check=True, timeout=300, env=None):
        e = dict(os.environ)
        e.update(env or {})
        wrapper = shlex.split(os.environ.get("INTAKE_WRAPPER", ""))
        r = subprocess.run(wrapper + [prog, "-c", self.conf] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, env=e)
        if check and r.returncode != 0:
            raise RuntimeError("%s %s exited %d:\n%s\n%s" % (
                os.path.basename(prog), " ".join(args), r.returncode,
                r.stdout.decode(errors="replace"),
                r.stderr.decode(errors="replace")))
        return r

    def once(self, *args, check=True, **kw):
        return self.run(INTAKED, "--once", *args, check=check, **kw)

    def ctl(self, *args, check=True, **kw):
        return self.run(INTAKECTL, *args, check=check, **kw)

    def status(self):
        return json.loads(self.ctl("status", "--json").stdout)

    def unit_status(self, name):
        for u in self.status()["units"]:
            if u["name"] == name:
                return u
        raise KeyError(name)

    def messages(self):
        return json.loads(self.ctl("messages", "--json").stdout)

    def db(self):
        return sqlite3.connect(os.path.join(self.state_dir, "intake.db"))

    def unit_files(self, unit, sub):
        d = os.path.join(self.state_dir, "units", unit, sub)
        return sorted(os.listdir(d)) if os.path.isdir(d) else []
