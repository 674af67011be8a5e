"""Bad input, as a careless or hostile user gives it: each case gets a clear error naming the input (CLI: one line, exit 2),
or a documented handling (a bad image is skipped and listed in skipped.csv); nothing is written outside its folder and
nothing is reported as done that was not. The property-based suite (test_properties.py) generates many more."""

import dataclasses
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
import numpy as np
import pandas as pd
import pydicom
import pytest
import torch
from PIL import Image
from conftest import write_grid
from ssbn_course.data import ImageReadError, read_image
from ssbn_course.loaders import load_table
from ssbn_course.cache import prepare
from ssbn_course.stats import bootstrap_aucs
from ssbn_course.layouts import write_dicom
from ssbn_course.writers import write_phantom_dataset
from ssbn_course.stats import paired_bootstrap
from ssbn_course.models import build_encoder, build_model
from ssbn_course.ssbn import convert_to_ssbn
from ssbn_course.runs import CheckpointError, load_checkpoint, save_checkpoint

EXE = str(Path(sys.executable).parent / 'ssbn-course')


def cli(*args, timeout=600):
    r = subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    assert 'Traceback' not in r.stderr, r.stderr
    return r


def files_under(d):
    return {p for p in Path(d).rglob('*') if p.is_file()}


@pytest.fixture
def nih(nih_dir, tmp_path):
    return Path(shutil.copytree(nih_dir, tmp_path / 'nih'))


@pytest.fixture(scope='module')
def cache64(tmp_path_factory):
    d = tmp_path_factory.mktemp('cache')
    src = write_phantom_dataset(d / 'src', 'nih', n_patients=40, image_size=64, workers=2)
    prepare('nih', src, d / 'c', max_size=64, workers=2)
    return d / 'c'


# --- files outside their folder ------------------------------------------------------------------------------------
@pytest.mark.parametrize('name', ['../../outside/evil.png', '/etc/evil.png', 'sub/evil.png'])
def test_nih_image_index_must_be_a_plain_file_name(nih, tmp_path, name):
    entry = nih / 'Data_Entry_2017.csv'
    t = pd.read_csv(entry)
    t.loc[0, 'Image Index'] = name
    t.to_csv(entry, index=False)
    before = files_under(tmp_path)
    with pytest.raises(ValueError, match='plain file names'):
        prepare('nih', nih, tmp_path / 'cache', max_size=64, workers=1)
    assert files_under(tmp_path) == before  # nothing written, inside or outside


def test_vindr_image_id_must_be_a_plain_file_name(vindr_dir, tmp_path):
    d = Path(shutil.copytree(vindr_dir, tmp_path / 'v'))
    for split in ('train', 'test'):
        a = pd.read_csv(d / f'annotations/annotations_{split}.csv')
        a.loc[0, 'image_id'] = '../../outside/evil'
        a.to_csv(d / f'annotations/annotations_{split}.csv', index=False)
    r = cli('prepare', 'vindr', '--src', d, '--out', tmp_path / 'cache', '--max-size', 64)
    assert r.returncode == 2 and 'plain file names' in r.stderr and not (tmp_path / 'outside').exists()


# --- silent wrong numbers --------------------------------------------------------------------------------------------
@pytest.mark.parametrize('value', [0.5, 2.0, 'yes'])
def test_chexpert_labels_outside_the_vocabulary_are_refused(chexpert_dir, tmp_path, value):
    d = Path(shutil.copytree(chexpert_dir, tmp_path / 'cx'))
    csv = d / 'CheXpert-v1.0-small/train.csv'
    t = pd.read_csv(csv)
    t['Edema'] = t['Edema'].astype(object)
    t.loc[1, 'Edema'] = value
    t.to_csv(csv, index=False)
    with pytest.raises(ValueError, match=r"column 'Edema' holds .*1, 0, -1 or blank"):
        load_table('chexpert', d)


def test_an_image_listed_twice_is_refused(nih):
    entry = nih / 'Data_Entry_2017.csv'
    t = pd.read_csv(entry)
    dup = t.iloc[[0]].assign(**{'Patient ID': 999, 'Finding Labels': 'Edema'})
    pd.concat([t, dup]).to_csv(entry, index=False)
    with pytest.raises(ValueError, match='more than one row'):
        load_table('nih', nih)


