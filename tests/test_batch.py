"Instructor batches as an instructor types them: a grid with one failing run, resume, --retry-failed, bad grids, Dask."

import json
import subprocess
import sys
from pathlib import Path
import pandas as pd
import pytest
from conftest import write_grid

EXE = str(Path(sys.executable).parent / 'ssbn-course')


def run(*args):
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=900)


@pytest.fixture
def grid(tmp_path):
    return write_grid(
        tmp_path,
        'tiny',
        "x = 1\nscale = 1.0\nout_dir = '.'",
        "assert x != 3, 'three is not allowed'\nfrom ssbn_course.core import record\nrecord({'y': x * scale}, out_dir)",
        'name: t\nruns:\n  - notebook: tiny.ipynb\n    params: {scale: 2.0}\n    grid: {x: [1, 2, 3]}\n',
    )


def statuses(out):
    return {p.parent.name: json.loads(p.read_text()) for p in Path(out).glob('tiny/*/status.json')}


def test_failure_is_recorded_resume_skips_and_retry_reruns_only_the_failed(grid, tmp_path):
    out = tmp_path / 'out'
    r = run('batch', str(grid), '--out', str(out), '--workers', '2')
    assert r.returncode == 1, r.stderr  # a failure makes the batch exit non-zero...
    s = statuses(out)
    assert {k: v['status'] for k, v in s.items()} == {
        'x=1': 'ok',
        'x=2': 'ok',
        'x=3': 'failed',
    }  # ...but the others finished
    assert (
        s['x=3']['cell'] == 1
        and 'three is not allowed' in s['x=3']['error']
        and s['x=3']['params'] == {'scale': 2.0, 'x': 3}
    )
    assert 'FAILED tiny/x=3' in r.stdout
    t = pd.read_csv(out / 'results.csv')  # one row per finished run
    assert len(t) == 2 and sorted(t.y) == [2.0, 4.0] and sorted(t.param_x) == [1, 2] and set(t.status) == {'ok'}
    f = pd.read_csv(out / 'failures.csv')
    assert len(f) == 1 and f.param_x.item() == 3 and f.failed_cell.item() == 1
    summary = (out / 'summary.html').read_text()
    assert (
        'plotly' in summary and 'Batch of grid “t”' in summary and 'Batch: t<' in summary
    )  # titled after the grid, not the folder
    assert (
        'href="tiny/x=1.ipynb"' in summary and '<h2>y</h2>' in summary
    )  # each run's notebook linked; every recorded result charted
    mtimes = {k: (out / 'tiny' / k / 'status.json').stat().st_mtime_ns for k in s}
    r = run('batch', str(grid), '--out', str(out))  # rerun: nothing new
    assert '0 to run now' in r.stdout
    assert {k: (out / 'tiny' / k / 'status.json').stat().st_mtime_ns for k in s} == mtimes
    r = run('batch', str(grid), '--out', str(out), '--retry-failed')  # only the failed one
    assert '1 to run now' in r.stdout and r.returncode == 1
    new = {k: (out / 'tiny' / k / 'status.json').stat().st_mtime_ns for k in s}
    assert new['x=1'] == mtimes['x=1'] and new['x=2'] == mtimes['x=2'] and new['x=3'] != mtimes['x=3']
    r = run('batch', str(grid), '--out', str(out), '--dry-run')
    assert '2 finished, 1 failed, 0 pending' in r.stdout


@pytest.mark.parametrize(
    'text, message',
    [
        ('runs: []', 'lists no runs'),
        ('runs:\n  - notebook: no_such_chapter', 'Unknown notebook'),
        ('runs:\n  - notebook: tiny.ipynb\n    grid: {z: [1]}', "no parameter(s) ['z']"),
        ("runs:\n  - notebook: tiny.ipynb\n    grid: {x: ['a']}", 'takes a int'),
        ('runs:\n  - notebook: tiny.ipynb\n    grid: {x: 5}', 'must be a non-empty list'),
    ],
)
def test_bad_grid_is_refused_before_anything_runs(grid, tmp_path, text, message):
    bad = tmp_path / 'bad.yaml'
    bad.write_text(text)
    r = run('batch', str(bad), '--out', str(tmp_path / 'o'))
    assert r.returncode == 2 and message in r.stderr and 'Traceback' not in r.stderr
    assert not (tmp_path / 'o').exists()


def test_another_grids_folder_is_refused(grid, tmp_path):
    out = tmp_path / 'out'
    assert run('batch', str(grid), '--out', str(out), '--dry-run').returncode == 0
    (out).mkdir()
    (out / 'grid.json').write_text('{"name": "someone-else"}')
    r = run('batch', str(grid), '--out', str(out))
    assert r.returncode == 2 and "holds the results of grid 'someone-else'" in r.stderr


def test_same_grid_runs_on_a_local_dask_cluster(grid, tmp_path):
    distributed = pytest.importorskip('distributed')
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        r = run('batch', str(grid), '--out', str(tmp_path / 'dask'), '--scheduler', cluster.scheduler_address)
    assert r.returncode == 1, r.stderr
    assert {k: v['status'] for k, v in statuses(tmp_path / 'dask').items()} == {
        'x=1': 'ok',
        'x=2': 'ok',
        'x=3': 'failed',
    }


def test_shipped_grids_are_valid():
    from ssbn_course.course.batch import load_grid
    from ssbn_course.course.runner import course_dir

    for g in sorted((course_dir() / 'grids').glob('*.yaml')):
        name, kernel, runs = load_grid(g)
        assert runs and name == g.stem
