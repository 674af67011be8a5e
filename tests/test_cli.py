"The command line as a user types it, including a real kill and resume of training."

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
import pandas as pd
import pytest
import torch
from ssbn_course.runs import load_checkpoint

EXE = str(Path(sys.executable).parent / 'ssbn-course')


def run(*args, **kw):
    return subprocess.run([EXE, *args], capture_output=True, text=True, **kw)


@pytest.fixture(scope='module')
def cache(tmp_path_factory):
    d = tmp_path_factory.mktemp('cli')
    r = run(
        'prepare', 'phantoms', '--out', str(d / 'cache'), '--max-size', '64', '--n-patients', '40', '--workers', '2'
    )
    assert r.returncode == 0, r.stderr
    assert 'images cached at 64 px' in r.stdout
    return d / 'cache'


def test_help():
    r = run('--help')
    assert r.returncode == 0 and 'prepare' in r.stdout and 'train' in r.stdout


def test_prepare_needs_src_and_names_bad_folder(tmp_path):
    r = run('prepare', 'nih', '--out', str(tmp_path / 'c'))
    assert r.returncode != 0 and '--src' in (r.stderr + r.stdout)
    r = run('prepare', 'nih', '--src', str(tmp_path), '--out', str(tmp_path / 'c'))
    assert r.returncode == 2 and 'Data_Entry_2017.csv' in r.stderr and 'Traceback' not in r.stderr


def test_train_killed_and_resumed_matches_uninterrupted(cache, tmp_path):
    common = [
        'train',
        '--cache',
        str(cache),
        '--sizes',
        '32,64',
        '--epochs',
        '2',
        '--batch-size',
        '8',
        '--findings',
        'Cardiomegaly',
        'Effusion',
        'Nodule',
    ]
    assert run(*common, '--out', str(tmp_path / 'a')).returncode == 0
    p = subprocess.Popen(
        [EXE, *common, '--out', str(tmp_path / 'b'), '--checkpoint-every', '1'],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    last = tmp_path / 'b/last.pt'
    t0 = time.time()
    while not last.exists() and time.time() - t0 < 120:
        time.sleep(0.05)
    time.sleep(0.3)
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert last.exists()
    step = load_checkpoint(last)['step']
    epoch = load_checkpoint(last)['epoch']
    assert (epoch, step) != (2, 0), 'the run finished before it could be killed'
    r = run(*common, '--out', str(tmp_path / 'b'), '--checkpoint-every', '1')
    assert r.returncode == 0, r.stderr
    wa, wb = load_checkpoint(tmp_path / 'a/last.pt')['model'], load_checkpoint(last)['model']
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    pd.testing.assert_series_equal(
        pd.read_csv(tmp_path / 'a/metrics.csv').val_mean_auc, pd.read_csv(tmp_path / 'b/metrics.csv').val_mean_auc
    )  # equal, NaN included (an epoch whose validation split scores none of these findings)


def test_resume_with_other_sizes_is_refused(cache, tmp_path):
    base = ['train', '--cache', str(cache), '--out', str(tmp_path / 'r'), '--epochs', '1', '--batch-size', '8']
    assert run(*base, '--sizes', '32').returncode == 0
    r = run(*base, '--sizes', '64')
    assert r.returncode == 2 and 'was trained with' in r.stderr


def test_corrupt_checkpoint_is_detected(cache, tmp_path):
    base = [
        'train',
        '--cache',
        str(cache),
        '--out',
        str(tmp_path / 'r'),
        '--epochs',
        '1',
        '--batch-size',
        '8',
        '--sizes',
        '32',
    ]
    assert run(*base).returncode == 0
    f = tmp_path / 'r/last.pt'
    f.write_bytes(f.read_bytes()[:1000])
    r = run(*base, '--epochs', '2')
    assert r.returncode == 2 and 'corrupt' in r.stderr


def test_torchrun_ddp_and_accumulation_follow_the_single_process_loss_curve(cache, tmp_path):
    "Same global batch three ways: one process, 2 processes under torchrun (gloo, CPU), one process with 2 accumulation steps."
    common = [
        'train',
        '--cache',
        str(cache),
        '--sizes',
        '32,64',
        '--epochs',
        '3',
        '--batch-size',
        '16',
        '--findings',
        'Cardiomegaly',
        'Effusion',
        'Nodule',
    ]
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    r = run(*common, '--out', str(tmp_path / 'single'), env=env)
    assert r.returncode == 0, r.stderr
    r = run(*common, '--out', str(tmp_path / 'acc'), '--accumulate', '2', env=env)
    assert r.returncode == 0, r.stderr
    torchrun = str(Path(sys.executable).parent / 'torchrun')
    r = subprocess.run(
        [torchrun, '--standalone', '--nproc_per_node', '2', EXE, *common, '--out', str(tmp_path / 'ddp')],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count('best model:') == 1  # only rank 0 reports and writes
    curves = {k: pd.read_csv(tmp_path / k / 'metrics.csv').train_loss.to_numpy() for k in ('single', 'acc', 'ddp')}
    assert len(curves['ddp']) == len(curves['single']) == 3
    assert curves['single'][-1] < curves['single'][0]  # it learns
    for k in ('acc', 'ddp'):  # BatchNorm sees 8 images instead of 16: close, not equal
        assert abs(curves[k] - curves['single']).max() < 0.03, (k, curves[k], curves['single'])
    ck = load_checkpoint(tmp_path / 'ddp/best.pt')  # an unwrapped state dict, loadable like any other
    assert not any(k.startswith('module.') for k in ck['model'])


def test_batch_that_does_not_split_is_refused(cache, tmp_path):
    r = run(
        'train',
        '--cache',
        str(cache),
        '--out',
        str(tmp_path / 'r'),
        '--epochs',
        '1',
        '--batch-size',
        '9',
        '--accumulate',
        '2',
    )
    assert r.returncode == 2 and 'split evenly' in r.stderr and 'Traceback' not in r.stderr
