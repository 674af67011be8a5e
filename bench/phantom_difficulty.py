"""How the phantoms' case mix was set: write a study-sized phantom dataset in which a fraction `--subtle` of the lesions
is faint (conspicuity uniform in [0, 1], `domain=dict(subtle=...)`) and the cardiomegaly label is read with an error of
`--reader-sd`, train the study profile's single models at each size on it, and print each finding's test AUC over all
its positives ('all') and by conspicuity band (the positives of that band against every negative).

    python bench/phantom_difficulty.py --out /tmp/difficulty --subtle 0.35 [--patients 1200 --test-patients 1600 --epochs 12]

docs/quick_profile.md records what this printed, and on which machine. A rerun with the same mix reuses what is finished
under --out (each mix has a folder of its own).
"""

import argparse
import time
from pathlib import Path
import numpy as np
import pandas as pd
from ssbn_course.core import profile_config
from ssbn_course.cache import learnable_findings, prepare
from ssbn_course.config import train_config
from ssbn_course.jobs import fit_many
from ssbn_course.stats import auc_midrank
from ssbn_course.store import read_store, scores
from ssbn_course.writers import write_phantom_dataset

BANDS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


def band_aucs(y, p, v) -> dict:
    "AUC of the positives whose conspicuity lies in each band against every negative; 'all': of every positive; NaN where a band is empty."
    neg, out = p[y == 0], {}
    for lo, hi in zip(BANDS[:-1], BANDS[1:]):
        pos = p[(y == 1) & (v >= lo) & (v <= hi)]
        out[f'{lo:.1f}-{hi:.1f}'] = (
            auc_midrank(np.r_[np.ones(len(pos)), np.zeros(len(neg))], np.r_[pos, neg]) if len(pos) else np.nan
        )
    out['all'] = auc_midrank(y, p)  # the course's AUC (unknown labels left out)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--out', required=True)
    ap.add_argument('--patients', type=int, default=1200)
    ap.add_argument('--test-patients', type=int, default=1600)
    ap.add_argument('--epochs', type=int, default=12)
    ap.add_argument('--subtle', type=float, required=True, help='the fraction of faint lesions (phantoms.DOMAIN)')
    ap.add_argument('--reader-sd', type=float, default=None, help="the reader's error on the ratio (default: DOMAIN's)")
    a = ap.parse_args(argv)
    cfg = profile_config('study')
    out = Path(a.out) / (
        f'subtle-{a.subtle}' + ('' if a.reader_sd is None else f'-reader-{a.reader_sd}')
    )  # a rerun reuses only the same mix
    data = out / 'phantoms'
    t = time.perf_counter()
    if not (data / 'train_val_list.txt').is_file():
        write_phantom_dataset(
            data,
            'nih',
            n_patients=a.patients,
            studies_per_patient=cfg['studies_per_patient'],
            image_size=cfg['image_size'],
            n_test_patients=a.test_patients,
            prevalence=cfg['prevalence'],
            domain=dict(subtle=a.subtle, **({} if a.reader_sd is None else dict(reader_sd=a.reader_sd))),
            workers=2,
        )
    cache = out / 'cache'
    if not (cache / 'labels.csv').is_file():
        prepare('nih', data, cache, max_size=max(cfg['sizes']), workers=2)
    print(f'data in {time.perf_counter() - t:.0f} s')
    findings = learnable_findings(cache)
    jobs = [
        (out / f'single-{s}', train_config(cfg, findings=findings, sizes=(s,), epochs=a.epochs, seed=0))
        for s in cfg['sizes']
    ]
    fit_many(cache, jobs)
    truth = pd.read_csv(data / 'phantom_truth.csv')
    truth['image_id'] = truth.image.str.rsplit('.', n=1).str[0]  # the loaders' image_id: the file name without .png
    consp = truth.groupby(['image_id', 'finding']).conspicuity.max().unstack()  # one value per study and finding
    rows = []
    for folder, c in jobs:
        sc = scores(read_store(folder, 'test'))
        v = consp.reindex(pd.Index(sc.image_ids).astype(str))
        for j, f in enumerate(sc.findings):
            r = band_aucs(sc.y[:, j], sc.p[0][:, j], v[f].to_numpy() if f in v else np.full(len(sc.y), np.nan))
            rows.append(dict(size=c.sizes[0], finding=f, positives=int(np.nansum(sc.y[:, j])), **r))
    table = pd.DataFrame(rows).set_index(['finding', 'size']).sort_index()
    print(table.round(3).to_string())
    best = table.loc[table.groupby(level='finding')['all'].idxmax()]
    print(f'\nBest size per finding: {", ".join(f"{f} {s} px {v:.3f}" for (f, s), v in best["all"].items())}')
    print(f'in [0.75, 0.97]: {((best["all"] >= 0.75) & (best["all"] <= 0.97)).sum()} of {len(best)}')


if __name__ == '__main__':
    main()
