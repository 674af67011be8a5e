"""The paper's own configuration, end to end on CPU: chapters 6, 8, 9, 10 and 11 through papermill with `profile='full'`
(DenseNet-121 with memory-efficient dense layers, ResNet34 in the sweep, sizes 224/448/896, the sweep's extreme sizes 32 and 600),
scaled down in data and steps only: CheXpert-layout phantoms at 1024 px (8 patients: 8 training, 3 validation, 6 test images), one epoch of one optimizer
step per model (`max_steps=1`), batch 4 in 2 accumulated micro-batches, ImageNet weights from a local file the test
writes (no network). Also: an interrupted full-size run resumed. Prints its wall time and peak memory.

Run it alone: `.venv/bin/pytest -s tests/test_full_profile.py` (about 10 minutes on a 2-core CPU)."""

import resource
import time
import warnings
import pandas as pd
import pytest
import torch
import torchvision
from ssbn_course.core import profile_config
from ssbn_course.course.runner import course_dir, run_notebook
from ssbn_course.writers import write_phantom_dataset
from ssbn_course.phantoms import FINDINGS

NBS = course_dir() / 'nbs'


@pytest.fixture(scope='module')
def full(tmp_path_factory):
    root = tmp_path_factory.mktemp('full')
    data = write_phantom_dataset(
        root / 'chexpert',
        'chexpert',
        n_patients=8,
        studies_per_patient=2,
        image_size=1024,
        prevalence={f: 0.5 for f in FINDINGS},
        valid_fraction=0.4,
        seed=62,
        workers=2,
    )  # 8 train, 3 val, 6 test images; seed 62: five findings (Edema among them) have both classes in every split
    weights = root / 'weights'
    weights.mkdir()  # what a user without a network passes as weights_path=
    for arch in ('densenet121', 'resnet34'):
        torch.save(getattr(torchvision.models, arch)().state_dict(), weights / f'{arch}.pth')
    return dict(root=root, data=data, weights=weights, t0=time.perf_counter())


def run(full, nb, **params):
    d = full['root'] / 'course' / nb
    r = run_notebook(
        NBS / f'{nb}.ipynb', d / f'{nb}.ipynb', dict(out_dir=str(d), profile='full', **params), cwd=d.parent
    )
    print(f'{nb} (full profile): {r["status"]} in {r["seconds"]} s')
    assert r['status'] == 'ok', f'{nb} failed at cell {r["cell"]}: {r["error"]} (executed copy: {r["output"]})'
    return d


def test_06_experiments_full(full):
    d = run(
        full,
        '06_experiments',
        data_dir=str(full['data']),
        seeds=[0],
        epochs=1,
        batch_size=4,
        accumulate=2,
        max_steps=1,
        weights_path=str(full['weights']),
        ablations=False,
        distillations=['none'],  # the recipes' path is the quick course's to test; here the paper's models
    )
    store = pd.read_csv(d / 'comparison.csv')
    assert set(store.name) == {
        'single 224',
        'single 448',
        'single 896',
        'ensemble',
        'SSBN',
        'SSBN @ 224',
        'SSBN @ 448',
        'SSBN @ 896',
    }
    params = store.drop_duplicates('name').set_index('name').params
    assert (
        6.9e6 < params['single 224'] < 7.0e6 and 6.9e6 < params['SSBN'] < 7.2e6
    )  # DenseNet-121, the paper's 6.9M / 7.1M (with its head)


def test_08_evaluate_full(full):
    run(
        full, '08_evaluate', n_boot=20, n_erf=1
    )  # the trained receptive fields on one test image: DenseNet-121 at 896 px is the cost


def test_09_resolution_full_per_label(full):
    """The sweep's smallest and largest sizes of the profile's nine, both architectures, one network per finding: 4 fits (all nine would be 18, 3x the compute);
    the SSBN model with learned fusion over the paper's two smaller sizes (224/448: a fifth of the compute of 224/448/896, which chapter 6's test trains)."""
    sweep = profile_config('full')['sweep_sizes']
    assert len(sweep) == 9
    d = run(
        full,
        '09_resolution',
        data_dir=str(full['data']),
        sizes=[sweep[0], sweep[-1]],
        per_label=True,
        findings=['Edema'],
        epochs=1,
        batch_size=4,
        ssbn_sizes=[224, 448],
        accumulate=2,
        max_steps=1,
        weights_path=str(full['weights']),
        n_boot=20,
    )
    aucs = pd.read_csv(d / 'sweep_aucs.csv')
    assert sorted(aucs['size'].unique()) == [32, 600] and set(aucs.arch) == {'resnet34', 'densenet121'}
    assert set(aucs.finding) == {'Edema'}


