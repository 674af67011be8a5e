"""How the quick profile's training recipe was chosen: train a few variants of it on one cache, side by side, and print
each one's last validation mean AUC (the selection criterion) and its per-finding test AUC (for information).

    python bench/quick_recipe.py --cache RUN/03_ssbn/cache-phantoms-nih-...-128 --out /tmp/recipe \
        base:sizes=128 lr4:sizes=128,lr=4e-3 lr4e9:sizes=128,lr=4e-3,epochs=9

A variant is NAME:KEY=VALUE,...; keys are `train_config`'s (sizes as 32/64/128, numbers as Python literals); every
other setting is the quick profile's. Each variant trains in its own folder under --out; a rerun resumes or reuses
what is finished there. docs/quick_profile.md records what this printed, and on which machine.
"""

import argparse
import ast
import time
from pathlib import Path
import pandas as pd
from ssbn_course.core import profile_config
from ssbn_course.cache import learnable_findings
from ssbn_course.experiments import auc_results
from ssbn_course.jobs import fit_many
from ssbn_course.store import read_store
from ssbn_course.config import train_config


def variant(text: str) -> tuple:
    "'lr4:sizes=128,lr=4e-3' -> ('lr4', {'sizes': (128,), 'lr': 0.004})."
    name, _, spec = text.partition(':')
    over = {}
    for kv in filter(None, spec.split(',')):
        k, _, v = kv.partition('=')
        over[k] = tuple(int(s) for s in v.split('/')) if k == 'sizes' else ast.literal_eval(v)
    return name, over


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--cache', required=True, help='a cache written by ssbn_course (chapter 2 / ensure_cache)')
    ap.add_argument('--out', required=True, help="a folder for the variants' runs")
    ap.add_argument('variants', nargs='+', type=variant, help='NAME:KEY=VALUE,... (see the module docstring)')
    a = ap.parse_args(argv)
    cfg, findings = profile_config('quick'), learnable_findings(a.cache)
    jobs = [(Path(a.out) / name, train_config(cfg, findings=findings, **over)) for name, over in a.variants]
    t = time.perf_counter()
    fit_many(a.cache, jobs)
    print(f'trained {len(jobs)} variants in {time.perf_counter() - t:.0f} s')
    rows = []
    for (name, _), (folder, c) in zip(a.variants, jobs):
        aucs = auc_results(read_store(folder, 'test'))  # the course's per-finding test AUC table
        fused = aucs[aucs.output == 'fused'].set_index('finding').auc
        rows.append(
            dict(
                variant=name,
                sizes='/'.join(map(str, c.sizes)),
                lr=c.lr,
                epochs=c.epochs,
                batch=c.batch_size,
                seed=c.seed,
                val_last=pd.read_csv(folder / 'metrics.csv').val_mean_auc.iloc[-1],
                **fused,
            )
        )
    print(pd.DataFrame(rows).set_index('variant').round(3).to_string())


if __name__ == '__main__':
    main()
