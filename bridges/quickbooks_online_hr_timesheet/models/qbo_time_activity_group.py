from odoo import _, api, fields, models
from odoo.exceptions import UserError


class QboTimeActivityGroup(models.Model):
    """The timesheet lines of one employee, day and task sent as ONE QuickBooks time activity (setting 'One time
    activity per employee, day and task').

    The group is what the engine exports (binding res_model = this model, entity TimeActivity): the lines of
    one employee, date, project, task, analytic account (the class), billable status, hourly rate and Service
    item (`key`), whose hours and minutes are the exact sum. An edited, added or deleted line queues its group
    again (update); a group left without lines deletes its time activity (its link then reads Voided) and is
    kept as the record of it: a line of the same key later starts a new group. Groups are never deleted while
    linked (the engine drops a binding whose record is gone), and the marker is the group's own.
    """
    _name = 'qbo.time.activity.group'
    _inherit = ['qbo.sync.mixin']
    _description = 'QuickBooks Online time activity of several timesheet lines'
    _order = 'date desc, id desc'

    connection_id = fields.Many2one('qbo.connection', required=True, readonly=True, ondelete='cascade', index=True)
    company_id = fields.Many2one('res.company', required=True, readonly=True)
    key = fields.Char(required=True, readonly=True, index=True,
                      help="What the lines share: employee, date, project, task, analytic account, billing, item.")
    employee_id = fields.Many2one('hr.employee', readonly=True)
    date = fields.Date(readonly=True)
    project_id = fields.Many2one('project.project', readonly=True)
    task_id = fields.Many2one('project.task', readonly=True)
    line_ids = fields.One2many('account.analytic.line', 'qbo_group_id', string='Timesheet lines', readonly=True)

    @api.depends('employee_id', 'date', 'project_id', 'task_id')
    def _compute_display_name(self):
        for group in self:
            parts = [group.employee_id.name, group.date and fields.Date.to_string(group.date),
                     group.project_id.display_name, group.task_id.display_name]
            group.display_name = ' - '.join(part for part in parts if part)

    def _qbo_entity(self):
        return 'TimeActivity'

    def _qbo_exporter(self):
        return self.env['qbo.exporter.time_activity']

    def _qbo_connection(self):
        self.ensure_one()
        return self.connection_id

    def _qbo_lead_line(self):
        """The line whose employee, project, billing, item and class the time activity names (all lines share
        them: they are the group's key)."""
        self.ensure_one()
        lines = self.line_ids.sorted('id')
        if not lines:
            raise UserError(_("This time activity has no timesheet lines left."))
        return lines[0]

    def _qbo_check_exportable(self):
        for group in self:
            group.line_ids._qbo_check_exportable()

    def _qbo_dependencies(self, binding):
        """The employee (or vendor) and the project's customer of its lines, as for one line."""
        self.ensure_one()
        return self.line_ids.sorted('id')[:1]._qbo_dependencies(binding) if self.line_ids else []

    # ------------------------------------------------------------------ grouping

    @api.model
    def _qbo_find_or_create(self, connection, line, key):
        """The open group of `key` on `connection` (not deleted in QuickBooks), else a new one for `line`."""
        groups = self.sudo().search([('connection_id', '=', connection.id), ('key', '=', key)], order='id desc')
        for group in groups:
            binding = group._qbo_binding(connection)
            if not binding or binding.state != 'voided':
                return group
        return self.sudo().create({
            'connection_id': connection.id, 'company_id': connection.company_id.id, 'key': key,
            'employee_id': line.employee_id.id, 'date': line.date, 'project_id': line.project_id.id,
            'task_id': line.task_id.id})

    def _qbo_queue(self):
        """Queue these groups' time activities (create, update or delete by what their lines are now)."""
        Binding = self.env['qbo.binding'].sudo()
        queued = Binding
        for group in self.sudo():
            binding = group._qbo_binding(group.connection_id)
            if not binding:
                if not group.line_ids:
                    continue  # never linked and now empty: nothing in QuickBooks, nothing to do
                binding = Binding._qbo_get_or_create(group.connection_id, group, 'TimeActivity')
            if binding.state == 'voided':
                continue
            if binding.state != 'to_send' or binding.next_retry_date:
                binding._qbo_transition('to_send', next_retry_date=False, retry_count=0)
            queued |= binding
        if queued:
            queued._qbo_trigger_cron()
        return queued
