from markupsafe import Markup, escape

from odoo import _, api, fields, models

# The transfer history's operations that write to QuickBooks (see QboClient): what "sends" counts.
WRITE_OPERATIONS = ('create', 'update', 'void', 'delete', 'batch')


class QboConnectionDashboard(models.AbstractModel):
    """The page an admin opens first: the health, queue, failures and metered reads of one connection.

    A form view of the connection (views/qbo_dashboard_views.xml) over these computed fields; the
    sends per day and failures per code are Odoo graph and pivot views of the transfer history.
    """
    _name = 'qbo.connection.dashboard'
    _description = 'QuickBooks Online connection: dashboard'

    dash_token_days_left = fields.Integer('Refresh token: days left', compute='_compute_dash_health')
    dash_last_webhook = fields.Datetime('Last webhook', compute='_compute_dash_health')
    dash_queue_html = fields.Html('Queue', compute='_compute_dash_queue', sanitize=False)
    dash_failures_html = fields.Html('Failures', compute='_compute_dash_queue', sanitize=False)
    dash_to_send = fields.Integer('To send', compute='_compute_dash_queue')
    dash_failed = fields.Integer('Failed', compute='_compute_dash_queue')

    def _compute_dash_health(self):
        now = fields.Datetime.now()
        data = self.env['qbo.webhook.event'].sudo()._read_group(
            [('connection_id', 'in', self.ids)], ['connection_id'], ['create_date:max'])
        last = {connection.id: date for connection, date in data}
        for connection in self:
            expiry = connection.refresh_token_expiry
            connection.dash_token_days_left = max(0, (expiry - now).days) if expiry else 0
            connection.dash_last_webhook = last.get(connection.id, False)

    def _compute_dash_queue(self):
        """Per document type: to send now, deferred (with the next attempt), blocked, failed; failures by code."""
        now = fields.Datetime.now()
        Binding = self.env['qbo.binding'].sudo()
        advice = self.env['qbo.error.advice']
        for connection in self:
            rows = Binding._read_group(
                [('connection_id', '=', connection.id), ('state', 'in', ('to_send', 'error', 'blocked', 'variance'))],
                ['entity', 'state'], ['__count', 'next_retry_date:min'])
            deferred = dict(Binding._read_group(
                [('connection_id', '=', connection.id), ('state', '=', 'to_send'), ('next_retry_date', '>', now)],
                ['entity'], ['__count']))
            table = {}
            for entity, state, count, next_date in rows:
                line = table.setdefault(entity, {'to_send': 0, 'error': 0, 'blocked': 0, 'variance': 0, 'next': False})
                line[state] = count
                if state == 'to_send' and entity in deferred:
                    line['next'] = next_date
            connection.dash_to_send = sum(line['to_send'] for line in table.values())
            connection.dash_failed = sum(line['error'] + line['blocked'] + line['variance'] for line in table.values())
            queue_rows = []
            for entity, line in sorted(table.items()):
                next_attempt = fields.Datetime.context_timestamp(self, line['next']) if line['next'] else None
                queue_rows.append((entity, line['to_send'] - deferred.get(entity, 0), deferred.get(entity, 0),
                                   fields.Datetime.to_string(next_attempt)[:16] if next_attempt else '',
                                   line['blocked'], line['error'], line['variance']))
            connection.dash_queue_html = self._qbo_dash_table(
                [_("Document"), _("To send"), _("Deferred"), _("Next attempt"), _("Blocked"), _("Failed"),
                 _("Variance")], queue_rows)
            failures = Binding._read_group(
                [('connection_id', '=', connection.id), ('state', 'in', ('error', 'blocked'))],
                ['error_code'], ['__count', 'error_message:max'])
            failure_rows = []
            for code, count, message in sorted(failures, key=lambda row: -row[1]):
                failure_rows.append((code or _("(none)"), count,
                                     advice._qbo_advice(code, message or '') or (message or '')[:300]))
            connection.dash_failures_html = self._qbo_dash_table([_("Code"), _("Records"), _("What to do")],
                                                                 failure_rows)

    @api.model
    def _qbo_dash_table(self, header, rows):
        """A small HTML table (escaped cells), or a line saying there is nothing."""
        if not rows:
            return Markup('<p class="text-muted">%s</p>') % _("Nothing.")
        head = Markup('').join(Markup('<th>%s</th>') % cell for cell in header)
        body = Markup('').join(
            Markup('<tr>%s</tr>') % Markup('').join(Markup('<td>%s</td>') % escape(str(cell)) for cell in row)
            for row in rows)
        return Markup('<table class="table table-sm o_qbo_dash_table"><thead><tr>%s</tr></thead>'
                      '<tbody>%s</tbody></table>') % (head, body)

    # ------------------------------------------------------------------ buttons

    @api.model
    def action_qbo_open_dashboard(self):
        """Menu: the dashboard of the current company's connection."""
        connection = self._qbo_get_for_company(self.env.company, create=False)
        if not connection:
            return self.action_qbo_open_current()  # not configured yet: the connection's own page says how
        view = self.env.ref('quickbooks_online.qbo_connection_view_dashboard')
        return {'type': 'ir.actions.act_window', 'res_model': 'qbo.connection', 'res_id': connection.id,
                'views': [(view.id, 'form')], 'name': _("QuickBooks dashboard"), 'target': 'current'}

    def _qbo_dash_log_action(self, name, domain, context):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('quickbooks_online.qbo_dash_sync_log_action')
        action.update(name=name, domain=[('connection_id', '=', self.id)] + domain, context=context)
        return action

    def action_qbo_dash_sends(self):
        """Sends per day (graph over the transfer history: the writes QuickBooks accepted)."""
        return self._qbo_dash_log_action(_("Sends per day"), [('result', '=', 'success'),
                                                            ('operation', 'in', WRITE_OPERATIONS)],
                                         {'graph_groupbys': ['create_date:day', 'operation']})

    def action_qbo_dash_failures(self):
        """Failures per QuickBooks code (graph and pivot over the transfer history)."""
        return self._qbo_dash_log_action(_("Failures per code"), [('result', '=', 'error')],
                                         {'graph_groupbys': ['error_code'],
                                          'pivot_row_groupby': ['error_code'],
                                          'pivot_column_groupby': ['create_date:day']})

    def action_qbo_dash_queue(self):
        """The transfers waiting or failed, grouped by document type and state."""
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('quickbooks_online.qbo_binding_action')
        action.update(domain=[('connection_id', '=', self.id), ('state', 'in', ('to_send', 'error', 'blocked',
                                                                                 'variance'))],
                      context={'group_by': ['entity', 'state']})
        return action
