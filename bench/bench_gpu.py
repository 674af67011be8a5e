"""The full profile's GPU checks, in one run (issue: the paper's own configuration). On a CUDA machine it prints:
  1. fp32 eager vs bf16 autocast + channels_last: DenseNet-121 training-step time at 224/448/896 and the ratio (goal >= 2x);
  2. the largest batch that fits at 896 px, with and without memory_efficient (goal >= 16 in 16 GB);
  3. SSBN (three sizes, run at one) vs plain DenseNet-121 step-time ratio, interleaved (goal >= 0.97);
  4. data-loader images/s at 896 (the 3-size batch from a prepared cache, `workers` processes) vs GPU images/s (the GPU must not wait);
  5. SyncBatchNorm per size under `torchrun --nproc_per_node 2` (`ssbn-course train`), when two GPUs exist.
On a CPU it runs what a CPU can measure (rows 3 and 4 at small sizes) and prints every CUDA row as 'skipped (no CUDA)'.
Usage: python bench/bench_gpu.py [--quick] [--reps 5]"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
import torch
from ssbn_course.models import build_model
from ssbn_course.ssbn import multi_size_loss

CUDA = torch.cuda.is_available()
DEV = torch.device('cuda' if CUDA else 'cpu')


def sync():
    if CUDA:
        torch.cuda.synchronize()


def step(model, x, y, sizes, amp: bool):
    with torch.autocast(DEV.type, torch.bfloat16, enabled=amp):
        loss = multi_size_loss(model(x, sizes), y)
    loss.backward()
    model.zero_grad(set_to_none=True)
    sync()


def timed(fn, reps: int) -> float:
    fn()
    ts = []  # one warm-up
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def amp_rows(sizes, batch, reps):
    for s in sizes:
        m = build_model('densenet121', 14, (s,), memory_efficient=True).to(DEV).train()
        x = torch.rand(batch, 1, s, s, device=DEV)
        y = torch.rand(batch, 14, device=DEV).round()
        fp32 = timed(partial(step, m, x, y, (s,), False), reps)
        m = m.to(memory_format=torch.channels_last)
        xc = x.contiguous(memory_format=torch.channels_last)
        bf16 = timed(partial(step, m, xc, y, (s,), True), reps)
        print(
            f'  {s} px, batch {batch}: fp32 {1000 * fp32:.0f} ms, bf16+channels_last {1000 * bf16:.0f} ms, ratio {fp32 / bf16:.2f}x (goal >= 2)'
        )


def largest_batch(size: int, memory_efficient: bool, cap: int = 256) -> int:
    "Doubling then bisection on the batch of one training step that does not run out of GPU memory."
    m = (
        build_model('densenet121', 14, (size,), memory_efficient=memory_efficient)
        .to(DEV)
        .to(memory_format=torch.channels_last)
        .train()
    )

    def fits(b):
        try:
            x = torch.rand(b, 1, size, size, device=DEV).contiguous(memory_format=torch.channels_last)
            step(m, x, torch.zeros(b, 14, device=DEV), (size,), True)
            return True
        except torch.cuda.OutOfMemoryError:
            return False
        finally:
            torch.cuda.empty_cache()

    lo, hi = 0, 1
    while hi <= cap and fits(hi):
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo


def ssbn_ratio(size, batch, reps):
    import torchvision

    plain = torchvision.models.densenet121(num_classes=14).to(DEV).train()
    ssbn = build_model('densenet121', 14, (size, 2 * size, 4 * size)).to(DEV).train()
    x3 = torch.rand(batch, 3, size, size, device=DEV)
    x1 = x3[:, :1]
    y = torch.rand(batch, 14, device=DEV).round()

    def plain_step():
        torch.nn.functional.binary_cross_entropy_with_logits(plain(x3), y).backward()
        plain.zero_grad(set_to_none=True)
        sync()

    plain_step()
    step(ssbn, x1, y, (size,), False)
    rp, rs = [], []
    for r in range(reps):  # ABBA: drift in machine speed hits both alike
        for name in ('p', 's') if r % 2 == 0 else ('s', 'p'):
            t = time.perf_counter()
            plain_step() if name == 'p' else step(ssbn, x1, y, (size,), False)
            (rp if name == 'p' else rs).append(time.perf_counter() - t)
    ratios = sorted(p / s for p, s in zip(rp, rs))
    print(
        f'  {size} px, batch {batch}, {reps} interleaved reps: throughput ratio SSBN/plain {statistics.median(ratios):.3f} '
        f'(range {ratios[0]:.3f}-{ratios[-1]:.3f}; goal >= 0.97)'
    )


def loader_row(max_size, batch, workers, gpu_rate=None):
    "Images/s of the training input pipeline: cached uint8 images -> normalised 3-size batches, in `workers` loader processes."
    from ssbn_course.writers import write_phantom_dataset
    from ssbn_course.batches import CachedImages, multi_size_batch
    from ssbn_course.cache import prepare

    with tempfile.TemporaryDirectory() as d:
        src = write_phantom_dataset(Path(d) / 'src', 'nih', n_patients=16, image_size=max_size, workers=workers or 1)
        prepare('nih', src, Path(d) / 'c', max_size=max_size, workers=workers or 1)
        ds = CachedImages(Path(d) / 'c')
        dl = torch.utils.data.DataLoader(ds, batch_size=batch, shuffle=True, num_workers=workers, drop_last=True)
        t, n = time.perf_counter(), 0
        for _ in range(2):
            for x, _ in dl:
                multi_size_batch(x, (max_size // 4, max_size // 2, max_size), DEV, train=True)
                n += len(x)
        sync()
        rate = n / (time.perf_counter() - t)
    print(
        f'  {max_size} px, batch {batch}, {workers} loader workers: {rate:.1f} images/s'
        + (
            f' vs GPU {gpu_rate:.1f} images/s: the GPU {"waits" if rate < gpu_rate else "does not wait"}'
            if gpu_rate
            else ''
        )
    )


def ddp_row():
    n = torch.cuda.device_count() if CUDA else 0
    if n < 2:
        print(f'  skipped ({"no CUDA" if not CUDA else f"{n} GPU"}: needs 2 GPUs)')
        return
    exe = str(Path(sys.executable).parent / 'ssbn-course')
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(
            [exe, 'prepare', 'phantoms', '--out', f'{d}/c', '--max-size', '896', '--n-patients', '40'],
            check=True,
            capture_output=True,
        )
        t = time.perf_counter()
        r = subprocess.run(
            [
                'torchrun',
                '--standalone',
                '--nproc_per_node',
                '2',
                exe,
                'train',
                '--cache',
                f'{d}/c',
                '--out',
                f'{d}/r',
                '--arch',
                'densenet121',
                '--sizes',
                '224,448,896',
                '--epochs',
                '1',
                '--batch-size',
                '8',
                '--memory-efficient',
            ],
            capture_output=True,
            text=True,
        )
        print(
            f'  torchrun 2 GPUs, SSBN 224/448/896 with SyncBatchNorm per size: exit {r.returncode} in {time.perf_counter() - t:.0f} s'
            + ('' if r.returncode == 0 else f': {r.stderr[-300:]}')
        )


if __name__ == '__main__':
    a = argparse.ArgumentParser()
    a.add_argument('--quick', action='store_true', help='small sizes and few repetitions (the CPU test)')
    a.add_argument('--reps', type=int, default=5)
    args = a.parse_args()
    torch.manual_seed(0)
    name = torch.cuda.get_device_name() if CUDA else f'{os.cpu_count()}-core CPU (no CUDA)'
    print(f'machine: {name}; torch {torch.__version__}')
    print('1. fp32 vs bf16 + channels_last, DenseNet-121 training step:')
    if CUDA:
        amp_rows((224, 448, 896), 16, args.reps)
    else:
        print('  skipped (no CUDA): bf16 autocast and channels_last are a GPU measurement')
    print('2. largest batch at 896 px in GPU memory:')
    if CUDA:
        mem = torch.cuda.get_device_properties(0).total_memory / 2**30
        for me in (False, True):
            print(f'  memory_efficient={me}: {largest_batch(896, me)} images ({mem:.0f} GiB GPU; goal >= 16 in 16 GiB)')
    else:
        print('  skipped (no CUDA)')
    print('3. SSBN vs plain DenseNet-121, training step:')
    ssbn_ratio(64 if args.quick else (224 if not CUDA else 448), 4 if args.quick else 8, 2 if args.quick else args.reps)
    print('4. input pipeline vs GPU:')
    gpu = None
    if CUDA:
        m = (
            build_model('densenet121', 14, (224, 448, 896), memory_efficient=True)
            .to(DEV)
            .to(memory_format=torch.channels_last)
            .train()
        )
        x = torch.rand(8, 1, 896, 896, device=DEV)
        y = torch.zeros(8, 14, device=DEV)
        gpu = 8 / timed(lambda: step(m, x, y, (224, 448, 896), True), args.reps)
    loader_row(
        128 if args.quick else 896, 4 if args.quick else 16, 0 if args.quick else min(8, os.cpu_count() or 1), gpu
    )
    print('5. SyncBatchNorm per size under torchrun --nproc_per_node 2:')
    ddp_row()
