"""The house's rules, checked on the exported library: imports run one way (a module never imports one exported from a
later chapter, so chapters 1-2 cannot reach chapter 4 and the course tooling sits above the science; the notebooks of
one chapter, such as 05_train and its parts 05a-05e, may import each other, never in a circle), there is no
import cycle, no private name crosses a module boundary, and results are never recovered by parsing names."""

import ast
import json
import re
from pathlib import Path
import pytest
from ssbn_course.course.runner import course_dir

ROOT = course_dir()
LIB = ROOT / 'ssbn_course'
MODULES = {
    '.'.join(('ssbn_course', *p.relative_to(LIB).with_suffix('').parts)): p
    for p in sorted(LIB.rglob('[a-z]*.py'))
    if p.name != '__init__.py'
}


def notebook_of(path: Path) -> str:
    "The notebook a module is exported from, as nbdev's header names it."
    m = re.search(r'File to edit: \S*?nbs/(\S+\.ipynb)', path.read_text())
    assert m, f'{path} has no nbdev header: edit the notebook, not the module'
    return m.group(1)


def imports(module: str) -> list:
    "(imported module, [names]) for every import of the library inside `module`, at any depth (function-level imports too)."
    tree, pkg, out = ast.parse(MODULES[module].read_text()), module.rsplit('.', 1)[0], []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                base = '.'.join(pkg.split('.')[: len(pkg.split('.')) - node.level + 1] + ([base] if base else []))
            if base.startswith('ssbn_course'):
                names = [a.name for a in node.names]
                subs = [
                    f'{base}.{n}' for n in names if f'{base}.{n}' in MODULES
                ]  # `from ssbn_course.course import cli`
                out += [(s, []) for s in subs] or [(base, names)]
        elif isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names if a.name.startswith('ssbn_course')]
    return [(m, n) for m, n in out if m != module and m in MODULES]


GRAPH = {m: sorted({i for i, _ in imports(m)}) for m in MODULES}


def chapter(notebook: str) -> int:
    "A notebook's chapter: the number its name starts with (05 for 05_train and 05c_config)."
    return int(re.match(r'\d+', notebook).group())


def test_every_module_comes_from_a_notebook_and_imports_only_earlier_ones():
    order = {m: notebook_of(p) for m, p in MODULES.items()}
    late = [
        f'{m} ({order[m]}) imports {i} ({order[i]})'
        for m, deps in GRAPH.items()
        for i in deps
        if chapter(order[i]) > chapter(order[m])
    ]
    assert not late, 'imports that reach forward to a later chapter:\n' + '\n'.join(late)
    science = [m for m in MODULES if not m.startswith('ssbn_course.course')]
    up = [f'{m} imports {i}' for m in science for i in GRAPH[m] if i.startswith('ssbn_course.course')]
    assert not up, 'science modules must not import the course tooling:\n' + '\n'.join(up)


def test_the_import_graph_has_no_cycle():
    state, path = {}, []

    def visit(m):
        state[m] = 'open'
        path.append(m)
        for d in GRAPH[m]:
            if state.get(d) == 'open':
                pytest.fail('import cycle: ' + ' -> '.join(path[path.index(d) :] + [d]))
            if d not in state:
                visit(d)
        state[m] = 'done'
        path.pop()

    for m in GRAPH:
        if m not in state:
            visit(m)


def test_no_private_name_crosses_a_module_boundary():
    crossing = [
        f'{m} imports {n} from {i}' for m in MODULES for i, names in imports(m) for n in names if n.startswith('_')
    ]
    assert not crossing, '\n'.join(crossing)


def _code_lines():
    for p in sorted(LIB.rglob('*.py')):
        yield from ((f'{p.relative_to(ROOT)}:{k}', l) for k, l in enumerate(p.read_text().splitlines(), 1))
    for p in sorted((ROOT / 'nbs').glob('*.ipynb')):
        for i, c in enumerate(json.loads(p.read_text())['cells']):
            if c['cell_type'] == 'code':
                yield from ((f'{p.relative_to(ROOT)} cell {i}', l) for l in ''.join(c['source']).splitlines())


