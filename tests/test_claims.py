"""Chapter 6's analysis on fixed, small result sets written to disk as `fit` writes them (run.json + predictions.csv.gz):
`read_store` reads them, `headline_comparisons` compares, and every generated sentence is checked against its numbers.
A sentence that claims a direction its interval does not show, or quotes a number that is not the one computed, fails.
The result sets are generated (hypothesis), from clearly better to clearly worse, so each kind of sentence is met."""

import re
import numpy as np
import pandas as pd
from hypothesis import given, settings, strategies as st
from ssbn_course.experiments import compare, difference_sentence, headline_comparisons
from ssbn_course.runs import ENSEMBLE, SINGLE, SSBN
from ssbn_course.store import read_store, scores
from ssbn_course.runs import prediction_table, write_run

FINDINGS = ['Nodule', 'Effusion', 'Cardiomegaly']


def write_result_set(
    root, ssbn_signal: float, n_patients: int = 300, seeds=(0, 1), data_seed: int = 0, single_scale: float = 1.0
):
    "Three single sizes, their ensemble and an SSBN model whose scores carry `ssbn_signal` x the label (the others 1.0, 0.9, 0.8, the single sizes' times `single_scale`)."
    rng = np.random.default_rng(data_seed)
    cases = pd.DataFrame(
        dict(image_id=[f'{p:05d}_000.png' for p in range(n_patients)], patient=[str(p) for p in range(n_patients)])
    )
    y = (rng.random((n_patients, len(FINDINGS))) < 0.25).astype(float)
    y[rng.random(y.shape) < 0.05] = np.nan  # a few unknown labels, as CheXpert has
    runs = [
        (SINGLE, [32], 0.8 * single_scale),
        (SINGLE, [64], 0.9 * single_scale),
        (SINGLE, [128], single_scale),
        (ENSEMBLE, [32, 64, 128], 1.05),
        (SSBN, [32, 64, 128], ssbn_signal),
    ]
    for seed in seeds:
        for kind, sizes, signal in runs:
            z = np.nan_to_num(y) * signal + rng.normal(0, 1, y.shape)
            outputs = {'fused': z, **({s: z + rng.normal(0, 0.3, y.shape) for s in sizes} if kind == SSBN else {})}
            card = dict(
                kind=kind, variant='mean', arch='densenet-tiny', sizes=sizes, seed=seed, findings=FINDINGS, params=1000
            )
            write_run(
                root / f'seed{seed}' / f'{kind}-{"-".join(map(str, sizes))}',
                card,
                prediction_table(cases, y, outputs, FINDINGS, 'test'),
            )
    return read_store(root, 'test')


def claimed(sentence: str) -> str:
    "What a sentence claims: 'higher', 'lower' or 'none'."
    kinds = [
        k
        for k, pat in (
            ('higher', 'scores higher than'),
            ('lower', 'scores lower than'),
            ('none', 'No difference between'),
        )
        if pat in sentence
    ]
    assert len(kinds) == 1, f'the sentence makes {len(kinds)} claims: {sentence}'
    return kinds[0]


def check_sentence(r: dict, sentence: str):
    "The sentence's claim follows from the interval, and every number it quotes is the computed one."
    shown = 'higher' if r['ci_low'] > 0 else 'lower' if r['ci_high'] < 0 else 'none'
    assert claimed(sentence) == shown, f'{sentence!r} but the interval is [{r["ci_low"]:.4f}, {r["ci_high"]:.4f}]'
    m = re.search(
        r'mean AUC ([\d.]+) vs ([\d.]+), difference ([+-][\d.]+) \(95 % CI ([+-][\d.]+) to ([+-][\d.]+); (\d+) test patients',
        sentence,
    )
    assert m, sentence
    quoted = [float(v) for v in m.groups()]
    computed = [r['mean_auc1'], r['mean_auc2'], r['diff'], r['ci_low'], r['ci_high'], r['n_patients']]
    np.testing.assert_allclose(quoted, computed, atol=5e-4, err_msg=sentence)
    assert ('sized for' in sentence) == (r['half_width'] > 0.02), sentence
    if shown == 'none':
        assert f'{r["mdd"]:.3f}' in sentence, sentence


