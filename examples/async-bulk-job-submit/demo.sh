#!/usr/bin/env bash
# npm run demo: the seed's walkthrough, in a fresh instance, in a scratch folder removed after.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export PATH="$root/bin:$root/node_modules/.bin:$PATH"
[ -f "$root/dist/src/cli/main.js" ] || (cd "$root" && npm run --silent build)
work="$(mktemp -d "${TMPDIR:-/tmp}/tsflux-demo.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"
cp "$here"/bulksubmit.ts .
[ -f "$here/bulksubmit_executor.ts" ] && cp "$here/bulksubmit_executor.ts" .
echo "+ tsflux start -o,-S,log-filename=out   # in $work"
tsflux start -o,-S,log-filename=out bash -c '
  set -e
  echo "+ mkdir jobs"; mkdir jobs
  echo "+ tsflux mini run --dry-run -n1 sleep 0 > jobs/0.json"
  tsflux mini run --dry-run -n1 sleep 0 > jobs/0.json
  echo "+ for i in \`seq 1 1024\`; do cp jobs/0.json jobs/\${i}.json; done"
  for i in `seq 1 1024`; do cp jobs/0.json jobs/${i}.json; done
  echo "+ ./bulksubmit.ts jobs/*.json"
  ./bulksubmit.ts jobs/*.json
  if [ -f bulksubmit_executor.ts ]; then
    echo "+ ./bulksubmit_executor.ts -n200 /bin/sleep 0"
    ./bulksubmit_executor.ts -n200 /bin/sleep 0
  fi
'
echo "+ broker log (out):"; tail -n 3 out || true
