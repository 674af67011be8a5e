"Bad input to the evaluation chapters' library: each gets a message that names the problem."

import warnings
import numpy as np
import pandas as pd
import pytest
import torch
from ssbn_course.evaluate import find_experiments, roc_points
from ssbn_course.gradcam import grad_cam
from ssbn_course.experiments import auc_results
from ssbn_course.runs import SINGLE
from ssbn_course.store import scores
from ssbn_course.runs import prediction_table
from ssbn_course.external import harmonise_labels, harmonise_scores
from ssbn_course.models import build_model
from ssbn_course.resolution import best_size, resolution_ratio


def test_missing_experiments_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='run chapter 6'):
        find_experiments(tmp_path / 'out', tmp_path / 'nothing-here')
    assert find_experiments(tmp_path / 'out') is None  # no chapter 6 beside it: the chapter trains its own


def test_finding_without_positives_is_nan_with_its_name():
    y = np.array([[0, 1], [0, 0], [0, 1], [0, 0.0]])
    cases = pd.DataFrame(dict(image_id=np.arange(4).astype(str), patient=np.arange(4).astype(str)))
    store = prediction_table(
        cases, y, {'fused': np.random.default_rng(0).normal(size=(4, 2))}, ['Hernia', 'Edema'], 'test'
    )
    store = store.assign(
        run='m', name='m', kind=SINGLE, variant='mean', arch='a', sizes='32', max_size=32, seed=0, params=1
    )
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        t = auc_results(store)
    assert np.isnan(t.set_index('finding').loc['Hernia', 'auc']) and not np.isnan(
        t.set_index('finding').loc['Edema', 'auc']
    )
    assert any('Hernia' in str(x.message) for x in w)
    s = scores(store, kind=SINGLE)  # the same store as arrays
    assert s.findings == ['Edema', 'Hernia'] and s.y.shape == (4, 2) and s.p.shape == (1, 4, 2) and s.label == 'm'


def test_best_size_needs_two_sizes_and_reports_undefined_findings():
    y = np.array([[1, 0], [0, 0], [1, 0], [0, 0.0]] * 5)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match='at least two sizes'):
        best_size(y, {32: rng.random(y.shape)}, ['a', 'b'], np.arange(20))
    t = best_size(y, {32: rng.random(y.shape), 64: rng.random(y.shape)}, ['a', 'b'], np.arange(20), n_boot=20)
    assert 'class is missing' in t.loc['b', 'verdict'] and t.loc['a', 'best_size'] in (32, 64)


def test_resolution_ratio_refuses_sizes_not_in_the_sweep():
    a = pd.DataFrame(dict(arch='a', size=[32, 64], finding='Nodule', auc=[0.6, 0.8]))
    with pytest.raises(ValueError, match='cannot compare 32 with 256'):
        resolution_ratio(a, 32, 256)


def test_label_map_without_overlap_is_refused():
    with pytest.raises(ValueError, match='maps to the external findings'):
        harmonise_scores(np.zeros((2, 1)), ['Hernia'], ['Edema'])
    with pytest.raises(ValueError, match="No label maps to 'Fracture'"):
        harmonise_labels(np.zeros((2, 1)), ['Edema'], ['Fracture'])


def test_roc_and_grad_cam_errors():
    with pytest.raises(ValueError, match='positive and negative'):
        roc_points([1, 1, np.nan], [0.1, 0.2, 0.3])
    m = build_model('densenet-tiny', 2, (32,))
    with pytest.raises(ValueError, match='cannot use 64'):
        grad_cam(m, torch.zeros(1, 64, 64, dtype=torch.uint8), 64, 0)
    p, cam = grad_cam(m, torch.randint(0, 255, (1, 64, 64), dtype=torch.uint8), 32, 1)
    assert cam.shape == (32, 32) and 0 <= cam.min() <= cam.max() <= 1 and 0 < p < 1
