#!/bin/sh
# Installs every Debian package that the build, the tests and the demo
# need.  As root it runs apt-get; otherwise it prints the command.
set -eu
PKGS="build-essential pkg-config clang libglib2.0-dev libgmime-3.0-dev
libcurl4-openssl-dev libsqlite3-dev sqlite3 libjpeg62-turbo-dev
libturbojpeg0-dev libjpeg-turbo-progs libavformat-dev libavutil-dev ffmpeg
libmagic-dev libarchive-dev libytnef0-dev libssl-dev libsystemd-dev
libjson-glib-dev libxlsxwriter-dev dovecot-imapd python3 python3-aiosmtpd
python3-openpyxl python3-pil openssl time valgrind zip systemd man-db groff-base"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "missing packages:$missing" >&2
	echo "run as root: apt-get install -y$missing" >&2
	exit 1
fi
echo "installing:$missing"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
