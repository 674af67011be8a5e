"Loaders, prepare and bad input, on fixture folders in each dataset's exact layout."

import shutil
import numpy as np
import pandas as pd
import pydicom
import pytest
from PIL import Image
from ssbn_course.loaders import load_table, load_chexpert
from ssbn_course.cache import prepare
from ssbn_course.data import read_image, ImageReadError, check_patient_splits
from ssbn_course.batches import CachedImages


def _copy(src, tmp_path):
    return shutil.copytree(src, tmp_path / 'ds')


def test_nih_roundtrip_through_prepare(nih_dir, tmp_path):
    t = load_table('nih', nih_dir)
    entries = pd.read_csv(nih_dir / 'Data_Entry_2017.csv')
    assert len(t) == len(entries) and set(t.split) == {'train', 'val', 'test'}
    check_patient_splits(t)
    first = entries.iloc[0]
    row = t.set_index('image_id').loc[first['Image Index'][:-4]]
    for f in first['Finding Labels'].split('|'):
        if f != 'No Finding':
            assert row[f] == 1
    cached = prepare('nih', nih_dir, tmp_path / 'c', max_size=32, workers=2)
    assert len(cached) == len(t)
    x, y = CachedImages(tmp_path / 'c', 'train')[0]
    assert x.shape == (1, 32, 32) and x.dtype.is_floating_point is False


def test_nih_flat_folder(nih_dir, tmp_path):
    d = _copy(nih_dir, tmp_path)
    (d / 'images').mkdir()
    for p in d.glob('images_*/images/*.png'):
        p.rename(d / 'images' / p.name)
    t = load_table('nih', d)
    assert all(p.startswith(str(d / 'images')) for p in t.path)


def test_chexpert_uncertainty_policies(tmp_path):
    root = tmp_path / 'CheXpert-v1.0-small'
    (root / 'train/patient00001/study1').mkdir(parents=True)
    cols = [
        'Path',
        'Sex',
        'Age',
        'Frontal/Lateral',
        'AP/PA',
        'No Finding',
        'Enlarged Cardiomediastinum',
        'Cardiomegaly',
        'Lung Opacity',
        'Lung Lesion',
        'Edema',
        'Consolidation',
        'Pneumonia',
        'Atelectasis',
        'Pneumothorax',
        'Pleural Effusion',
        'Pleural Other',
        'Fracture',
        'Support Devices',
    ]
    rows = [
        [
            'CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg',
            'Male',
            50,
            'Frontal',
            'PA',
            None,
            None,
            1.0,
            -1.0,
            None,
            0.0,
            None,
            None,
            -1.0,
            None,
            1.0,
            None,
            None,
            None,
        ],
        [
            'CheXpert-v1.0-small/train/patient00002/study1/view1_lateral.jpg',
            'Male',
            50,
            'Lateral',
            '',
            None,
            None,
            1.0,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
        ],
    ]
    pd.DataFrame(rows, columns=cols).to_csv(root / 'train.csv', index=False)
    expected = {'ignore': [1, np.nan, 0, np.nan, 1], 'ones': [1, 1, 0, 1, 1], 'zeros': [1, 0, 0, 0, 1]}
    for policy, exp in expected.items():
        t = load_chexpert(tmp_path, policy=policy, val_fraction=0, blank='ignore')
        assert len(t) == 1  # the lateral view is dropped
        got = t[['Cardiomegaly', 'Lung Opacity', 'Edema', 'Atelectasis', 'Effusion']].iloc[0].tolist()
        np.testing.assert_array_equal(got, exp, err_msg=policy)
        assert np.isnan(t['Consolidation'].iloc[0])  # blank = unknown under every uncertainty policy (blank='ignore')
    with pytest.raises(ValueError, match='uncertainty policy'):
        load_chexpert(tmp_path, policy='maybe')


def test_chexpert_phantoms_and_non_square(chexpert_dir, tmp_path):
    t = load_table('chexpert', chexpert_dir)
    assert {'train', 'val', 'test'} == set(t.split) and t['Lung Lesion'].notna().any()
    prepare('chexpert', chexpert_dir, tmp_path / 'c', max_size=48, workers=1)
    img = np.load(next((tmp_path / 'c/images').glob('*.npy')))
    assert img.shape == (48, 48) and (img[:, :2] == 0).all()  # letterboxed: black bars on the short side


