"""Data benchmarks (issue: data chapter). Prints measured rates and ratios; asserts nothing.

1. phantoms/s at 512x512, in one process and in one worker per core;
2. a multi-size batch (3 sizes) from the cache with on-device antialiased downsampling, vs decoding the image files and
   resizing each size from them.
Usage: python bench/bench_data.py [--n 64] [--sizes 224 448 896]"""

import argparse
import multiprocessing as mp
import os
import tempfile
import time
from pathlib import Path
import numpy as np
import torch
from ssbn_course.phantoms import sample_spec
from ssbn_course.drawing import render_phantom
from ssbn_course.writers import write_phantom_dataset
from ssbn_course.cache import prepare, letterbox
from ssbn_course.batches import CachedImages, multi_size_batch
from ssbn_course.data import read_image


def _render(i):
    return render_phantom(sample_spec(0, i, 0), 512).shape


def phantom_rates(n):
    _render(10**6)  # texture and noise banks, built once per process
    t = time.perf_counter()
    [_render(i) for i in range(n)]
    one = n / (time.perf_counter() - t)
    with mp.get_context('spawn').Pool(os.cpu_count()) as pool:
        pool.map(_render, range(os.cpu_count() * 2))  # start-up and texture caches
        t = time.perf_counter()
        pool.map(_render, range(n), chunksize=4)
        many = n / (time.perf_counter() - t)
    return one, many


def batch_rates(root, cache, sizes, batch=16, reps=3):
    ds = CachedImages(cache)
    files = [Path(p) for p in ds.table.path[:batch]]

    def from_cache():
        x = torch.stack([ds[i][0] for i in range(batch)])
        return multi_size_batch(x, sizes)

    def from_files():
        out = {}
        for s in sizes:  # what a naive multi-size pipeline does: decode and resize every size from the file
            out[s] = torch.stack([torch.from_numpy(np.array(letterbox(read_image(f), s))).float()[None] for f in files])
        return out

    res = {}
    for name, f in (('cache + on-device downsampling', from_cache), ('decode + resize per size', from_files)):
        f()
        t = time.perf_counter()
        for _ in range(reps):
            f()
        res[name] = reps * batch / (time.perf_counter() - t)
    return res


if __name__ == '__main__':
    a = argparse.ArgumentParser()
    a.add_argument('--n', type=int, default=64)
    a.add_argument('--sizes', type=int, nargs='+', default=[224, 448, 896])
    args = a.parse_args()
    torch.set_num_threads(os.cpu_count())
    print(f'machine: {os.cpu_count()} CPU cores, torch {torch.__version__}')
    one, many = phantom_rates(args.n)
    print(f'phantoms/s at 512x512: {one:.1f} in one process, {many:.1f} with {os.cpu_count()} worker processes')
    with tempfile.TemporaryDirectory() as d:
        root = write_phantom_dataset(Path(d) / 'src', 'nih', n_patients=12, image_size=1024, workers=os.cpu_count())
        prepare('nih', root, Path(d) / 'cache', max_size=max(args.sizes), workers=os.cpu_count())
        r = batch_rates(root, Path(d) / 'cache', args.sizes)
    for k, v in r.items():
        print(f'multi-size batch {args.sizes}, {k}: {v:.1f} images/s')
    print(f'ratio cache/files: {r["cache + on-device downsampling"] / r["decode + resize per size"]:.1f}x')