def test_10_external_full(full):
    run(full, '10_external', n_patients=8, n_boot=20)


def test_11_inference_full(full):
    d = run(
        full, '11_inference', n_boot=20, unseen_sizes=[320], recalibration_images=4, timing_batch=1, timing_repeats=0
    )  # GFLOPs at the paper's sizes; the quick chapter test times them
    f = pd.read_csv(d / 'frontier.csv').set_index('name')
    assert {'single 224', 'single 896', 'ensemble', 'SSBN', 'SSBN @ 224+448'} <= set(f.index)
    assert (
        5.6 < f.gflops['single 224'] < 5.8 and abs(f.gflops['SSBN'] - 21 * f.gflops['single 224']) < 0.1
    )  # DenseNet-121: 2.83 G multiply-adds at 224 px; 224+448+896 px costs 1 + 4 + 16 times that
    assert abs(f.gflops['SSBN'] - f.gflops['ensemble']) < 1e-6
    assert set(pd.read_csv(d / 'unseen_sizes.csv')['size']) == {
        224,
        320,
        448,
        896,
    }  # between two trained sizes (beyond them, with a new cache: the quick chapter test)


def test_an_interrupted_full_size_run_resumes_exactly(full):
    from ssbn_course.callbacks import Callback
    from ssbn_course.config import TrainConfig
    from ssbn_course.train import fit
    from ssbn_course.runs import load_checkpoint

    class KillAt(Callback):
        "Stop before global step `n`, as a kill would."

        def __init__(self, n):
            self.n = n

        def before_step(self, loop):
            if loop.state['epoch'] * loop.steps_per_epoch + loop.state['step'] == self.n:
                raise KeyboardInterrupt('simulated kill')

    cache = next((full['root'] / 'course/06_experiments').glob('cache-chexpert-*'))
    cfg = TrainConfig(
        arch='densenet121',
        sizes=(224,),
        epochs=2,
        batch_size=8,
        accumulate=2,
        memory_efficient=True,
        weights_path=str(full['weights']),
        findings=['Edema', 'Consolidation'],
        lr=1e-4,
    )
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        whole = fit(cache, full['root'] / 'whole', cfg, progress=False)
        with pytest.raises(KeyboardInterrupt):
            fit(cache, full['root'] / 'killed', cfg, progress=False, callbacks=[KillAt(1)])
        resumed = fit(cache, full['root'] / 'killed', cfg, progress=False)
    a, b = (load_checkpoint(r.dir / 'last.pt')['model'] for r in (whole, resumed))
    assert all(torch.equal(a[k], b[k]) for k in a)
    pd.testing.assert_frame_equal(whole.predictions(), resumed.predictions())
    peak = (
        max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        / 2**20
    )
    print(
        f'\nfull-profile test: {time.perf_counter() - full["t0"]:.0f} s wall, peak memory {peak:.1f} GiB (largest process)'
    )


def test_missing_imagenet_weights_are_said_once(monkeypatch):
    "Without cached weights and without a network, the full profile says so, once per architecture, and names the fix."
    import ssbn_course.models as models

    class Unreachable:
        url = 'https://download.pytorch.org/models/resnet34-b627a593.pth'

        def get_state_dict(self, progress=False):
            raise OSError('no network')

    monkeypatch.setitem(models.IMAGENET, 'resnet34', Unreachable())
    monkeypatch.setattr(models, '_SAID', set())
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        for _ in range(3):
            models.build_encoder('resnet34', pretrained=True)
    said = [str(x.message) for x in w if 'ImageNet' in str(x.message)]
    assert len(said) == 1 and 'RANDOM' in said[0] and 'weights_path=' in said[0] and 'resnet34-b627a593.pth' in said[0]
