#!/usr/bin/env bash
# compare_peer.sh - hmn's synaptic updates per second over a PyTorch peer's,
# measured in one run on this machine at the same sizes.
#
#   scripts/compare_peer.sh [hmn bench options]
#   ROUNDS=3 scripts/compare_peer.sh --backend opencl --size 1024 --size 2048
#
# Runs scripts/peer_torch.py at the sizes given with --size (hmn bench's
# defaults otherwise), then `hmn bench --peer` with every option given here,
# which adds the column "vs peer" (hmn SUPS / peer SUPS). --seconds, --repeats
# and --warmup go to both.
#
# On a machine that other work shares, one run of each can land in a busy
# and a quiet moment. ROUNDS=N (N > 1) alternates the two N times (peer
# first in odd rounds, hmn first in even ones) and prints, per backend and
# size, the median and range of hmn's SUPS, the peer's, and their ratio
# within each round. The rounds' JSON is kept with KEEP=DIR.
#
# Environment: HMN_BIN (default build/hmn), PYTHON (default python3, the
# interpreter that has torch), ROUNDS (default 1), KEEP (a directory for
# the JSON of every run; default a temporary one), PEER_JSON (ROUNDS=1:
# where to keep the peer's JSON).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
hmn=${HMN_BIN:-$here/../build/hmn}
python=${PYTHON:-python3}
rounds=${ROUNDS:-1}

if [ ! -x "$hmn" ]; then
  echo "compare_peer.sh: no hmn binary at $hmn (build it, or set HMN_BIN)" >&2
  exit 1
fi
case "$rounds" in
  '' | *[!0-9]* | 0) echo "compare_peer.sh: ROUNDS must be a positive integer" >&2; exit 2 ;;
esac

# The peer takes the options that define what is measured.
peer_args=()
args=("$@")
for ((k = 0; k < ${#args[@]}; k++)); do
  case "${args[k]}" in
    --size | --seconds | --repeats | --warmup)
      if ((k + 1 < ${#args[@]})); then peer_args+=("${args[k]}" "${args[k + 1]}"); fi ;;
    --size=* | --seconds=* | --repeats=* | --warmup=*)
      peer_args+=("${args[k]}") ;;
  esac
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
keep=${KEEP:-$tmp}
mkdir -p "$keep"

run_peer() { # $1: output file
  echo "compare_peer.sh: running the PyTorch peer (${python})" >&2
  set +e
  "$python" "$here/peer_torch.py" --json "${peer_args[@]}" >"$1"
  local rc=$?
  set -e
  if [ "$rc" -eq 3 ]; then
    echo "compare_peer.sh: no comparison: PyTorch is not installed for $python" \
         "(pip install torch, or set PYTHON to an interpreter that has it)" >&2
    exit 1
  elif [ "$rc" -ne 0 ]; then
    echo "compare_peer.sh: the peer failed (exit $rc)" >&2
    exit 1
  fi
}

if [ "$rounds" -eq 1 ]; then
  peer_json=${PEER_JSON:-$keep/peer.json}
  run_peer "$peer_json"
  echo "compare_peer.sh: running hmn bench" >&2
  "$hmn" bench --peer "$peer_json" "$@"
  exit
fi

for ((r = 1; r <= rounds; r++)); do
  echo "compare_peer.sh: round $r of $rounds" >&2
  if ((r % 2 == 1)); then run_peer "$keep/peer-$r.json"; fi
  "$hmn" bench --quiet --json "$@" >"$keep/hmn-$r.json"
  if ((r % 2 == 0)); then run_peer "$keep/peer-$r.json"; fi
done

"$python" - "$keep" "$rounds" <<'EOF'
import json, statistics, sys
keep, rounds = sys.argv[1], int(sys.argv[2])
rows = {}  # (backend, device, n_in, n_out) -> lists
for r in range(1, rounds + 1):
    peer = {(p["n_in"], p["n_out"]): p["sups_median"]
            for p in json.load(open("%s/peer-%d.json" % (keep, r)))}
    for o in json.load(open("%s/hmn-%d.json" % (keep, r))):
        key = (o["backend"], o["device"], o["n_in"], o["n_out"])
        row = rows.setdefault(key, {"hmn": [], "peer": [], "ratio": [], "ovh": []})
        p = peer.get((o["n_in"], o["n_out"]))
        row["hmn"].append(o["sups_median"])
        if p:
            row["peer"].append(p)
            row["ratio"].append(o["sups_median"] / p)
        if o.get("host_overhead_fraction") is not None:
            row["ovh"].append(100 * o["host_overhead_fraction"])

def span(v, fmt):
    if not v:
        return "-"
    return (fmt % statistics.median(v)) + " [" + (fmt % min(v)) + ", " + (fmt % max(v)) + "]"

print("hmn over the PyTorch peer, %d alternating rounds: median [min, max]" % rounds)
device = None
for key in sorted(rows, key=lambda k: (k[0], k[1], k[2] * k[3])):
    if key[:2] != device:
        device = key[:2]
        print("\n%s on %s" % device)
        print("  %-11s %-30s %-30s %-24s %s" % ("size", "hmn SUPS", "peer SUPS", "hmn / peer",
                                                "host overhead %"))
    row = rows[key]
    print("  %-11s %-30s %-30s %-24s %s" % ("%dx%d" % key[2:], span(row["hmn"], "%.3g"),
                                            span(row["peer"], "%.3g"), span(row["ratio"], "%.2f"),
                                            span(row["ovh"], "%.1f")))
EOF