def test_metrics_refuse_labels_other_than_0_1_and_missing_scores():
    y = np.array([0, 2, 0, 2, 0, 2.0])
    p = np.linspace(0, 1, 6)
    with pytest.raises(ValueError, match='Labels must be 0, 1'):
        paired_bootstrap(y, p, p[::-1], np.arange(6), n_boot=10)
    y = np.array([[0, 1, 0, 1, 0, 1.0]]).T
    p = np.array([[0.1, 0.9, np.nan, 0.8, 0.3, 0.7]]).T
    with pytest.raises(ValueError, match='hold NaN'):
        bootstrap_aucs(y, p, np.arange(6), n_boot=10)


def test_a_batch_at_the_wrong_size_is_refused():
    m = build_model('densenet-tiny', 2, (32, 64)).eval()
    with pytest.raises(ValueError, match='must be at its size'):
        m({32: torch.zeros(2, 1, 32, 32), 64: torch.zeros(2, 1, 32, 32)})
    with pytest.raises(ValueError, match='at least 32'):
        m(torch.zeros(2, 1, 64, 20))  # 10 px on its short side at 32 px


def test_converting_a_converted_model_to_other_sizes_is_refused():
    m = convert_to_ssbn(build_encoder('densenet-tiny'), (32, 64))
    assert convert_to_ssbn(m, (64, 32)) is m  # the same sizes again: nothing to do
    with pytest.raises(ValueError, match='already converted'):
        convert_to_ssbn(m, (128,))


def test_a_float_image_is_stretched_not_blackened(tmp_path):
    a = np.linspace(0, 1, 64 * 64, dtype=np.float32).reshape(64, 64)
    Image.fromarray(a, mode='F').save(tmp_path / 'f.tif')
    g = read_image(tmp_path / 'f.tif')
    assert g.dtype == np.uint8 and g.min() == 0 and g.max() == 255


# --- training that reports success without a result --------------------------------------------------------------------
@pytest.mark.parametrize(
    'args, message',
    [
        (['--epochs', '0'], 'epochs=0'),
        (['--batch-size', '-4'], 'batch_size=-4'),
        (['--batch-size', '0'], 'batch_size=0'),
        (['--batch-size', '1'], 'batch_size=1'),
        (['--lr', '1e30'], 'lr=1e+30'),
        (['--sizes', '0'], 'sizes=(0,)'),
        (['--sizes', '128'], 'caches them at 64 px'),
    ],
)
def test_training_settings_that_cannot_train_are_refused(cache64, tmp_path, args, message):
    r = cli('train', '--cache', cache64, '--out', tmp_path / 'r', *args)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert not (tmp_path / 'r' / 'best.pt').exists() and 'best model' not in r.stdout


@pytest.mark.parametrize('change', [['--seed', '1'], ['--lr', '0.001'], ['--batch-size', '8']])
def test_resuming_with_other_settings_is_refused(cache64, tmp_path, change):
    base = ['train', '--cache', cache64, '--out', tmp_path / 'r', '--sizes', '32', '--epochs', '1', '--batch-size', '4']
    assert cli(*base).returncode == 0
    r = cli(*base[:-2], *(['--batch-size', '4'] if change[0] != '--batch-size' else []), *change)
    assert r.returncode == 2 and 'was trained with' in r.stderr


def test_a_kill_between_the_two_renames_of_a_checkpoint_leaves_it_readable(tmp_path):
    p = tmp_path / 'last.pt'
    save_checkpoint({'w': torch.ones(2)}, p)
    torch.save({'w': torch.zeros(2)}, tmp_path / 'new.part')  # the next save, killed after its first rename:
    import hashlib

    (tmp_path / 'last.pt.sha256.next').write_text(hashlib.sha256((tmp_path / 'new.part').read_bytes()).hexdigest())
    os.replace(tmp_path / 'new.part', p)
    assert torch.equal(
        load_checkpoint(p)['w'], torch.zeros(2)
    )  # the new checkpoint verifies against the digest written first
    p.write_bytes(p.read_bytes()[:-10])
    with pytest.raises(CheckpointError, match='corrupt'):
        load_checkpoint(p)


