import re

from odoo import _, api, models

# Intuit writes some codes with leading zeros inside the message ("errorCode=003100"): normalise them.
_EMBEDDED_CODE = re.compile(r'errorCode=0*(\d+)')


class QboErrorAdvice(models.AbstractModel):
    """What a QuickBooks fault means and what the accountant should do, in their words.

    One table for every place that shows an error (document banner, transfers, transfer history,
    connection test, notifications), so that a person never gets Intuit's raw text alone. It is
    the same table as README.rst's "Troubleshooting by QuickBooks error code".
    """
    _name = 'qbo.error.advice'
    _description = 'QuickBooks Online error advice'

    @api.model
    def _qbo_normalise_code(self, code, text=''):
        """The fault code without Intuit's leading zeros, also when it only appears inside the text."""
        code = (code or '').strip()
        if not code or not code.isdigit():
            match = _EMBEDDED_CODE.search(text or '')
            if match and not code:
                code = match.group(1)
        return code.lstrip('0') if code.isdigit() else code

    @api.model
    def _qbo_advice(self, code, text=''):
        """Advice for a fault code (or OAuth error), or '' when we have nothing better than Intuit's text.

        :param str code: QuickBooks fault code ('6240'), HTTP-derived code or OAuth error ('invalid_grant')
        :param str text: Intuit's message, searched for an embedded errorCode when `code` is empty
        :rtype: str
        """
        Connection = self.env['qbo.connection']
        settings, mappings = Connection._qbo_where('settings'), Connection._qbo_where('mappings')
        code = self._qbo_normalise_code(code, text)
        advice = {
            '3200': _("QuickBooks did not accept the connection's access token. The connector renews it by itself; "
                      "if this persists, reconnect in %s.", settings),
            '3100': _("QuickBooks refused the operation (not authorized): the QuickBooks user who connected may have "
                      "lost access to this company or to accounting data, or the app lacks the accounting scope. "
                      "Check the user's rights in QuickBooks, reconnect in %s, then retry.", settings),
            '3001': _("QuickBooks is throttling requests (too many per minute). Nothing to do: the record is sent "
                      "again automatically in about a minute."),
            '610': _("A QuickBooks object this record refers to was deleted or made inactive. Reactivate it in "
                     "QuickBooks or change the mapping in %s, then retry.", mappings),
            '2020': _("QuickBooks needs a value that is empty in Odoo (the message names the field). Complete the "
                      "Odoo record and retry."),
            '2050': _("A value is too long for QuickBooks (the message names the field). Shorten it in Odoo and "
                      "retry."),
            '2500': _("A QuickBooks item, tax code, term, class or customer this record refers to does not exist. "
                      "Import from QuickBooks again (%(settings)s) and check %(mappings)s, then retry.",
                      settings=settings, mappings=mappings),
            '5010': _("The record was changed in QuickBooks at the same time. Retry: the connector re-reads it and "
                      "keeps the QuickBooks-side changes it does not manage."),
            '6070': _("QuickBooks computed a different line amount (quantity x price). Check the line's quantity, "
                      "price and discount."),
            '6100': _("A line's tax code is not valid for this QuickBooks company. Map the lines' Odoo taxes in %s.",
                      mappings),
            '6140': _("QuickBooks already has a document with this number. Renumber one of them or set an invoice "
                      "number prefix in %s, then retry.", settings),
            '6240': _("Another QuickBooks object already uses this name: customers, vendors and employees share one "
                      "list of unique names, items have their own. Rename one of them, then retry."),
            '6210': _("The document date is in a period closed in QuickBooks. Change the closing date in QuickBooks "
                      "or the document date, then retry."),
            '6000': _("QuickBooks refused the document for a business rule (named in the message). Fix what it "
                      "says and retry."),
            'invalid_client': _("Intuit refused the Client ID / Client Secret. Copy both again from your Intuit "
                                "app's Keys & credentials page into %s and connect again.", settings),
            'invalid_grant': _("Intuit refused the authorization (expired, revoked or already used). Connect again "
                               "in %s; queued exports resume afterwards.", settings),
        }
        return advice.get(code, '')

    @api.model
    def _qbo_describe(self, exc):
        """A full message for a person: advice first, then what QuickBooks said, then Intuit's transaction id.

        :param exc: a tools.QboError
        :rtype: str
        """
        advice = self._qbo_advice(exc.code, str(exc))
        lines = [advice] if advice else []
        lines.append(_("QuickBooks said: %s", exc))
        if getattr(exc, 'intuit_tid', None):
            lines.append(_("(intuit_tid: %s, for Intuit support)", exc.intuit_tid))
        return '\n'.join(lines)
