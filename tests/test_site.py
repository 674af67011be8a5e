"""The course website as `ssbn-course docs` builds it from the chapters executed in this session (tests/test_notebooks.py
runs first and fills `course_run`; run alone, the fixture executes the one chapter the browser test opens), the README
generated from the front page, and the Colab badge and install cell of every notebook."""

import html
import importlib
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
import nbformat
import pytest
from ssbn_course.course.runner import course_dir
from ssbn_course.course.cli import main
from ssbn_course.course.apidoc import module_chapters, site_pages

EXE = str(Path(sys.executable).parent / 'ssbn-course')

# `pytest -n N --dist loadgroup` (command 2): the chapters run in course order into one session's folder, and the site is
# built from it, so these three files share one worker.
pytestmark = pytest.mark.xdist_group('course')


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if 'id' in a:
            self.ids.add(a['id'])
        if tag == 'a' and 'href' in a:
            self.links.append(a['href'])


def parse(path):
    p = _Ids()
    p.feed(Path(path).read_text())
    return p


def test_every_exported_public_name_is_in_the_api_reference(site):
    text = (site / 'api.html').read_text()
    assert '&lt;function' not in text and ' at 0x' not in text and '0.16666666' not in text, (
        'a default shown as an address or 17 digits'
    )
    ids = parse(site / 'api.html').ids
    missing = [
        f'{m}.{n}' for m in module_chapters() for n in importlib.import_module(m).__all__ if f'{m}.{n}' not in ids
    ]
    assert not missing, f'not in api.html: {missing}'
    lib = course_dir() / 'ssbn_course'
    modules = {
        '.'.join(('ssbn_course', *p.relative_to(lib).with_suffix('').parts))
        for p in lib.rglob('[a-z]*.py')
        if p.name != '__init__.py'
    }
    assert set(module_chapters()) == modules, f'modules without a chapter page: {modules - set(module_chapters())}'
    card = text[text.index('id="ssbn_course.resolution.PAPER_RATIOS"') :].split('</dl>')[
        0
    ]  # a DataFrame constant: its rows, one a line
    assert re.search(r'<pre>.*\nNodule +0\.689 +0\.854 +80\.7\nMass +0\.767', card, re.S), card[:1500]


def sidebar(path) -> list:
    "The pages the book theme's sidebar links to, in order (the page itself is '#')."
    text = Path(path).read_text()
    nav = text[text.index('bd-docs-nav') :]
    return [h for h in re.findall(r'href="([^"]+)"', nav[: nav.index('</nav>')]) if not h.startswith(('http', '#'))]


def test_pages_navigation_badges_and_hidden_cells(site):
    from conftest import PLOTLY_CHAPTER

    pages = site_pages()
    assert sidebar(site / 'api.html') == [p.stem + '.html' for p in pages], sidebar(site / 'api.html')
    assert sidebar(site / 'index.html') == [p.stem + '.html' for p in pages[1:]] + ['api.html']
    for p in pages:
        text = (site / f'{p.stem}.html').read_text()
        colab = f'colab.research.google.com/github/ssbn-course/ssbn-course/blob/main/nbs/{p.name}'
        assert (colab in text) != p.name.startswith('9'), (
            f'{p.name}: a Colab link on a tooling page, or none on a chapter'
        )
        assert not re.search(r'class="c1">#\|', text), f'{p.name}: a code cell shows an nbdev directive'
        assert 'class="c1"># Colab only' not in text, f'{p.name}: a `#| hide` cell (the Colab install) is shown'
        assert 'cdn.' not in text and 'unpkg.com' not in text, f'{p.name} loads something from a CDN'
    phantoms = (site / f'{PLOTLY_CHAPTER}.html').read_text()
    assert (
        'Outputs from a run with papermill' in phantoms
        and 'Plotly.newPlot' in phantoms
        and '_static/plotly.min.js' in phantoms
    )
    assert re.search(
        r'<dt class="sig sig-object py">.{0,400}?sample_spec', phantoms, re.S
    )  # the API card under the exported code
    assert '_static/plotly.min.js' not in (site / 'api.html').read_text()  # only pages with figures load it
    assert (site / '_static/plotly.min.js').stat().st_size > 1e6
    warnings = (site / 'sphinx-warnings.txt').read_text()
    assert 'WARNING' not in warnings and 'ERROR' not in warnings, (
        'Sphinx warned (a broken reference or docstring):\n' + warnings[:3000]
    )


