"""The built site and JupyterLab, checked in a real browser: Debian's Chromium (`apt-get install chromium chromium-driver`)
driven by Playwright, which is told to use it rather than download one. Without Chromium these tests are skipped, saying
so; with `SSBN_BROWSER_TESTS=required` (as `.ci/run` sets) they fail instead. Screenshots go to `test-artifacts/`
(or `$SSBN_TEST_ARTIFACTS`)."""

import functools
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
import nbformat
import pytest
from ssbn_course.course.runner import course_dir
from ssbn_course.course.apidoc import site_pages
from conftest import PLOTLY_CHAPTER

# `pytest -n N --dist loadgroup` (command 2): the chapters run in course order into one session's folder, and the site is
# built from it, so these three files share one worker.
pytestmark = pytest.mark.xdist_group('course')

CHROMIUM = Path(os.environ.get('SSBN_CHROMIUM', '/usr/bin/chromium'))
REQUIRED = os.environ.get('SSBN_BROWSER_TESTS') == 'required'
ARTIFACTS = Path(os.environ.get('SSBN_TEST_ARTIFACTS', course_dir() / 'test-artifacts'))
# As root, with no network: no sandbox, and none of Chromium's background connections (refused here, and noisy).
FLAGS = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
]
WIDGET_ERRORS = ('Error displaying widget', 'Model not found', 'model not found')


def _unavailable(why):
    if REQUIRED:
        pytest.fail(f'{why} (SSBN_BROWSER_TESTS=required)')
    pytest.skip(why)


@pytest.fixture(scope='module')
def browser():
    if not CHROMIUM.exists():
        _unavailable(f'no Chromium at {CHROMIUM}: apt-get install chromium chromium-driver')
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable('Playwright is not installed: pip install -e ".[dev]"')
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        yield b
        b.close()


def watch(page) -> list:
    "Collect the page's console errors and uncaught exceptions."
    errors = []
    page.on('console', lambda m: errors.append(f'console: {m.text}') if m.type == 'error' else None)
    page.on('pageerror', lambda e: errors.append(f'exception: {e}'))
    return errors


@contextmanager
def serve(folder):
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f'http://127.0.0.1:{srv.server_address[1]}'
    finally:
        srv.shutdown()
        srv.server_close()


def test_site_pages_render_figures_and_search(site, browser):
    page = browser.new_page(viewport={'width': 1280, 'height': 900})
    errors = watch(page)
    with serve(site) as url:
        page.goto(f'{url}/index.html', wait_until='load')
        assert page.title().startswith('ssbn-course')
        assert (
            page.locator('nav.bd-docs-nav a.reference.internal').count() == len(site_pages()) + 1
        )  # every notebook + the API reference
        badge = page.locator('img[alt="Open in Colab"]')
        assert badge.evaluate('img => img.complete && img.naturalWidth > 0'), 'the Colab badge image did not load'
        page.screenshot(path=str(ARTIFACTS / 'site-index.png'))

        page.goto(f'{url}/{PLOTLY_CHAPTER}.html', wait_until='load')
        page.wait_for_selector('.plotly-graph-div .main-svg', timeout=30_000)
        n = page.locator('.plotly-graph-div').count()
        page.wait_for_function(
            "document.querySelectorAll('.plotly-graph-div:not(.js-plotly-plot)').length === 0", timeout=30_000
        )
        assert n >= 2 and page.locator('.plotly-graph-div .main-svg').count() >= n, f'{n} figures, not all drawn'
        page.locator('.plotly-graph-div').first.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f'site-{PLOTLY_CHAPTER}.png'))

        page.keyboard.press('Control+k')  # the theme's search dialog, as a reader opens it
        page.keyboard.type('DeLong')
        page.keyboard.press('Enter')
        page.wait_for_selector('#search-results a', timeout=20_000)
        hrefs = page.locator('#search-results a').evaluate_all('links => links.map(a => a.getAttribute("href"))')
        assert any(h.startswith('04a_stats.html') for h in hrefs), hrefs
        page.screenshot(path=str(ARTIFACTS / 'site-search.png'))
        page.locator('#search-results a[href^="04a_stats.html"]').first.click()
        page.wait_for_load_state('load')
        assert '04a_stats.html' in page.url
    page.close()
    assert not errors, 'the browser reported errors:\n' + '\n'.join(errors)


