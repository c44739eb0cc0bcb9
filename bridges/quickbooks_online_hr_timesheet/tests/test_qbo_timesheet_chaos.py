"""Chaos with timesheets: the core chaos harness (tests/test_qbo_chaos.py of quickbooks_online: seeded random
histories, faults, crashes, quiet points, shrinking) with timesheet actions added - create, edit and delete
lines, send them from the form or the list, switch 'One time activity per employee, day and task' - and the
timesheet invariant, read back from the emulator at every quiet point:

* every live timesheet line sent alone has exactly one live time activity (its marker), at its hours and
  minutes; every group of lines (the setting) has exactly one, at the exact sum of its lines';
* a deleted line, and a group left without lines, has none live; no live time activity is anyone else's;
* the core's invariants (invoices, payments, nothing left in error, blocked or queued, no lease or limiter
  slot left open) hold too.

Knobs (environment): ``QBO_TIMESHEET_CHAOS_STEPS`` (default 40: the test command's quick run, one seed),
``QBO_TIMESHEET_CHAOS_SEED`` (default 7), ``QBO_CHAOS_QUIET_EVERY`` and ``QBO_CHAOS_ACTIONS`` as for the core
(timesheet actions: ts_create, ts_edit, ts_delete, ts_send_form, ts_send_list, ts_toggle), ``QBO_CHAOS_REPORT``
(the JSON summary). A long run::

    QBO_TIMESHEET_CHAOS_STEPS=600 QBO_CHAOS_REPORT=.build/chaos-timesheet.json \\
        QBO_ODOO_TAGS=/quickbooks_online_hr_timesheet:TestQboTimesheetChaos scripts/test -k nothing
"""
import os
from collections import Counter
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

# The module, not its class: a TestCase imported by name would run a second time as one of this bridge's tests.
from odoo.addons.quickbooks_online.tests import test_qbo_chaos

from .test_qbo_timesheet_grouped import exact_minutes

# Timesheet actions and how often each is drawn (the core's actions keep their weights beside them).
TIMESHEET_ACTION_WEIGHTS = {'ts_create': 16, 'ts_edit': 9, 'ts_delete': 5, 'ts_send_form': 5, 'ts_send_list': 4,
                            'ts_toggle': 2}
# Durations drawn (hours): exact quarters, and decimals whose binary value drifts (1.1, 0.33).
HOURS = (0.1, 0.25, 0.33, 0.5, 0.75, 1.0, 1.1, 1.5, 2.0, 2.75)
# Where a fault lands, the time activities' own path added to the core's.
TIMESHEET_FAULT_PATHS = test_qbo_chaos.FAULT_PATHS + ('/timeactivity',)


