"""The test command's own reporting: skipped counts with their reasons, and lint's baseline comparison.

scripts/junit_summary.py is run on a real pytest report (a throwaway suite run here); scripts/lint.py's
baseline logic is checked on findings, and, when the linters' virtualenv exists (scripts/lint builds it),
end to end on a copy of the addon given one new finding per linter.
"""
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'scripts'))

import junit_summary  # noqa: E402
import lint  # noqa: E402

LINT_PY = os.path.join(os.environ.get('QBO_LINT_VENV') or os.path.join(ROOT, '.build', 'lint-venv'), 'bin', 'python')


def test_junit_summary_counts_and_names_why_tests_were_skipped(tmp_path):
    (tmp_path / 'test_group.py').write_text(
        "import pytest\n"
        "def test_ok():\n    pass\n"
        "def test_bad():\n    assert False\n"
        "@pytest.mark.parametrize('n', range(3))\n"
        "def test_needs_samples(n):\n    pytest.skip('sample folder /nowhere is absent')\n"
        "def test_other_skip():\n    pytest.skip('no PostgreSQL')\n")
    report = tmp_path / 'report.xml'
    subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', f'--junitxml={report}',
                    str(tmp_path / 'test_group.py')], cwd=tmp_path, capture_output=True)
    passed, failed, skipped, reasons = junit_summary.summarize(report)
    assert (passed, failed, skipped) == (1, 1, 4)
    assert reasons == {('test_group.py', 'sample folder /nowhere is absent'): 3, ('test_group.py', 'no PostgreSQL'): 1}


def test_junit_summary_counts_a_missing_report_as_a_failure(tmp_path):
    assert junit_summary.summarize(tmp_path / 'absent.xml')[:3] == (0, 1, 0)


def _finding(path='models/a.py', code='E501', line=1):
    return lint.Finding('ruff', path, code, line, 'message')


def test_lint_fails_only_on_findings_beyond_the_baseline(tmp_path):
    path = tmp_path / 'baseline.txt'
    lint.write_baseline([_finding(line=1), _finding(line=9), _finding(code='I001')], path)
    baseline = lint.read_baseline(path)
    assert baseline == {('ruff', 'models/a.py', 'E501'): 2, ('ruff', 'models/a.py', 'I001'): 1}
    # The same findings, moved by edits above them: nothing new.
    assert lint.new_findings('ruff', [_finding(line=3), _finding(line=12), _finding(code='I001', line=2)],
                             baseline) == ([], [])
    # One more of a known kind in the same file, and one in another file: both keys are reported.
    new, _ = lint.new_findings('ruff', [_finding(line=1), _finding(line=2), _finding(line=3),
                                        _finding(code='I001'), _finding(path='models/b.py')], baseline)
    assert {(f.path, f.code) for f in new} == {('models/a.py', 'E501'), ('models/b.py', 'E501')}
    # A fixed finding is a note (shrink the baseline), not a failure; other checks' keys are not its business.
    assert lint.new_findings('ruff', [_finding(code='I001')], baseline) == ([], [('ruff', 'models/a.py', 'E501')])
    assert lint.new_findings('pylint-odoo', [], baseline) == ([], [])


@pytest.mark.skipif(not os.path.exists(LINT_PY), reason="no linters' virtualenv (scripts/lint builds it)")
def test_lint_catches_a_new_finding_of_each_linter(tmp_path):
    copy = tmp_path / 'addon'
    files = subprocess.run(['git', 'ls-files', '-z'], cwd=ROOT, capture_output=True, check=True).stdout.decode()
    for path in filter(None, files.split('\0')):
        if os.path.isfile(os.path.join(ROOT, path)):
            os.makedirs(copy / os.path.dirname(path), exist_ok=True)
            shutil.copy2(os.path.join(ROOT, path), copy / path)
    subprocess.run(['git', 'init', '-q'], cwd=copy, check=True)
    clean = subprocess.run([LINT_PY, 'scripts/lint.py'], cwd=copy, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stdout
    # ruff and pylint-odoo: an unused import and a field whose string repeats its name; OCA's module checks: a
    # view file with a duplicated record id; OCA's translation checks: a catalogue entry whose placeholders differ.
    (copy / 'models' / 'zz_probe.py').write_text(
        "import os\n\nfrom odoo import fields, models\n\n\nclass Probe(models.Model):\n"
        "    _name = 'qbo.probe'\n    _description = 'Probe'\n\n    name = fields.Char(string='Name')\n")
    (copy / 'models' / '__init__.py').write_text((copy / 'models' / '__init__.py').read_text()
                                                 + 'from . import zz_probe\n')
    view = copy / 'views' / 'qbo_payment_views.xml'
    text = view.read_text()
    start = text.index('<record ')
    record = text[start:text.index('</record>', start) + len('</record>')]
    view.write_text(text.replace(record, record + '\n    ' + record, 1))
    with open(copy / 'i18n' / 'fr.po', 'a', encoding='utf-8') as po:
        po.write('\n#. module: quickbooks_online\n#. odoo-python\n#: code:addons/quickbooks_online/models/zz.py:0\n'
                 '#, python-format\nmsgid "Sent %s of %s"\nmsgstr "%s envoyés"\n')
    dirty = subprocess.run([LINT_PY, 'scripts/lint.py'], cwd=copy, capture_output=True, text=True)
    assert dirty.returncode == 1
    for expected in ('ruff: NEW models/zz_probe.py:1: F401', 'pylint-odoo: NEW models/zz_probe.py:10: '
                     'attribute-string-redundant', 'oca-module: NEW views/qbo_payment_views.xml',
                     'xml-duplicate-record-id', 'oca-po: NEW i18n/fr.po'):
        assert expected in dirty.stdout, dirty.stdout
    assert dirty.stdout.splitlines()[-1] == 'lint-counts: 0 4 %d' % sum(lint.read_baseline().values())
