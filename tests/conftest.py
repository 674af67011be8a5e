"""Shared fixtures: tiny datasets in each real dataset's exact layout, written by the course's own writers or by hand; the
folder the chapters are executed into (tests/test_notebooks.py), which the site tests then build from."""

import os
import subprocess
import sys

# `pytest -n N` (command 2): each worker gets its share of the cores, set before torch is imported (the notebooks'
# kernels inherit it); N workers each using every core would thrash the CPU.
if WORKERS := int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', 0)):
    for var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
        os.environ.setdefault(var, str(max(1, (os.cpu_count() or 1) // WORKERS)))
from pathlib import Path
import pytest
from ssbn_course.course.runner import course_dir, run_notebook
from ssbn_course.writers import write_phantom_dataset


@pytest.fixture(scope='session')
def nih_dir(tmp_path_factory):
    return write_phantom_dataset(tmp_path_factory.mktemp('nih'), 'nih', n_patients=12, image_size=64, workers=1)


@pytest.fixture(scope='session')
def chexpert_dir(tmp_path_factory):
    return write_phantom_dataset(
        tmp_path_factory.mktemp('chexpert'), 'chexpert', n_patients=20, image_size=64, workers=1
    )


@pytest.fixture(scope='session')
def vindr_dir(tmp_path_factory):
    return write_phantom_dataset(tmp_path_factory.mktemp('vindr'), 'vindr', n_patients=12, image_size=64, workers=1)


@pytest.fixture(scope='session')
def course_run(tmp_path_factory):
    "One folder for the whole session's executed chapters, laid out as `ssbn-course run` lays them out: `<chapter>/<chapter>.ipynb`."
    return tmp_path_factory.mktemp('course')


def write_grid(folder, name: str, parameters: str, body: str, grid: str):
    "A one-notebook grid for the batch tests: `folder/<name>.ipynb` (a parameters cell and a body cell) and `folder/grid.yaml`."
    import nbformat

    nb = nbformat.v4.new_notebook(
        metadata={'kernelspec': {'name': 'python3', 'display_name': 'python3', 'language': 'python'}}
    )
    nb.cells = [
        nbformat.v4.new_code_cell(parameters, metadata={'tags': ['parameters']}),
        nbformat.v4.new_code_cell(body),
    ]
    nbformat.write(nb, Path(folder) / f'{name}.ipynb')
    g = Path(folder) / 'grid.yaml'
    g.write_text(grid)
    return g


PLOTLY_CHAPTER = '01_phantoms'  # a chapter with plotly figures and the size slider


@pytest.fixture(scope='session')
def site(course_run, tmp_path_factory):
    nb = course_dir() / f'nbs/{PLOTLY_CHAPTER}.ipynb'
    if not (course_run / PLOTLY_CHAPTER / nb.name).exists():
        r = run_notebook(
            nb,
            course_run / PLOTLY_CHAPTER / nb.name,
            dict(out_dir=str(course_run / PLOTLY_CHAPTER), n_patients=6, image_size=128),
            cwd=course_run,
        )
        assert r['status'] == 'ok', r
    out = tmp_path_factory.mktemp('site') / 'site'
    r = subprocess.run(
        [str(Path(sys.executable).parent / 'ssbn-course'), 'docs', '--out', str(out), '--from', str(course_run)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'Site written' in r.stdout
    return out


def pytest_terminal_summary(terminalreporter):
    "How many bad inputs the property-based suite generated (tests/test_properties.py), when it ran."
    props = sys.modules.get('test_properties')
    if props is not None and props.CASES:
        terminalreporter.write_line(
            f'property-based suite: {sum(props.CASES.values())} generated cases ('
            + ', '.join(f'{k} {v}' for k, v in sorted(props.CASES.items()))
            + ')'
        )


def pytest_configure(config):
    "`--dist loadgroup` (command 2) on a pytest that loses the groups would run the chapters on both workers: refuse."
    if config.getoption('dist', None) == 'loadgroup':
        import xdist

        if pytest.version_tuple[:2] >= (9, 2) and tuple(map(int, xdist.__version__.split('.')[:2])) <= (3, 8):
            raise pytest.UsageError(
                f'pytest {pytest.__version__} with pytest-xdist {xdist.__version__} does not keep `--dist loadgroup` '
                "groups (xdist names a group in the test's id, which pytest 9.2 no longer reads): the chapters would "
                "run on both workers, each without the other's results. Install what settings.ini names "
                "(pytest<9.2: `pip install -e '.[dev]'`), or run without -n."
            )


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist writes the groups into the tests' ids
def pytest_collection_modifyitems(config, items):
    """Under `--dist loadgroup`, a test file without a group of its own runs whole on one worker, as `--dist loadfile`
    would: its module fixtures are made once, and tests that read an earlier test's results (the full profile's
    chapters) find them."""
    for item in items:
        if not any(item.iter_markers('xdist_group')):
            item.add_marker(pytest.mark.xdist_group(item.path.stem))
