#!/usr/bin/env bash
# `make run`: the main job, `tandem search` on the built-in default config (results in
# runs/<timestamp>/: config.yaml, archive.sqlite, log.txt, report/index.html).
# Extra arguments go to tandem search, e.g. `make run ARGS="-j 2"`.
set -euo pipefail
build=${1:-build}
shift || true
exec "$build/tandem" search "$@"