@pytest.mark.parametrize('folder', ['chexpert', 'CheXpert-v1.0-small'])
def test_chexpert_as_commonly_downloaded_reads_like_the_standard_layout(chexpert_dir, tmp_path, folder):
    "The CSVs and train/, valid/ at the top of the folder given (whatever it is called), `Path` still prefixed CheXpert-v1.0-small/: every image resolves."
    top = shutil.copytree(chexpert_dir / 'CheXpert-v1.0-small', tmp_path / folder)
    assert pd.read_csv(top / 'train.csv').Path.str.startswith('CheXpert-v1.0-small/').all()
    standard, flat = load_table('chexpert', chexpert_dir), load_table('chexpert', top)
    pd.testing.assert_frame_equal(standard.drop(columns='path'), flat.drop(columns='path'))
    assert all(p.startswith(str(top)) for p in flat.path)
    cached = prepare('chexpert', top, tmp_path / 'cache', max_size=32, workers=1)
    assert len(cached) == len(standard) and (tmp_path / 'cache' / 'labels.csv').is_file()


def test_chexpert_path_escaping_root(chexpert_dir, tmp_path):
    d = _copy(chexpert_dir, tmp_path)
    csv = d / 'CheXpert-v1.0-small/train.csv'
    df = pd.read_csv(csv)
    df.loc[0, 'Path'] = '../../etc/patient00001/study1/view1_frontal.jpg'
    df.to_csv(csv, index=False)
    with pytest.raises(ValueError, match='outside the dataset folder'):
        load_table('chexpert', d)


def test_vindr_readers_and_monochrome1(vindr_dir, tmp_path):
    t = load_table('vindr', vindr_dir)
    ann = pd.read_csv(vindr_dir / 'annotations/annotations_train.csv')
    one = ann[ann.class_name == 'Pleural effusion'].image_id
    if len(one):
        assert t.set_index('image_id').loc[one.iloc[0], 'Effusion'] == 1  # union over readers
    for p in sorted((vindr_dir / 'train').glob('*.dicom'))[:6]:
        ds = pydicom.dcmread(p)
        img = read_image(p)
        # bright = dense whatever the photometric interpretation: lungs darker than the body below them
        assert img[int(img.shape[0] * 0.4), img.shape[1] // 4] < img[int(img.shape[0] * 0.9), img.shape[1] // 2], (
            ds.PhotometricInterpretation
        )
    assert {pydicom.dcmread(p).PhotometricInterpretation for p in (vindr_dir / 'train').glob('*.dicom')} == {
        'MONOCHROME1',
        'MONOCHROME2',
    }


def test_corrupt_and_missing_images_are_skipped_and_reported(nih_dir, tmp_path, capsys):
    d = _copy(nih_dir, tmp_path)
    files = sorted(d.glob('images_001/images/*.png'))
    files[0].write_bytes(files[0].read_bytes()[:200])  # truncated
    files[1].unlink()  # missing
    t = prepare('nih', d, tmp_path / 'c', max_size=32, workers=1)
    out = capsys.readouterr().out
    assert 'Skipped 2' in out and files[0].name in out
    assert len(t) == len(load_table('nih', d)) - 2
    skipped = pd.read_csv(tmp_path / 'c/skipped.csv')
    assert set(skipped.image_id) == {files[0].stem, files[1].stem}
    assert not list((tmp_path / 'c/images').glob('*.part*'))  # no half-written entries
    assert len(prepare('nih', d, tmp_path / 'c', max_size=32, workers=1)) == len(t)  # rerun: resumable


def test_wrong_columns_unknown_labels_empty(nih_dir, tmp_path):
    d = _copy(nih_dir, tmp_path)
    csv = d / 'Data_Entry_2017.csv'
    df = pd.read_csv(csv)
    df.rename(columns={'Finding Labels': 'Labels'}).to_csv(csv, index=False)
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['Finding Labels'\]"):
        load_table('nih', d)
    df.assign(**{'Finding Labels': 'Nodule|Alien'}).to_csv(csv, index=False)
    with pytest.raises(ValueError, match='Alien'):
        load_table('nih', d)
    df.iloc[:0].to_csv(csv, index=False)
    with pytest.raises(ValueError, match='no rows'):
        load_table('nih', d)
    with pytest.raises(FileNotFoundError, match='Data_Entry_2017.csv'):
        load_table('nih', tmp_path / 'nowhere')
    with pytest.raises(ValueError, match='choose one of'):
        load_table('mimic', d)


def test_image_formats(tmp_path):
    a = np.tile(np.arange(0, 250, 5, dtype=np.uint8), (50, 1))
    Image.fromarray(a).convert('RGB').save(tmp_path / 'rgb.png')
    assert np.array_equal(read_image(tmp_path / 'rgb.png'), a)
    Image.fromarray(a).save(tmp_path / 'a.jpg', quality=100)
    assert np.abs(read_image(tmp_path / 'a.jpg').astype(int) - a).max() < 4
    (tmp_path / 'x.png').write_text('not an image')
    with pytest.raises(ImageReadError, match='x.png'):
        read_image(tmp_path / 'x.png')