@tagged('post_install', '-at_install', 'qbo_chaos')
class TestQboTimesheetChaos(test_qbo_chaos.TestQboChaos):

    # Odoo's loader runs only a class's own test methods unless told: the core's random histories are run here
    # (with timesheets); its fixed history is the core's test, not run again.
    allow_inherited_tests_method = True
    test_token_refresh_lost_by_a_rollback_history = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.steps = int(os.environ.get('QBO_TIMESHEET_CHAOS_STEPS', '40'))
        seed = os.environ.get('QBO_TIMESHEET_CHAOS_SEED')
        cls.seeds = [int(seed)] if seed else [7]
        wanted = os.environ.get('QBO_CHAOS_ACTIONS')
        cls.actions.update({name: weight for name, weight in TIMESHEET_ACTION_WEIGHTS.items()
                            if not wanted or name in wanted.split(',')})
        env = cls.env
        cls.ts_item = env['qbo.ref'].search([('connection_id', '=', cls.connection.id), ('entity', '=', 'Item'),
                                             ('qbo_id', '=', '1')])
        Project = env['project.project'].sudo()
        customers = env['res.partner'].create([{'name': f'Chaos Client {i}', 'is_company': True} for i in range(2)])
        cls.ts_projects = Project.create([{'name': f'Chaos project {i}', 'partner_id': customer.id}
                                          for i, customer in enumerate(customers)])
        cls.ts_projects |= Project.create({'name': 'Chaos internal'})
        cls.ts_tasks = env['project.task'].sudo().create([{'name': 'Chaos task', 'project_id': cls.ts_projects[0].id}])
        cls.ts_employees = env['hr.employee'].sudo().create(
            [{'name': f'Chaos Worker {i}', 'work_email': f'worker{i}@example.com'} for i in range(2)])

    # ------------------------------------------------------------------ the world

    def _play(self, history):
        """A history whose first step's seed is odd starts with lines grouped (the setting on), else one time
        activity per line; `ts_toggle` switches it on the way."""
        self.grouped_world = bool(history and history[0][1]['seed'] % 2)
        return super()._play(history)

    def _fresh_world(self):
        """The core's world, with timesheets of the last days sent by themselves (every live line belongs in
        QuickBooks) and employees created on the way."""
        res = super()._fresh_world()
        self.today = fields.Date.today()
        self.connection.sudo().write({
            'timesheet_auto_send': True, 'timesheet_item_ref_id': self.ts_item.id, 'timesheet_hourly_rate': 95.0,
            'timesheet_create_employees': True, 'timesheet_lock_date': False,
            'export_from_date': self.today - timedelta(days=7), 'timesheet_group_activities': self.grouped_world})
        self.lines = self.env['account.analytic.line']
        return res

    def _draw_step(self, rng):
        """The core's steps, faults also on the time activities' path, crashes also of a timesheet send."""
        action, params = super()._draw_step(rng)
        if action == 'faults' and rng.random() < 0.4:
            params['faults'] = [(kind, rng.choice(TIMESHEET_FAULT_PATHS), count)
                                for kind, _path, count in params['faults']]
        if action == 'crash' and rng.random() < 0.5:
            params['inner'] = rng.choice(['ts_send_form', 'ts_send_list', 'ts_edit', 'ts_delete'])
        return action, params

    def _user_action(self, action, rng):
        if not action.startswith('ts_'):
            return super()._user_action(action, rng)
        Line = self.env['account.analytic.line'].sudo()
        live = self.lines.exists()
        if action == 'ts_create':
            vals_list = []
            for _i in range(rng.randint(1, 3)):
                project = rng.choice(self.ts_projects)
                with_task = project == self.ts_tasks.project_id and rng.random() < 0.5
                vals_list.append({
                    'project_id': project.id, 'task_id': self.ts_tasks.id if with_task else False,
                    'employee_id': rng.choice(self.ts_employees).id, 'unit_amount': rng.choice(HOURS),
                    'date': self.today - timedelta(days=rng.randint(0, 2)),
                    'name': f'Chaos work {rng.randrange(1000)}'})
            self.lines |= Line.create(vals_list)
        elif action == 'ts_edit' and live:
            line = rng.choice(live)
            change = rng.choice(['hours', 'hours', 'date', 'project', 'name'])
            if change == 'hours':
                line.unit_amount = rng.choice(HOURS)
            elif change == 'date':
                line.date = self.today - timedelta(days=rng.randint(0, 2))
            elif change == 'project':
                line.write({'project_id': rng.choice(self.ts_projects).id, 'task_id': False})
            else:
                line.name = f'Chaos edit {rng.randrange(1000)}'
        elif action == 'ts_delete' and live:
            rng.choice(live).unlink()
        elif action == 'ts_send_form' and live:
            rng.choice(live).action_qbo_send()
        elif action == 'ts_send_list' and live:
            chosen = rng.sample(list(live), min(len(live), rng.randint(2, 6)))
            Line.browse([line.id for line in chosen]).action_qbo_send()
        elif action == 'ts_toggle':
            connection = self.connection.sudo()
            connection.timesheet_group_activities = not connection.timesheet_group_activities
            self.counts['ts_grouping_on' if connection.timesheet_group_activities else 'ts_grouping_off'] += 1
        return None

    # ------------------------------------------------------------------ the timesheet invariant

    def _live_activities(self):
        """{marker: [live time activities]} of this realm (the marker is the last word of the Description)."""
        live = {}
        for activity in self.qbo_all(self.realm, 'TimeActivity'):
            if activity.get('status') == 'Deleted':
                continue
            words = (activity.get('Description') or '').split()
            live.setdefault(words[-1] if words else '', []).append(activity)
        return live

    def _check_invariants(self, history):
        """The core's invariants, then the timesheets' (see the module's docstring)."""
        problems, res = [], None
        try:
            res = super()._check_invariants(history)
        except test_qbo_chaos.ChaosViolation as violation:
            problems = str(violation).split('\n')
        problems += self._timesheet_problems()
        if problems:
            raise test_qbo_chaos.ChaosViolation(problems, list(history))
        return res

    def _timesheet_problems(self):
        self.env.invalidate_all()
        dbuuid = self.env['ir.config_parameter'].sudo().get_param('database.uuid')
        live = self._live_activities()
        expected = Counter()  # marker -> live lines behind it
        problems = []

        def check(marker, lines, label):
            activities = live.get(marker, [])
            expected[marker] += 1
            if len(activities) != 1:
                problems.append(f"{label}: {len(activities)} live time activities")
                return
            activity = activities[0]
            got = activity['Hours'] * 60 + activity['Minutes']
            if got != exact_minutes(lines):
                problems.append(f"{label}: QuickBooks {got} min != Odoo {exact_minutes(lines)} min")
            person = lines[:1].employee_id._qbo_binding(self.connection).qbo_id
            if (activity.get('EmployeeRef') or {}).get('value') != person:
                problems.append(f"{label}: time activity of employee {activity.get('EmployeeRef')}, not {person}")

        lines = self.lines.exists().sudo()
        for group in lines.qbo_group_id:
            check(f"odoo:{dbuuid}:qbo.time.activity.group:{group.id}", group.line_ids, f"group id {group.id}")
            if len({(li.employee_id, li.date, li.project_id, li.task_id) for li in group.line_ids}) > 1:
                problems.append(f"group id {group.id}: lines of several employees, days or tasks")
        for line in lines.filtered(lambda li: not li.qbo_group_id):
            if not line.qbo_binding_ids:
                problems.append(f"timesheet line id {line.id}: neither sent alone nor in a group")
                continue
            check(f"odoo:{dbuuid}:account.analytic.line:{line.id}", line, f"timesheet line id {line.id}")
        for marker, activities in live.items():
            if marker not in expected:
                problems.append(f"time activity {activities[0]['Id']} ({marker}): no live line or group behind it")
        self.counts['ts_lines_checked'] += len(lines)
        self.counts['ts_activities_checked'] += len(expected)
        return problems
