"""The linters of the test command: ruff, pylint-odoo and OCA's module and translation checks.

Each finding is keyed by (check, file, code) and compared with scripts/lint-baseline.txt, the findings the code
base had when lint entered the test command: a key with more findings than its baseline count fails. So the
step passes on today's code and fails on any new warning, without a mass edit of files being changed elsewhere.
A key with fewer findings than its baseline only gets a note: shrink the baseline with --update-baseline.
Line numbers are not part of the key, so edits above an old finding do not turn it into a new one.

Run through scripts/lint (which prepares the linters' virtualenv); prints the new findings and, last,
"lint-counts: <passed> <failed> <baselined>" with one check passed or failed per linter.
Usage: scripts/lint [--update-baseline]
"""
import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASELINE = os.path.join(ROOT, 'scripts', 'lint-baseline.txt')
ADDON = 'quickbooks_online'
# Plain Python where Odoo's checks do not apply (printing CLIs, the HTTP client, the emulator's own
# distribution): ruff checks them, pylint-odoo does not.
NOT_ODOO = ('emulator/', 'tests_standalone/', 'scripts/', 'tools/')
PYLINT_ARGS = [
    '--load-plugins=pylint_odoo', '--score=n', '--output-format=json2',
    '--valid-odoo-versions=18.0,19.0',
    # pylint-odoo's own checks only (odoolint); plain pylint style is ruff's job.
    '--disable=all', '--enable=odoolint',
    # Checks that do not fit this addon:
    #  manifest-required-author / manifest-maintainers-list: OCA-only conventions;
    #  manifest-version-format: the manifest's version is deliberately series-free (1.0.0) since one code
    #    base serves 18.0 and 19.0: Odoo and build_backend.py prefix the running series;
    #  prefer-env-translation: `_()` stays supported in 18.0 and 19.0; self.env._ is a style migration.
    '--disable=manifest-required-author,manifest-maintainers-list,manifest-version-format,prefer-env-translation',
]
Finding = collections.namedtuple('Finding', 'check path code line message')


def tracked_files():
    """The checkout's files that git would commit (tracked, or new and not ignored)."""
    out = subprocess.run(['git', 'ls-files', '--cached', '--others', '--exclude-standard', '-z'], cwd=ROOT,
                         capture_output=True, check=True).stdout.decode()
    return sorted(path for path in out.split('\0') if path and os.path.isfile(os.path.join(ROOT, path)))


def run_ruff(_files):
    proc = subprocess.run([sys.executable, '-m', 'ruff', 'check', '--force-exclude', '--no-cache',
                           '--output-format', 'json', '.'], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f'ruff failed: {proc.stderr.strip()[-500:]}')
    return [Finding('ruff', os.path.relpath(item['filename'], ROOT), item['code'] or 'syntax-error',
                    item['location']['row'], item['message']) for item in json.loads(proc.stdout)]


def run_pylint(files):
    python = [path for path in files if path.endswith('.py') and not path.startswith(NOT_ODOO)]
    proc = subprocess.run([sys.executable, '-m', 'pylint', *PYLINT_ARGS, *python], cwd=ROOT,
                          capture_output=True, text=True)
    # pylint's exit status is a bit mask of message types; 32 is a usage error.
    if proc.returncode & 32 or not proc.stdout.strip():
        raise RuntimeError(f'pylint failed: {proc.stderr.strip()[-500:]}')
    return [Finding('pylint-odoo', item['path'], item['symbol'], item['line'], item['message'])
            for item in json.loads(proc.stdout)['messages']]


def _addon_copy(files, folder):
    """A copy of the addon's files in `folder`/quickbooks_online: OCA's checks take the module's name from its
    folder (the checkout's may be called anything: a worktree, a CI clone) and resolve the files they find, so a
    symlink would not do."""
    copy = os.path.join(folder, ADDON)
    for path in files:
        target = os.path.join(copy, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, path), target)
    return copy


def _oca_findings(check, errors, base):
    """Findings with paths relative to the addon: OCA's checks give them relative to the repository holding
    `base` (for the copy, to the file system's root)."""
    found = []
    for error in errors:
        path = error.position.filepath
        for prefix in (base + os.sep, base.lstrip(os.sep) + os.sep):
            path = path.removeprefix(prefix)
        found.append(Finding(check, path, error.code, error.position.line,
                             error.message.splitlines()[0] if error.message else ''))
    return found