# --- one bad image never stops a prepare --------------------------------------------------------------------------------
@pytest.mark.parametrize('workers', [1, 2])
def test_bad_images_are_skipped_and_listed(nih, tmp_path, workers, monkeypatch):
    imgs = sorted(nih.glob('images_001/images/*.png'))
    imgs[0].write_bytes(os.urandom(2000))  # random bytes
    imgs[1].write_bytes(b'')  # zero bytes
    imgs[2].write_bytes(imgs[2].read_bytes()[:200])  # truncated
    r = cli('prepare', 'nih', '--src', nih, '--out', tmp_path / 'c', '--max-size', 64, '--workers', workers)
    assert r.returncode == 0, r.stderr
    skipped = pd.read_csv(tmp_path / 'c/skipped.csv')
    assert set(skipped.image_id) == {p.stem for p in imgs[:3]} and all(
        p.name in e for p, e in zip(imgs[:3], skipped.sort_values('image_id').error)
    )
    assert len(pd.read_csv(tmp_path / 'c/labels.csv')) == len(pd.read_csv(nih / 'Data_Entry_2017.csv')) - 3


def test_a_decompression_bomb_is_skipped(nih, tmp_path):
    bomb = sorted(nih.glob('images_001/images/*.png'))[0]
    Image.new('1', (20000, 20000)).save(bomb)  # 400 Mpx in a few kB: PIL refuses to decode it
    assert bomb.stat().st_size < 200_000
    t = prepare('nih', nih, tmp_path / 'c', max_size=64, workers=1)
    skipped = pd.read_csv(tmp_path / 'c/skipped.csv')
    assert (
        skipped.image_id.tolist() == [bomb.stem]
        and 'DecompressionBombError' in skipped.error.item()
        and bomb.stem not in set(t.image_id)
    )


@pytest.mark.parametrize(
    'content', [b'', random.Random(0).randbytes(600)], ids=['empty', 'noise']
)  # the same on every worker
def test_dicom_files_that_are_not_dicom_are_named(tmp_path, content):
    (tmp_path / 'x.dicom').write_bytes(content)
    with pytest.raises(ImageReadError, match='x.dicom'):
        read_image(tmp_path / 'x.dicom')


def _dicom(tmp_path):
    img = (np.arange(64 * 64).reshape(64, 64) % 251).astype(np.uint8)
    write_dicom(tmp_path / 'plain.dicom', img, 'x', False, 12)
    return tmp_path / 'plain.dicom', read_image(tmp_path / 'plain.dicom')


@pytest.mark.parametrize('syntax', ['JPEGLSLossless', 'JPEG2000Lossless', 'JPEGLosslessSV1'])
def test_compressed_dicoms_are_read(tmp_path, syntax):
    "Hospitals ship compressed DICOMs: JPEG-LS, JPEG Lossless (process 14) and JPEG 2000, decoded by pylibjpeg's plugins."
    src, ref = _dicom(tmp_path)
    dst = tmp_path / f'{syntax}.dicom'
    if syntax == 'JPEGLosslessSV1':  # no pydicom encoder: GDCM writes the fixture
        import gdcm

        r = gdcm.ImageReader()
        r.SetFileName(str(src))
        assert r.Read()
        c = gdcm.ImageChangeTransferSyntax()
        c.SetTransferSyntax(gdcm.TransferSyntax(gdcm.TransferSyntax.JPEGLosslessProcess14_1))
        c.SetInput(r.GetImage())
        assert c.Change()
        w = gdcm.ImageWriter()
        w.SetFileName(str(dst))
        w.SetFile(r.GetFile())
        w.SetImage(c.GetOutput())
        assert w.Write()
    else:
        ds = pydicom.dcmread(src)
        ds.compress(getattr(pydicom.uid, syntax), encoding_plugin='pyjpegls' if 'LS' in syntax else 'pylibjpeg')
        ds.save_as(dst)
    ds = pydicom.dcmread(dst)
    assert ds.file_meta.TransferSyntaxUID == getattr(pydicom.uid, syntax)
    from pydicom.pixels import pixel_array

    raw = pixel_array(str(dst), decoding_plugin='pylibjpeg')  # the runtime decoders alone (not the fixtures' encoders)
    assert raw.shape == (64, 64)
    assert np.array_equal(read_image(dst), ref)


