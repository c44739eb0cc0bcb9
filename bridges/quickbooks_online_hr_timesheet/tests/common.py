"""What the timesheet tests share: two customers' projects and an internal one, two employees, helpers that
write to QuickBooks as another app would and read back what it holds."""
from datetime import date, timedelta

from odoo.addons.quickbooks_online.tests.common import QboTestCommon


class QboTimesheetCommon(QboTestCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.monday = date.today() - timedelta(days=date.today().weekday() + 7)  # last week
        cls.services = env['qbo.ref'].search([('connection_id', '=', cls.connection.id), ('entity', '=', 'Item'),
                                              ('qbo_id', '=', '1')])
        cls.customer_a = env['res.partner'].create({'name': 'Northwind Traders', 'is_company': True})
        cls.customer_b = env['res.partner'].create({'name': 'Contoso Ltd', 'is_company': True})
        Project = env['project.project'].sudo()
        cls.project_a = Project.create({'name': 'Northwind rollout', 'partner_id': cls.customer_a.id})
        cls.project_b = Project.create({'name': 'Contoso audit', 'partner_id': cls.customer_b.id})
        cls.internal = Project.create({'name': 'Internal training'})
        Employee = env['hr.employee'].sudo()
        cls.alice = Employee.create({'name': 'Alice Martin', 'work_email': 'alice@example.com'})
        cls.bob = Employee.create({'name': 'Bob Stone', 'work_email': 'bob@example.com'})

    def setUp(self):
        super().setUp()
        self.connection.sudo().write({
            'timesheet_item_ref_id': self.services.id, 'timesheet_hourly_rate': 150.0,
            'timesheet_create_employees': True, 'export_from_date': self.monday - timedelta(days=7)})

    # ------------------------------------------------------------------ helpers

    def _api(self, method, *args):
        """Write to QuickBooks as another app would (setup only)."""
        with self.connection.sudo()._qbo_client_session() as client:
            return getattr(client, method)(*args)

    def _line(self, employee, project, day, hours, name='Work'):
        return self.env['account.analytic.line'].sudo().create({
            'project_id': project.id, 'employee_id': employee.id, 'date': self.monday + timedelta(days=day),
            'unit_amount': hours, 'name': name})

    def _activities(self):
        return {a['Id']: a for a in self.qbo_all(self.realm, 'TimeActivity') if a.get('status') != 'Deleted'}

    def _activity_of(self, line):
        binding = line._qbo_binding(self.connection)
        self.assertTrue(binding.qbo_id, binding.error_message)
        return self.qbo_read(self.realm, 'TimeActivity', binding.qbo_id)

    def _qbo_id(self, record):
        return record._qbo_binding(self.connection).qbo_id
