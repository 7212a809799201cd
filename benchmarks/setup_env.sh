#!/usr/bin/env bash
# Make the benchmark environments from nothing, with paths relative to the repository:
#
#   bash benchmarks/setup_env.sh [--cpu] [--no-dp-anchors]
#
# benchmarks/.venv              torch==2.13.0, then tabgan (editable, extras dp and report) with
#                               benchmarks/requirements.txt (ctgan, sdmetrics): every script here.
# benchmarks/.venv-dp-anchors   torch==2.13.0, then benchmarks/requirements-dp-anchors.txt without
#                               resolving (smartnoise-synth 1.0.8 and its frozen dependencies), for
#                               re-running the DP anchors; its opacus 0.14 conflicts with tabgan's.
#
# --cpu takes torch from PyTorch's CPU-only index (no CUDA packages); --no-dp-anchors skips the
# second environment. PYTHON picks the interpreter (default python3). Running it again reuses
# the environments and installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

cpu=0
dp_anchors=1
for arg in "$@"; do
    case "$arg" in
        --cpu) cpu=1 ;;
        --no-dp-anchors) dp_anchors=0 ;;
        *) sed -n '2,15p' "$0" >&2; exit 2 ;;
    esac
done
torch=("torch==2.13.0")
if [ "$cpu" = 1 ]; then
    torch+=(--index-url https://download.pytorch.org/whl/cpu)
fi

make_venv() {  # make_venv DIR: a virtual environment with an up-to-date pip and torch==2.13.0
    "${PYTHON:-python3}" -m venv "$1"
    "$1/bin/python" -m pip install --quiet --upgrade pip
    "$1/bin/python" -m pip install "${torch[@]}"
}

make_venv benchmarks/.venv
benchmarks/.venv/bin/python -m pip install -r benchmarks/requirements.txt -e ".[dp,report]"
benchmarks/.venv/bin/python -c "import ctgan, sdmetrics, opacus, tabgan, torch, pandas; \
print('benchmarks/.venv: tabgan', tabgan.__version__, '| torch', torch.__version__, '| pandas', pandas.__version__, \
'| ctgan', ctgan.__version__, '| sdmetrics', sdmetrics.__version__, '| opacus', opacus.__version__)"

if [ "$dp_anchors" = 1 ]; then
    make_venv benchmarks/.venv-dp-anchors
    benchmarks/.venv-dp-anchors/bin/python -m pip install --no-deps -r benchmarks/requirements-dp-anchors.txt
    benchmarks/.venv-dp-anchors/bin/python -c "from snsynth import Synthesizer; import opacus, torch; \
Synthesizer.create('mst', epsilon=1.0, delta=1e-5); \
print('benchmarks/.venv-dp-anchors: smartnoise-synth MST ready | opacus', opacus.__version__, '| torch', torch.__version__)"
fi
