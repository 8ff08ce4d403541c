#!/usr/bin/env bash
# Installs the stock clients and servers that the interop tests drive (Debian packages).
# Idempotent and quick when everything is present. Services are never started by the install:
# the tests run their own instances on unprivileged loopback ports.
set -euo pipefail

packages=(
  finger fingerd netcat-openbsd curl  # finger interop (fingerd: the stock daemon)
  fetchmail mpop python3              # POP3 interop (curl and python3 poplib too)
  lftp wget vsftpd python3-pyftpdlib openssl  # FTP interop
  inn2                                # NNTP feed interop (a private innd per test)
  tin suck                            # NNTP reader interop (tin batch mode, suck and rpost)
  slrnpull                            # NNTP interop: slrnpull pulls a group and posts from out.going (test/interop/nntp-slrnpull.test.ts)
  nginx                               # HTTP client interop (run privately by the tests)
  apache2-utils wrk                   # HTTP server interop under load (ab, wrk)
  systemd                             # systemd-analyze verify/security of docs/gorgon.service (nothing is started)
  prometheus                          # promtool: lints the admin listener's /metrics scrape
  chromium                            # headless browser test of the admin status page (playwright-core)
  haproxy                             # scale-out test: a private HAProxy in front of two instances
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "install-clients: cannot install ${missing[*]} (needs root and apt-get); interop tests that use them will fail." >&2
  exit 0
fi

echo "install-clients: installing ${missing[*]}" >&2
# Keep package scripts from starting daemons (vsftpd, inetd) on system ports.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && made_policy=1
fi
trap '[ $made_policy = 1 ] && rm -f "$policy"' EXIT
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
  # inn2's postinst fails where the host name has no domain (a container named "vm"): give
  # /etc/news/inn.conf a domain and configure it again, so dpkg is left clean for later installs.
  if [ -f /etc/news/inn.conf ] && ! grep -q '^domain:' /etc/news/inn.conf; then
    sed -i 's/^#domain:.*/domain:                      localdomain/' /etc/news/inn.conf
  fi
  DEBIAN_FRONTEND=noninteractive dpkg --configure -a >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
