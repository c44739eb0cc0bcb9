import logging
import traceback
import uuid
from datetime import timedelta

from odoo import _, api, fields, models

_logger = logging.getLogger(__name__)

DEFAULT_LOG_RETENTION_DAYS = 30


class QboSyncLog(models.Model):
    """Transfer history: one line per HTTP call to QuickBooks (append-only).

    Never holds tokens, request bodies or personal data: only the operation, the record concerned,
    the HTTP status, QuickBooks' fault code and message, `intuit_tid` and the duration.
    """
    _name = 'qbo.sync.log'
    _description = 'QuickBooks Online transfer history'
    _order = 'id desc'
    _rec_name = 'operation'

    connection_id = fields.Many2one('qbo.connection', ondelete='cascade', index=True, readonly=True)
    company_id = fields.Many2one(related='connection_id.company_id', store=True, readonly=True)
    operation = fields.Char(readonly=True)
    method = fields.Char(readonly=True)
    path = fields.Char(readonly=True)
    res_model = fields.Char('Record model', readonly=True, index=True)
    res_id = fields.Many2oneReference('Record id', model_field='res_model', readonly=True, index=True)
    record_name = fields.Char(readonly=True)
    result = fields.Selection([('success', 'Success'), ('error', 'Error')], readonly=True)
    http_status = fields.Integer(readonly=True)
    error_code = fields.Char('QuickBooks code', readonly=True)
    message = fields.Text(readonly=True)
    intuit_tid = fields.Char('intuit_tid', readonly=True, help="Intuit's transaction id: give it to Intuit support.")
    request_id = fields.Char('requestid', readonly=True)
    duration_ms = fields.Integer('Duration (ms)', readonly=True)
    advice = fields.Text('What to do', compute='_compute_advice')

    @api.depends('error_code', 'message')
    def _compute_advice(self):
        advice = self.env['qbo.error.advice']
        for log in self:
            log.advice = log.result == 'error' and advice._qbo_advice(log.error_code, log.message) or False

    @api.model
    def _qbo_create_from_calls(self, connection, calls):
        """Store the call records collected by the client (see QboClient.on_call).

        :param connection: qbo.connection record
        :param list calls: dicts produced by the client
        """
        if not calls:
            return self.browse()
        # The records' names, one query per model (a batch's calls name many records).
        refs = {}
        for call in calls:
            if call.get('res_ref'):
                res_model, res_id = call['res_ref'].split(',')
                refs.setdefault(res_model, set()).add(int(res_id))
        names = {}
        for res_model, ids in refs.items():
            if res_model in self.env:
                for record in self.env[res_model].browse(ids).exists():
                    names[res_model, record.id] = record.display_name
        vals_list = []
        for call in calls:
            res_model, res_id, record_name = False, False, False
            if call.get('res_ref'):
                res_model, res_id = call['res_ref'].split(',')
                res_id = int(res_id)
                record_name = names.get((res_model, res_id), False)
            vals_list.append({
                'connection_id': connection.id,
                'operation': call.get('operation'),
                'method': call.get('method'),
                'path': (call.get('path') or '')[:250],
                'res_model': res_model,
                'res_id': res_id,
                'record_name': record_name,
                'result': 'success' if call.get('success') else 'error',
                'http_status': call.get('http_status') or 0,
                'error_code': call.get('code'),
                'message': call.get('message'),
                'intuit_tid': call.get('intuit_tid'),
                'request_id': call.get('request_id'),
                'duration_ms': call.get('duration_ms'),
            })
        return self.sudo().create(vals_list)

    @api.autovacuum
    def _gc_qbo_sync_log(self):
        """Purge transfer history older than the configured retention (days)."""
        days = int(self.env['ir.config_parameter'].sudo().get_param(
            'quickbooks_online.log_retention_days', DEFAULT_LOG_RETENTION_DAYS))
        limit = fields.Datetime.now() - timedelta(days=days)
        self.sudo().search([('create_date', '<', limit)]).unlink()

    # ------------------------------------------------------------------ incidents
    # Unexpected errors as incidents: details for the log and the transfer history, advice for people.
    # A traceback (SQL detail, file paths) is no message for an accountant, and names the database's
    # internals to whoever reads a banner. The details go to the server log and to one transfer-history
    # row under a short incident id; banners and the chatter get the advice and that id, which an
    # administrator looks up.

    @api.model
    def _qbo_log_unexpected(self, connection, exc, res_ref=None):
        """Record an unexpected exception; return the message to show instead of it.

        :param connection: the qbo.connection concerned (may be empty)
        :param Exception exc: the exception, caught by the caller
        :param str res_ref: 'model,id' of the Odoo record concerned
        :return: the user's message, naming the incident id
        :rtype: str
        """
        incident = uuid.uuid4().hex[:10].upper()
        _logger.error("QuickBooks incident %s (%s)", incident, res_ref or 'no record', exc_info=exc)
        if connection:
            detail = ''.join(traceback.format_exception(exc, limit=-5)).strip()
            self._qbo_create_from_calls(connection, [{
                'operation': 'incident', 'res_ref': res_ref, 'success': False, 'code': 'unexpected',
                'message': _("Incident %(id)s: %(error)s\n%(detail)s", id=incident, error=repr(exc),
                             detail=detail[-3000:]),
                'request_id': incident,
            }])
        return _("Something unexpected went wrong in Odoo (incident %(id)s). Nothing was sent twice to QuickBooks: "
                 "try again later. If it happens again, give the incident number to your administrator, who finds "
                 "the details in the server log and in %(where)s.",
                 id=incident, where=self.env['qbo.connection']._qbo_where('history'))
