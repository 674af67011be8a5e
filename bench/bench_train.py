"""Training throughput (issue: training chapter): images/s of a full training step (fwd+bwd+AdamW) per size, for the
single-size baseline and the SSBN model over all sizes, on this machine. Where `fit` uses them (a GPU, or a CPU with native
bf16: `train.fast_math`), also bf16 autocast + channels_last against fp32, measured interleaved (median of 3 alternations).
With `--processes N` (a CPU), also what `experiments.fit_many` relies on: one model on all of this process's threads against
N models at once on one thread each, the total images/s of each, measured interleaved (median of 3 alternations).
Usage: python bench/bench_train.py [--arch densenet-tiny] [--sizes 32 64 128] [--batch 32] [--processes 2]"""

import argparse
import multiprocessing as mp
import os
import statistics
import time
import torch
from ssbn_course.models import build_model
from ssbn_course.config import cpu_has_bf16
from ssbn_course.ssbn import multi_size_loss


def rate(arch, sizes, batch, device, amp=False, steps=3):
    torch.manual_seed(0)
    m = build_model(arch, 7, sizes).to(device)
    if amp:
        m = m.to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(m.parameters())
    x = torch.rand(batch, 1, max(sizes), max(sizes), device=device)
    if amp:
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.rand(batch, 7, device=device).round()
    for i in range(steps + 1):
        if i == 1:
            if device.type == 'cuda':
                torch.cuda.synchronize()
            t = time.perf_counter()
        with torch.autocast(device.type, torch.bfloat16, enabled=amp):
            loss = multi_size_loss(m(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    if device.type == 'cuda':
        torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - t)


def _one_thread_rate(arch, sizes, batch, amp, start):
    torch.set_num_threads(1)
    start.wait()  # every process starts timing together
    return rate(arch, sizes, batch, torch.device('cpu'), amp, steps=6)


def side_by_side(arch, sizes, batch, processes, amp):
    "Total images/s of `processes` trainings at once, one thread each (spawned processes, as `fit_many` starts them)."
    ctx = mp.get_context('spawn')
    with ctx.Manager() as m, ctx.Pool(processes) as pool:
        start = m.Barrier(processes)
        return sum(pool.starmap(_one_thread_rate, [(arch, sizes, batch, amp, start)] * processes))


if __name__ == '__main__':
    a = argparse.ArgumentParser()
    a.add_argument('--arch', default='densenet-tiny')
    a.add_argument('--sizes', type=int, nargs='+', default=[32, 64, 128])
    a.add_argument('--batch', type=int, default=32)
    a.add_argument('--processes', type=int, default=0)
    args = a.parse_args()
    dev = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    print(
        f'{torch.cuda.get_device_name() if dev.type == "cuda" else f"{os.cpu_count()}-core CPU"}, {args.arch}, batch {args.batch}'
    )
    for s in args.sizes:
        print(f'  single size {s}: {rate(args.arch, (s,), args.batch, dev):.1f} img/s')
    print(
        f'  SSBN {args.sizes}: {rate(args.arch, tuple(args.sizes), args.batch, dev):.1f} img/s (each image at every size)'
    )
    if dev.type == 'cuda' or cpu_has_bf16():
        for sizes in [(s,) for s in args.sizes] + [tuple(args.sizes)]:
            f, b = zip(
                *[
                    (rate(args.arch, sizes, args.batch, dev), rate(args.arch, sizes, args.batch, dev, amp=True))
                    for _ in range(3)
                ]
            )
            f, b = statistics.median(f), statistics.median(b)
            print(
                f'  {"/".join(map(str, sizes))} px: fp32 {f:.1f} img/s, bf16+channels_last {b:.1f} img/s, speed-up {b / f:.2f}x'
            )
    else:
        print(
            '  bf16 + channels_last: not measured (no GPU, and this CPU has no native bf16, so `fit` trains in float32)'
        )
    if args.processes > 1 and dev.type == 'cpu':
        amp, threads = cpu_has_bf16(), torch.get_num_threads()
        print(
            f'  {args.processes} models at once, one thread each, against one model on {threads} threads ({"bf16" if amp else "fp32"}, as `fit` trains here):'
        )
        for sizes in [(s,) for s in args.sizes] + [tuple(args.sizes)]:
            one, many = zip(
                *[
                    (
                        rate(args.arch, sizes, args.batch, dev, amp, steps=6),
                        side_by_side(args.arch, sizes, args.batch, args.processes, amp),
                    )
                    for _ in range(3)
                ]
            )
            one, many = statistics.median(one), statistics.median(many)
            print(
                f'  {"/".join(map(str, sizes))} px: one model {one:.1f} img/s, {args.processes} at once {many:.1f} img/s in all, {many / one:.2f}x'
            )
