"""Why sharing can hurt, measured: train one SSBN model of the quick recipe on a cache with `train.GradientCosine`
watching, and print the mean cosine similarity of each pair of sizes' gradients on the shared weights, per epoch;
with `--by-finding`, also each finding's own, first and last epoch; with `--by-layer`, each layer's part of the
gradients (the stem first, the head last), first and last epoch.

    python bench/gradient_cosine.py --cache RUN/<chapter>/cache-phantoms-nih-...-128 --out /tmp/cosine [--every 10] [--by-finding] [--by-layer]

Every other setting is the quick profile's (`train_config`); `--distill inplace` watches a distilled run instead.
docs/quick_profile.md records what this printed, and on which machine.
"""

import argparse
import time
from pathlib import Path
import pandas as pd
from ssbn_course.core import profile_config
from ssbn_course.cache import learnable_findings
from ssbn_course.callbacks import GradientCosine
from ssbn_course.train import fit
from ssbn_course.config import train_config


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--cache', required=True, help='a cache written by ssbn_course (chapter 2 / ensure_cache)')
    ap.add_argument('--out', required=True, help='a folder for the run')
    ap.add_argument('--every', type=int, default=10, help='measure every this many steps')
    ap.add_argument('--distill', default='none', help="'none', 'inplace' or 'ensemble'")
    ap.add_argument('--by-finding', action='store_true', help="also each finding's own loss gradient")
    ap.add_argument('--by-layer', action='store_true', help="also each layer's part of the gradients")
    a = ap.parse_args(argv)
    cfg = train_config(profile_config('quick'), findings=learnable_findings(a.cache), distill=a.distill)
    t = time.perf_counter()
    fit(
        a.cache, a.out, cfg, resume=False, progress=False, callbacks=[GradientCosine(a.every, a.by_finding, a.by_layer)]
    )
    print(
        f'trained {"/".join(map(str, cfg.sizes))} ({cfg.arch}, distill={cfg.distill}) in {time.perf_counter() - t:.0f} s'
    )
    g = pd.read_csv(Path(a.out) / 'gradient_cosine.csv')
    g['pair'] = g.size_a.astype(str) + ' vs ' + g.size_b.astype(str)
    if 'layer' not in g:
        g['layer'] = 'all'
    whole = g[(g.finding == 'all') & (g.layer == 'all')]
    table = whole.pivot_table(index='epoch', columns='pair', values='cosine', aggfunc='mean').round(3)
    print("mean cosine similarity of the sizes' gradients on the shared weights, per epoch:")
    print(table.to_string())
    first, last = g.epoch.min(), g.epoch.max()
    if a.by_layer:
        order = list(dict.fromkeys(g.layer))  # the network's order, 'all' first
        per = g[g.epoch.isin([first, last])].pivot_table(
            index='layer', columns=['finding', 'pair', 'epoch'], values='cosine', aggfunc='mean'
        )
        print(f"each layer's part of the gradients: mean cosine in epochs {first} and {last}:")
        print(per.reindex(order).round(3).to_string())
    g = g[g.layer == 'all']
    if a.by_finding:
        per = g[g.epoch.isin([first, last])].pivot_table(
            index='finding', columns=['pair', 'epoch'], values='cosine', aggfunc='mean'
        )
        print(
            f"each finding's own loss: mean cosine in epochs {first} and {last} (NaN: no known label in the batches):"
        )
        print(per.round(3).to_string())
        ratio = g[g.epoch.isin([first, last])].assign(ratio=g.norm_a / g.norm_b)
        print(
            "how hard the smaller size pulls against the larger: mean ratio of their gradients' lengths (norm_a / norm_b):"
        )
        print(
            ratio.pivot_table(index='finding', columns=['pair', 'epoch'], values='ratio', aggfunc='mean')
            .round(2)
            .to_string()
        )
    return table


if __name__ == '__main__':
    main()
