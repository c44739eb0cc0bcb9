from datetime import timedelta

from odoo import _, api, fields, models

from .. import const
from .qbo_binding import QboBlocked, QboDeferred

# Account types whose QuickBooks lines must name their customer or vendor (else QuickBooks refuses the entry).
PARTY_ENTITY_BY_ACCOUNT_TYPE = {'asset_receivable': 'Customer', 'liability_payable': 'Vendor'}


class QboMapperLedger(models.AbstractModel):
    """Builds the QuickBooks JournalEntry of a posted miscellaneous entry. Plain dicts out; no HTTP.

    Each journal item becomes a Debit or Credit line on the QuickBooks account mapped to its account
    ('account' mapping); receivable and payable lines carry their customer or vendor (QuickBooks
    requires it); a line split over several analytic accounts mapped to classes becomes one line per
    class, the last part taking the rounding remainder, so that every item's parts add up to it and
    the entry stays balanced to the cent.
    """
    _name = 'qbo.mapper.ledger'
    _description = 'QuickBooks Online payload builder (journal entries)'

    @api.model
    def _qbo_party_partners(self, move):
        """{(partner, entity)} of the receivable/payable lines: sent first (the entry names them)."""
        parties = set()
        for line in move.line_ids:
            entity = PARTY_ENTITY_BY_ACCOUNT_TYPE.get(line.account_id.account_type)
            if entity and line.partner_id:
                parties.add((line.partner_id.commercial_partner_id, entity))
        return parties

    @api.model
    def _qbo_line_amount(self, line, move):
        """The item's signed amount in the entry's currency (debit positive)."""
        foreign = move.currency_id != move.company_id.currency_id
        return move.currency_id.round(line.amount_currency if foreign else line.balance)

    @api.model
    def _qbo_class_split(self, line, amount, connection):
        """[(ClassRef or None, amount)] of a line: one part per analytic account mapped to a class, in
        proportion to the distribution; what no class takes stays a part without class."""
        currency = line.move_id.currency_id
        if not connection.use_classes or not line.analytic_distribution:
            return [(None, amount)]
        Mapping = self.env['qbo.mapping']
        parts, rest_pct = [], 100.0
        for key, pct in line.analytic_distribution.items():
            analytics = self.env['account.analytic.account'].browse([int(a) for a in key.split(',')])
            ref = next((Mapping._qbo_find(connection, 'analytic', a) for a in analytics
                        if Mapping._qbo_find(connection, 'analytic', a)), None)
            if ref:
                parts.append(({'value': ref.qbo_id}, pct))
                rest_pct -= pct
        if not parts:
            return [(None, amount)]
        if currency.compare_amounts(rest_pct, 0) > 0:
            parts.append((None, rest_pct))
        result, left = [], amount
        for index, (class_ref, pct) in enumerate(parts):
            part = left if index == len(parts) - 1 else currency.round(amount * pct / 100.0)
            left -= part
            if not currency.is_zero(part):
                result.append((class_ref, part))
        return result

    @api.model
    def _qbo_prepare_journal_entry_vals(self, move, connection):
        """JournalEntry payload (without Id/SyncToken): lines, date, number, marker, currency."""
        payables = self.env['qbo.mapper.payables']
        lines = []
        for line in move.line_ids.sorted('id'):
            amount = self._qbo_line_amount(line, move)
            if move.currency_id.is_zero(amount):
                continue
            account = payables._qbo_account_ref(connection, line.account_id, line.name or move.name)
            for class_ref, part in self._qbo_class_split(line, amount, connection):
                detail = {'PostingType': 'Debit' if part > 0 else 'Credit', 'AccountRef': account}
                entity = PARTY_ENTITY_BY_ACCOUNT_TYPE.get(line.account_id.account_type)
                if entity:
                    detail['Entity'] = {'Type': entity, 'EntityRef': {'value': self._qbo_party_id(
                        line, entity, connection)}}
                if class_ref:
                    detail['ClassRef'] = class_ref
                lines.append({'DetailType': 'JournalEntryLineDetail', 'Amount': abs(part),
                              'Description': (line.name or move.ref or move.name or '')[
                                  :const.LINE_DESCRIPTION_MAX_LENGTH],
                              'JournalEntryLineDetail': detail})
        if not lines:
            raise QboBlocked(_("%s has no amounts to send.", move.display_name))
        vals = {
            'TxnDate': str(move.date),
            'DocNumber': move.name[:const.DOC_NUMBER_MAX_LENGTH],
            'PrivateNote': f"Odoo {move.name} {self.env['qbo.mapper']._qbo_marker(move)}",
            'Line': lines,
        }
        if move.currency_id != move.company_id.currency_id:
            if not connection.multi_currency:
                raise QboBlocked(_("This entry is in %(currency)s but the QuickBooks company works in %(home)s only: "
                                   "turn on Multicurrency in QuickBooks, then Test connection.",
                                   currency=move.currency_id.name, home=connection.qbo_home_currency))
            vals['CurrencyRef'] = {'value': move.currency_id.name}
            rate = move.currency_id._get_conversion_rate(move.currency_id, move.company_id.currency_id,
                                                         move.company_id, move.date)
            vals['ExchangeRate'] = round(rate, const.EXCHANGE_RATE_DIGITS)
        return vals

    @api.model
    def _qbo_party_id(self, line, entity, connection):
        """The QuickBooks Id of a receivable/payable line's customer or vendor (sent first), else QboBlocked."""
        partner = line.partner_id.commercial_partner_id
        if not partner:
            raise QboBlocked(_("The line '%(line)s' is on the %(kind)s account %(account)s without a partner: "
                               "QuickBooks needs the customer or vendor of such lines. Set the partner on the line.",
                               line=line.name or line.account_id.display_name, kind=entity.lower(),
                               account=line.account_id.display_name))
        binding = partner._qbo_binding(connection, entity)
        if binding and binding.state in ('error', 'blocked') and not binding.qbo_id:
            raise QboBlocked(_("The %(entity)s %(name)s could not be sent to QuickBooks: %(error)s", entity=entity,
                               name=partner.display_name, error=binding.error_message))
        if not binding or not binding.qbo_id:
            raise QboDeferred(_("Waiting for the %(entity)s %(name)s to be sent to QuickBooks.", entity=entity,
                                name=partner.display_name), retry_at=fields.Datetime.now() + timedelta(minutes=1))
        return binding.qbo_id

    @api.model
    def _qbo_debit_total(self, move):
        """What QuickBooks' TotalAmt of the entry must be: its debits in the entry's currency."""
        return move.currency_id.round(sum(amount for amount in (self._qbo_line_amount(line, move)
                                                                for line in move.line_ids) if amount > 0))