READER_CHECKS = r"""() => {
  const main = document.querySelector('article.bd-article'), out = [];
  for (const o of main.querySelectorAll('.cell_output')) if (/(^|\s)0%\|/.test(o.innerText)) out.push('a progress bar shows 0%');
  for (const e of main.querySelectorAll('pre'))
    if (e.scrollWidth > e.clientWidth + 1 && !['auto', 'scroll'].includes(getComputedStyle(e).overflowX)) out.push('code cut off: ' + e.innerText.slice(0, 60));
  for (const gd of main.querySelectorAll('.js-plotly-plot')) {
    const L = gd._fullLayout || {}, title = (L.title && L.title.text) || gd.id;
    for (const k of Object.keys(L).filter(k => /^[xy]axis\d*$/.test(k)))
      if (L[k].visible && !(L[k].title && L[k].title.text)) out.push(`figure "${title}": ${k} has no title`);
  }
  for (const e of main.querySelectorAll('.output.stderr'))
    if (/Warning/.test(e.innerText)) out.push('a warning box: ' + e.innerText.slice(0, 120));
  const all = [...main.querySelectorAll('.widget-note, .plotly-graph-div, img, h2')];
  all.forEach((e, i) => {
    if (!e.classList.contains('widget-note') || !/An interactive widget/.test(e.innerText)) return;
    const next = all.slice(i + 1).find(x => x.tagName === 'H2' || x.classList.contains('plotly-graph-div') || x.tagName === 'IMG');
    if (!next || next.tagName === 'H2') out.push('a widget without a static stand-in');
  });
  return out;
}"""


def test_every_page_reads_as_a_finished_page(site, browser):
    "Each page as a reader meets it: no progress bar stuck at 0 %, no code cut off, every widget drawn as the run left it or followed by a figure of its first view, every plotly axis titled, no warning box. A screenshot of each page is kept."
    page = browser.new_page(viewport={'width': 1280, 'height': 900})
    problems = []
    with serve(site) as url:
        for p in site_pages():
            page.goto(f'{url}/{p.stem}.html', wait_until='load')
            page.wait_for_function(
                "document.querySelectorAll('.plotly-graph-div:not(.js-plotly-plot)').length === 0", timeout=60_000
            )
            problems += [f'{p.stem}: {x}' for x in page.evaluate(READER_CHECKS)]
            page.screenshot(path=str(ARTIFACTS / f'page-{p.stem}.png'), full_page=True)
    page.close()
    assert not problems, f'{len(problems)} problem(s) a reader would meet:\n' + '\n'.join(problems)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@contextmanager
def jupyter_lab(root: Path, home: Path):
    "A headless `jupyter lab` on localhost with a temporary token, user config and settings; yields its base URL and token."
    port, token = _free_port(), secrets.token_hex(16)
    settings = home / 'lab-settings/@jupyterlab/notebook-extension'
    settings.mkdir(parents=True)
    (settings / 'tracker.jupyterlab-settings').write_text(
        json.dumps({'windowingMode': 'none'})
    )  # every cell in the DOM
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(home / 'config'),
        JUPYTER_DATA_DIR=str(home / 'data'),
        JUPYTER_RUNTIME_DIR=str(home / 'runtime'),
        JUPYTERLAB_SETTINGS_DIR=str(home / 'lab-settings'),
        JUPYTERLAB_WORKSPACES_DIR=str(home / 'workspaces'),
        PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ['PATH'],
    )
    log = open(home / 'jupyter-lab.log', 'w')
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / 'jupyter'),
            'lab',
            '--no-browser',
            '--ip=127.0.0.1',
            f'--port={port}',
            f'--IdentityProvider.token={token}',
            f'--ServerApp.root_dir={root}',
            '--LabApp.news_url=None',
            '--LabApp.extension_manager=readonly',
        ]
        + (['--allow-root'] if os.geteuid() == 0 else []),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f'http://127.0.0.1:{port}'
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f'{url}/api/status?token={token}', timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.5)
        else:
            pytest.fail('jupyter lab did not start in 60 s:\n' + (home / 'jupyter-lab.log').read_text()[-3000:])
        assert proc.poll() is None, 'jupyter lab exited:\n' + (home / 'jupyter-lab.log').read_text()[-3000:]
        yield url, token
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


