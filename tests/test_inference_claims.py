"""Chapter 11's generated sentences against their numbers: the frontier's 'better' and 'worse' lists are exactly the
configurations whose paired interval excludes 0 on that side, the cascade is called non-inferior exactly when its
interval lies above −margin (and a loss is mentioned when the interval lies below 0), and the unseen-size verdicts
follow their intervals. Tables are generated (hypothesis), so every branch is met."""

import re
import numpy as np
import pandas as pd
from hypothesis import given, settings, strategies as st
from ssbn_course.unseen import UNSEEN_METHODS, unseen_size_sentences
from ssbn_course.cascade import cascade_sentence
from ssbn_course.inference import frontier_sentences, pareto_front

interval = st.tuples(st.floats(-0.1, 0.1), st.floats(0.001, 0.05)).map(lambda t: (t[0], t[0] - t[1], t[0] + t[1]))


def names_in(sentence: str) -> set:
    "The configuration names a list sentence gives, each followed by its numbers in brackets."
    body = sentence.split(':', 1)[1]
    return (
        set() if body.strip(' .') == 'none' else {m.strip(' ,') for m in re.findall(r'(?:^|[;,] )([^,;(]+?) \(', body)}
    )


@settings(max_examples=40, deadline=None)
@given(
    diffs=st.lists(interval, min_size=3, max_size=8),
    gflops=st.lists(st.floats(0.01, 10), min_size=9, max_size=9),
    margin=st.sampled_from([0.005, 0.01, 0.02]),
)
def test_frontier_sentences_follow_their_intervals(diffs, gflops, margin):
    names = [f'config {k}' for k in range(len(diffs))] + ['SSBN']
    d = np.array(diffs + [(0.0, 0.0, 0.0)])
    t = pd.DataFrame(
        dict(
            name=names,
            reference=[False] * len(diffs) + [True],
            gflops=gflops[: len(names)],
            auc=0.8 + d[:, 0],
            diff_vs_ssbn=d[:, 0],
            diff_ci_low=d[:, 1],
            diff_ci_high=d[:, 2],
        )
    )
    t.loc[t.reference, ['diff_vs_ssbn', 'diff_ci_low', 'diff_ci_high']] = np.nan
    t['on_frontier'] = pareto_front(t.gflops, t.auc)
    on, better, worse, cheapest = frontier_sentences(t, margin)
    others = t[~t.reference]
    assert names_in(on) == set(t.name[t.on_frontier])
    assert names_in(better) == set(others.name[others.diff_ci_low > 0])
    assert names_in(worse) == set(others.name[others.diff_ci_high < 0])
    ok = others[(others.diff_ci_low > -margin) & (others.gflops < t.gflops[t.reference].iloc[0])]
    if len(ok):
        assert ok.sort_values('gflops').name.iloc[0] + ',' in cheapest
    else:
        assert cheapest.startswith('No cheaper configuration')


@settings(max_examples=40, deadline=None)
@given(d=interval, margin=st.sampled_from([0.005, 0.01, 0.02]))
def test_the_cascade_sentence_follows_its_interval(d, margin):
    r = dict(
        band=0.3,
        width=0.5,
        diff=d[0],
        ci_low=d[1],
        ci_high=d[2],
        non_inferior=d[1] > -margin,
        margin=margin,
        gflops=0.1,
        full_gflops=0.2,
        saved=0.5,
        saved_ci_low=0.45,
        saved_ci_high=0.55,
    )
    s = cascade_sentence(r)
    assert f'{d[0]:+.3f} (95 % CI {d[1]:+.3f} to {d[2]:+.3f})' in s
    assert ('(non-inferior)' in s) == (d[1] > -margin)
    assert ('cannot show' in s) == (d[1] <= -margin)
    assert ('shown to lose' in s) == (d[1] > -margin and d[2] < 0)
    assert ('shown better' in s) == (d[1] > 0)


def test_a_cascade_that_sends_every_case_on_is_called_the_full_model():
    "Band 1 (the validation split found nothing cheaper): the sentence says it saves nothing, not '-0 % less compute'."
    s = cascade_sentence(
        dict(
            band=1.0,
            width=float('inf'),
            diff=0.0,
            ci_low=0.0,
            ci_high=0.0,
            non_inferior=True,
            margin=0.01,
            gflops=0.152,
            full_gflops=0.152,
            saved=-0.0,
            saved_ci_low=-0.0,
            saved_ci_high=-0.0,
        )
    )
    assert 'saves nothing' in s and '0.152 GFLOPs' in s and '% less compute' not in s and '-0' not in s


@settings(max_examples=30, deadline=None)
@given(ds=st.lists(interval, min_size=15, max_size=15))
def test_unseen_size_verdicts_follow_their_intervals(ds):
    rows, k = [], 0
    for size in (48, 96, 192):
        for m, reference, against in [(m, 'trained below', 'trained 32 px') for m in UNSEEN_METHODS] + [
            (m, 'nearest', 'nearest') for m in UNSEEN_METHODS[1:]
        ]:
            d, lo, hi = ds[k]
            k += 1
            rows.append(
                dict(
                    size=size,
                    method=m,
                    reference=reference,
                    against=against,
                    diff=d,
                    ci_low=lo,
                    ci_high=hi,
                    verdict='better' if lo > 0 else 'worse' if hi < 0 else 'no difference shown',
                )
            )
    c = pd.DataFrame(rows)
    for m, sentence in zip(UNSEEN_METHODS[1:], unseen_size_sentences(c)):
        v = c[(c.method == m) & (c.reference == 'nearest')]
        for verdict, part in zip(
            ('better', 'worse', 'no difference shown'),
            re.split(r'; (?:worse|no difference shown) at ', sentence.split('better at ', 1)[1]),
        ):
            assert set(int(x) for x in re.findall(r'(\d+) px \(', part)) == set(v['size'][v.verdict == verdict]), (
                verdict,
                sentence,
            )
