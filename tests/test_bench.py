"The GPU-checks script runs on a CPU too: every row is printed, the CUDA-only ones marked as skipped (it asserts no speed)."

import subprocess
import sys
from pathlib import Path
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