def test_cache_for_another_size_is_refused(nih_dir, tmp_path):
    prepare('nih', nih_dir, tmp_path / 'c', max_size=32, workers=1)
    with pytest.raises(ValueError, match='another folder'):
        prepare('nih', nih_dir, tmp_path / 'c', max_size=64, workers=1)


def test_chexpert_blank_policies_match_a_hand_count(tmp_path):
    "Blanks (not mentioned): 'zeros' makes them negative, 'ignore' unknown, 'no-finding-zeros' negative only in rows whose No Finding is 1."
    root = tmp_path / 'CheXpert-v1.0-small'
    root.mkdir()
    cols = [
        'Path',
        'Sex',
        'Age',
        'Frontal/Lateral',
        'AP/PA',
        'No Finding',
        'Enlarged Cardiomediastinum',
        'Cardiomegaly',
        'Lung Opacity',
        'Lung Lesion',
        'Edema',
        'Consolidation',
        'Pneumonia',
        'Atelectasis',
        'Pneumothorax',
        'Pleural Effusion',
        'Pleural Other',
        'Fracture',
        'Support Devices',
    ]
    edema = [1.0, None, 0.0, None, -1.0, None]  # rows 2 and 4 have No Finding = 1
    nf = [None, 1.0, None, 1.0, None, None]
    rows = [
        [f'CheXpert-v1.0-small/train/patient{k:05d}/study1/view1_frontal.jpg', 'Male', 50, 'Frontal', 'PA', nf[k]]
        + [None] * 4
        + [edema[k]]
        + [None] * 8
        for k in range(6)
    ]
    pd.DataFrame(rows, columns=cols).to_csv(root / 'train.csv', index=False)
    hand = {
        'zeros': (1, 4, 1),
        'ignore': (1, 1, 4),
        'no-finding-zeros': (1, 3, 2),
    }  # (positive, negative, unknown) Edema, by hand
    for blank, (pos, neg, unk) in hand.items():
        e = load_chexpert(tmp_path, val_fraction=0, blank=blank)[
            'Edema'
        ]  # uncertain (-1) is unknown under the default policy
        assert ((e == 1).sum(), (e == 0).sum(), e.isna().sum()) == (pos, neg, unk), blank
    with pytest.raises(ValueError, match='blank policy'):
        load_chexpert(tmp_path, blank='maybe')


def test_vindr_global_labels_come_from_image_labels(vindr_dir, tmp_path):
    "Pneumonia (an image-level label) is positive where image_labels_*.csv says so, and unknown, never negative, without that file."
    d = _copy(vindr_dir, tmp_path)
    lab = pd.read_csv(d / 'annotations/image_labels_train.csv')
    target = lab.image_id.iloc[0]
    lab.loc[lab.index[0], 'Pneumonia'] = 1  # one of its three readers says pneumonia
    lab.to_csv(d / 'annotations/image_labels_train.csv', index=False)
    t = load_table('vindr', d).set_index('image_id')
    assert t.loc[target, 'Pneumonia'] == 1 and (t.drop(index=target).Pneumonia == 0).all()
    for split in ('train', 'test'):
        (d / f'annotations/image_labels_{split}.csv').unlink()
    assert load_table('vindr', d).Pneumonia.isna().all()


def test_boxes_are_kept_in_the_cache_pixels(chexpert_dir, vindr_dir, nih_dir, tmp_path):
    "NIH's and VinDr's boxes end up in boxes.csv, in the letterboxed cache's pixels: the phantom writer's lesion boxes, scaled."
    t = prepare('nih', nih_dir, tmp_path / 'n', max_size=32, workers=1)
    raw, b = pd.read_csv(nih_dir / 'BBox_List_2017.csv'), pd.read_csv(tmp_path / 'n/boxes.csv')
    assert len(b) == len(raw) and set(b.image_id) <= set(t.image_id)
    np.testing.assert_allclose(
        b.sort_values(['image_id', 'finding']).x.to_numpy(),
        raw.sort_values(['Image Index', 'Finding Label'])['Bbox [x'].to_numpy() * 32 / 64,
    )
    prepare('vindr', vindr_dir, tmp_path / 'v', max_size=32, workers=1)
    v = pd.read_csv(tmp_path / 'v/boxes.csv')
    assert (
        len(v)
        and v.finding.notna().all()
        and (v[['x', 'y', 'w', 'h']] >= 0).all().all()
        and (v.x + v.w <= 32 + 1e-6).all()
    )
    prepare('chexpert', chexpert_dir, tmp_path / 'c', max_size=32, workers=1)
    assert pd.read_csv(tmp_path / 'c/boxes.csv').empty  # CheXpert has none


