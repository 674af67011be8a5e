"""The GPU-checks script runs on a CPU too: every row is printed, the CUDA-only ones marked as skipped (it asserts no speed);
the run comparison names what moved."""

import json
import subprocess
import sys
from pathlib import Path
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]


def test_bench_gpu_runs_and_names_what_it_skips():
    r = subprocess.run(
        [sys.executable, str(ROOT / 'bench/bench_gpu.py'), '--quick'], capture_output=True, text=True, timeout=900
    )
    assert r.returncode == 0, r.stderr[-2000:]
    out = r.stdout
    for row in (
        '1. fp32 vs bf16',
        '2. largest batch at 896',
        '3. SSBN vs plain',
        '4. input pipeline',
        '5. SyncBatchNorm',
    ):
        assert row in out, out
    assert 'throughput ratio SSBN/plain' in out and 'images/s' in out
    if not torch.cuda.is_available():
        assert out.count('skipped (no CUDA') == 3, out


def test_compare_runs_names_what_moved(tmp_path):
    "bench/compare_runs.py agrees on equal numbers (4 decimals) and lists each one that moved, with both values."
    for name, auc, t in (('before', 0.91234, 10.0), ('after', 0.91231, 12.0)):
        run = tmp_path / name
        (run / '06_experiments').mkdir(parents=True)
        (run / '06_experiments' / 'results.json').write_text(
            json.dumps({'auc_SSBN': auc, 'seconds': t, 'ci': [0.1, 0.2]})
        )
        pd.DataFrame(dict(name=['SSBN'], seed=[0], finding=['Nodule'], auc=[auc])).to_csv(
            run / '06_experiments' / 'comparison.csv', index=False
        )
    r = subprocess.run(
        [sys.executable, str(ROOT / 'bench/compare_runs.py'), str(tmp_path / 'before'), str(tmp_path / 'after')],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert 'equal to 4 decimals: 2; different: 1' in r.stdout and '/seconds | 10.0 | 12.0' in r.stdout, r.stdout
    assert 'all equal to 4 decimals: True' in r.stdout, r.stdout
