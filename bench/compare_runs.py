"""Two course runs compared number by number: every chapter's results.json (to 4 decimals) and chapter 6's test AUC of
every run, output and finding. For a change that moves code without meaning to move a number (issue #31): run
`ssbn-course run --quick` before and after it, on the same machine, then

    .venv/bin/python bench/compare_runs.py runs/<before>_quick runs/<after>_quick

It prints how many recorded values agree and lists those that do not (timings are expected among them)."""

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

RENAMED = {
    '07_metrics': '04a_stats',
    '02_data': '02b_cache',
}  # chapters renamed (or whose record moved) since: compared under their new name


def flat(d, prefix: str = '') -> dict:
    "A results.json as {'key/subkey': value}, lists of numbers kept whole."
    if not isinstance(d, dict):
        return {prefix: d}
    out = {}
    for k, v in d.items():
        out.update(flat(v, f'{prefix}/{k}'))
    return out


def rounded(v):
    "A value as it is compared: floats (also inside lists) to 4 decimals."
    if isinstance(v, float):
        return round(v, 4)
    if isinstance(v, list):
        return [rounded(x) for x in v]
    return v


def compare(before: Path, after: Path) -> tuple:
    "(values equal, rows that differ: chapter, key, before, after)."
    same, differ = 0, []
    for path in sorted(before.glob('*/results.json')):
        chapter = path.parent.name
        other = after / RENAMED.get(chapter, chapter) / 'results.json'
        if not other.is_file():
            differ.append((chapter, '(no results.json after)', '', ''))
            continue
        a, b = flat(json.loads(path.read_text())), flat(json.loads(other.read_text()))
        for key in sorted(set(a) | set(b)):
            if rounded(a.get(key)) == rounded(b.get(key)):
                same += 1
            else:
                differ.append((chapter, key, str(a.get(key))[:80], str(b.get(key))[:80]))
    return same, differ


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('before', type=Path, help='a course run folder (ssbn-course run writes runs/<date>_<profile>)')
    ap.add_argument('after', type=Path)
    a = ap.parse_args()
    same, differ = compare(a.before, a.after)
    print(f'results.json values equal to 4 decimals: {same}; different: {len(differ)}')
    for row in differ:
        print('  ' + ' | '.join(row))
    ca, cb = (pd.read_csv(r / '06_experiments' / 'comparison.csv') for r in (a.before, a.after))
    m = ca.merge(cb, on=['name', 'seed', 'finding'], suffixes=('_before', '_after'))
    gap = np.abs(m.auc_before - m.auc_after).max()
    print(
        f'chapter 6: {len(ca)} test AUCs before, {len(cb)} after, {len(m)} matched by run, seed and finding; '
        f'largest difference {gap:.1e}; all equal to 4 decimals: {bool((m.auc_before.round(4) == m.auc_after.round(4)).all())}'
    )


if __name__ == '__main__':
    main()
