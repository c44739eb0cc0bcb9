import logging

from werkzeug.exceptions import RequestEntityTooLarge

from odoo import models
from odoo.http import request

_logger = logging.getLogger(__name__)


class IrHttp(models.AbstractModel):
    _inherit = 'ir.http'

    @classmethod
    def _pre_dispatch(cls, rule, args):
        """Refuse a body larger than the route's `max_content_length` from its Content-Length, unread.

        Odoo parses a request's form before the controller runs, and werkzeug 2 (Odoo 18) reads
        ("exhausts") an over-long body to its end before answering 413: an endpoint open to the
        internet (the webhook) would read whatever it is sent. Only this addon's routes.
        """
        result = super()._pre_dispatch(rule, args)
        limit = rule.endpoint.routing.get('max_content_length')
        length = request.httprequest.content_length
        if limit and length and length > limit and \
                rule.endpoint.func.__module__.startswith('odoo.addons.quickbooks_online.'):
            _logger.warning("QuickBooks route %s refused from %s: %s bytes announced, at most %s",
                            request.httprequest.path, request.httprequest.remote_addr, length, limit)
            raise RequestEntityTooLarge()
        return result