def run_oca_module(files):
    # OCA's command line looks for a manifest below the repository's root only, never at the root itself (where
    # this addon's manifest is), so the checks are called directly on the manifest of a copy.
    from oca_pre_commit_hooks import utils  # noqa: PLC0415 - in the lint virtualenv only
    from oca_pre_commit_hooks.checks_odoo_module import ChecksOdooModule  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as folder:
        copy = os.path.realpath(_addon_copy(files, folder))
        with utils.chdir(copy):
            checks = ChecksOdooModule(os.path.join(copy, '__manifest__.py'), set(), set(),
                                      verbose=False)
            for check in utils.getattr_checks(checks):
                check()
        return _oca_findings('oca-module', checks.checks_errors, copy)


def run_oca_po(files):
    from oca_pre_commit_hooks import utils  # noqa: PLC0415 - in the lint virtualenv only
    from oca_pre_commit_hooks.checks_odoo_module_po import ChecksOdooModulePO  # noqa: PLC0415

    errors = []
    with utils.chdir(ROOT):
        for path in files:
            if path.startswith('i18n/') and path.endswith(('.po', '.pot')):
                checks = ChecksOdooModulePO(os.path.join(ROOT, path), set(), set(), False)
                checks.run_checks()
                errors += checks.checks_errors
    return _oca_findings('oca-po', errors, ROOT)


CHECKS = (('ruff', run_ruff), ('pylint-odoo', run_pylint), ('oca-module', run_oca_module), ('oca-po', run_oca_po))


def read_baseline(path=BASELINE):
    """{(check, path, code): count} from lines "<check> <path> <code> <count>" ('#' starts a comment)."""
    baseline = {}
    if os.path.exists(path):
        with open(path, encoding='utf-8') as fh:
            for line in fh:
                fields = line.split('#', 1)[0].split()
                if fields:
                    check, file, code, count = fields
                    baseline[(check, file, code)] = int(count)
    return baseline


def write_baseline(findings, path=BASELINE):
    counts = collections.Counter((f.check, f.path, f.code) for f in findings)
    with open(path, 'w', encoding='utf-8') as fh:
        fh.write('# Lint findings accepted when lint entered the test command (scripts/lint.py compares each run with\n'
                 '# it: more findings of a check, file and code than counted here fail). Fix a finding, then run\n'
                 '# `scripts/lint --update-baseline`; never add lines by hand to silence a new one.\n')
        for (check, file, code), count in sorted(counts.items()):
            fh.write(f'{check} {file} {code} {count}\n')


def new_findings(check, findings, baseline):
    """The findings of `check` beyond each key's baseline count (all of a key's findings are shown: which is new
    is unknown without line numbers) and the check's keys now below their baseline."""
    by_key = collections.defaultdict(list)
    for finding in findings:
        by_key[(finding.check, finding.path, finding.code)].append(finding)
    new = [f for key, group in sorted(by_key.items()) if len(group) > baseline.get(key, 0) for f in group]
    fixed = [key for key, count in sorted(baseline.items())
             if key[0] == check and len(by_key.get(key, ())) < count]
    return new, fixed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--update-baseline', action='store_true',
                        help='write the current findings as the baseline (after fixing some)')
    args = parser.parse_args()
    files = tracked_files()
    baseline = read_baseline()
    passed = failed = 0
    everything, broken = [], []
    for name, run in CHECKS:
        try:
            findings = run(files)
        except Exception as exc:  # noqa: BLE001 - a linter that cannot run is a failed check, said why
            print(f'lint: {name} could not run: {exc}')
            failed += 1
            broken.append(name)
            continue
        everything += findings
        new, fixed = new_findings(name, findings, baseline)
        for finding in new:
            print(f'lint: {name}: NEW {finding.path}:{finding.line}: {finding.code} {finding.message}')
        for _check, file, code in fixed:
            print(f'lint: {name}: {file} {code} now below its baseline count: run scripts/lint --update-baseline')
        if new:
            failed += 1
        else:
            passed += 1
    if args.update_baseline and broken:
        print(f'lint: baseline not written: {", ".join(broken)} could not run')
    elif args.update_baseline:
        write_baseline(everything)
        print(f'lint: baseline written to {os.path.relpath(BASELINE, ROOT)} ({len(everything)} findings)')
        baseline = read_baseline()
    print(f'lint-counts: {passed} {failed} {sum(baseline.values())}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