def test_docs_errors_are_clear(tmp_path, capsys):
    assert main(['docs', '--out', str(tmp_path / 's'), '--from', str(tmp_path / 'no-such-run')]) == 2
    assert 'No run folder' in capsys.readouterr().err


def test_docs_without_outputs_builds_in_seconds(tmp_path):
    assert main(['docs', '--out', str(tmp_path / 's'), '--no-execute', '--only', '01_phantoms']) == 0
    import inspect
    from ssbn_course.loaders import load_chexpert

    assert (
        inspect.signature(load_chexpert).parameters['policy'].default == 'ignore'
    )  # Sphinx left the library's defaults
    text = (tmp_path / 's/01_phantoms.html').read_text()
    assert 'as stored, without outputs' in text
    assert '<math' in text and '$400/n$' not in text  # the chapter's formulas as MathML
    sphinx_own = {'genindex.html', 'search.html', 'py-modindex.html'}
    assert sorted({p.name for p in (tmp_path / 's').glob('*.html')} - sphinx_own) == [
        '01_phantoms.html',
        'api.html',
        'index.html',
    ]


def test_readme_is_generated_from_the_front_page():
    r = subprocess.run([EXE, 'readme', '--check'], capture_output=True, text=True)
    assert r.returncode == 0, (
        r.stdout + ' (README.md is written from nbs/index.ipynb: edit the notebook, then run `ssbn-course readme`)'
    )


def test_chapters_have_a_colab_badge_and_the_generated_install_cell_and_tooling_chapters_have_neither():
    from ssbn_course.course.colab import colab_cell, is_colab_cell

    for p in site_pages():
        cells = nbformat.read(p, as_version=4).cells
        badge = f'https://colab.research.google.com/github/ssbn-course/ssbn-course/blob/main/nbs/{p.name}'
        has_badge = any(c.cell_type == 'markdown' and badge in c.source for c in cells[:3])
        installs = [c.source for c in cells if is_colab_cell(c)]
        if p.name.startswith('9'):
            assert not has_badge and not installs, (
                f'{p.name}: a tooling chapter runs in a local clone; it has no Colab badge or install cell'
            )
            assert any(c.cell_type == 'markdown' and 'Runs in a local clone' in c.source for c in cells[:3]), (
                f'{p.name}: say at the top that it runs in a local clone'
            )
            continue
        assert has_badge, f'{p.name}: no Colab badge pointing at itself'
        assert installs == [colab_cell()], (
            f'{p.name}: the install cell differs from colab_cell() (run write_colab_cells, chapter 95)'
        )
    assert "'torch" not in colab_cell() and 'setup_colab()' in colab_cell()


def test_docs_executes_the_notebooks_first_by_default(tmp_path):
    assert main(['docs', '--out', str(tmp_path / 's'), '--only', '00_core']) == 0
    assert (tmp_path / 's_run/00_core/00_core.ipynb').exists()  # executed beside the site
    assert 'Outputs from a run with papermill' in (tmp_path / 's/00_core.html').read_text()


LINK = re.compile(r'\]\(([^)\s]+)\)')
REPO_FILE = re.compile(
    r'https://(?:github\.com|colab\.research\.google\.com/github)/ssbn-course/ssbn-course/blob/main/([^#?]+)'
)