def test_a_clearly_better_ssbn_is_said_to_be_better_and_its_numbers_are_quoted(tmp_path):
    store = write_result_set(tmp_path, ssbn_signal=2.5)
    claims = headline_comparisons(store, n_boot=300)
    assert list(zip(claims.a, claims.b)) == [('SSBN', 'single 128'), ('SSBN', 'ensemble'), ('ensemble', 'single 128')]
    assert claimed(claims.sentence[0]) == 'higher' and claimed(claims.sentence[1]) == 'higher'
    for r, s in zip(claims.to_dict('records'), claims.sentence):
        check_sentence(r, s)


def test_a_clearly_worse_ssbn_is_said_to_be_worse(tmp_path):
    claims = headline_comparisons(write_result_set(tmp_path, ssbn_signal=0.2), n_boot=300)
    assert claimed(claims.sentence[0]) == 'lower'
    for r, s in zip(claims.to_dict('records'), claims.sentence):
        check_sentence(r, s)


def test_a_model_against_itself_shows_no_difference(tmp_path):
    store = write_result_set(tmp_path, ssbn_signal=1.0)
    r = compare(scores(store, kind=SSBN), scores(store, kind=SSBN), n_boot=100)
    assert (r['diff'], r['ci_low'], r['ci_high']) == (0.0, 0.0, 0.0)
    assert claimed(difference_sentence(r)) == 'none'


def test_a_result_set_without_ssbn_is_named(tmp_path):
    store = write_result_set(tmp_path, ssbn_signal=1.0)
    try:
        headline_comparisons(store[store.kind != SSBN], n_boot=10)
    except ValueError as e:
        assert 'SSBN' in str(e)
    else:
        raise AssertionError('no error for a store without SSBN')


@settings(max_examples=20, deadline=None)
@given(signal=st.floats(0.3, 2.0), n_patients=st.integers(60, 400), data_seed=st.integers(0, 10_000))
def test_no_generated_sentence_contradicts_its_numbers(tmp_path_factory, signal, n_patients, data_seed):
    store = write_result_set(tmp_path_factory.mktemp('claims'), signal, n_patients, data_seed=data_seed)
    claims = headline_comparisons(store, n_boot=200)
    for r, s in zip(claims.to_dict('records'), claims.sentence):
        check_sentence(r, s)


def check_learned_sentence(v, sentence: str, bar: float = 0.75):
    "Every finding is named in the group its verdict puts it in, with the numbers computed for it."
    groups = {
        'learned': sentence.split('Learned, but below')[0].split('Not shown')[0].split('Not scorable')[0],
        'learned, below the bar': sentence.split('Learned, but below the bar:')[1].split('Not shown')[0]
        if 'Learned, but below the bar:' in sentence
        else '',
        'not shown to be learned': sentence.split('Not shown to be learned')[1].split('Not scorable')[0]
        if 'Not shown to be learned' in sentence
        else '',
    }
    for f, r in v.iterrows():
        want = (
            'learned'
            if r.auc >= bar and r.ci_low > 0.5
            else 'learned, below the bar'
            if r.ci_low > 0.5
            else 'not shown to be learned'
        )
        assert r.verdict == want, (f, r.to_dict())
        assert f'{f} {r.auc:.3f} ({r.best}, 95 % CI {r.ci_low:.3f} to {r.ci_high:.3f})' in groups[want], (
            f'{f} is not said to be {want!r}: {sentence}'
        )