PROMPTS = (
    "[...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt')].map(p => p.textContent.trim())"
)


def _run_all(page, timeout: float = 420):
    "Wait for the kernel, then Run > Run All Cells (again if the click did not start anything) until every cell has run."
    page.wait_for_function(
        "[...document.querySelectorAll('.jp-StatusBar-TextItem')].some(e => /\\bIdle\\b/.test(e.textContent))",
        timeout=120_000,
    )
    for _ in range(3):
        page.get_by_role('menuitem', name='Run', exact=True).click()
        page.get_by_text('Run All Cells', exact=True).click()
        try:
            page.wait_for_function(f"{PROMPTS}.some(p => p !== '[ ]:')", timeout=30_000)
            break
        except Exception:
            page.keyboard.press('Escape')
    else:
        pytest.fail('Run All Cells did not start any cell (3 tries)')
    deadline, state = time.time() + timeout, []
    while time.time() < deadline:
        state = page.evaluate(PROMPTS)
        errors = page.locator('.jp-RenderedText[data-mime-type="application/vnd.jupyter.error"]')
        if errors.count():
            pytest.fail('a cell raised in JupyterLab:\n' + errors.first.inner_text()[:2000])
        if state and all(p.startswith('[') and p[1:-2].isdigit() for p in state):
            return
        time.sleep(2)
    pytest.fail(f'Run All did not finish in {timeout:.0f} s; prompts: {state}')


def test_chapter_runs_in_jupyterlab_with_its_widget_and_figures(browser, tmp_path):
    "A student's session: open the phantoms chapter in JupyterLab, Run All, then move the size slider."
    root = tmp_path / 'work'
    root.mkdir()
    nb = nbformat.read(course_dir() / f'nbs/{PLOTLY_CHAPTER}.ipynb', as_version=4)
    i = next(i for i, c in enumerate(nb.cells) if 'parameters' in c.metadata.get('tags', []))
    nb.cells.insert(
        i + 1,
        nbformat.v4.new_code_cell('n_patients, image_size = 6, 128   # a smaller demo dataset: same cells, less time'),
    )
    nbformat.write(nb, root / f'{PLOTLY_CHAPTER}.ipynb')
    with jupyter_lab(root, tmp_path / 'home') as (url, token):
        page = browser.new_page(viewport={'width': 1400, 'height': 1000})
        page.goto(f'{url}/lab/tree/{PLOTLY_CHAPTER}.ipynb?token={token}', wait_until='load')
        page.wait_for_selector('.jp-NotebookPanel .jp-Notebook .jp-Cell', timeout=60_000)
        try:
            _run_all(page)
        except BaseException:
            page.screenshot(path=str(ARTIFACTS / f'jupyterlab-{PLOTLY_CHAPTER}-failed.png'))
            raise

        body = page.locator('body').inner_text()
        assert not any(e in body for e in WIDGET_ERRORS), (
            'a widget did not render (is the widgets extension missing or mismatched?)'
        )
        assert page.locator('.jp-RenderedPlotly .main-svg').count() >= 2, (
            'plotly figures did not render (is the jupyterlab-plotly extension there?)'
        )
        slider = page.locator(
            '.jp-OutputArea-output .widget-hslider, .jp-OutputArea-output .jupyter-widget-hslider'
        ).first
        slider.wait_for(timeout=30_000)
        readout = page.locator('.jp-OutputArea-output .widget-readout').first
        image = page.locator('.jp-OutputArea-output .widget-image').first
        assert readout.inner_text().strip() == '512' and image.evaluate('img => img.naturalWidth > 0')
        before = image.get_attribute('src')
        slider.scroll_into_view_if_needed()
        page.locator('.jp-OutputArea-output .noUi-handle').first.focus()
        page.keyboard.press('ArrowLeft')  # 512 -> 256: the kernel redraws the crops
        page.wait_for_function("el => el.textContent.trim() === '256'", arg=readout.element_handle(), timeout=15_000)
        page.wait_for_function(
            "([img, old]) => img.getAttribute('src') !== old", arg=[image.element_handle(), before], timeout=30_000
        )
        page.screenshot(path=str(ARTIFACTS / f'jupyterlab-{PLOTLY_CHAPTER}.png'))
        page.close()
