"""Counts of a pytest JUnit XML report, and why tests were skipped, for scripts/test.

Prints "counts: <passed> <failed> <skipped>", then one "skip: <n>\t<file>\t<reason>" line per test file and
skip reason, so that a whole group skipped for one cause (a missing sample folder, no PostgreSQL) is named
instead of only counted. A missing or unreadable report counts as one failure: the suite did not report.
"""
import collections
import sys
import xml.etree.ElementTree as ET


def summarize(path):
    """Return (passed, failed, skipped, {(file, reason): count}) for the report at `path`."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return 0, 1, 0, {}
    passed = failed = skipped = 0
    reasons = collections.Counter()
    for case in root.iter('testcase'):
        if case.find('failure') is not None or case.find('error') is not None:
            failed += 1
        elif case.find('skipped') is not None:
            skipped += 1
            reasons[(_file_of(case), _reason_of(case.find('skipped')))] += 1
        else:
            passed += 1
    return passed, failed, skipped, reasons


def _file_of(case):
    """tests_standalone/emulator/test_samples.py from classname tests_standalone.emulator.test_samples[.Class]."""
    parts = case.get('classname', '').split('.')
    while parts and parts[-1][:1].isupper():  # test classes, not modules
        parts.pop()
    return '/'.join(parts) + '.py' if parts else '?'


def _reason_of(node):
    # pytest writes "Skipped: <reason>" (or "<file>:<line>: <reason>" for a skip at collection) in `message`.
    reason = node.get('message') or node.text or 'no reason given'
    return reason.removeprefix('Skipped: ').strip()


def main(path):
    passed, failed, skipped, reasons = summarize(path)
    print(f'counts: {passed} {failed} {skipped}')
    for (where, reason), count in sorted(reasons.items()):
        print(f'skip: {count}\t{where}\t{reason}')


if __name__ == '__main__':
    main(sys.argv[1])
