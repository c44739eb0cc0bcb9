import logging
import traceback
import uuid

from odoo import _, api, models

_logger = logging.getLogger(__name__)


class QboSyncLogIncident(models.Model):
    """Unexpected errors as incidents: details for the log and the transfer history, advice for people.

    A traceback (SQL detail, file paths) is no message for an accountant, and names the
    database's internals to whoever reads a banner. The details go to the server log and to one
    transfer-history row under a short incident id; banners and the chatter get the advice and
    that id, which an administrator looks up.
    """
    _inherit = 'qbo.sync.log'

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
