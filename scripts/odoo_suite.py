"""Run the addon's Odoo suite in a throwaway database and report exact counts.

Installs quickbooks_online and the bridge addons of bridges/ (with the Odoo apps they bridge to) with
--test-enable (at_install and post_install tests of the tags given; default: every addon of the
repository), upgrades them, uninstalls each bridge then the core addon, and checks the log of each phase
for warnings about the addons (access rules, views, fields, data).
Prints the interesting log lines, one "skip: <n>\t<file>\t<reason>" line per test file and skip reason
and, last, "counts: <passed> <failed> <skipped>".

Called by scripts/test; `--drop DB` only drops a database.
"""
import argparse
import collections
import os
import re
import sys

import qbo_addons

# Warnings that mean the addon is not clean (access rules, views, fields, data).
WARNING_PATTERN = re.compile(
    r' (WARNING|ERROR|CRITICAL) .*(quickbooks_online|qbo[._]|QuickBooks)', re.IGNORECASE)
NOISE = ('Blocking un-mocked external HTTP request',)
# Odoo's test result logs "skipped <Class>.<method> : <reason>" under the test module's logger.
# The core addon's files are named from its root (tests/...), a bridge's from the bridge (bridges/<name>/tests/...).
SKIP_PATTERN = re.compile(r' odoo\.addons\.(quickbooks_online\w*)\.(tests\.\w+): skipped \S+ : (.*)$')


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
    parser.add_argument('--tags', default='', help="Odoo test tags (default: every addon of the repository)")
    parser.add_argument('--drop')
    args = parser.parse_args()
    if args.drop:
        drop_database(args.drop)
        return 0

    addons = qbo_addons.addons()
    tags = args.tags or ','.join(f'/{name}' for name in addons)
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
        '-d', args.db, '--addons-path', args.addons_path, '-i', ','.join(addons),
        '--test-enable', '--test-tags', tags, '--stop-after-init', *no_demo,
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
    checks = [('install without addon warnings', install_warnings),
              ('upgrade without addon warnings',
               _module_phase(args, 'quickbooks_online', 'button_immediate_upgrade', _check_upgraded))]
    # Uninstall checks: each bridge leaves cleanly (its app and the core stay), then the core addon.
    for bridge in qbo_addons.bridges():
        with odoo.modules.registry.Registry.new(args.db).cursor() as cr:
            models = _bridge_models(cr, bridge)
        checks.append((f'uninstall {bridge} cleanly', _module_phase(
            args, bridge, 'button_immediate_uninstall',
            lambda cr, module, models=models: _check_bridge_uninstalled(cr, module, models))))
    checks.append(('uninstall cleanly',
                   _module_phase(args, 'quickbooks_online', 'button_immediate_uninstall', _check_uninstalled)))

    for check, problems in checks:
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


def _module_phase(args, module, button, check):
    """Press a button of the addon `module`'s ir.module.module (in a fresh registry), then run `check(cr,
    module)` on a new cursor; return the problems: the exception or check failure, and the addon warnings
    logged meanwhile."""
    import odoo.modules.registry  # noqa: PLC0415
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415

    offset = os.path.getsize(args.log)
    error = None
    try:
        with odoo.modules.registry.Registry.new(args.db).cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            getattr(env['ir.module.module'].search([('name', '=', module)]), button)()
        with odoo.modules.registry.Registry.new(args.db).cursor() as cr:
            error = check(cr, module)
    except Exception as exc:  # noqa: BLE001 - reported as a failed check
        error = repr(exc)
    return ([error] if error else []) + _addon_warnings(args.log, start_offset=offset)


def _module_states(cr, names):
    cr.execute("SELECT name, state FROM ir_module_module WHERE name = ANY(%s)", (list(names),))
    return dict(cr.fetchall())


def _check_upgraded(cr, module):
    """The core and every bridge are still installed after the upgrade (a bridge is upgraded with the core)."""
    states = _module_states(cr, qbo_addons.addons())
    wrong = {name: state for name, state in states.items() if state != 'installed'}
    return None if not wrong else f"module states after upgrade: {wrong}"


def _bridge_models(cr, module):
    """The models `module` declares or extends, with their tables."""
    cr.execute("SELECT m.model FROM ir_model_data d JOIN ir_model m ON m.id = d.res_id "
               "WHERE d.model = 'ir.model' AND d.module = %s", (module,))
    return [row[0] for row in cr.fetchall()]


def _check_bridge_uninstalled(cr, module, models=()):
    """The bridge is gone, with the models it declared (and their tables); the core addon and the bridged
    apps are still installed, with the models the bridge only extended."""
    depends = list(qbo_addons.manifest(module)['depends'])
    states = _module_states(cr, [module, *depends])
    if states.get(module) != 'uninstalled':
        return f"module state after uninstall: {states.get(module)}"
    kept = {name: states.get(name) for name in depends if states.get(name) != 'installed'}
    if kept:
        return f"uninstalling {module} took its dependencies along: {kept}"
    cr.execute("SELECT model FROM ir_model WHERE model = ANY(%s)", (list(models),))
    remaining = {row[0] for row in cr.fetchall()}
    gone = [model.replace('.', '_') for model in models if model not in remaining]
    cr.execute("SELECT table_name FROM information_schema.tables WHERE table_name = ANY(%s)", (gone,))
    left = [row[0] for row in cr.fetchall()]
    return f"tables of {module} remain after uninstall: {left}" if left else None


def _check_uninstalled(cr, module):
    state = _module_states(cr, [module]).get(module)
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
                addon, test_module, reason = match.groups()
                where = test_module.replace('.', '/') + '.py'
                if addon != qbo_addons.CORE:
                    where = f'bridges/{addon}/{where}'
                reasons[(where, reason.strip()[:200])] += 1
    return reasons


def _logger_name(line):
    parts = line.split(' ', 6)
    return parts[5].rstrip(':') if len(parts) > 5 else ''


if __name__ == '__main__':
    sys.exit(main())
