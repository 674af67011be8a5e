"""Property-based bad input (hypothesis): generated CSV tables in each dataset's layout, image files of every mode and
truncation, DICOM attribute combinations, training configurations and metric inputs. Each case must end in a clear
error that names the input, or in a result that satisfies the layer's contract; no file is ever written outside its
folder. The number of generated cases is printed at the end of the test session."""

import io
import math
import shutil
import string
import warnings
from collections import Counter
from pathlib import Path
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image
from ssbn_course.data import ImageReadError, read_image
from ssbn_course.loaders import load_table
from ssbn_course.cache import prepare
from ssbn_course.layouts import NIH_FINDINGS, write_dicom
from ssbn_course.stats import per_finding_auc
from ssbn_course.config import TrainConfig

CASES = Counter()  # generated cases per test, printed by conftest's terminal summary
SETTINGS = dict(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


names = st.one_of(
    st.sampled_from(
        ['00000001_000.png', '../evil.png', '../../outside/evil.png', '/tmp/evil.png', 'a/b.png', '', '..', 'x.png']
    ),
    st.text(string.ascii_letters + string.digits + './_-\\', min_size=0, max_size=20),
)
labels = st.lists(st.sampled_from([*NIH_FINDINGS, 'No Finding', 'Covid', '', 'nodule']), min_size=0, max_size=3).map(
    '|'.join
)


@settings(**{**SETTINGS, 'max_examples': 50})  # each case copies a dataset: fewer
@given(
    rows=st.lists(st.tuples(names, labels, st.one_of(st.integers(-3, 5), st.text(max_size=4))), min_size=0, max_size=6),
    drop=st.sets(st.sampled_from(['Image Index', 'Finding Labels', 'Patient ID', 'View Position']), max_size=2),
)
def test_nih_tables(tmp_path_factory, nih_dir, rows, drop):
    CASES['NIH tables'] += 1
    d = Path(shutil.copytree(nih_dir, tmp_path_factory.mktemp('nih') / 'ds'))
    t = (
        pd.DataFrame(rows, columns=['Image Index', 'Finding Labels', 'Patient ID'])
        .assign(**{'View Position': 'PA'})
        .drop(columns=list(drop))
    )
    t.to_csv(d / 'Data_Entry_2017.csv', index=False)
    before = {p for p in d.parent.parent.rglob('*') if p.is_file() and not p.is_relative_to(d.parent)}
    try:
        out = prepare('nih', d, d.parent / 'cache', max_size=32, workers=1)
    except (ValueError, FileNotFoundError) as e:
        assert 'Data_Entry_2017.csv' in str(e) or 'No image' in str(e) or 'test_list' in str(e) or 'split' in str(e), e
    else:
        assert (
            set(out.split) <= {'train', 'val', 'test'}
            and out[[f for f in NIH_FINDINGS if f in out]].isin([0.0, 1.0]).all().all()
        )
        assert all(Path(p).resolve().is_relative_to(d.resolve()) for p in out.path)
    assert {
        p for p in d.parent.parent.rglob('*') if p.is_file() and not p.is_relative_to(d.parent)
    } == before  # nothing written outside


chexpert_values = st.sampled_from([1, 0, -1, '', 1.0, 0.5, 2, -2, 'yes', 'nan', '1', ' ', 'TRUE'])


@settings(**SETTINGS)
@given(
    values=st.lists(chexpert_values, min_size=1, max_size=8),
    column=st.sampled_from(['Edema', 'Cardiomegaly', 'Pleural Effusion']),
)
def test_chexpert_label_values(tmp_path_factory, chexpert_dir, values, column):
    CASES['CheXpert label values'] += 1
    d = Path(shutil.copytree(chexpert_dir, tmp_path_factory.mktemp('cx') / 'ds'))
    csv = d / 'CheXpert-v1.0-small/train.csv'
    t = pd.read_csv(csv)
    t[column] = t[column].astype(object)
    for i, v in enumerate(values):
        t.loc[i, column] = v
    t.to_csv(csv, index=False)
    try:
        out = load_table('chexpert', d)
    except ValueError as e:
        assert column in str(e) and 'train.csv' in str(e), e
    else:
        f = {'Pleural Effusion': 'Effusion'}.get(column, column)
        assert out[f].dropna().isin([0.0, 1.0]).all()


@settings(**SETTINGS)
@given(
    mode=st.sampled_from(['L', 'RGB', 'RGBA', 'I;16', 'I', 'F', '1', 'P', 'LA']),
    fmt=st.sampled_from(['PNG', 'TIFF', 'JPEG', 'BMP']),
    cut=st.one_of(st.none(), st.integers(0, 400)),
    w=st.integers(1, 40),
    h=st.integers(1, 40),
    seed=st.integers(0, 99),
)
def test_image_files(tmp_path_factory, mode, fmt, cut, w, h, seed):
    CASES['image files'] += 1
    rng = np.random.default_rng(seed)
    img = (
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).convert(mode)
        if mode not in ('I;16', 'I', 'F')
        else Image.fromarray(
            rng.integers(0, 60000, (h, w)).astype({'I;16': np.uint16, 'I': np.int32, 'F': np.float32}[mode])
        )
    )
    buf = io.BytesIO()
    try:
        img.save(buf, format=fmt)
    except (OSError, ValueError, KeyError):
        return  # a mode this format cannot store: nothing to read
    data = buf.getvalue() if cut is None else buf.getvalue()[:cut]
    p = tmp_path_factory.mktemp('img') / f'case.{fmt.lower()}'
    p.write_bytes(data)
    try:
        a = read_image(p)
    except ImageReadError as e:
        assert p.name in str(e)
    else:
        assert a.dtype == np.uint8 and a.ndim == 2 and a.size > 0


