"""Every chapter executed through papermill, in course order into one folder (as `ssbn-course run` lays it out), so the
evaluation chapters read chapter 6's trained models instead of training their own. The heaviest chapters get smaller
parameters than the quick profile's (fewer seeds, epochs and patients): this tests that they run end to end, while
`ssbn-course run --quick` keeps the quick profile's numbers."""

import pytest
from ssbn_course.course.runner import chapters, course_dir, run_notebook

# `pytest -n N --dist loadgroup` (command 2): the chapters run in course order into one session's folder, and the site is
# built from it, so these three files share one worker.
pytestmark = pytest.mark.xdist_group('course')

NOTEBOOKS = chapters() + sorted((course_dir() / 'nbs').glob('9[0-9]*_*.ipynb'))
SMALLER = {
    '03_ssbn': dict(fixres_epochs=2, n_patients=150, n_test_patients=200, n_boot=100),
    '06_experiments': dict(seeds=[0, 1], epochs=2, n_patients=150, n_test_patients=200, n_boot=200),
    '09_resolution': dict(
        sizes=[32, 64, 128], ssbn_sizes=[32, 64], epochs=2, n_patients=150, n_test_patients=200, n_boot=100
    ),
    '08_evaluate': dict(n_boot=100),
    '10_external': dict(n_boot=100, n_patients=80),
    '11_inference': dict(n_boot=100, unseen_sizes=[48, 192], recalibration_images=32, timing_repeats=2),
}  # between, and beyond the prepared images (a new cache)


@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_chapter_runs(nb, course_run):
    course = course_run
    d = course / nb.stem
    r = run_notebook(nb, d / nb.name, dict(out_dir=str(d), **SMALLER.get(nb.stem, {})), cwd=course)
    print(f'\n{nb.name}: {r["status"]} in {r["seconds"]} s')
    assert r['status'] == 'ok', f'{nb.name} failed at cell {r["cell"]}: {r["error"]} (executed copy: {r["output"]})'