def test_every_link_in_the_notebooks_and_readmes_resolves():
    "Relative links name files that exist; links to this repository on GitHub or Colab name files it has."
    root, bad = course_dir(), []
    docs = [
        (p, '\n'.join(c.source for c in nbformat.read(p, as_version=4).cells if c.cell_type == 'markdown'))
        for p in sorted((root / 'nbs').glob('*.ipynb'))
    ]
    docs += [
        (p, p.read_text())
        for p in [root / 'README.md', *sorted(root.glob('*/README.md')), *sorted((root / 'docs').glob('*.md'))]
    ]
    for p, text in docs:
        for url in LINK.findall(text):
            if m := REPO_FILE.match(url):
                if not (root / m.group(1)).exists():
                    bad.append(f'{p.relative_to(root)}: {url}')
            elif (
                not url.startswith(('http://', 'https://', 'mailto:', '#'))
                and not (p.parent / url.split('#')[0]).exists()
            ):
                bad.append(f'{p.relative_to(root)}: {url}')
    assert not bad, 'links that lead nowhere:\n' + '\n'.join(bad)


class _Refs(HTMLParser):
    "Every href and src of a page's tags (not text that looks like one inside code)."

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        self.urls += [v for k, v in attrs if k in ('href', 'src') and v]


def test_every_link_of_the_site_resolves(site):
    bad = []
    for page in sorted(site.glob('*.html')):
        refs = _Refs()
        refs.feed(page.read_text())
        for url in refs.urls:
            if url.startswith(('http://', 'https://', 'mailto:', '#', 'data:', 'javascript:')):
                continue
            if not (site / url.split('#')[0].split('?')[0]).exists():
                bad.append(f'{page.name}: {url}')
    assert not bad, 'site links that lead nowhere:\n' + '\n'.join(sorted(set(bad))[:40])


def test_the_student_site_gives_no_answers_away(course_run, tmp_path):
    from ssbn_course.course.exercises import TEMPLATE, exercises

    out = tmp_path / 'student-site'
    r = subprocess.run(
        [EXE, 'docs', '--out', str(out), '--from', str(course_run), '--student', '--only', '06_experiments'],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    nb = course_dir() / 'nbs/06_experiments.ipynb'
    cells = nbformat.read(nb, as_version=4).cells
    page = (out / '06_experiments.html').read_text()
    for title, sol, _ in exercises(nb):
        answer = [
            l
            for l in cells[sol].source.split('### BEGIN SOLUTION')[1].split('### END SOLUTION')[0].splitlines()
            if l.strip()
        ]
        assert not any(html.escape(l.strip()) in page for l in answer if len(l.strip()) > 25), (
            f'{title}: the student page shows the solution'
        )
    assert (
        TEMPLATE in page
        and not re.search(r'<pre>(?:<span></span>)?[^<]*✓', page)
        and 'colab.research.google.com/github' not in page
    )  # no self-check output either
    student = nbformat.read(out / 'notebooks/06_experiments.ipynb', as_version=4)
    assert (
        'BEGIN SOLUTION' not in ''.join(c.source for c in student.cells)
        and 'href="notebooks/06_experiments.ipynb"' in page
    )


def test_the_readmes_study_numbers_are_the_recorded_study_runs():
    "The front page's study tables carry the numbers of the recorded study run (docs/measured/study/), not typed ones."
    import json
    import pandas as pd

    root = course_dir()
    folder = root / 'docs/measured/study'
    assert (folder / 'measured.json').is_file(), (
        'no study run is recorded: `ssbn-course run --profile study`, then `ssbn-course readme --measured <its run folder>`'
    )
    m = json.loads((folder / 'measured.json').read_text())
    readme = (root / 'README.md').read_text()
    assert m['profile'] == 'study' and f'commit {m["machine"]["commit"]}' in readme
    r6 = next(c['results'] for c in m['chapters'] if c['notebook'].startswith('06_'))
    assert r6['table'] and any(k.startswith('headline ') for k in r6)
    for name, t in r6['table'].items():
        assert f'| {name} | {100 * t["mean_auc"]:.2f}' in readme, name
    for k, v in r6.items():
        if k.startswith('headline '):
            assert f'| {v["diff"]:+.4f} | {v["ci_low"]:+.4f} to {v["ci_high"]:+.4f} |' in readme, k
    for s in r6['claims']:
        assert s in readme
    sweep = pd.read_csv(folder / 'sweep_aucs.csv').pivot_table(index='finding', columns='size', values='auc')
    for f, row in sweep.iterrows():
        assert f'| {f} | ' + ' | '.join(f'{v:.3f}' for v in row) + ' |' in readme, f
