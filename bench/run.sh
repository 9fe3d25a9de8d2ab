#!/usr/bin/env bash
# Builds everything, runs the watchdog benchmarks on loopback and writes BENCHMARKS.md.
# Usage: bash bench/run.sh [--quick]
# The fault soak is separate (about 10 minutes, needs root for its tmpfs):
#   python3 bench/soak.py --minutes 10 --binary artifacts/aot/fwatchdog
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
for tool in wrk:wrk hyperfine:hyperfine clang:clang python3:python3 curl:curl nats-server:nats-server nginx:nginx-light; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool##*:}")
done
dpkg -s zlib1g-dev >/dev/null 2>&1 || missing+=(zlib1g-dev)
if ((${#missing[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
bash deploy/publish linux-x64 artifacts/aot >/dev/null
bash deploy/publish --watchdog-only linux-x64 artifacts/watchdog >/dev/null
dotnet build watchdog -c Release -o artifacts/jit >/dev/null
dotnet publish bench/Hello -c Release -r linux-x64 -o artifacts/hello >/dev/null
python3 bench/run.py "$@"
python3 bench/httpmode.py "$@"
exec python3 bench/gateway.py "$@"
