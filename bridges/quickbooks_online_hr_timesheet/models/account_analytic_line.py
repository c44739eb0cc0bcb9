from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from odoo.addons.quickbooks_online.models.qbo_binding import QboBlocked, QboDeferred

# Fields of a timesheet line whose change makes its time activity 'to send' again.
SYNCED_FIELDS = {'date', 'unit_amount', 'name', 'employee_id', 'project_id', 'task_id', 'product_id', 'account_id',
                 # sale_timesheet (optional): the billing of the time
                 'so_line', 'timesheet_invoice_id', 'timesheet_invoice_type'}
# The QuickBooks status fields (qbo.sync.mixin) a grouped line reads from its group.
QBO_STATUS_FIELDS = ('qbo_state', 'qbo_id', 'qbo_error', 'qbo_last_sync', 'qbo_url', 'qbo_next_retry',
                     'qbo_sent_name', 'qbo_reconnect')


class AccountAnalyticLine(models.Model):
    """Timesheet lines as QuickBooks time activities (qbo.exporter.time_activity sends them).

    Only timesheet lines (a project, an employee) are sent; other analytic lines never get a link.
    """
    _name = 'account.analytic.line'
    _inherit = ['account.analytic.line', 'qbo.sync.mixin']

    qbo_group_id = fields.Many2one(
        'qbo.time.activity.group', 'QuickBooks time activity of the day', copy=False, readonly=True, index=True,
        ondelete='set null', groups='account.group_account_invoice',
        help="With 'One time activity per employee, day and task': the time activity this line is part of.")

    @api.depends('qbo_binding_ids.state', 'qbo_binding_ids.qbo_id', 'qbo_binding_ids.error_message',
                 'qbo_binding_ids.next_retry_date', 'qbo_binding_ids.qbo_sent_name', 'qbo_group_id',
                 'qbo_group_id.qbo_binding_ids.state', 'qbo_group_id.qbo_binding_ids.qbo_id',
                 'qbo_group_id.qbo_binding_ids.error_message', 'qbo_group_id.qbo_binding_ids.next_retry_date')
    @api.depends_context('company')
    def _compute_qbo_status(self):
        """A line sent with others shows the state of their common time activity (its group's link)."""
        res = super()._compute_qbo_status()
        for line in self.filtered(lambda li: li.sudo().qbo_group_id):
            group = line.sudo().qbo_group_id
            for name in QBO_STATUS_FIELDS:
                line[name] = group[name]
        return res

    def _qbo_entity(self):
        return 'TimeActivity'

    def _qbo_exporter(self):
        return self.env['qbo.exporter.time_activity']

    @api.model
    def _qbo_synced_fields(self):
        return SYNCED_FIELDS & set(self._fields)

    def _qbo_check_exportable(self):
        """A timesheet line of a project, with an employee and some time, dated up to the lock date."""
        for line in self:
            if not line.project_id or not line.employee_id:
                raise UserError(_("Only timesheet lines (a project and an employee) are sent to QuickBooks."))
            lock = line._qbo_connection().timesheet_lock_date if line._qbo_connection() else False
            if lock and line.date > lock:
                raise UserError(_("%(line)s is dated %(date)s, after the lock date of timesheets sent to QuickBooks "
                                  "(%(lock)s): move the lock date forward once the period is checked.",
                                  line=line.display_name, date=line.date, lock=lock))

    # ------------------------------------------------------------------ what the time activity names

    def _qbo_dependencies(self, binding):
        """The employee (when it is created from Odoo) and the project's customer go first, as bindings of their own."""
        self.ensure_one()
        connection = binding.connection_id
        result = []
        Binding = self.env['qbo.binding']
        employee = self.employee_id
        if employee and employee.sudo().qbo_time_as_vendor and employee._qbo_vendor_partner():
            vendor_binding = Binding._qbo_get_or_create(connection, employee._qbo_vendor_partner(), 'Vendor')
            if not vendor_binding.qbo_id or vendor_binding.state == 'to_send':
                if vendor_binding.state in ('error', 'blocked'):
                    vendor_binding._qbo_transition('to_send', next_retry_date=False)
                result.append((vendor_binding, {}))
        elif employee:
            employee_binding = employee._qbo_binding(connection)
            if not employee_binding and connection.timesheet_create_employees:
                employee_binding = Binding._qbo_get_or_create(connection, employee, 'Employee')
            if employee_binding and (not employee_binding.qbo_id or employee_binding.state == 'to_send'):
                if employee_binding.state in ('error', 'blocked'):
                    employee_binding._qbo_transition('to_send', next_retry_date=False)
                result.append((employee_binding, {}))
        partner = self.project_id.partner_id.commercial_partner_id
        if partner:
            partner_binding = Binding._qbo_get_or_create(connection, partner, 'Customer')
            if not partner_binding.qbo_id or partner_binding.state == 'to_send':
                if partner_binding.state in ('error', 'blocked'):
                    partner_binding._qbo_transition('to_send', next_retry_date=False)
                result.append((partner_binding, {}))
        return result

    def _qbo_person(self, connection):
        """(NameOf, QuickBooks Id) of who did the work: the employee, or the vendor of a subcontractor, linked or
        sent before (see `_qbo_dependencies`)."""
        self.ensure_one()
        employee = self.employee_id
        if employee.sudo().qbo_time_as_vendor:
            partner = employee._qbo_vendor_partner()
            if not partner:
                raise QboBlocked(_("%s is recorded as a QuickBooks vendor but has no work contact to send as the "
                                   "vendor.", employee.name))
            binding = self.env['qbo.binding']._qbo_get_or_create(connection, partner, 'Vendor')
            return 'Vendor', binding.qbo_id or self._qbo_wait_for(binding, partner.display_name)
        return 'Employee', self._qbo_employee_qbo_id(connection)

    def _qbo_employee_qbo_id(self, connection):
        """QuickBooks Id of the line's employee, linked or sent before (see `_qbo_dependencies`)."""
        self.ensure_one()
        employee = self.employee_id
        binding = employee._qbo_binding(connection)
        if binding and binding.qbo_id:
            return binding.qbo_id
        if not binding:
            raise QboBlocked(_(
                "Blocked: mapping - %s is not linked to a QuickBooks employee. Import the employees (Settings > "
                "QuickBooks Online), link it in QuickBooks > Employees, or send it to QuickBooks.", employee.name))
        return self._qbo_wait_for(binding, employee.name)

    def _qbo_customer_qbo_id(self, connection):
        """QuickBooks Id of the project's customer (sent first), or None for a project without customer."""
        self.ensure_one()
        partner = self.project_id.partner_id.commercial_partner_id
        if not partner:
            return None
        binding = self.env['qbo.binding']._qbo_get_or_create(connection, partner, 'Customer')
        return binding.qbo_id or self._qbo_wait_for(binding, partner.display_name)

    def _qbo_wait_for(self, binding, name):
        """A dependency not in QuickBooks yet: blocked with its reason when it failed, else retried shortly."""
        if binding.state in ('error', 'blocked'):
            raise QboBlocked(_("%(name)s could not be sent to QuickBooks: %(error)s", name=name,
                               error=binding.error_message))
        raise QboDeferred(_("Waiting for %s to be sent to QuickBooks.", name),
                          retry_at=binding.next_retry_date or fields.Datetime.now() + timedelta(minutes=1))

    # ------------------------------------------------------------------ deletion

    def unlink(self):
        """A line whose time activity is (or may be) in QuickBooks hands its link to a removal record, whose
        delete the scheduler sends (exactly once, through the engine); a link that never reached QuickBooks
        goes with the line."""
        bindings = self.sudo().qbo_binding_ids
        if bindings:
            self.env['qbo.time.activity.removal'].sudo()._qbo_take_over(bindings)
        groups = self.sudo().qbo_group_id
        res = super().unlink()
        groups.invalidate_recordset(['line_ids'])
        groups._qbo_queue()  # updated without these lines, or deleted when none is left
        return res

    # ------------------------------------------------------------------ auto-send

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines._qbo_auto_queue()
        return lines

    def write(self, vals):
        res = super().write(vals)
        if self._qbo_synced_fields() & set(vals):
            grouped = self.filtered(lambda line: line.sudo().qbo_group_id)
            if grouped:
                grouped._qbo_regroup()
        if {'date', 'unit_amount', 'project_id', 'employee_id'} & set(vals):
            self._qbo_auto_queue()
        return res

    def _qbo_auto_queue(self):
        """With 'Send timesheets automatically', queue the new lines (and those moved into the period) now,
        for the next scheduled export; the cron's own sweep (qbo.connection._qbo_enqueue_timesheets) catches
        the rest."""
        timesheets = self.filtered(lambda line: line.project_id and line.employee_id and line.unit_amount > 0
                                   and not line.sudo().qbo_group_id)
        if not timesheets:
            return
        connections = self.env['qbo.connection'].sudo().search([
            ('company_id', 'in', timesheets.company_id.ids), ('timesheet_auto_send', '=', True),
            ('state', '=', 'connected')])
        Binding = self.env['qbo.binding'].sudo()
        queued = Binding
        for connection in connections:
            start, lock = connection._qbo_export_from_date(), connection.timesheet_lock_date
            due = timesheets.filtered(lambda li, c=connection, start=start, lock=lock: (
                li.company_id == c.company_id and li.date >= start and (not lock or li.date <= lock)
                and not li._qbo_binding(c)))
            if connection.timesheet_group_activities:
                due._qbo_assign_groups(connection)
                continue
            for line in due:
                queued |= Binding._qbo_get_or_create(connection, line, 'TimeActivity')
        if queued:
            queued._qbo_trigger_cron()

    # ------------------------------------------------------------------ one time activity per employee, day and task

    def _qbo_group_key(self, connection):
        """What the lines of one time activity share (see qbo.time.activity.group), or None for a line that is
        no timesheet (no project or employee): employee, date, project, task, analytic account (the class),
        billable status and rate, Service item (0 while unmapped: the export then says what to map)."""
        self.ensure_one()
        if not self.project_id or not self.employee_id:
            return None
        Mapper = self.env['qbo.mapper']
        has_customer = bool(self.project_id.partner_id)
        status, rate = Mapper._qbo_time_activity_billing(self, connection, has_customer)
        try:
            item = Mapper._qbo_time_activity_item(self, connection).id
        except QboBlocked:
            item = 0
        return '|'.join(str(part) for part in (
            self.employee_id.id, self.date, self.project_id.id, self.task_id.id, self.account_id.id, status,
            '' if rate is None else f'{rate:.4f}', item))

    def _qbo_assign_groups(self, connection):
        """Put these lines (no link of their own) in the time activity of their employee, day and task on
        `connection`, created when needed, and queue it.

        :return: the groups queued
        """
        Group = self.env['qbo.time.activity.group'].sudo()
        groups = Group
        logged = self._qbo_logged_alone(connection)
        for line in self.sudo():
            if line.id in logged:
                # Sent alone by a request that died before its link was saved: it may be in QuickBooks under
                # its own marker. It keeps that way (its link recovered from the intent log).
                line._qbo_recover_binding()._qbo_mark_to_send()
                continue
            key = line._qbo_group_key(connection)
            if not key:
                continue
            group = line.qbo_group_id
            if not group or group.key != key:
                groups |= group  # the line leaves it: updated (or deleted) without it
                group = Group._qbo_find_or_create(connection, line, key)
                line.qbo_group_id = group
            groups |= group
        groups._qbo_queue()
        return groups

    def _qbo_logged_alone(self, connection):
        """Ids of these lines, without a link of their own, whose write on `connection` is in the intent log
        (a request that sent it died before its link was saved: see qbo.intent.log), in one query."""
        ids = [line.id for line in self.sudo() if not line.qbo_group_id and not line._qbo_binding(connection)]
        if not ids:
            return set()
        with self.env['qbo.intent.log'].sudo()._qbo_cursor() as cr:
            cr.execute(SQL("SELECT DISTINCT res_id FROM qbo_intent_log WHERE connection_id = %s AND res_model = %s "
                           "AND res_id = ANY(%s)", connection.id, self._name, ids))
            return {row[0] for row in cr.fetchall()}

    def _qbo_regroup(self):
        """Grouped lines were edited: each goes to the group of its new key (both groups are sent again), or
        leaves its group when it is no timesheet any more; a line that keeps its key updates its group."""
        for connection, lines in self.sudo().grouped(lambda li: li.qbo_group_id.connection_id).items():
            leaving = lines.filtered(lambda li, c=connection: not li._qbo_group_key(c))
            if leaving:
                groups = leaving.qbo_group_id
                leaving.qbo_group_id = False
                groups._qbo_queue()
            (lines - leaving)._qbo_assign_groups(connection)

    def action_qbo_send(self):
        """Lines sent with others (grouped, or new under 'One time activity per employee, day and task') send
        their group's time activity; the others their own."""
        grouped = self.filtered(lambda line: line.sudo().qbo_group_id)
        for line in self - grouped:
            connection = line._qbo_connection()
            if connection and connection.timesheet_group_activities and not line._qbo_binding(connection):
                grouped |= line
        if not grouped:
            return super().action_qbo_send()
        if not self.env.su and not self.env.user.has_group('account.group_account_invoice'):
            return super().action_qbo_send()  # refused there, with the reason
        grouped._qbo_check_exportable()
        result = super(AccountAnalyticLine, self - grouped).action_qbo_send() if self - grouped else None
        fresh = grouped.filtered(lambda line: not line.sudo().qbo_group_id)
        for connection, lines in fresh.grouped(lambda li: li._qbo_connection()).items():
            if not connection or connection.state != 'connected':
                return super(AccountAnalyticLine, lines).action_qbo_send()  # says what is missing
            lines._qbo_assign_groups(connection)
        groups = grouped.sudo().qbo_group_id
        if fresh:
            # A group made in this transaction is not sent by it: were the request killed after QuickBooks
            # created the time activity, the group (its marker) would be rolled back with it, and sent again
            # under another. The scheduler sends it, after the group is committed.
            return self._qbo_queue_notification(groups.qbo_binding_ids.filtered(lambda b: b.state == 'to_send'))
        return groups.with_env(self.env).action_qbo_send() if groups else result