@settings(**SETTINGS)
@given(
    bits=st.sampled_from([8, 10, 12, 14, 16]),
    mono1=st.booleans(),
    drop=st.sets(
        st.sampled_from(
            ['WindowCenter', 'WindowWidth', 'RescaleSlope', 'PhotometricInterpretation', 'PixelData', 'Rows']
        ),
        max_size=2,
    ),
    cut=st.one_of(st.none(), st.integers(0, 3000)),
)
def test_dicom_attributes(tmp_path_factory, bits, mono1, drop, cut):
    CASES['DICOM attributes'] += 1
    import pydicom

    d = tmp_path_factory.mktemp('dcm')
    img = (np.arange(32 * 32).reshape(32, 32) % 251).astype(np.uint8)
    write_dicom(d / 'a.dicom', img, 'x', mono1, bits)
    ds = pydicom.dcmread(d / 'a.dicom')
    for k in drop:
        delattr(ds, k)
    ds.save_as(d / 'b.dicom', enforce_file_format=False)
    if cut is not None:
        (d / 'b.dicom').write_bytes((d / 'b.dicom').read_bytes()[:cut])
    try:
        a = read_image(d / 'b.dicom')
    except ImageReadError as e:
        assert 'b.dicom' in str(e)
    else:
        assert a.dtype == np.uint8 and a.shape == (32, 32)


@settings(**SETTINGS)
@given(
    epochs=st.one_of(st.integers(-2, 5), st.just(2.5), st.booleans()),
    batch_size=st.integers(-4, 64),
    lr=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.just(1e30)),
    sizes=st.lists(st.integers(-8, 300), min_size=0, max_size=3),
    accumulate=st.integers(-1, 8),
    arch=st.sampled_from(['densenet-tiny', 'densenet121', 'vgg']),
)
def test_training_configs(epochs, batch_size, lr, sizes, accumulate, arch):
    CASES['training configs'] += 1
    try:
        c = TrainConfig(
            arch=arch, sizes=tuple(sizes), epochs=epochs, batch_size=batch_size, lr=lr, accumulate=accumulate
        )
    except ValueError as e:
        assert str(e).startswith('Cannot train with') and any(
            k in str(e) for k in ('epochs=', 'batch_size=', 'lr=', 'sizes=', 'accumulate=', 'arch=')
        ), e
    else:
        assert c.epochs >= 1 and c.batch_size // c.accumulate >= 2 and 0 < c.lr <= 1 and c.sizes and min(c.sizes) >= 32


