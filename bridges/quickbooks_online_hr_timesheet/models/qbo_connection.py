import logging

from odoo import _, api, fields, models

from odoo.addons.quickbooks_online import const

_logger = logging.getLogger(__name__)

# Timesheet lines queued per call by the auto-send (the cron re-runs while work remains).
AUTO_SEND_BATCH_SIZE = const.AUTO_SEND_BATCH_SIZE


class QboConnectionTimesheet(models.Model):
    """What a connection needs for timesheets: their settings, the employees' import and matching, auto-send."""
    _inherit = 'qbo.connection'

    timesheet_auto_send = fields.Boolean(
        'Send timesheets automatically',
        help="Timesheet lines dated from 'Export documents dated from' (and up to the lock date, when set) are "
             "queued by themselves and sent by the scheduled export.")
    timesheet_lock_date = fields.Date(
        'Send timesheets up to',
        help="Only timesheet lines dated on or before this day are sent (Odoo's community Timesheets have no "
             "validation step: move this date forward once the period's timesheets are checked). Empty: every "
             "line can be sent.")
    timesheet_item_ref_id = fields.Many2one(
        'qbo.ref', 'Service item for timesheets', ondelete='set null',
        domain="[('connection_id', '=', id), ('entity', '=', 'Item')]",
        help="QuickBooks Service item of time activities whose Odoo product (the timesheet's, or its sales order "
             "line's) is not mapped.")
    timesheet_hourly_rate = fields.Float(
        'Billable rate without Sales', digits=(16, 2),
        help="Without the Sales Timesheet app, Odoo does not say whether time is billable: with a rate here, the "
             "time of projects that have a customer is sent as Billable at this hourly rate; at 0 it is sent as "
             "NotBillable. With Sales Timesheet, the timesheet's own billing decides.")
    timesheet_create_employees = fields.Boolean(
        'Create missing employees',
        help="Create in QuickBooks the employees of timesheets that are not linked to a QuickBooks employee "
             "(else such timesheets wait, blocked, until the employee is linked in the employees' review).")
    timesheet_group_activities = fields.Boolean(
        'One time activity per employee, day and task',
        help="Send the timesheet lines of one employee, day and task (same project, billable status, rate and "
             "item) as one QuickBooks time activity, whose hours are their exact sum; else one time activity per "
             "line. Changing it affects only the lines not sent yet.")
    qbo_employee_count = fields.Integer('QuickBooks employees imported', compute='_compute_qbo_employee_count')

    def _compute_qbo_employee_count(self):
        counts = dict(self.env['qbo.ref'].sudo()._read_group(
            [('connection_id', 'in', self.ids), ('entity', '=', 'Employee')], ['connection_id'], ['__count']))
        for connection in self:
            connection.qbo_employee_count = counts.get(connection, 0)

    # ------------------------------------------------------------------ employees: import and matching

    def action_qbo_import_employees(self):
        """Import QuickBooks' employees and link each to its Odoo employee (work e-mail, else name)."""
        self.ensure_one()
        self._qbo_check_manager()
        linked, unmatched = self.sudo()._qbo_import_employees()
        return self._qbo_notification(
            _("QuickBooks employees imported"),
            _("%(linked)s linked to Odoo employees, %(unmatched)s without an Odoo match (link them in "
              "QuickBooks > Employees).", linked=linked, unmatched=unmatched), 'success')

    def _qbo_import_employees(self):
        """Import every QuickBooks employee as a reference (qbo.ref, entity Employee) and link the unlinked ones
        to Odoo employees of the company: same work e-mail first, else the same name (case-insensitive), only
        when exactly one Odoo employee matches. A link is a binding in state Sent (what a create would leave).

        :return: (links made, QuickBooks employees left without an Odoo employee)
        """
        self.ensure_one()
        with self._qbo_client_session() as client:
            rows = client.query_all('Employee', include_inactive=True)
        Ref = self.env['qbo.ref'].with_context(active_test=False)
        Binding = self.env['qbo.binding']
        refs = {ref.qbo_id: ref for ref in Ref.search([('connection_id', '=', self.id), ('entity', '=', 'Employee')])}
        for row in rows:
            vals = {'name': row.get('DisplayName') or row['Id'], 'active': row.get('Active', True), 'data': row}
            if row['Id'] in refs:
                refs[row['Id']].write(vals)
            else:
                refs[row['Id']] = Ref.create(dict(vals, connection_id=self.id, entity='Employee', qbo_id=row['Id']))
        bound = Binding.search([('connection_id', '=', self.id), ('entity', '=', 'Employee')])
        taken_ids = set(bound.mapped('qbo_id'))
        bound_employees = set(bound.filtered(lambda b: b.res_model == 'hr.employee').mapped('res_id'))
        employees = self.env['hr.employee'].with_context(active_test=False).search(
            [('company_id', 'in', [self.company_id.id, False])])
        free = employees.filtered(lambda e: e.id not in bound_employees)
        by_email, by_name = {}, {}
        for employee in free:
            if employee.work_email:
                by_email.setdefault(employee.work_email.strip().lower(), []).append(employee)
            by_name.setdefault((employee.name or '').strip().lower(), []).append(employee)
        linked = unmatched = 0
        for row in rows:
            if row['Id'] in taken_ids:
                continue
            email = ((row.get('PrimaryEmailAddr') or {}).get('Address') or '').strip().lower()
            candidates = by_email.get(email, []) if email else []
            if len(candidates) != 1:
                candidates = by_name.get((row.get('DisplayName') or '').strip().lower(), [])
            candidates = [e for e in candidates if e.id not in bound_employees]
            if len(candidates) != 1:
                unmatched += 1
                continue
            self.env['hr.employee']._qbo_link_employee(self, candidates[0], row)
            bound_employees.add(candidates[0].id)
            linked += 1
        return linked, unmatched

    # ------------------------------------------------------------------ auto-send

    @api.model
    def _qbo_enqueue_auto_send_all(self):
        """The core's auto-send (invoices), then the timesheets of every connection that sends them by itself."""
        bindings = super()._qbo_enqueue_auto_send_all()
        for connection in self.sudo().search([('timesheet_auto_send', '=', True), ('state', '=', 'connected')]):
            bindings |= connection._qbo_enqueue_timesheets()
        return bindings

    def _qbo_enqueue_timesheets(self, limit=AUTO_SEND_BATCH_SIZE):
        """Queue this connection's timesheet lines that have no link yet, dated from the export cut-off and up
        to the lock date (set-based, as the core's auto-send: an anti-join on the links).

        :return: the bindings created
        """
        self.ensure_one()
        Binding = self.env['qbo.binding'].sudo()
        linked = Binding._search([('connection_id', '=', self.id), ('res_model', '=', 'account.analytic.line')])
        domain = [('company_id', '=', self.company_id.id), ('project_id', '!=', False), ('employee_id', '!=', False),
                  ('unit_amount', '>', 0), ('date', '>=', self._qbo_export_from_date()),
                  ('id', 'not in', linked.subselect('res_id'))]
        if self.timesheet_lock_date:
            domain.append(('date', '<=', self.timesheet_lock_date))
        domain.append(('qbo_group_id', '=', False))
        lines = self.env['account.analytic.line'].sudo().search(domain, limit=limit, order='date, id')
        if self.timesheet_group_activities:
            groups = lines._qbo_assign_groups(self)
            return groups.qbo_binding_ids.filtered(lambda b: b.connection_id == self and b.state == 'to_send')
        return Binding.create([{'connection_id': self.id, 'res_model': 'account.analytic.line', 'res_id': line.id,
                                'entity': 'TimeActivity'} for line in lines])

    # ------------------------------------------------------------------ one time activity per employee, day and task

    def write(self, vals):
        switching = 'timesheet_group_activities' in vals and self.filtered(
            lambda c: c.timesheet_group_activities != bool(vals['timesheet_group_activities']))
        res = super().write(vals)
        for connection in switching or ():
            connection._qbo_switch_timesheet_grouping()
        return res

    def _qbo_switch_timesheet_grouping(self):
        """The setting changed: the lines not sent yet follow it, the others keep their time activity.

        Not sent yet: a link (the line's own, or its group's) without QuickBooks Id, without a create whose
        outcome is unknown, and not being exported right now (no live lease). Such links are dropped and their
        lines queued the new way.
        """
        self.ensure_one()
        Binding = self.env['qbo.binding'].sudo()
        now = fields.Datetime.now()
        source = 'account.analytic.line' if self.timesheet_group_activities else 'qbo.time.activity.group'
        candidates = Binding.search([('connection_id', '=', self.id), ('res_model', '=', source),
                                     ('qbo_id', '=', False), ('state', 'in', ('to_send', 'error', 'blocked'))])
        # A create sent by a request that died before its answer was saved is only in the intent log: taken
        # back first, so that it counts as sent (it may be in QuickBooks).
        self.env['qbo.intent.log'].sudo()._qbo_adopt(candidates)
        unsent = candidates.filtered(
            lambda b: not b._qbo_pending_create() and not (b.lease_owner and b.lease_until and b.lease_until > now))
        if not unsent:
            return
        records = self.env[source].sudo().browse(unsent.mapped('res_id')).exists()
        unsent.unlink()
        if self.timesheet_group_activities:
            records._qbo_assign_groups(self)
            return
        lines = records.line_ids
        lines.qbo_group_id = False
        Binding.create([{'connection_id': self.id, 'res_model': 'account.analytic.line', 'res_id': line.id,
                         'entity': 'TimeActivity'} for line in lines])._qbo_trigger_cron()
