#!/usr/bin/env bash
# npm run demo: the seed's walkthrough, in a fresh instance, in a scratch folder removed after.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export PATH="$root/bin:$root/node_modules/.bin:$PATH"
[ -f "$root/dist/src/cli/main.js" ] || (cd "$root" && npm run --silent build)
# Work in the example's folder, as the seed does (the scripts import the package by name);
# what the walkthrough makes there (jobs/, out) is removed afterwards.
cd "$here"
[ -e jobs ] || [ -e out ] && { echo "demo: $here/jobs or out already exists; remove it first" >&2; exit 1; }
trap 'rm -rf "$here/jobs" "$here/out"' EXIT
echo "+ cd examples/async-bulk-job-submit"
echo "+ tsflux start -o,-S,log-filename=out"
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