def test_a_source_image_replaced_after_prepare_is_read_again(nih_dir, tmp_path, capsys):
    d = _copy(nih_dir, tmp_path)
    prepare('nih', d, tmp_path / 'c', max_size=32, workers=1)
    t = pd.read_csv(tmp_path / 'c/labels.csv', dtype={'image_id': str})
    first, second = t.iloc[0], t.iloc[1]
    before = np.load(tmp_path / 'c' / first.file)
    untouched = np.load(tmp_path / 'c' / second.file)
    img = np.asarray(Image.open(first.path))
    Image.fromarray(255 - img).save(first.path)  # the same file name, other pixels
    capsys.readouterr()
    prepare('nih', d, tmp_path / 'c', max_size=32, workers=1)
    said = capsys.readouterr().out
    assert '1 source image(s) changed' in said and first.image_id in said
    after = np.load(tmp_path / 'c' / first.file)
    assert np.abs(after.astype(int) - (255 - before.astype(int))).mean() < 3  # the new pixels, not the old cache
    assert np.array_equal(np.load(tmp_path / 'c' / second.file), untouched)
    prepare('nih', d, tmp_path / 'c', max_size=32, workers=1)
    assert 'changed' not in capsys.readouterr().out  # nothing changed since: nothing said, nothing re-read


def test_nih_with_both_label_files_names_the_one_it_reads(nih_dir, tmp_path, capsys):
    d = _copy(nih_dir, tmp_path)
    shutil.copyfile(d / 'Data_Entry_2017.csv', d / 'Data_Entry_2017_v2020.csv')
    load_table('nih', d)
    said = capsys.readouterr().out
    assert 'labels read from Data_Entry_2017_v2020.csv' in said and 'Data_Entry_2017.csv is also in' in said


def test_data_prep_readme_states_the_code_defaults():
    "data_prep/README.md's stated defaults are the code's: the loaders' and the command line's (so the page cannot go stale unnoticed)."
    import inspect
    import re
    from ssbn_course.course.cli import _parser
    from ssbn_course.course.runner import course_dir
    from ssbn_course.loaders import load_nih, NIH_ENTRY_FILES, UNCERTAINTY_POLICIES, BLANK_POLICIES
    from ssbn_course.data import VINDR_GLOBAL

    text = (course_dir() / 'data_prep/README.md').read_text()
    chex = inspect.signature(load_chexpert).parameters
    prep = next(a for a in _parser()._subparsers._group_actions[0].choices['prepare']._actions if a.dest == 'policy')
    blank = next(a for a in _parser()._subparsers._group_actions[0].choices['prepare']._actions if a.dest == 'blank')
    assert chex['policy'].default == prep.default and f'`--policy {prep.default}` (the default' in text
    assert chex['blank'].default == blank.default and f'`--blank {blank.default}` (the default' in text
    assert set(prep.choices) == set(UNCERTAINTY_POLICIES) and all(
        f'`{p}`' in text for p in BLANK_POLICIES if p != blank.default
    )
    assert f'{100 * inspect.signature(load_nih).parameters["val_fraction"].default:g} %' in text
    assert f'{100 * chex["val_fraction"].default:g} %' in text
    first, second = NIH_ENTRY_FILES
    assert re.search(rf'`{re.escape(first)}` or `{re.escape(second)}` \(the first of them present is read', text)
    assert 'image_labels_{train,test}.csv' in text and all(g in text for g in VINDR_GLOBAL)
    assert 'always unknown' not in text


def test_chapter_2_reads_chexpert_as_commonly_downloaded(chexpert_dir, tmp_path):
    "The cache chapter (2b: its loader, then `prepare`), end to end through papermill, on the top-level CheXpert folder: the labels it caches are the standard layout's."
    from ssbn_course.course.runner import course_dir, run_notebook

    top = shutil.copytree(chexpert_dir / 'CheXpert-v1.0-small', tmp_path / 'chexpert-download')
    out = tmp_path / 'ch2'
    r = run_notebook(
        course_dir() / 'nbs/02b_cache.ipynb',
        out / '02b_cache.ipynb',
        dict(out_dir=str(out), data_dir=str(top), dataset='chexpert', max_size=64),
        cwd=tmp_path,
    )
    assert r['status'] == 'ok', f'failed at cell {r["cell"]}: {r["error"]}'
    cached = pd.read_csv(out / 'cache-64/labels.csv').set_index('image_id').drop(columns=['path', 'file'])
    standard = load_table('chexpert', chexpert_dir).set_index('image_id').drop(columns='path')
    pd.testing.assert_frame_equal(cached.sort_index()[standard.columns], standard.sort_index(), check_dtype=False)
