import logging

from werkzeug.exceptions import RequestEntityTooLarge

from odoo import _, http
from odoo.http import request

from .. import const
from ..models.qbo_webhook_event import QboWebhookSignatureError

_logger = logging.getLogger(__name__)


class QboWebhookController(http.Controller):
    """Intuit's webhook target and the app's Reconnect URL. Thin: verify, store, redirect."""

    @http.route(const.WEBHOOK_ROUTE, type='http', auth='public', methods=['POST'], csrf=False, save_session=False,
                max_content_length=const.WEBHOOK_MAX_BYTES)
    def qbo_webhook(self, **kwargs):
        """Store the notification's events and answer at once (Intuit waits 3 seconds at most).

        413 for a body over `WEBHOOK_MAX_BYTES` (the route's `max_content_length`), refused from
        its Content-Length before it is read (see `ir.http._pre_dispatch`). 401 and nothing
        stored when the intuit-signature does not match any verifier token; 200 otherwise, even
        for events we do not use (a 4xx would make Intuit retry and hold back later events).
        QuickBooks is never called here: the change-feed cron reads the changes.
        """
        remote = request.httprequest.remote_addr
        # A body announced over the limit never gets here (ir.http._pre_dispatch); werkzeug 3 also
        # stops a read at the limit, and a body sent without Content-Length is measured.
        try:
            body = request.httprequest.get_data(cache=False)
        except RequestEntityTooLarge:
            body = None
        if body is None or len(body) > const.WEBHOOK_MAX_BYTES:
            _logger.warning("QuickBooks webhook refused from %s: body over %s bytes", remote, const.WEBHOOK_MAX_BYTES)
            return request.make_response('payload too large', status=413)
        signature = request.httprequest.headers.get('intuit-signature')
        try:
            count = request.env['qbo.webhook.event'].sudo()._qbo_receive(body, signature)
        except QboWebhookSignatureError as exc:
            _logger.warning("QuickBooks webhook refused from %s: %s", remote, exc)
            return request.make_response('invalid signature', status=401)
        _logger.info("QuickBooks webhook: %s new event(s) stored.", count)
        return request.make_response('', status=200)

    @http.route(const.RECONNECT_ROUTE, type='http', auth='user', methods=['GET'])
    def qbo_reconnect(self, realmId=None, **kwargs):
        """The Reconnect URL of the Intuit app: straight to Intuit's consent page for the right company.

        The company is the one connected to `realmId` when Intuit gives it (and the user may access
        it), else the user's current company.
        """
        if not request.env.user.has_group('base.group_system'):
            return self._error_page(_("Only administrators can reconnect QuickBooks Online."),
                                    _("Ask an administrator to open this link."), status=403)
        Connection = request.env['qbo.connection']
        connection = Connection.browse()
        if realmId:
            connection = Connection.search([('realm_id', '=', realmId),
                                            ('company_id', 'in', request.env.user.company_ids.ids)], limit=1)
        connection = connection or Connection._qbo_get_for_company(request.env.company)
        if not connection:
            return self._error_page(_("QuickBooks Online is not configured for %s.", request.env.company.name),
                                    _("Enter the app's keys in Settings > Accounting first."), status=404)
        action = connection.with_company(connection.company_id).with_context(
            qbo_takeover_confirmed=True).action_qbo_connect()
        return request.redirect(action['url'], local=False)

    def _error_page(self, message, advice, status=400):
        return request.render('quickbooks_online.qbo_oauth_error_page', {
            'message': message, 'advice': advice,
            'settings_url': '/odoo/action-account.action_account_config',
        }, status=status)
