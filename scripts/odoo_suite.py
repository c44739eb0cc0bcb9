"""Run the addon's Odoo suite in a throwaway database and report exact counts.

Installs quickbooks_online with --test-enable (at_install and post_install tests of the tags
given), upgrades it, then uninstalls it, and checks the log of each phase for warnings about the
addon (access rules, views, fields, data).
Prints the interesting log lines, one "skip: <n>\t<file>\t<reason>" line per test file and skip reason
and, last, "counts: <passed> <failed> <skipped>".

Called by scripts/test; `--drop DB` only drops a database.
"""
import argparse
import collections
import os
import re
import sys

# Warnings that mean the addon is not clean (access rules, views, fields, data).
WARNING_PATTERN = re.compile(
    r' (WARNING|ERROR|CRITICAL) .*(quickbooks_online|qbo[._]|QuickBooks)', re.IGNORECASE)
NOISE = ('Blocking un-mocked external HTTP request',)
# Odoo's test result logs "skipped <Class>.<method> : <reason>" under the test module's logger.
SKIP_PATTERN = re.compile(r' odoo\.addons\.quickbooks_online\.(tests\.\w+): skipped \S+ : (.*)$')


def drop_database(name):
    import psycopg2  # noqa: PLC0415
    conn = psycopg2.connect(dbname='postgres')
    conn.autocommit = True
    with conn.cursor() as cr:
        cr.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--odoo-src')
    parser.add_argument('--addons-path')
    parser.add_argument('--db')
    parser.add_argument('--http-port', default='8069')
    parser.add_argument('--log')
    parser.add_argument('--tags', default='/quickbooks_online')
    parser.add_argument('--drop')
    args = parser.parse_args()
    if args.drop:
        drop_database(args.drop)
        return 0

    sys.path.insert(0, args.odoo_src)
    # Explicit submodule imports: Odoo 19's `odoo` package no longer imports them by itself.
    import odoo.modules.registry  # noqa: PLC0415
    import odoo.release  # noqa: PLC0415
    import odoo.service.db  # noqa: PLC0415
    import odoo.service.server  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    if os.path.exists(args.log):
        os.unlink(args.log)
    # No demo data: 19 has none unless --with-demo; 18 needs --without-demo (a value that 19 rejects).
    no_demo = [] if odoo.release.version_info[0] >= 19 else ['--without-demo', 'all']
    config.parse_config([
        '-d', args.db, '--addons-path', args.addons_path, '-i', 'quickbooks_online',
        '--test-enable', '--test-tags', args.tags, '--stop-after-init', *no_demo,
        '--http-interface', '127.0.0.1', '--http-port', str(args.http_port), '--max-cron-threads', '0',
        '--logfile', args.log, '--log-level', 'info',
    ], setup_logging=True)
    odoo.service.db._create_empty_database(args.db)
    rc = odoo.service.server.start(preload=[args.db], stop=True)
    registry = odoo.modules.registry.Registry.registries.get(args.db)
    report = registry._assertion_report if registry is not None else None
    run = report.testsRun if report else 0
    failed = (report.failures_count + report.errors_count) if report else 1
    skipped = report.skipped if report else 0
    if rc and not failed:
        failed = 1  # the install itself failed
    passed = max(run - failed - skipped, 0)
    install_warnings = _addon_warnings(args.log, stop_at='Starting post tests')

    # Upgrade check: updating the installed addon (what every deployment does) logs nothing about it.
    config['test_enable'] = False  # the upgrade must not run the tests a second time
    upgrade_problems = _module_phase(args, 'button_immediate_upgrade', _check_upgraded)
    # Uninstall check: the addon must leave cleanly.
    uninstall_problems = _module_phase(args, 'button_immediate_uninstall', _check_uninstalled)

    for check, problems in (('install without addon warnings', install_warnings),
                            ('upgrade without addon warnings', upgrade_problems),
                            ('uninstall cleanly', uninstall_problems)):
        if problems:
            failed += 1
            print(f"FAILED check: {check}")
            for line in problems[:20]:
                print(f"    {line}")
        else:
            passed += 1

    with open(args.log, encoding='utf-8', errors='replace') as log:
        in_traceback = False
        for line in log:
            if ' ERROR ' in line or 'FAIL:' in line or ' CRITICAL ' in line:
                print(line.rstrip()[:400])
            # The exception that ends a traceback (e.g. the ImportError that stopped the install).
            if line.startswith('Traceback'):
                in_traceback = True
            elif in_traceback and line[:1] not in (' ', '\t', '\n', ''):
                print(f"    {line.rstrip()[:400]}")
                in_traceback = False
    for (where, reason), count in sorted(_skip_reasons(args.log).items()):
        print(f"skip: {count}\t{where}\t{reason}")
    print(f"odoo tests run: {run} (log: {args.log})")
    print(f"counts: {passed} {failed} {skipped}")
    return 0 if not failed else 1


def _module_phase(args, button, check):
    """Press a button of the addon's ir.module.module (in a fresh registry), then run `check` on a new
    cursor; return the problems: the exception or check failure, and the addon warnings logged meanwhile."""
    import odoo.modules.registry  # noqa: PLC0415
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415

    offset = os.path.getsize(args.log)
    error = None
    try:
        with odoo.modules.registry.Registry.new(args.db).cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            getattr(env['ir.module.module'].search([('name', '=', 'quickbooks_online')]), button)()
        with odoo.modules.registry.Registry.new(args.db).cursor() as cr:
            error = check(cr)
    except Exception as exc:  # noqa: BLE001 - reported as a failed check
        error = repr(exc)
    return ([error] if error else []) + _addon_warnings(args.log, start_offset=offset)


def _check_upgraded(cr):
    cr.execute("SELECT state FROM ir_module_module WHERE name = 'quickbooks_online'")
    state = cr.fetchone()[0]
    return None if state == 'installed' else f"module state after upgrade: {state}"


def _check_uninstalled(cr):
    cr.execute("SELECT state FROM ir_module_module WHERE name = 'quickbooks_online'")
    state = cr.fetchone()[0]
    if state != 'uninstalled':
        return f"module state after uninstall: {state}"
    cr.execute("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'qbo\\_%%'")
    if cr.fetchone()[0]:
        return "qbo_* tables remain after uninstall"
    return None


def _addon_warnings(path, stop_at=None, start_offset=0):
    """Warnings about the addon in one phase of the log (tests provoke some on purpose: skipped)."""
    if not os.path.exists(path):
        return []
    found = []
    with open(path, encoding='utf-8', errors='replace') as log:
        log.seek(start_offset)
        for line in log:
            if stop_at and stop_at in line:
                break
            if (WARNING_PATTERN.search(line) and not any(n in line for n in NOISE)
                    and not _logger_name(line).startswith('odoo.tests')):
                found.append(line.rstrip()[:300])
    return found


def _skip_reasons(path):
    """{(test file, reason): count} of the tests Odoo skipped, so that a group skipped for one cause is named."""
    reasons = collections.Counter()
    with open(path, encoding='utf-8', errors='replace') as log:
        for line in log:
            match = SKIP_PATTERN.search(line.rstrip())
            if match:
                reasons[(match.group(1).replace('.', '/') + '.py', match.group(2).strip()[:200])] += 1
    return reasons


def _logger_name(line):
    parts = line.split(' ', 6)
    return parts[5].rstrip(':') if len(parts) > 5 else ''


if __name__ == '__main__':
    sys.exit(main())