@settings(max_examples=8, deadline=None)
@given(signal=st.floats(0.0, 2.5), data_seed=st.integers(0, 2**16))
def test_each_finding_is_said_to_be_learned_exactly_as_its_interval_shows(tmp_path_factory, signal, data_seed):
    "The single sizes carry `signal` x 0.8 / 0.9 / 1.0 of the label: from chance to clearly learned, each verdict is met."
    from ssbn_course.verdicts import finding_verdicts, learned_sentence

    store = write_result_set(tmp_path_factory.mktemp('v'), ssbn_signal=1.0, data_seed=data_seed, single_scale=signal)
    v = finding_verdicts(store, n_boot=200)
    check_learned_sentence(v, learned_sentence(v))


def check_branch_sentence(g: pd.DataFrame, sentence: str, margin: float = 0.02):
    "Every (finding, size) of `branch_gaps` has the verdict its interval shows and is in that group of the sentence, with the computed numbers; in no other."
    lower, rest = sentence.split('Higher for ', 1)
    higher, _, rest = rest.partition('The same within')
    same, _, undetermined = rest.partition('Not determined')
    if not same and 'Not determined' in higher:
        higher, _, undetermined = higher.partition('Not determined')
    groups = {'lower': lower, 'higher': higher, 'within the margin': same, 'not determined': undetermined}
    for r in g.itertuples():
        want = (
            'within the margin'
            if -margin < r.ci_low and r.ci_high < margin
            else 'lower'
            if r.ci_high < 0
            else 'higher'
            if r.ci_low > 0
            else 'not determined'
        )
        assert r.verdict == want, r
        quoted = (
            f'{r.size} px ({r.ssbn:.3f} vs {r.single:.3f}, {r.diff:+.3f}, 95 % CI {r.ci_low:+.3f} to {r.ci_high:+.3f})'
        )
        if want in ('lower', 'higher'):
            assert re.search(rf'{r.finding} at [^;]*{re.escape(quoted)}', groups[want]), (
                f'{r.finding} @ {r.size} is not said to be {want}: {sentence}'
            )
        else:
            assert re.search(rf'{r.finding} at [^;.]*\b{r.size} px', groups[want]), (
                f'{r.finding} @ {r.size} is not said to be {want}: {sentence}'
            )
        for other in set(groups) - {want}:
            assert quoted not in groups[other] and not re.search(
                rf'{r.finding} at [^;.]*\b{r.size} px', groups[other]
            ), f'{r.finding} @ {r.size} is also said to be {other}: {sentence}'


@settings(max_examples=8, deadline=None)
@given(signal=st.floats(0.0, 2.5), data_seed=st.integers(0, 2**16))
def test_each_ssbn_branch_is_said_to_score_as_its_interval_shows(tmp_path_factory, signal, data_seed):
    "SSBN's branches carry `signal` x the label, the single sizes 0.8 / 0.9 / 1.0: from clearly worse to clearly better, each group is met."
    from ssbn_course.verdicts import branch_gaps, branch_sentence

    g = branch_gaps(write_result_set(tmp_path_factory.mktemp('b'), ssbn_signal=signal, data_seed=data_seed), n_boot=200)
    assert len(g) == 3 * len(FINDINGS), g  # every size x finding of the result set is compared
    check_branch_sentence(g, branch_sentence(g))


def test_a_branch_sentence_that_contradicts_its_interval_fails(tmp_path):
    "The check itself can fail: a sentence with one pair moved to the wrong group is caught."
    from ssbn_course.verdicts import branch_gaps, branch_sentence

    g = branch_gaps(write_result_set(tmp_path, ssbn_signal=2.5), n_boot=200)
    assert (g.verdict == 'higher').any(), g
    flipped = g.assign(
        ci_low=-g.ci_high,
        ci_high=-g.ci_low,
        diff=-g['diff'],
        verdict=g.verdict.replace({'higher': 'lower', 'lower': 'higher'}),
    )  # every 'higher' said as 'lower'
    try:
        check_branch_sentence(g, branch_sentence(flipped))
    except AssertionError:
        return
    raise AssertionError('a sentence saying the opposite of the intervals passed the check')
