"""Exercises: every self-check passes with the reference solution (instructor edition) and fails with the empty
template (student edition), so no check is vacuous; the student edition builds with one command and still executes,
under papermill, up to its first exercise; the front page lists every exercise."""

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path
import nbformat
import pytest
from ssbn_course.course.runner import chapters, course_dir, run_notebook
from ssbn_course.course.exercises import ExerciseError, TEMPLATE, exercise_list, exercises, strip_solution

CHAPTERS = chapters()
EXE = str(Path(sys.executable).parent / 'ssbn-course')


def _cells(nb):
    return nbformat.read(str(nb), as_version=4).cells


def _run(cells, ns):
    for src in cells:
        exec(compile(src, '<exercise cell>', 'exec'), ns)


@pytest.mark.parametrize('nb', CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_self_checks_pass_with_solutions_and_fail_with_templates(nb):
    cells, found = _cells(nb), exercises(nb)
    assert 2 <= len(found) <= 4, f'{nb.name} has {len(found)} exercises; each chapter ends with 2 to 4.'
    setup = [c.source for c in cells if 'exercise-setup' in c.metadata.get('tags', [])]
    assert setup, f'{nb.name}: no cell tagged exercise-setup before its exercises.'
    instructor = {}
    _run(setup, instructor)
    for k, (title, sol, chk) in enumerate(found):
        _run([cells[sol].source], instructor)
        said = io.StringIO()
        with contextlib.redirect_stdout(said):
            _run([cells[chk].source], instructor)  # must not raise
        assert '✓' in said.getvalue(), (
            f'{title}: the self-check passes silently; it should say ✓ (check_close and check_equal print it)'
        )
        student = {}
        _run(setup + [cells[s].source for _, s, _ in found[:k]], student)  # earlier exercises solved
        _run([strip_solution(cells[sol].source)], student)
        with pytest.raises(ExerciseError) as e:
            _run([cells[chk].source], student)
        assert len(str(e.value)) > 20, f'{title}: the failure message should say what to fix, got {str(e.value)!r}'


def test_student_edition_command(tmp_path):
    out = tmp_path / 'student'
    r = subprocess.run([EXE, 'student-edition', '--out', str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert 'exercises' in r.stdout
    for nb in CHAPTERS:
        inst, stud = _cells(nb), _cells(out / nb.name)
        assert len(inst) == len(stud)
        for a, b in zip(inst, stud):
            tags = a.metadata.get('tags', [])
            if 'solution' in tags:
                assert TEMPLATE in b.source and 'BEGIN SOLUTION' not in b.source and b.source != a.source
            elif 'colab.research.google.com/github' in a.source:
                assert f'blob/main/nbs/{nb.name}' not in b.source, (
                    f'{nb.name}: the student badge opens the instructor notebook'
                )
            else:
                assert a.source == b.source  # self-checks and everything else kept
    inside = course_dir() / 'student-edition-test'  # inside the repository: the badge opens the student copy on GitHub
    try:
        r = subprocess.run([EXE, 'student-edition', '--out', str(inside)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        first = _cells(inside / CHAPTERS[0].name)
        assert any(f'blob/main/student-edition-test/{CHAPTERS[0].name}' in c.source for c in first[:3])
    finally:
        import shutil

        shutil.rmtree(inside, ignore_errors=True)
    r = subprocess.run([EXE, 'student-edition', '--out', str(course_dir() / 'nbs')], capture_output=True, text=True)
    assert r.returncode == 2 and 'overwrite the instructor notebooks' in r.stderr


@pytest.mark.parametrize('name', ['00_core', '04a_stats'])
def test_student_edition_runs_up_to_its_first_exercise(name, tmp_path):
    from ssbn_course.course.exercises import write_student_edition

    write_student_edition(tmp_path / 'student')
    nb = tmp_path / 'student' / f'{name}.ipynb'
    r = run_notebook(nb, tmp_path / f'{name}.ipynb', dict(out_dir=str(tmp_path / 'out')), cwd=tmp_path)
    first_check = exercises(nb)[0][2]
    assert r['status'] == 'failed' and r['cell'] == first_check, (r, first_check)
    assert 'ExerciseError' in r['error']


def test_front_page_lists_every_exercise():
    index = ''.join(''.join(c['source']) for c in json.loads((course_dir() / 'nbs/index.ipynb').read_text())['cells'])
    readme = (course_dir() / 'README.md').read_text()
    for row in exercise_list().itertuples():
        assert row.exercise in index, f'nbs/index.ipynb does not list {row.exercise!r} ({row.chapter})'
        assert row.exercise in readme, f'README.md does not list {row.exercise!r} ({row.chapter})'
