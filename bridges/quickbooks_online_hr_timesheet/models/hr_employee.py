from odoo import _, api, fields, models
from odoo.exceptions import UserError


class HrEmployee(models.Model):
    """Employees as QuickBooks employees: linked by the import (e-mail, name), by hand in the review, or created
    there with 'Send to QuickBooks' (qbo.exporter.employee sends them)."""
    _name = 'hr.employee'
    _inherit = ['hr.employee', 'qbo.sync.mixin']

    qbo_employee_ref_id = fields.Many2one(
        'qbo.ref', 'QuickBooks employee', compute='_compute_qbo_employee_ref_id',
        inverse='_inverse_qbo_employee_ref_id',
        domain="[('entity', '=', 'Employee')]", groups='account.group_account_invoice',
        help="The QuickBooks employee this employee's time is recorded for (imported from QuickBooks). Empty: "
             "not linked yet; 'Send to QuickBooks' creates it there.")

    qbo_time_as_vendor = fields.Boolean(
        'Time recorded for a QuickBooks vendor', groups='account.group_account_invoice',
        help="A subcontractor: time activities name the QuickBooks vendor of this employee's work contact "
             "(NameOf Vendor, sent through the connector's vendor export) instead of a QuickBooks employee.")

    def _qbo_entity(self):
        return 'Employee'

    def _qbo_vendor_partner(self):
        """The partner sent as the QuickBooks vendor of a subcontractor: its work contact's commercial entity."""
        self.ensure_one()
        return self.sudo().work_contact_id.commercial_partner_id

    def _qbo_exporter(self):
        return self.env['qbo.exporter.employee']

    @api.model
    def _qbo_synced_fields(self):
        return {'name', 'work_email', 'active'}

    @api.depends('qbo_binding_ids.qbo_id')
    @api.depends_context('company')
    def _compute_qbo_employee_ref_id(self):
        connections = self._qbo_connections_by_company()
        Ref = self.env['qbo.ref'].sudo().with_context(active_test=False)
        for employee in self:
            connection = connections.get(employee._qbo_company().id)
            binding = employee._qbo_binding(connection) if employee.id and connection else False
            employee.qbo_employee_ref_id = binding and binding.qbo_id and Ref.search(
                [('connection_id', '=', connection.id), ('entity', '=', 'Employee'), ('qbo_id', '=', binding.qbo_id)],
                limit=1)

    def _inverse_qbo_employee_ref_id(self):
        """Link (or re-link) the employee to the QuickBooks employee chosen in the review."""
        for employee in self:
            ref = employee.qbo_employee_ref_id
            if not ref:
                continue
            self._qbo_link_employee(ref.connection_id.sudo(), employee, ref.data or {'Id': ref.qbo_id})

    @api.model
    def _qbo_link_employee(self, connection, employee, row):
        """Link `employee` to the QuickBooks employee `row` (a binding in state Sent), refusing a QuickBooks
        employee that another Odoo employee holds; time activities sent since are not moved."""
        Binding = self.env['qbo.binding'].sudo()
        holder = Binding.search([('connection_id', '=', connection.id), ('entity', '=', 'Employee'),
                                 ('qbo_id', '=', row['Id']),
                                 '!', '&', ('res_model', '=', 'hr.employee'), ('res_id', '=', employee.id)], limit=1)
        if holder:
            raise UserError(_("The QuickBooks employee %(name)s is already linked to %(other)s.",
                              name=row.get('DisplayName') or row['Id'], other=holder.record_name))
        binding = Binding._qbo_get_or_create(connection, employee, 'Employee')
        if binding.qbo_id == row['Id']:
            return binding
        if binding.intent_request_id:
            raise UserError(_("%s is being sent to QuickBooks: link it once that transfer is over.", employee.name))
        binding.write({'qbo_id': row['Id'], 'qbo_sync_token': row.get('SyncToken'),
                       'qbo_sent_name': row.get('DisplayName')})
        if binding.state in ('error', 'blocked'):
            binding._qbo_transition('to_send')  # a failed create, replaced by the link: the way to 'sent'
        binding._qbo_transition('sent', error_message=False, error_code=False, last_sync_date=fields.Datetime.now())
        return binding
