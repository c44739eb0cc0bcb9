"""The timesheet's screens in headless Chromium: Send to QuickBooks from the form, its transfer state."""
from datetime import date

from odoo.tests import tagged

from odoo.addons.quickbooks_online.tests.common import QboTestCommon


@tagged('post_install', '-at_install')
class TestQboTimesheetTour(QboTestCommon):

    def test_send_a_timesheet_from_its_form(self):
        connection = self.connection.sudo()
        connection.timesheet_item_ref_id = self.env['qbo.ref'].search(
            [('connection_id', '=', connection.id), ('entity', '=', 'Item'), ('qbo_id', '=', '1')])
        customer = self.env['res.partner'].create({'name': 'Tour Client', 'is_company': True})
        project = self.env['project.project'].sudo().create({'name': 'Tour project', 'partner_id': customer.id})
        employee = self.env['hr.employee'].sudo().create({'name': 'Tess Tour', 'work_email': 'tess@example.com'})
        with connection._qbo_client_session() as client:
            qbo_employee = client.create('Employee', {'DisplayName': 'Tess Tour'}, 'tour-employee')
        connection.action_qbo_import_employees()
        line = self.env['account.analytic.line'].sudo().create({
            'project_id': project.id, 'employee_id': employee.id, 'date': date.today(), 'unit_amount': 2.5,
            'name': 'Tour work'})
        url = f'/odoo/action-hr_timesheet.act_hr_timesheet_line/{line.id}'
        self.start_tour(url, 'qbo_timesheet_send', login='qbo_admin')
        binding = line._qbo_binding(connection)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        activity = self.qbo_read(self.realm, 'TimeActivity', binding.qbo_id)
        self.assertEqual((activity['Hours'], activity['Minutes']), (2, 30))
        self.assertEqual(activity['EmployeeRef']['value'], qbo_employee['Id'])
        self.assertEqual(activity['CustomerRef']['name'], 'Tour Client')
