#!/usr/bin/env bash
# The study of README.md in this folder; run from the repository root.
set -euo pipefail
G=${GENELANG:-.venv/bin/genelang}
$G ablate examples/genotypes/darts_v2.gene replace:skip_connect=sep_conv_3x3 --out runs/study/ablations
$G sample examples/specs/quick.yaml --n 10 --out runs/study/random
$G compare --group darts_v2=examples/genotypes/darts_v2.gene \
    --group no_skip=runs/study/ablations \
    --group nasgep=examples/genotypes/nasgep_demo.gene \
    --group random=runs/study/random \
    --task fashion-mnist --subset 4000 --epochs 1 --lr 0.1 --seeds 3 --channels 8 \
    --workers 2 --out runs/study/compare "$@"
