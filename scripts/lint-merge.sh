#!/usr/bin/env bash
# Merge a branch written before (or without) the formatter, then bring it to the tree's style:
#   scripts/lint-merge.sh <branch>
# 1. git merge --no-commit -X theirs <branch>: where both sides changed the same lines, the
#    branch wins (a branch's changes usually conflict with the one-off reformat only in layout);
#    taking its side can also undo a lint fix there, which step 3 then reports;
# 2. pnpm format: reformat everything, so the branch's code is in Biome's layout;
# 3. pnpm lint: report what is left (lint errors in the branch's new code) for a person to fix.
#    Most are fixed by `npx biome check --write .` (safe fixes); the rest by hand, or a
#    `// biome-ignore lint/<group>/<rule>: <reason>` on the line when the code is right as it is.
# It stops before committing, so the merge, the reformat and the fixes are one commit: fix what
# lint reports, then
#   git add -A && git commit -m "merge <branch>, reformat" && pnpm typecheck && pnpm test:unit
set -euo pipefail
cd "$(dirname "$0")/.."
branch="${1:?usage: scripts/lint-merge.sh <branch>}"
PNPM="${PNPM:-npx -y pnpm@10.34.9}"
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "lint-merge: the working tree has uncommitted changes; commit or stash them first" >&2
  exit 1
fi
git merge --no-commit --no-ff -X theirs "$branch"
$PNPM format
$PNPM lint