@settings(**SETTINGS)
@given(
    y=st.lists(st.sampled_from([0.0, 1.0, 2.0, -1.0, math.nan]), min_size=1, max_size=30),
    seed=st.integers(0, 99),
    nan_scores=st.booleans(),
)
def test_auc_inputs(y, seed, nan_scores):
    CASES['AUC inputs'] += 1
    y = np.array(y)
    p = np.random.default_rng(seed).random(len(y))
    if nan_scores:
        p[0] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            a = per_finding_auc(y[:, None], p[:, None], ['Nodule']).iloc[0]
        except ValueError as e:
            assert 'Labels must be 0, 1' in str(e) or 'hold NaN' in str(e), e
        else:
            known = y[~np.isnan(y)]
            assert (math.isnan(a) and len(set(known)) < 2) or 0 <= a <= 1


@settings(**SETTINGS)
@given(
    values=st.lists(st.sampled_from([0.0, 1.0, math.nan, 2.0, -1.0, 0.5, 3.0]), min_size=1, max_size=40),
    n_findings=st.integers(1, 3),
    batch_size=st.sampled_from([2, 4, 8, 16, 32]),
    accumulate=st.sampled_from([1, 2, 4]),
    world=st.sampled_from([1, 2]),
)
def test_training_labels_and_batch_sizes(values, n_findings, batch_size, accumulate, world):
    "Labels outside {0, 1, NaN} and micro-batches of one image are refused with the finding, value and sizes named, before any training."
    import torch
    from types import SimpleNamespace
    from ssbn_course.config import check_trainable

    CASES['training labels and batches'] += 1
    findings = ['Nodule', 'Mass', 'Edema'][:n_findings]
    y = np.resize(np.array(values), (max(len(values) // n_findings, 1), n_findings))
    ds = SimpleNamespace(labels=torch.tensor(y, dtype=torch.float32), findings=findings, __len__=None)
    ds = type('DS', (), {'labels': ds.labels, 'findings': findings, '__len__': lambda self: len(y)})()
    cfg = SimpleNamespace(batch_size=batch_size, accumulate=accumulate)
    odd = {f: sorted({float(v) for v in y[:, j] if v == v and v not in (0.0, 1.0)}) for j, f in enumerate(findings)}
    try:
        check_trainable(ds, cfg, world, 'cache-x')
    except ValueError as e:
        if any(odd.values()):
            assert 'neither 0, 1 nor unknown' in str(e) and all(
                f"'{f}': {v[0]:g}" in str(e) for f, v in odd.items() if v
            ), e
        else:
            assert (
                'BatchNorm needs at least 2' in str(e)
                and f'batch_size={batch_size}' in str(e)
                and f'{len(y)} training images' in str(e)
            ), e
            assert min(batch_size, len(y)) // (world * accumulate) < 2
    else:
        assert not any(odd.values()) and min(batch_size, len(y)) // (world * accumulate) >= 2


@settings(**SETTINGS)
@given(n_boot=st.one_of(st.integers(-5, 3), st.floats(-2, 3), st.booleans(), st.none()), n_cases=st.integers(0, 6))
def test_bootstrap_resample_counts(n_boot, n_cases):
    from ssbn_course.stats import resample_weights

    CASES['bootstrap resamples'] += 1
    patients = np.arange(n_cases) // 2  # two cases a patient: drawn together
    try:
        w = resample_weights(patients, n_boot)
    except ValueError as e:
        assert f'n_boot={n_boot!r}' in str(e) or 'No cases' in str(e), e
    else:
        assert isinstance(n_boot, int) and n_boot >= 1 and n_cases and w.shape == (n_boot, n_cases)
        per_patient = w[:, ::2]  # each patient's draw count, once
        assert (per_patient.sum(1) == len(set(patients))).all() and (w == per_patient[:, patients]).all()


@settings(**{**SETTINGS, 'max_examples': 25})
@given(
    n=st.one_of(st.integers(-3, 4), st.floats(0, 4), st.booleans()),
    layout=st.sampled_from(['nih', 'chexpert', 'vindr']),
)
def test_phantom_patient_counts(tmp_path_factory, n, layout):
    from ssbn_course.writers import write_phantom_dataset

    CASES['phantom patient counts'] += 1
    d = tmp_path_factory.mktemp('few')
    try:
        out = write_phantom_dataset(d / 'ds', layout, n_patients=n, image_size=32, workers=1)
    except ValueError as e:
        assert f'n_patients={n!r}: a phantom dataset needs at least 3 patients' in str(e), e
    else:
        assert (
            isinstance(n, int)
            and n >= 3
            and prepare(layout, out, d / 'cache', max_size=32, workers=1).split.nunique() >= 2
        )


@settings(**SETTINGS)
@given(
    fixed=st.lists(st.sampled_from([{}, {'scale': 1.0}, {'scale': 2.0}, {'x': 1}]), min_size=1, max_size=3),
    grids=st.lists(st.sampled_from([{}, {'x': [1]}, {'x': [1, 2]}, {'scale': [3.0]}]), min_size=3, max_size=3),
)
def test_grid_entries_are_named_apart_or_refused_when_equal(tmp_path_factory, fixed, grids):
    "Entries of one notebook run as separate folders unless two of them ask for exactly the same parameters."
    import yaml
    from ssbn_course.course.batch import GridError, load_grid

    CASES['grid entries'] += 1
    d = tmp_path_factory.mktemp('grid')
    import nbformat

    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("x = 0\nscale = 1.0\nout_dir = '.'", metadata={'tags': ['parameters']})],
        metadata={'kernelspec': {'name': 'python3', 'display_name': 'python3', 'language': 'python'}},
    )
    nbformat.write(nb, d / 'tiny.ipynb')
    entries = [
        dict(notebook='tiny.ipynb', **({'params': p} if p else {}), **({'grid': g} if g else {}))
        for p, g in zip(fixed, grids)
    ]
    (d / 'g.yaml').write_text(yaml.safe_dump(dict(name='g', runs=entries)))
    wanted = [
        {**p, **dict(zip(g, vals))}
        for p, g in zip(fixed, grids)
        for vals in __import__('itertools').product(*g.values())
    ]
    try:
        _, _, runs = load_grid(d / 'g.yaml')
    except GridError as e:
        assert 'repeat the same notebook and parameters' in str(e) and any(wanted.count(w) > 1 for w in wanted), e
    else:
        assert sorted(map(str, (r.params for r in runs))) == sorted(map(str, wanted)) and len(
            {r.slug for r in runs}
        ) == len(runs)


@settings(**{**SETTINGS, 'max_examples': 30})
@given(
    folder=st.text(string.ascii_letters + string.digits + '_-', min_size=1, max_size=12),
    nested=st.booleans(),
    prefix=st.sampled_from(['CheXpert-v1.0-small/', 'CheXpert-v1.0/', '']),
)
def test_chexpert_folder_layouts(tmp_path_factory, chexpert_dir, folder, nested, prefix):
    "CheXpert's CSVs at the top of a folder of any name, or inside CheXpert-v1.0-small/, with Path prefixed or not: every image resolves to the same table."
    CASES['CheXpert folder layouts'] += 1
    d = tmp_path_factory.mktemp('cx')
    top = d / folder / 'CheXpert-v1.0-small' if nested else d / folder
    shutil.copytree(chexpert_dir / 'CheXpert-v1.0-small', top)
    for csv in ('train.csv', 'valid.csv'):
        t = pd.read_csv(top / csv)
        t['Path'] = prefix + t.Path.str.replace(r'^CheXpert-v1\.0-small/', '', regex=True)
        t.to_csv(top / csv, index=False)
    got = load_table('chexpert', d / folder)
    want = load_table('chexpert', chexpert_dir)
    pd.testing.assert_frame_equal(got.drop(columns='path'), want.drop(columns='path'))
    assert all(Path(p).is_file() and Path(p).resolve().is_relative_to((d / folder).resolve()) for p in got.path)