# --- tables and arguments ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('content', [b'', b'\x00\xff\xfe' * 400])
def test_empty_or_binary_csv_is_named(nih, content):
    (nih / 'Data_Entry_2017.csv').write_bytes(content)
    with pytest.raises(ValueError, match='Data_Entry_2017.csv'):
        load_table('nih', nih)


def test_prepare_arguments_are_checked(nih, tmp_path):
    r = cli('prepare', 'nih', '--src', nih, '--out', tmp_path / 'c', '--max-size', 0)
    assert r.returncode == 2 and 'at least 32' in r.stderr
    (tmp_path / 'afile').write_text('x')
    r = cli('prepare', 'nih', '--src', nih, '--out', tmp_path / 'afile', '--max-size', 64)
    assert r.returncode == 2 and 'is a file' in r.stderr


def test_run_only_an_unknown_chapter_is_named(tmp_path):
    r = cli('run', '--only', 'no_such_chapter', '--out', tmp_path)
    assert r.returncode == 2 and 'No chapter matches' in r.stderr and '00_core' in r.stderr


# --- caches and batches never mix runs ------------------------------------------------------------------------------------
def test_a_cache_of_another_dataset_is_refused_and_an_unfinished_one_restarted(nih_dir, chexpert_dir, tmp_path):
    out = tmp_path / 'c'
    prepare('nih', nih_dir, out, max_size=64, workers=1)
    with pytest.raises(ValueError, match='already holds a finished cache of nih'):
        prepare('chexpert', chexpert_dir, out, max_size=64, workers=1)
    other = Path(shutil.copytree(nih_dir, tmp_path / 'other'))  # same image names, another source
    with pytest.raises(ValueError, match='already holds a finished cache'):
        prepare('nih', other, out, max_size=64, workers=1)
    (out / 'labels.csv').unlink()  # as a prepare killed before its end leaves it
    t = prepare('chexpert', chexpert_dir, out, max_size=64, workers=1)
    assert json.loads((out / 'cache.json').read_text())['dataset'] == 'chexpert' and len(
        list((out / 'images').glob('*.npy'))
    ) == len(t)


def _pids_with_parent(pid):
    out = []
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            fields = stat.read_text().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


@pytest.fixture
def slow_grid(tmp_path):
    return write_grid(
        tmp_path,
        'slow',
        "x = 1\nout_dir = '.'",
        "import time; time.sleep(1.5)\nfrom ssbn_course.core import record\nrecord({'y': x * x}, out_dir)",
        'name: s\nruns:\n  - notebook: slow.ipynb\n    grid: {x: [1, 2, 3, 4]}\n',
    )


