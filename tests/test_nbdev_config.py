"The nbdev configuration keeps what papermill and users need."

import configparser
import shlex
import subprocess
import sys
from pathlib import Path
import nbformat
import yaml
import papermill as pm
from ssbn_course.course.runner import course_dir, chapters

ROOT = course_dir()
BIN = Path(sys.executable).parent


def test_clean_keeps_parameters_tag_and_papermill_accepts_p(tmp_path):
    nb = ROOT / 'nbs/00_core.ipynb'
    dirty = nbformat.read(nb, as_version=4)
    dirty.cells[0].metadata['collapsed'] = True
    dirty.metadata['widgets'] = {'x': 1}
    dirty.metadata['ssbn_course'] = {'runs_alone': 'it trains on every core'}  # read by `ssbn-course run`
    target = tmp_path / 'nbs'
    target.mkdir()
    nbformat.write(dirty, target / 'c.ipynb')
    subprocess.run([str(BIN / 'nbdev_clean'), '--fname', str(target / 'c.ipynb')], cwd=ROOT, check=True)
    clean = nbformat.read(target / 'c.ipynb', as_version=4)
    assert 'collapsed' not in clean.cells[0].metadata
    assert clean.metadata['ssbn_course'] == {'runs_alone': 'it trains on every core'}
    assert any('parameters' in c.metadata.get('tags', []) for c in clean.cells)
    tiny = nbformat.v4.new_notebook(
        metadata=clean.metadata,
        cells=[c for c in clean.cells if 'parameters' in c.metadata.get('tags', [])]
        + [nbformat.v4.new_code_cell('assert seed == 7')],
    )
    nbformat.write(tiny, tmp_path / 'p.ipynb')
    pm.execute_notebook(
        str(tmp_path / 'p.ipynb'),
        str(tmp_path / 'o.ipynb'),
        parameters={'seed': 7},
        kernel_name='python3',
        progress_bar=False,
    )


def test_every_chapter_has_one_parameters_cell_with_out_dir():
    for nb in chapters():
        cells = nbformat.read(nb, as_version=4).cells
        params = [c for c in cells if 'parameters' in c.metadata.get('tags', [])]
        assert len(params) == 1 and 'out_dir' in params[0].source, nb.name


def test_environment_yml_has_every_requirement():
    cfg = configparser.ConfigParser(delimiters=['='])
    cfg.read(ROOT / 'settings.ini')
    reqs = shlex.split(cfg['DEFAULT']['requirements']) + shlex.split(cfg['DEFAULT']['dev_requirements'])
    env = yaml.safe_load((ROOT / 'environment.yml').read_text())
    pip = next(d['pip'] for d in env['dependencies'] if isinstance(d, dict))
    missing, extra = [r for r in reqs if r not in pip], [r for r in pip if r not in reqs]
    assert not missing, f'environment.yml lacks {missing}'
    assert not extra, f'environment.yml asks for what settings.ini does not: {extra}'


def test_readme_commands_match_ci():
    readme = (ROOT / 'README.md').read_text()
    ci = (ROOT / '.ci/run').read_text()
    test_cmd = next(l.strip() for l in readme.splitlines() if l.strip().startswith('.venv/bin/nbdev_test'))
    assert test_cmd in ci


def test_every_parameter_of_every_chapter_can_be_set_from_papermill():
    "papermill must parse every assignment of a chapter's parameters cell; a line it cannot parse is silently not settable (`-p`, grids)."
    import ast

    for nb in chapters():
        cell = next(c for c in nbformat.read(str(nb), as_version=4).cells if 'parameters' in c.metadata.get('tags', []))
        names = {
            t.id
            for n in ast.parse(cell.source).body
            if isinstance(n, ast.Assign)
            for t in n.targets
            if isinstance(t, ast.Name)
        }
        parsed = {k for k, v in pm.inspect_notebook(str(nb)).items()}
        assert names == parsed, (
            f'{nb.name}: papermill cannot parse {sorted(names - parsed)} (keep parameters to scalars/lists, comments without "=")'
        )
