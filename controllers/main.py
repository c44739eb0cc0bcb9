import logging

from odoo import _, http
from odoo.exceptions import AccessError, UserError
from odoo.http import request

from .. import const

_logger = logging.getLogger(__name__)


class QboController(http.Controller):
    """Intuit's OAuth 2.0 redirect target. Thin: verify, delegate to the model, redirect."""

    OAUTH_RETURN_URL = const.OAUTH_CALLBACK_ROUTE
    SETTINGS_URL = '/odoo/action-account.action_account_config'
    CONNECTED_URL = '/odoo/action-quickbooks_online.qbo_action_connect_done'

    @http.route(OAUTH_RETURN_URL, type='http', auth='user', methods=['GET'])
    def qbo_oauth_callback(self, state=None, code=None, realmId=None, error=None, **kwargs):
        """Finish the connection: check the signed state, exchange the code, go back to settings."""
        if not request.env.user.has_group('base.group_system'):
            return self._error_page(_("Only administrators can connect QuickBooks Online."),
                                    _("Ask an administrator to connect from %s.",
                                      request.env['qbo.connection']._qbo_where('settings')), status=403)
        try:
            connection = request.env['qbo.connection']._qbo_verify_state(state)
            if error:
                if error == 'access_denied':
                    return self._error_page(
                        _("The connection to QuickBooks was cancelled on Intuit's page."),
                        _("Nothing changed. Click Connect again and choose Authorize to connect."), status=200)
                return self._error_page(_("Intuit refused the connection: %s", error),
                                        _("Check the app's scopes and Redirect URI, then connect again."))
            connection._qbo_complete_authorization(code, realmId)
        except (UserError, AccessError) as exc:
            _logger.warning("QuickBooks OAuth callback refused for uid %s from %s: %s",
                            request.env.uid, request.httprequest.remote_addr, exc)
            return self._error_page(str(exc), _("Go back to the settings and click Connect again."))
        except Exception as exc:  # noqa: BLE001 - the admin gets advice and an incident id, not a traceback
            request.env.cr.rollback()
            message = request.env['qbo.sync.log']._qbo_log_unexpected(request.env['qbo.connection'], exc)
            return self._error_page(message, _("Go back to the settings and click Connect again."), status=500)
        # The landing client action shows how the connection stands, then the settings block.
        return request.redirect(self.CONNECTED_URL)

    def _error_page(self, message, advice, status=400):
        return request.render('quickbooks_online.qbo_oauth_error_page', {
            'message': message, 'advice': advice, 'settings_url': self.SETTINGS_URL,
        }, status=status)
