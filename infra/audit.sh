#!/usr/bin/env bash
# Dependency audit for CI: fails on a known high or critical vulnerability in what Drover ships
# (dev dependencies are tools, not shipped). Where the registry offers no audit endpoint (this
# workplace's mirror answers 405), the audit cannot run: say so loudly and go on, rather than
# block every change on a service that is not there.
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(timeout 120 npm audit --json --omit=dev --audit-level=high 2>/dev/null)
rc=$?
if node -e 'const r = JSON.parse(process.argv[1]); process.exit(r.metadata && r.metadata.vulnerabilities ? 0 : 1)' "$out" 2>/dev/null; then
  node -e 'const v = JSON.parse(process.argv[1]).metadata.vulnerabilities; console.log("audit:", JSON.stringify(v))' "$out"
  if (( rc != 0 )); then
    echo "audit: high or critical vulnerabilities in shipped dependencies (npm audit --omit=dev for details)" >&2
    exit 1
  fi
  exit 0
fi
reason=$(node -e 'const r = JSON.parse(process.argv[1]); console.log(r.message || r.error?.summary || "no answer")' "$out" 2>/dev/null || echo "no answer (timeout or network)")
echo "audit: NOT RUN: the registry's audit endpoint is unavailable here ($reason)" >&2
exit 0
