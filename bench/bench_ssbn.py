"""SSBN overhead (issue: SSBN chapter): forward+backward throughput of the SSBN DenseNet-121 at one size vs the plain
torchvision DenseNet-121 at that size, measured side by side (interleaved repetitions) in one run. Prints the ratio.
Usage: python bench/bench_ssbn.py [--size 128] [--batch 8] [--reps 6] [--device cpu|cuda]"""

import argparse
import os
import statistics
import time
import torch
import torchvision
from ssbn_course.models import build_model


def step_time(model, x, y, device, sizes=None):
    out = model(x) if sizes is None else model(x, sizes)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(out['fused'] if isinstance(out, dict) else out, y)
    loss.backward()
    model.zero_grad(set_to_none=True)
    if device.type == 'cuda':
        torch.cuda.synchronize()


if __name__ == '__main__':
    a = argparse.ArgumentParser()
    a.add_argument('--size', type=int, default=128)
    a.add_argument('--batch', type=int, default=8)
    a.add_argument('--reps', type=int, default=6)
    a.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = a.parse_args()
    dev = torch.device(args.device)
    torch.manual_seed(0)
    plain = torchvision.models.densenet121(num_classes=14).to(dev).train()
    ssbn = build_model('densenet121', 14, (args.size, 2 * args.size, 4 * args.size)).to(dev).train()
    x = torch.rand(args.batch, 3, args.size, args.size, device=dev)
    y = torch.rand(args.batch, 14, device=dev).round()
    times = {'plain': [], 'ssbn': []}
    step_time(plain, x, y, dev)
    step_time(ssbn, x, y, dev, (args.size,))  # warm-up
    for r in range(args.reps):  # ABBA order, so drift in machine speed hits both models alike
        order = (('plain', plain), ('ssbn', ssbn)) if r % 2 == 0 else (('ssbn', ssbn), ('plain', plain))
        for name, m in order:
            t = time.perf_counter()
            step_time(m, x, y, dev, None if name == 'plain' else (args.size,))
            times[name].append(time.perf_counter() - t)
    p, s = statistics.median(times['plain']), statistics.median(times['ssbn'])
    ratios = sorted(a / b for a, b in zip(times['plain'], times['ssbn']))
    name = torch.cuda.get_device_name() if dev.type == 'cuda' else f'{os.cpu_count()}-core CPU'
    print(
        f'{name}, DenseNet-121 fwd+bwd at {args.size}px, batch {args.batch}, {args.reps} interleaved reps: plain {args.batch / p:.2f} img/s, '
        f'SSBN (3 sizes, run at one) {args.batch / s:.2f} img/s'
    )
    print(
        f'throughput ratio SSBN/plain: {statistics.median(ratios):.3f} (median of per-rep ratios; range {ratios[0]:.3f}-{ratios[-1]:.3f})'
    )
