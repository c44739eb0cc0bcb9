"""'One time activity per employee, day and task': the lines of one employee, date and task as one QuickBooks
time activity, in real Odoo against the emulator over HTTP (assertions read what QuickBooks holds)."""
from datetime import timedelta
from decimal import Decimal

from odoo.tests import tagged

from .common import QboTimesheetCommon


def exact_minutes(lines):
    """Minutes of the exact sum of the lines' durations (their decimal texts), rounded once."""
    total = sum((Decimal(repr(float(line.unit_amount))) for line in lines), Decimal(0))
    return int((total * 60).quantize(Decimal(1), rounding='ROUND_HALF_UP'))


@tagged('post_install', '-at_install')
class TestQboTimesheetGrouped(QboTimesheetCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.task = cls.env['project.task'].sudo().create({'name': 'Data migration', 'project_id': cls.project_a.id})

    def setUp(self):
        super().setUp()
        self.connection.sudo().write({'timesheet_group_activities': True, 'timesheet_auto_send': True})

    def _task_line(self, employee, day, hours, name):
        return self.env['account.analytic.line'].sudo().create({
            'project_id': self.project_a.id, 'task_id': self.task.id, 'employee_id': employee.id,
            'date': self.monday + timedelta(days=day), 'unit_amount': hours, 'name': name})

    def _groups(self, lines):
        """{(employee, date, project, task): lines} as the setting groups them."""
        result = {}
        for line in lines.exists():
            key = (line.employee_id.id, line.date, line.project_id.id, line.task_id.id)
            result[key] = result.get(key, lines.browse()) | line
        return result

    def _assert_activities(self, lines):
        """QuickBooks holds exactly one live time activity per group of the live lines, at the exact sum of
        their hours, naming their employee, customer, item and billing; nothing else."""
        activities = self._activities()
        groups = self._groups(lines)
        seen = set()
        for group_lines in groups.values():
            groups_of = group_lines.sudo().qbo_group_id
            self.assertEqual(len(groups_of), 1, "the lines of one employee, day and task share one activity")
            binding = groups_of._qbo_binding(self.connection)
            self.assertEqual(binding.state, 'sent', binding.error_message)
            activity = activities.get(binding.qbo_id)
            self.assertTrue(activity, f"no live time activity for {group_lines.mapped('name')}")
            seen.add(binding.qbo_id)
            line = group_lines[0]
            self.assertEqual((activity['Hours'], activity['Minutes']), divmod(exact_minutes(group_lines), 60),
                             group_lines.mapped('unit_amount'))
            self.assertEqual(activity['EmployeeRef']['value'], self._qbo_id(line.employee_id))
            self.assertEqual(activity['TxnDate'], line.date.isoformat())
            self.assertEqual(activity['ItemRef']['value'], '1')
            for name in group_lines.mapped('name'):
                self.assertIn(name, activity['Description'])
            if line.project_id == self.internal:
                self.assertNotIn('CustomerRef', activity)
                self.assertEqual((activity['BillableStatus'], activity['HourlyRate']), ('NotBillable', 0))
            else:
                self.assertEqual(activity['CustomerRef']['value'], self._qbo_id(line.project_id.partner_id))
                self.assertEqual((activity['BillableStatus'], activity['HourlyRate']), ('Billable', 150.0))
        self.assertEqual(set(activities), seen, "no other time activity in QuickBooks")
        return activities

    def _week(self):
        """Two employees on two projects (and a task, and internal time), several lines per day and task."""
        lines = self.env['account.analytic.line'].sudo()
        for day in range(5):
            lines |= self._line(self.alice, self.project_a, day, 1.25, f'Design {day}')
            lines |= self._line(self.alice, self.project_a, day, 0.1, f'Design call {day}')
            lines |= self._task_line(self.alice, day, 0.2, f'Migration {day}')
            lines |= self._task_line(self.alice, day, 0.33, f'Migration check {day}')
            lines |= self._line(self.alice, self.project_b, day, 2.5, f'Audit {day}')
            lines |= self._line(self.bob, self.project_b, day, 1.1, f'Fieldwork {day}')
            lines |= self._line(self.bob, self.project_b, day, 1.1, f'Fieldwork report {day}')
            lines |= self._line(self.bob, self.project_b, day, 0.75, f'Fieldwork travel {day}')
            lines |= self._line(self.bob, self.internal, day, 0.5, f'Training {day}')
        return lines

    def test_week_lands_as_one_activity_per_employee_day_and_task(self):
        """45 lines of a week: 25 time activities, each the exact sum of its lines, sent in batches."""
        self.qbo.clear_requests_log()
        lines = self._week()
        self.qbo_drain()
        activities = self._assert_activities(lines)
        self.assertEqual(len(activities), 25)
        self.assertEqual(set(lines.mapped('qbo_state')), {'sent'}, "a line shows its group's state")
        task_day = self._groups(lines)[(self.alice.id, self.monday, self.project_a.id, self.task.id)]
        activity = activities[task_day.sudo().qbo_group_id._qbo_binding(self.connection).qbo_id]
        self.assertEqual((activity['Hours'], activity['Minutes']), (0, 32), "0.2 + 0.33 h is 31.8 min: 32")
        bob_day = self._groups(lines)[(self.bob.id, self.monday, self.project_b.id, False)]
        activity = activities[bob_day.sudo().qbo_group_id._qbo_binding(self.connection).qbo_id]
        self.assertEqual((activity['Hours'], activity['Minutes']), (2, 57), "1.1 + 1.1 + 0.75 h, no float drift")
        creates = [r for r in self.qbo.requests_log(path_contains='/timeactivity') if r['method'] == 'POST']
        self.assertFalse(creates, "new activities go in batch requests")

    def test_edit_add_move_and_delete_lines_of_a_group(self):
        """An edit, an added line, a line moved to another day and deleted lines update their activities;
        a group left empty deletes its activity; the setting off later touches only unsent lines."""
        lines = self._week()
        self.qbo_drain()
        groups = self._groups(lines)
        alice_monday = groups[(self.alice.id, self.monday, self.project_a.id, False)]
        bob_monday = groups[(self.bob.id, self.monday, self.project_b.id, False)]
        training_monday = groups[(self.bob.id, self.monday, self.internal.id, False)]
        emptied_id = training_monday.sudo().qbo_group_id._qbo_binding(self.connection).qbo_id
        alice_monday[0].unit_amount = 3.0                                   # edit
        lines |= self._line(self.alice, self.project_a, 0, 0.4, 'Late call')  # added to Monday's
        bob_monday[0].date = self.monday + timedelta(days=1)                # moved to Tuesday's
        bob_monday[1].unlink()                                              # deleted from a group
        training_monday.unlink()                                            # the whole group deleted
        self.assertEqual(set(alice_monday.mapped('qbo_state')), {'to_send'})
        self.qbo_drain()
        activities = self._assert_activities(lines)
        self.assertEqual(len(activities), 24)
        self.assertEqual(self.qbo.entity(self.realm, 'TimeActivity', emptied_id).get('status'), 'Deleted')
        alice_activity = activities[alice_monday.sudo().qbo_group_id._qbo_binding(self.connection).qbo_id]
        self.assertEqual((alice_activity['Hours'], alice_activity['Minutes']), (3, 30), "3.0 + 0.1 + 0.4 h")
        self.assertIn('Late call', alice_activity['Description'])
        # Off again: sent groups keep their activity (an edit updates it), new lines go one per line.
        self.connection.sudo().timesheet_group_activities = False
        alice_monday[0].unit_amount = 2.0
        single = self._line(self.alice, self.project_a, 0, 1.0, 'On its own')
        lines |= single
        self.qbo_drain()
        self.assertFalse(single.sudo().qbo_group_id)
        activities = self._activities()
        self.assertEqual(len(activities), 25)
        self.assertEqual(self._activity_of(single)['Hours'], 1)
        alice_activity = activities[alice_monday.sudo().qbo_group_id._qbo_binding(self.connection).qbo_id]
        self.assertEqual((alice_activity['Hours'], alice_activity['Minutes']), (2, 30))

    def test_switching_on_regroups_only_unsent_lines(self):
        """Lines queued one per line but not sent yet go grouped once the setting is on; sent ones keep theirs."""
        self.connection.sudo().timesheet_group_activities = False
        sent = self._line(self.alice, self.project_a, 0, 1.0, 'Sent alone')
        self.qbo_drain()
        sent_id = self._qbo_id(sent)
        self.assertTrue(sent_id)
        queued = self._line(self.alice, self.project_a, 1, 1.0, 'Queued') | \
            self._line(self.alice, self.project_a, 1, 0.5, 'Queued too')
        self.assertEqual(len(queued.sudo().qbo_binding_ids), 2)
        self.connection.sudo().timesheet_group_activities = True
        self.assertFalse(queued.sudo().qbo_binding_ids, "their own links are dropped")
        self.assertEqual(len(queued.sudo().qbo_group_id), 1)
        sent.unit_amount = 2.0
        self.qbo_drain()
        activities = self._activities()
        self.assertEqual(len(activities), 2)
        self.assertEqual(activities[sent_id]['Hours'], 2, "the line sent alone keeps (and updates) its own")
        group_id = queued.sudo().qbo_group_id._qbo_binding(self.connection).qbo_id
        self.assertEqual((activities[group_id]['Hours'], activities[group_id]['Minutes']), (1, 30))

    def test_batch_timeout_after_commit_then_429_creates_each_once(self):
        """The batch of a week's activities commits in QuickBooks, its answer is lost and the retry throttled;
        a line is added before the next run: each activity is in QuickBooks once, at its exact sum."""
        self.env['qbo.binding']._qbo_get_or_create(self.connection, self.alice, 'Employee')
        self.env['qbo.binding']._qbo_get_or_create(self.connection, self.bob, 'Employee')
        self.env['qbo.binding']._qbo_get_or_create(self.connection, self.customer_a, 'Customer')
        self.env['qbo.binding']._qbo_get_or_create(self.connection, self.customer_b, 'Customer')
        self.qbo_drain()
        self.qbo.inject_fault('timeout_after_commit', count=1, path_contains='/batch', realm_id=self.realm,
                              method='POST')
        self.qbo.inject_fault('429', count=1, path_contains='/batch', realm_id=self.realm, method='POST')
        lines = self._week()
        self.env['qbo.binding']._cron_qbo_export()
        groups = lines.sudo().qbo_group_id
        bindings = groups.qbo_binding_ids
        self.assertEqual(len(self._activities()), 25, "the lost batch was executed by QuickBooks")
        self.assertTrue(any(bindings.mapped('outcome_unknown')), "a 429 after a timeout is still unknown")
        self.assertFalse(bindings.filtered(lambda b: b.state in ('error', 'blocked')))
        lines |= self._line(self.bob, self.project_a, 4, 2.0, 'One more')
        self.qbo.clear_faults()
        self.qbo_drain()
        activities = self._assert_activities(lines)
        self.assertEqual(len(activities), 26)
        markers = [a['Description'].split()[-1] for a in activities.values()]
        self.assertEqual(len(markers), len(set(markers)), "an activity is in QuickBooks twice")
