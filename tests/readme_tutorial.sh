#!/usr/bin/env bash
# readme_tutorial.sh [REPO] - run README.md's tutorial as written: every
# code block after a "<!-- tutorial -->" line is run in order in one
# shell (sh blocks as they are; "<!-- tutorial: FILE -->" writes the block
# to FILE; "<!-- tutorial: python -->" runs it with the python on PATH),
# in a scratch copy of the repository whose build/ is REPO's (already
# built), with HOME in the scratch folder, so nothing outside it changes.
set -euo pipefail
repo=$(cd "${1:-$(dirname "$0")/..}" && pwd)
[ -x "$repo/build/hmn" ] || { echo "readme_tutorial: build first ($repo/build/hmn)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src" "$tmp/home"
tar -C "$repo" --exclude=./build --exclude='./build-*' --exclude=./venv --exclude=./.git \
  --exclude=__pycache__ -cf - . | tar -C "$tmp/src" -xf -
ln -s "$repo/build" "$tmp/src/build"

python3 - "$repo/README.md" "$tmp/tutorial.sh" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
out = ["set -euo pipefail", "set -x"]
blocks = re.findall(r"<!-- tutorial(?:: *([^ ]+))? -->\n```(\w+)\n(.*?)```", text, re.S)
if not blocks:
    sys.exit("readme_tutorial: no tutorial blocks in README.md")
for n, (target, lang, body) in enumerate(blocks):
    if target == "python":
        out.append(f"python - <<'HMN_TUTORIAL_{n}'\n{body}HMN_TUTORIAL_{n}")
    elif target:
        out.append(f"cat > {target} <<'HMN_TUTORIAL_{n}'\n{body}HMN_TUTORIAL_{n}")
    elif lang == "sh":
        out.append(body)
    else:
        sys.exit(f"readme_tutorial: block {n} ({lang}) has no target")
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(out) + "\n")
print(f"readme_tutorial: {len(blocks)} blocks", file=sys.stderr)
PY

cd "$tmp/src"
HOME="$tmp/home" HMN_CACHE_DIR="${HMN_CACHE_DIR:-$repo/build/kernel-cache}" bash "$tmp/tutorial.sh"
echo "readme_tutorial: every block ran"
