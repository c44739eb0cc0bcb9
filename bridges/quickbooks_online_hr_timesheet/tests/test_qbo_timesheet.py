"""Timesheets to QuickBooks time activities, in real Odoo against the emulator over HTTP.

Every assertion reads what QuickBooks holds afterwards (the emulator's store), never what Odoo believes.
"""
from odoo.tests import tagged

from .common import QboTimesheetCommon


@tagged('post_install', '-at_install')
class TestQboTimesheet(QboTimesheetCommon):

    # ------------------------------------------------------------------ tests

    def test_employees_imported_and_matched(self):
        """QuickBooks employees are linked by work e-mail, then by name; the rest wait for the review."""
        by_mail = self._api('create', 'Employee', {'GivenName': 'Ally', 'FamilyName': 'M.',
                                                   'PrimaryEmailAddr': {'Address': 'ALICE@example.com'}}, 'emp-1')
        by_name = self._api('create', 'Employee', {'GivenName': 'Bob', 'FamilyName': 'Stone'}, 'emp-2')
        stranger = self._api('create', 'Employee', {'GivenName': 'Carol', 'FamilyName': 'Unknown'}, 'emp-3')
        self.connection.action_qbo_import_employees()
        self.assertEqual(self._qbo_id(self.alice), by_mail['Id'])
        self.assertEqual(self._qbo_id(self.bob), by_name['Id'])
        self.assertEqual(self.alice.qbo_employee_ref_id.qbo_id, by_mail['Id'])
        refs = self.env['qbo.ref'].search([('connection_id', '=', self.connection.id), ('entity', '=', 'Employee')])
        self.assertEqual(set(refs.mapped('qbo_id')), {by_mail['Id'], by_name['Id'], stranger['Id']})
        # The review links the third one by hand; a second import changes nothing.
        carol = self.env['hr.employee'].sudo().create({'name': 'Carol U.'})
        carol.qbo_employee_ref_id = refs.filtered(lambda r: r.qbo_id == stranger['Id'])
        self.assertEqual(self._qbo_id(carol), stranger['Id'])
        self.connection.action_qbo_import_employees()
        self.assertEqual(len(self.qbo_all(self.realm, 'Employee')), 3, "linking creates nothing in QuickBooks")

    def test_week_of_two_employees_on_two_projects(self):
        """A week of timesheets lands as time activities: employee, customer, item, hours, rate, status."""
        self.connection.sudo().timesheet_auto_send = True
        existing = self._api('create', 'Employee', {'DisplayName': 'Alice Martin',
                                                    'PrimaryEmailAddr': {'Address': 'alice@example.com'}}, 'emp-a')
        self.connection.action_qbo_import_employees()
        hours = [1.25, 2.5, 0.75, 3.0, 1.1]
        lines = self.env['account.analytic.line']
        for day, amount in enumerate(hours):
            lines |= self._line(self.alice, self.project_a, day, amount, f'Design day {day}')
            lines |= self._line(self.alice, self.project_b, day, amount + 1, f'Audit day {day}')
            lines |= self._line(self.bob, self.project_b, day, amount, f'Fieldwork day {day}')
            lines |= self._line(self.bob, self.internal, day, 0.5, f'Training day {day}')
        self.assertEqual(len(lines.sudo().qbo_binding_ids), 20, "auto-send queued every line")
        self.qbo_drain()
        self.assertEqual(set(lines.mapped('qbo_state')), {'sent'}, lines.mapped('qbo_error'))
        activities = self._activities()
        self.assertEqual(len(activities), 20)
        self.assertEqual(self._qbo_id(self.alice), existing['Id'], "the imported employee is used")
        bob = self.qbo_read(self.realm, 'Employee', self._qbo_id(self.bob))
        self.assertEqual((bob['DisplayName'], bob['PrimaryEmailAddr']['Address']), ('Bob Stone', 'bob@example.com'))
        self.assertEqual(len(self.qbo_all(self.realm, 'Employee')), 2, "Bob created once, Alice not again")
        for line in lines:
            activity = self._activity_of(line)
            minutes = round(line.unit_amount * 60)
            self.assertEqual((activity['Hours'], activity['Minutes']), divmod(minutes, 60), line.name)
            self.assertEqual(activity['NameOf'], 'Employee')
            self.assertEqual(activity['EmployeeRef']['value'], self._qbo_id(line.employee_id))
            self.assertEqual(activity['ItemRef']['value'], '1')
            self.assertEqual(activity['TxnDate'], line.date.isoformat())
            self.assertTrue(activity['Description'].startswith(line.name))
            if line.project_id == self.internal:
                self.assertNotIn('CustomerRef', activity)
                self.assertEqual((activity['BillableStatus'], activity['HourlyRate']), ('NotBillable', 0))
            else:
                partner = line.project_id.partner_id
                self.assertEqual(activity['CustomerRef']['value'], self._qbo_id(partner))
                self.assertEqual((activity['BillableStatus'], activity['HourlyRate']), ('Billable', 150.0))
        first = self._activity_of(lines[0])
        self.assertEqual((first['Hours'], first['Minutes']), (1, 15), "1.25 h is 1 h 15 min exactly")
        odd = self._activity_of(lines.filtered(lambda li: li.unit_amount == 1.1)[:1])
        self.assertEqual((odd['Hours'], odd['Minutes']), (1, 6), "1.1 h is 1 h 06 min, no float drift")
        names = sorted(c['DisplayName'] for c in self.qbo_all(self.realm, 'Customer')
                       if c['DisplayName'] in ('Northwind Traders', 'Contoso Ltd'))
        self.assertEqual(names, ['Contoso Ltd', 'Northwind Traders'], "each project's customer sent once")

    def test_edited_and_deleted_lines(self):
        """An edited line updates its time activity; a deleted one deletes it, with one request."""
        self.connection.sudo().timesheet_auto_send = True
        edited = self._line(self.alice, self.project_a, 0, 2.0, 'Workshop')
        deleted = self._line(self.alice, self.project_a, 1, 3.0, 'Booked by mistake')
        kept = self._line(self.bob, self.project_a, 1, 1.0, 'Review')
        self.qbo_drain()
        deleted_id = self._qbo_id(deleted)
        self.assertTrue(deleted_id)
        edited.write({'unit_amount': 2.75, 'name': 'Workshop and follow-up'})
        self.assertEqual(edited.qbo_state, 'to_send')
        deleted.unlink()
        removal = self.env['qbo.time.activity.removal'].search([])
        self.assertEqual(len(removal), 1)
        self.qbo.clear_requests_log()
        self.qbo_drain()
        activity = self._activity_of(edited)
        self.assertEqual((activity['Hours'], activity['Minutes'], activity['SyncToken']), (2, 45, '1'))
        self.assertTrue(activity['Description'].startswith('Workshop and follow-up'))
        self.assertEqual(set(self._activities()), {self._qbo_id(edited), self._qbo_id(kept)})
        self.assertEqual(self.qbo.entity(self.realm, 'TimeActivity', deleted_id).get('status'), 'Deleted')
        deletes = [r for r in self.qbo.requests_log(path_contains='/timeactivity')
                   if (r.get('query') or {}).get('operation') == 'delete']
        self.assertEqual(len(deletes), 1, deletes)
        binding = removal._qbo_binding(self.connection)
        self.assertEqual((binding.state, binding.qbo_id), ('voided', deleted_id))
        # Nothing more to do: another run sends nothing.
        self.qbo.clear_requests_log()
        self.qbo_drain()
        self.assertFalse([r for r in self.qbo.requests_log(path_contains=f'/{self.realm}/') if r['method'] == 'POST'])

    def test_subcontractor_as_vendor(self):
        """A subcontractor's time names its work contact's QuickBooks vendor (sent first), not an employee."""
        contractor = self.env['hr.employee'].sudo().create({'name': 'Sam Sub', 'work_email': 'sam@example.com'})
        contractor.qbo_time_as_vendor = True
        vendor_partner = contractor._qbo_vendor_partner()
        self.assertTrue(vendor_partner)
        line = self._line(contractor, self.project_a, 0, 6.5, 'Subcontracted install')
        line.action_qbo_send()
        self.assertEqual(line.qbo_state, 'sent', line.qbo_error)
        activity = self._activity_of(line)
        vendor_id = vendor_partner._qbo_binding(self.connection, 'Vendor').qbo_id
        self.assertEqual((activity['NameOf'], activity['VendorRef']['value']), ('Vendor', vendor_id))
        self.assertNotIn('EmployeeRef', activity)
        self.assertEqual((activity['Hours'], activity['Minutes']), (6, 30))
        self.assertEqual(self.qbo_read(self.realm, 'Vendor', vendor_id)['DisplayName'], 'Sam Sub')
        self.assertFalse(self.qbo_all(self.realm, 'Employee'), "no QuickBooks employee for a subcontractor")

    def test_timeout_after_commit_on_create_does_not_duplicate(self):
        """QuickBooks creates the time activity but the answer is lost: the next run finds it, never a second."""
        self.env['qbo.binding']._qbo_get_or_create(self.connection, self.alice, 'Employee')
        line = self._line(self.alice, self.project_a, 2, 4.0, 'Lost answer')
        self.qbo_drain()  # the employee and the customer first, then the line on its own below
        self.qbo.inject_fault('timeout_after_commit', count=1, path_contains='/timeactivity', realm_id=self.realm,
                              method='POST')
        self.qbo.inject_fault('500', count=2, path_contains='/timeactivity', realm_id=self.realm, method='POST')
        line.action_qbo_send()
        binding = line._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'to_send', binding.error_message)
        self.assertTrue(binding.outcome_unknown)
        self.assertEqual(len(self._activities()), 1, "QuickBooks holds it already")
        self.qbo.clear_faults()
        self.qbo_drain()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        activities = self._activities()
        self.assertEqual(list(activities), [binding.qbo_id], "found by its marker, not created again")
        self.assertEqual(activities[binding.qbo_id]['Hours'], 4)

    def test_deleted_before_answer_is_deleted_in_quickbooks(self):
        """A line deleted while its create's outcome is unknown: the delete finds the activity and deletes it."""
        self.env['qbo.binding']._qbo_get_or_create(self.connection, self.alice, 'Employee')
        line = self._line(self.alice, self.project_a, 3, 1.5, 'Gone too soon')
        self.qbo_drain()
        self.qbo.inject_fault('timeout_after_commit', count=1, path_contains='/timeactivity', realm_id=self.realm,
                              method='POST')
        self.qbo.inject_fault('500', count=2, path_contains='/timeactivity', realm_id=self.realm, method='POST')
        line.action_qbo_send()
        self.assertEqual(len(self._activities()), 1)
        self.qbo.clear_faults()
        line.unlink()
        self.qbo_drain()
        self.assertEqual(self._activities(), {}, "the activity whose create was unknown is deleted")

    def test_lock_date_and_unmapped(self):
        """Lines after the lock date are not sent; without a service item the line says what to map."""
        self.connection.sudo().timesheet_lock_date = self.monday
        late = self._line(self.alice, self.project_a, 2, 1.0, 'After the lock date')
        with self.assertRaisesRegex(Exception, 'lock date'):
            late.action_qbo_send()
        self.connection.sudo().write({'timesheet_lock_date': False, 'timesheet_item_ref_id': False})
        late.action_qbo_send()
        self.assertEqual(late.qbo_state, 'blocked')
        self.assertIn('Service item for timesheets', late.qbo_error)
        self.assertEqual(self._activities(), {})

    def test_core_alone_needs_no_hr_project_or_purchase(self):
        """The core addon's dependency closure holds no HR, project or purchase app: the bridge brings them."""
        Module = self.env['ir.module.module'].sudo()
        core = Module.search([('name', '=', 'quickbooks_online')])
        closure, todo = set(), [core]
        while todo:
            module = todo.pop()
            for dependency in module.dependencies_id.depend_id:
                if dependency.name not in closure:
                    closure.add(dependency.name)
                    todo.append(dependency)
        self.assertFalse({name for name in closure if name.startswith(('hr', 'project', 'purchase', 'sale'))},
                         sorted(closure))
        bridge = Module.search([('name', '=', 'quickbooks_online_hr_timesheet')])
        self.assertTrue(bridge.auto_install)
        self.assertEqual(set(bridge.dependencies_id.mapped('name')), {'quickbooks_online', 'hr_timesheet'})
