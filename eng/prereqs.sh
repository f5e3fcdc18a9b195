#!/usr/bin/env bash
# Installs what building and testing ModelBuild needs on a fresh Debian 12 / Ubuntu machine (as root),
# and nothing that is already there. The .NET SDK itself is a prerequisite (global.json pins 10.0.x).
set -euo pipefail
need=()
command -v readelf >/dev/null || need+=(binutils)
# The remote-cache tests start their own nginx (WebDAV PUT) on 127.0.0.1; Debian's nginx has the dav module.
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] && "$nginx" -V 2>&1 | grep -q http_dav_module || need+=(nginx)
if [ ${#need[@]} -gt 0 ]; then
  # Installing nginx must not start the system's nginx service: the tests need none.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
command -v dotnet >/dev/null || { echo "eng/prereqs.sh: the .NET SDK 10.0 is required (dotnet not on PATH)" >&2; exit 1; }
