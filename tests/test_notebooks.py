"Every chapter executed through papermill with its quick-profile defaults, into a temporary folder."
import pytest
from ssbn_course.cli import chapters, course_dir, run_notebook

NOTEBOOKS = chapters() + sorted((course_dir() / 'nbs').glob('9[0-9]_*.ipynb'))


@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_chapter_runs(nb, tmp_path):
    r = run_notebook(nb, tmp_path / nb.name, dict(out_dir=str(tmp_path / 'out')), cwd=tmp_path)
    print(f"\n{nb.name}: {r['status']} in {r['seconds']} s")
    assert r['status'] == 'ok', f"{nb.name} failed at cell {r['cell']}: {r['error']} (executed copy: {r['output']})"
