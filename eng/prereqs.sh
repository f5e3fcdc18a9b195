#!/usr/bin/env bash
# Installs what building and testing ModelBuild needs on a fresh Debian 12 / Ubuntu machine (as root),
# and nothing that is already there. The .NET SDK itself is a prerequisite (global.json pins 10.0.x).
set -euo pipefail
need=()
command -v readelf >/dev/null || need+=(binutils)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
command -v dotnet >/dev/null || { echo "eng/prereqs.sh: the .NET SDK 10.0 is required (dotnet not on PATH)" >&2; exit 1; }