def test_results_are_read_from_columns_not_parsed_from_names():
    bad = re.compile(
        r"""startswith\(\s*['"](SSBN|single)|\bint\([^)\n]*\.(name|stem)\b|\.(name|stem)\.split\(|\.name\[\d*:"""
    )
    found = [f'{where}: {line.strip()}' for where, line in _code_lines() if bad.search(line)]
    assert not found, 'model kinds and sizes come from the results store, not from names:\n' + '\n'.join(found)


DISPLAY_NAME_LOOKUP = re.compile(
    r"""(==|!=|\bin)\s*['"](SSBN|ensemble|single( \d+)?)['"]"""  # name == 'SSBN', 'ensemble' in ...
    r"""|(?<=[\w)\]])\[\s*['"](SSBN|ensemble|single \d+)['"]"""  # P.scores['SSBN', ...], gf['ensemble']
    r"""|['"](SSBN|ensemble)['"]\s*(not\s+)?in\b"""  # 'ensemble' in cards.index
    r"""|run_model\([^)]*['"]SSBN"""
)


def test_no_run_is_looked_up_by_its_display_name():
    "Runs are chosen by their cards' fields (`store.scores(table, kind=SSBN)`); a label such as 'SSBN' or 'single 64' is made for tables, never looked up."
    found = [f'{where}: {line.strip()}' for where, line in _code_lines() if DISPLAY_NAME_LOOKUP.search(line)]
    assert not found, (
        'select runs by kind, variant, sizes, output, size, seed (chapter 5a), not by the label a table shows:\n'
        + '\n'.join(found)
    )


VERDICT_PARSE = re.compile(
    r"""\b(verdict|against|reference|status|name)\w*['"\]]*(\.str)?\.(startswith|contains|match)\("""
)


def test_verdicts_are_categories_not_text_to_parse():
    "A verdict (or a comparison's reference) is a column of categories compared with ==, never prefix-matched text."
    found = [f'{where}: {line.strip()}' for where, line in _code_lines() if VERDICT_PARSE.search(line)]
    assert not found, 'compare a categorical column with ==, not its text:\n' + '\n'.join(found)


def test_one_owner_for_runs_auc_and_resampling():
    "Only the run store scans for run cards; only the statistics module ranks scores or draws bootstrap resamples."
    owner = {
        r"rglob\(\s*['\"]run\.json": 'ssbn_course/store.py',
        r'\brankdata\(|roc_auc_score|np\.bincount\(d\b': 'ssbn_course/stats.py',
    }
    for pattern, home in owner.items():
        found = [p.relative_to(ROOT).as_posix() for p in sorted(LIB.rglob('*.py')) if re.search(pattern, p.read_text())]
        assert found == [home], f'{pattern} is found in {found}; only {home} may hold it'


def test_the_checks_above_can_fail():
    "The graph walker sees relative, absolute and function-level imports: it finds the edges the library really has."
    assert 'ssbn_course.core' in GRAPH['ssbn_course.data']  # `from .core import ...` (relative)
    assert 'ssbn_course.core' in GRAPH['ssbn_course.experiments']  # imported inside a function (study_sentence)
    assert {'ssbn_course.course.batch', 'ssbn_course.course.site', 'ssbn_course.course.readme'} <= set(
        GRAPH['ssbn_course.course.cli']
    )
    assert notebook_of(MODULES['ssbn_course.models']) == '04_models.ipynb'
    for line in [
        "x = P.scores['SSBN', 0]",
        "if name == 'ensemble':",
        "singles = [n for n in c if 'ensemble' in c]",
        "run_model(exp, 'SSBN', 0)",
    ]:
        assert DISPLAY_NAME_LOOKUP.search(line), line
    assert not DISPLAY_NAME_LOOKUP.search(
        "PAPER_TABLE = pd.DataFrame({'model': ['single 224', 'SSBN']})"
    )  # labels as data: no lookup
    for line in ['scores(store, kind=SSBN)', "label = run_name(SSBN, 'mean', '32/64')", "print('SSBN at all sizes')"]:
        assert not DISPLAY_NAME_LOOKUP.search(line), line
    for line in [
        "t.verdict.str.startswith('no')",
        "bs.loc['faint', 'verdict'].startswith('undetermined')",
        "c.against.str.startswith('x')",
    ]:
        assert VERDICT_PARSE.search(line), line
    assert not VERDICT_PARSE.search("t[t.verdict == 'not scorable']")