def test_a_killed_batch_leaves_no_worker_and_its_rerun_matches_an_uninterrupted_one(slow_grid, tmp_path):
    out = tmp_path / 'killed'
    p = subprocess.Popen(
        [EXE, 'batch', str(slow_grid), '--out', str(out), '--workers', '2'],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    t0 = time.time()
    while not list(out.glob('slow/*/status.json')) and time.time() - t0 < 300:
        time.sleep(0.5)
    workers = _pids_with_parent(p.pid)
    assert len(workers) >= 2
    p.send_signal(signal.SIGKILL)
    p.wait()
    t0 = time.time()
    while (
        any(
            Path(f'/proc/{w}').exists() and 'Z' not in Path(f'/proc/{w}/stat').read_text().rsplit(')', 1)[1].split()[0]
            for w in workers
        )
        and time.time() - t0 < 15
    ):
        time.sleep(0.5)
    alive = [
        w
        for w in workers
        if Path(f'/proc/{w}').exists() and Path(f'/proc/{w}/stat').read_text().rsplit(')', 1)[1].split()[0] != 'Z'
    ]
    assert not alive, f'pool workers {alive} outlived the killed batch'
    assert cli('batch', slow_grid, '--out', out, '--workers', '2').returncode == 0
    assert cli('batch', slow_grid, '--out', tmp_path / 'whole', '--workers', '2').returncode == 0
    a, b = (pd.read_csv(d / 'results.csv').set_index('run').y.sort_index() for d in (out, tmp_path / 'whole'))
    pd.testing.assert_series_equal(a, b)


def test_an_edited_grid_entry_is_rerun(slow_grid, tmp_path):
    out = tmp_path / 'o'
    assert cli('batch', slow_grid, '--out', out, '--workers', '2').returncode == 0
    nb = slow_grid.parent / 'slow.ipynb'
    nb.write_text(nb.read_text().replace('x * x', 'x * x + 1'))  # the same runs, another notebook: results would differ
    r = cli('batch', slow_grid, '--out', out, '--workers', '2')
    assert '4 changed since their result' in r.stdout and r.returncode == 0
    assert sorted(pd.read_csv(out / 'results.csv').y) == [2, 5, 10, 17]


def test_a_killed_prepare_resumes_to_the_same_cache(tmp_path):
    src = write_phantom_dataset(
        tmp_path / 'src', 'nih', n_patients=40, image_size=1024, workers=2
    )  # slow enough to kill mid-way
    code = f"from ssbn_course.cache import prepare; prepare('nih', {str(src)!r}, {str(tmp_path / 'k')!r}, max_size=512, workers=1)"
    p = subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while len(list((tmp_path / 'k/images').glob('*.npy'))) < 3 and time.time() - t0 < 120:
        time.sleep(0.02)
    p.send_signal(signal.SIGKILL)
    p.wait()
    done = len(list((tmp_path / 'k/images').glob('*.npy')))
    assert not (tmp_path / 'k/labels.csv').exists() and 3 <= done < 80, done
    resumed = prepare('nih', src, tmp_path / 'k', max_size=512, workers=1)
    whole = prepare('nih', src, tmp_path / 'w', max_size=512, workers=1)
    pd.testing.assert_frame_equal(resumed.drop(columns='path'), whole.drop(columns='path'))
    for f in whole.file:
        assert np.array_equal(np.load(tmp_path / 'k' / f), np.load(tmp_path / 'w' / f))


# --- a model is trained once per course run ------------------------------------------------------------------------
def test_a_finished_run_is_reused_not_retrained_and_another_config_is_trained(cache64, tmp_path):
    "fit_once takes a sibling chapter's run of exactly the same config and data (loadable, same predictions, card says where from); any other config trains."
    from ssbn_course.cache import learnable_findings
    from ssbn_course.jobs import fit_once
    from ssbn_course.config import TrainConfig
    from ssbn_course.train import fit
    from ssbn_course.runs import load_trained, read_run

    cfg = TrainConfig(
        sizes=(32,), epochs=1, batch_size=8, max_steps=2, seed=3, findings=learnable_findings(cache64)
    )  # as the chapters call it
    first = fit(cache64, tmp_path / '03_ssbn' / 'model', cfg, progress=False).dir
    again = fit_once(cache64, tmp_path / '06_experiments' / 'single-32', cfg, reuse_from=tmp_path, progress=False)
    card, preds = read_run(again)
    assert card['reused_from'] == str(first.resolve())
    pd.testing.assert_frame_equal(preds, read_run(first)[1])
    load_trained(again / 'best.pt')  # the checkpoint came with it, verified by its digest
    other = fit_once(
        cache64,
        tmp_path / '06_experiments' / 'seed4',
        TrainConfig(**{**cfg.__dict__, 'seed': 4}),
        reuse_from=tmp_path,
        progress=False,
    )
    assert 'reused_from' not in read_run(other)[0]


def test_models_trained_side_by_side_match_one_trained_alone_and_a_failing_one_stops_no_other(cache64, tmp_path):
    "fit_many on 2 processes: every good job finishes even when one fails (its error raised after them), and a worker's model equals the same config trained in this process on as many threads."
    import torch
    from ssbn_course.cache import learnable_findings
    from ssbn_course.jobs import fit_many
    from ssbn_course.config import TrainConfig
    from ssbn_course.train import fit
    from ssbn_course.runs import read_run

    cfg = TrainConfig(sizes=(32,), epochs=1, batch_size=8, max_steps=3, seed=0, findings=learnable_findings(cache64))
    jobs = [
        (tmp_path / 'a', cfg),
        (tmp_path / 'too-large', TrainConfig(**{**cfg.__dict__, 'sizes': (128,)})),
        (tmp_path / 'b', TrainConfig(**{**cfg.__dict__, 'seed': 1})),
    ]
    with pytest.raises(ValueError, match='need images of 128 px'):
        fit_many(cache64, jobs, processes=2, progress=False)
    assert (
        (tmp_path / 'a/run.json').is_file()
        and (tmp_path / 'b/run.json').is_file()
        and not (tmp_path / 'too-large/run.json').exists()
    )
    assert fit_many(cache64, jobs[::2], processes=2, progress=False) == [
        tmp_path / 'a',
        tmp_path / 'b',
    ]  # finished: taken as they are
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(max(1, threads // 2))  # a worker's share of the threads
        alone = fit(cache64, tmp_path / 'alone', cfg, progress=False).dir
    finally:
        torch.set_num_threads(threads)
    pd.testing.assert_frame_equal(read_run(alone)[1], read_run(tmp_path / 'a')[1])


# --- fusion and recipes chosen on validation ---------------------------------------------------------------------------
def _stored_run(d, kind, sizes, split='test'):
    from ssbn_course.runs import prediction_table, write_run

    cases = pd.DataFrame(dict(image_id=['a', 'b', 'c', 'd'], patient=['1', '2', '3', '4']))
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    outs = {'fused': np.zeros((4, 1)), **({s: np.zeros((4, 1)) for s in sizes} if len(sizes) > 1 else {})}
    card = dict(kind=kind, variant='mean', arch='densenet-shallow', sizes=sizes, seed=0, findings=['F'], params=10)
    return write_run(d, card, prediction_table(cases, y, outs, ['F'], split))


def test_stacking_a_run_without_validation_predictions_or_sizes_is_refused(tmp_path):
    from ssbn_course.fusion import write_stacked

    with pytest.raises(ValueError, match='no validation predictions to fit stacking weights on'):
        write_stacked(_stored_run(tmp_path / 'old', 'ssbn', [32, 64]), tmp_path / 'new')
    with pytest.raises(ValueError, match='single-size run: it has one size, nothing to fuse'):
        write_stacked(_stored_run(tmp_path / 'one', 'single', [32], 'val'), tmp_path / 'new')
    assert not (tmp_path / 'new').exists()  # nothing half-written


def test_an_unknown_distillation_is_refused(cache64, tmp_path):
    from ssbn_course.config import TrainConfig

    with pytest.raises(ValueError, match=r"distill='kd' \(one of \['none', 'inplace', 'ensemble'\]\)"):
        TrainConfig(sizes=(32, 64), distill='kd')
    with pytest.raises(ValueError, match=r'distill_mix=1.5 \(from 0 to 1\)'):
        TrainConfig(sizes=(32, 64), distill='inplace', distill_mix=1.5)
    r = cli('train', '--cache', cache64, '--out', tmp_path / 'r', '--sizes', '32', '64', '--distill', 'kd')
    assert r.returncode == 2 and "invalid choice: 'kd'" in r.stderr, r.stderr


def test_a_warm_start_that_cannot_start_is_refused(cache64, tmp_path):
    "A warm start from a missing checkpoint or from a multi-size model, and an `asked` that leaves a finding to no size, are refused by name before training."
    from ssbn_course.cache import learnable_findings
    from ssbn_course.config import TrainConfig
    from ssbn_course.train import fit

    cfg = TrainConfig(sizes=(32, 64), epochs=1, batch_size=4, max_steps=1)
    with pytest.raises(FileNotFoundError, match='no checkpoint there'):
        fit(cache64, tmp_path / 'a', dataclasses.replace(cfg, warm_start=str(tmp_path / 'nope.pt')), progress=False)
    ssbn = fit(cache64, tmp_path / 'ssbn', cfg, progress=False).dir
    with pytest.raises(
        ValueError, match=r"needs a single-size model; this state has BatchNorms for sizes \['32', '64'\]"
    ):
        fit(cache64, tmp_path / 'b', dataclasses.replace(cfg, warm_start=str(ssbn / 'best.pt')), progress=False)
    f = learnable_findings(cache64)
    with pytest.raises(ValueError, match=rf"asked gives no size for \['{f[0]}'\]"):
        fit(cache64, tmp_path / 'c', dataclasses.replace(cfg, findings=f, asked={64: f[1:]}), progress=False)
