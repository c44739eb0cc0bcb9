from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..tools import QboError
from .qbo_errors import QboReconnectNeeded
from .qbo_open_document import MIRROR_ENTITIES

# Odoo's open documents per side of the ledger: move types, and the sign of their open amount in the total.
SIDES = {
    'receivable': {'types': {'out_invoice': 1, 'out_refund': -1}, 'party': 'Customer', 'report': 'AgedReceivables'},
    'payable': {'types': {'in_invoice': 1, 'in_refund': -1}, 'party': 'Vendor', 'report': 'AgedPayables'},
}
# Two amounts are the same when they differ by less than half a cent.
TOLERANCE = 0.005


class QboReconciliation(models.Model):
    """Open receivables and payables, Odoo against QuickBooks: per partner and month, and document by document.

    The QuickBooks side is the mirror of its open documents (qbo.open.document, kept by the change
    feed): a run reads QuickBooks only to fill the mirror the first time (one paged query per entity),
    to read the changes since the last feed read (one CDC call), and for QuickBooks' own aged
    receivables and payables reports, which check the mirror's totals per customer and vendor. Months
    are those of the due date, as the aging reports count.
    """
    _name = 'qbo.reconciliation'
    _description = 'QuickBooks Online reconciliation'
    _order = 'id desc'
    _rec_name = 'create_date'

    connection_id = fields.Many2one('qbo.connection', required=True, ondelete='cascade', index=True)
    company_id = fields.Many2one(related='connection_id.company_id', store=True)
    currency_id = fields.Many2one(related='company_id.currency_id')
    mirror_date = fields.Datetime("QuickBooks read in full", readonly=True)
    feed_date = fields.Datetime("Changes read", readonly=True)
    reads = fields.Integer('Metered reads', readonly=True,
                           help="The QuickBooks reads this run made (metered by Intuit): the full read of the open "
                                "documents the first time, the change feed and the two aging reports.")
    line_ids = fields.One2many('qbo.reconciliation.line', 'run_id', readonly=True)
    document_ids = fields.One2many('qbo.reconciliation.document', 'run_id', readonly=True)
    difference_count = fields.Integer('Documents that differ', compute='_compute_counts')
    month_difference_count = fields.Integer('Months that differ', compute='_compute_counts')
    odoo_receivable = fields.Monetary('Open receivables in Odoo', readonly=True)
    qbo_receivable = fields.Monetary('Open receivables in QuickBooks', readonly=True)
    odoo_payable = fields.Monetary('Open payables in Odoo', readonly=True)
    qbo_payable = fields.Monetary('Open payables in QuickBooks', readonly=True)
    report_ok = fields.Boolean('Mirror agrees with the aging reports', readonly=True)
    report_check = fields.Html('Check against QuickBooks reports', readonly=True, sanitize=False)

    def _compute_counts(self):
        for run in self:
            run.difference_count = len(run.document_ids.filtered(lambda line: not line.fixed))
            run.month_difference_count = len(run.line_ids.filtered(lambda line: abs(line.difference) >= TOLERANCE))

    # ------------------------------------------------------------------ running

    @api.model
    def _qbo_run(self, connection, read_changes=True):
        """Compare Odoo's open documents with QuickBooks' and return the run.

        :param read_changes: bring the mirror up to date by the change feed first (when it was filled)
        """
        connection.ensure_one()
        if connection.state != 'connected':
            raise UserError(connection._qbo_not_connected_message())
        reads = 0
        feed_date = False
        try:
            if not connection.qbo_mirror_date:
                reads += connection._qbo_mirror_refresh()
            elif read_changes:
                stats = connection.sudo()._qbo_drain()
                reads += stats['calls']
                feed_date = fields.Datetime.now()
        except (QboError, QboReconnectNeeded) as exc:
            raise UserError(_("QuickBooks could not be read for the reconciliation: %s", exc)) from None
        run = self.sudo().create({'connection_id': connection.id, 'mirror_date': connection.qbo_mirror_date,
                                  'feed_date': feed_date or connection.last_cdc_date})
        totals = {}
        for side in SIDES:
            totals.update(run._qbo_compare(side))
        reads += run._qbo_check_reports()
        run.write(dict(totals, reads=reads))
        return run.sudo(False)

    def _qbo_party_links(self):
        """{(entity, QuickBooks Id): partner} and {(partner id, entity): QuickBooks Id} of the customers and vendors."""
        bindings = self.env['qbo.binding'].sudo().search([
            ('connection_id', '=', self.connection_id.id), ('res_model', '=', 'res.partner'),
            ('entity', 'in', ('Customer', 'Vendor')), ('qbo_id', '!=', False)])
        partners = self.env['res.partner'].browse(bindings.mapped('res_id')).exists()
        by_qbo = {(b.entity, b.qbo_id): partners.browse(b.res_id) for b in bindings if b.res_id in partners.ids}
        by_partner = {(b.res_id, b.entity): b.qbo_id for b in bindings}
        return by_qbo, by_partner

    @api.model
    def _qbo_expected_number(self, move, binding):
        """The DocNumber QuickBooks should show for `move`: the one it answered, else what the mapper sends."""
        if binding and binding.qbo_doc_number:
            return binding.qbo_doc_number
        number = move.name if move.move_type in ('out_invoice', 'out_refund') else (move.ref or '')
        return (number or '')[:21]

    def _qbo_compare(self, side):
        """Pair Odoo's open documents of `side` with the mirror's; write the lines of this run.

        :return: the run's totals of that side
        """
        self.ensure_one()
        connection = self.connection_id
        spec = SIDES[side]
        party_entity = spec['party']
        Mirror = self.env['qbo.open.document'].sudo()
        Binding = self.env['qbo.binding'].sudo()
        mirror = Mirror.search([('connection_id', '=', connection.id), ('side', '=', side)])
        mirror._qbo_link_bindings()  # links made since the mirror was written (sends, relinks)
        moves = self.env['account.move'].sudo().search([
            ('company_id', '=', connection.company_id.id), ('state', '=', 'posted'),
            ('move_type', 'in', list(spec['types'])), ('amount_residual', '!=', 0)])
        entities = [entity for entity, entity_spec in MIRROR_ENTITIES.items() if entity_spec['side'] == side]
        bindings = Binding.search([('connection_id', '=', connection.id), ('res_model', '=', 'account.move'),
                                   ('entity', 'in', entities), '|', ('res_id', 'in', moves.ids),
                                   ('qbo_id', 'in', mirror.mapped('qbo_id'))])
        binding_of_move = {b.res_id: b for b in bindings}
        # Documents paid in Odoo but open in QuickBooks come in through their link.
        moves |= self.env['account.move'].sudo().browse(
            [doc.binding_id.res_id for doc in mirror if doc.binding_id]).exists()
        by_qbo, by_partner = self._qbo_party_links()
        mirror_by_key = {(doc.entity, doc.qbo_id): doc for doc in mirror}
        # QuickBooks documents no Odoo document is linked to, by (customer/vendor Id, number): the candidates
        # of a relink.
        unlinked = {}
        for doc in mirror.filtered(lambda d: not d.binding_id):
            unlinked.setdefault((doc.qbo_party_id, doc.doc_number or ''), doc)
        used = Mirror.browse()
        documents = []
        amounts = []  # (partner, QuickBooks party Id, month, Odoo amount, QuickBooks amount)

        def month(date):
            return date.strftime('%Y-%m') if date else False

        def qbo_amount(doc):
            return MIRROR_ENTITIES[doc.entity]['sign'] * doc.home_balance

        for move in moves:
            sign = spec['types'][move.move_type]
            binding = binding_of_move.get(move.id)
            partner = move.commercial_partner_id
            party_id = by_partner.get((partner.id, party_entity))
            number = self._qbo_expected_number(move, binding)
            candidate = unlinked.get((party_id, number)) if party_id and number else None
            if candidate and candidate in used:
                candidate = None
            odoo_open = sign * abs(move.amount_residual_signed)
            vals = {'run_id': self.id, 'side': side, 'move_id': move.id, 'partner_id': partner.id,
                    'entity': move._qbo_entity(), 'odoo_total': move.amount_total, 'odoo_balance': move.amount_residual,
                    'odoo_due_date': move.invoice_date_due, 'month': month(move.invoice_date_due)}
            doc = mirror_by_key.get((binding.entity, binding.qbo_id)) if binding and binding.qbo_id else None
            linked = binding and binding.qbo_id and binding.state not in ('voided', 'deleted_in_qbo')
            if doc:
                used |= doc
                vals.update(self._qbo_doc_vals(doc))
                amounts.append((partner, doc.qbo_party_id, month(move.invoice_date_due), odoo_open, 0.0))
                amounts.append((partner, doc.qbo_party_id, month(doc.due_date), 0.0, qbo_amount(doc)))
                kind = None
                if (party_id and doc.qbo_party_id != party_id) or (number and doc.doc_number and
                                                                    doc.doc_number != number):
                    kind = 'other_doc'
                    if candidate:
                        used |= candidate
                        vals['target_id'] = candidate.id
                        amounts.append((partner, party_id, month(candidate.due_date), 0.0, qbo_amount(candidate)))
                elif abs(doc.total_amt - move.amount_total) >= TOLERANCE:
                    kind = 'total'
                elif move.currency_id.is_zero(move.amount_residual):
                    kind = 'paid'
                elif abs(doc.balance - move.amount_residual) >= TOLERANCE:
                    kind = 'balance'
                if kind:
                    documents.append(dict(vals, kind=kind))
                continue
            if move.currency_id.is_zero(move.amount_residual):
                continue  # paid in Odoo, closed in QuickBooks too
            amounts.append((partner, party_id, month(move.invoice_date_due), odoo_open, 0.0))
            if candidate:
                amounts.append((partner, party_id, month(candidate.due_date), 0.0, qbo_amount(candidate)))
            if linked and candidate:
                # Linked to a document QuickBooks no longer holds open, while another one carries its number.
                used |= candidate
                documents.append(dict(vals, kind='other_doc', target_id=candidate.id, qbo_id=binding.qbo_id))
            elif linked:
                documents.append(dict(vals, kind='paid', qbo_id=binding.qbo_id, qbo_balance=0.0,
                                      qbo_entity=binding.entity))
            elif candidate:
                used |= candidate
                # The same document on both sides, not linked: one line, the relink is its fix.
                documents.append(dict(vals, self._qbo_doc_vals(candidate), kind='missing_odoo',
                                      target_id=candidate.id))
            else:
                documents.append(dict(vals, kind='missing_qbo'))
        for doc in mirror - used:
            partner = by_qbo.get((party_entity, doc.qbo_party_id)) or self.env['res.partner']
            amounts.append((partner, doc.qbo_party_id, month(doc.due_date), 0.0, qbo_amount(doc)))
            documents.append(dict(self._qbo_doc_vals(doc), run_id=self.id, side=side, kind='missing_odoo',
                                  partner_id=partner.id or False, entity=doc.entity, target_id=doc.id,
                                  month=month(doc.due_date)))
        self._qbo_write_lines(side, amounts, documents)
        odoo_total = sum(row[3] for row in amounts)
        qbo_total = sum(row[4] for row in amounts)
        return {f'odoo_{side}': odoo_total, f'qbo_{side}': qbo_total}

    @api.model
    def _qbo_doc_vals(self, doc):
        """The QuickBooks side of a document line."""
        return {'qbo_document_id': doc.id, 'qbo_id': doc.qbo_id, 'qbo_entity': doc.entity,
                'qbo_party_id': doc.qbo_party_id,
                'qbo_number': doc.doc_number, 'qbo_party_name': doc.qbo_party_name, 'qbo_total': doc.total_amt,
                'qbo_balance': doc.balance, 'qbo_due_date': doc.due_date}

    def _qbo_write_lines(self, side, amounts, documents):
        """The per partner and month lines (with their documents) of one side."""
        Line = self.env['qbo.reconciliation.line'].sudo()
        sums = {}
        for partner, party_id, month, odoo_amount, qbo_amount in amounts:
            key = (partner.id or False, False if partner else party_id, month)
            total = sums.setdefault(key, [0.0, 0.0])
            total[0] += odoo_amount
            total[1] += qbo_amount
        names = {doc.get('qbo_party_id'): doc.get('qbo_party_name') for doc in documents}
        lines = Line.create([{'run_id': self.id, 'side': side, 'partner_id': partner_id, 'qbo_party_id': party_id,
                              'qbo_party_name': names.get(party_id) or False, 'month': month,
                              'odoo_amount': round(odoo, 2), 'qbo_amount': round(qbo, 2)}
                             for (partner_id, party_id, month), (odoo, qbo) in sums.items()])
        by_key = {(line.partner_id.id or False, line.qbo_party_id or False, line.month): line for line in lines}
        for vals in documents:
            partner_id = vals.get('partner_id') or False
            key = (partner_id, False if partner_id else vals.get('qbo_party_id') or False, vals.get('month'))
            vals['line_id'] = by_key.get(key, Line).id or False
        self.env['qbo.reconciliation.document'].sudo().create(documents)

    # ------------------------------------------------------------------ QuickBooks' own reports

    def _qbo_check_reports(self):
        """Check the mirror's open amount per customer and vendor against QuickBooks' aged receivables and
        payables reports (two metered reads); say where they disagree.

        :return: the number of metered reads
        """
        self.ensure_one()
        connection = self.connection_id
        mirror = self.env['qbo.open.document'].sudo().search([('connection_id', '=', connection.id)])
        # The reports leave out documents dated after their date: the latest document's date at least.
        report_date = max([fields.Date.context_today(self) + timedelta(days=1)] +
                          [doc.txn_date for doc in mirror if doc.txn_date])
        rows = []
        session = connection._qbo_client_session()
        try:
            with session as client:
                for side, spec in SIDES.items():
                    report = client.report(spec['report'], {'report_date': fields.Date.to_string(report_date)})
                    reported = self._qbo_report_totals(report)
                    ours = {}
                    for doc in mirror.filtered(lambda d, s=side: d.side == s):
                        ours[doc.qbo_party_id] = ours.get(doc.qbo_party_id, 0.0) + \
                            MIRROR_ENTITIES[doc.entity]['sign'] * doc.home_balance
                    for party_id in sorted(set(reported) | set(ours)):
                        name, amount = reported.get(party_id, (None, 0.0))
                        if abs(amount - ours.get(party_id, 0.0)) >= TOLERANCE:
                            name = name or next((d.qbo_party_name for d in mirror if d.qbo_party_id == party_id), '')
                            rows.append((spec['report'], f"{name} (Id {party_id})", f"{amount:.2f}",
                                         f"{ours.get(party_id, 0.0):.2f}"))
        except QboError as exc:
            self.write({'report_ok': False, 'report_check': Markup('<p class="text-danger">%s</p>') % _(
                "QuickBooks' aging reports could not be read: %s", exc)})
            return len(session.calls)
        if rows:
            table = connection._qbo_dash_table([_("Report"), _("Customer/vendor"), _("Report says"),
                                                _("Mirror says")], rows)
            check = Markup('<p class="text-warning">%s</p>%s') % (_(
                "QuickBooks' aging reports and the mirror of its open documents disagree (unapplied payments, "
                "journal entries on A/R or A/P, or a change the feed has not brought yet: 'Read QuickBooks "
                "again' re-reads every open document)."), table)
        else:
            check = Markup('<p class="text-success">%s</p>') % _(
                "The mirror agrees with QuickBooks' aged receivables and aged payables reports, customer by "
                "customer and vendor by vendor.")
        self.write({'report_ok': not rows, 'report_check': check})
        return len(session.calls)

    @api.model
    def _qbo_report_totals(self, report):
        """{party Id: (name, Total)} of an aging summary report (the last column is the total)."""
        totals = {}
        for row in (report.get('Rows') or {}).get('Row') or []:
            cells = row.get('ColData')
            if not cells or not cells[0].get('id'):
                continue
            value = cells[-1].get('value') or '0'
            totals[cells[0]['id']] = (cells[0].get('value'), float(value))
        return totals

    # ------------------------------------------------------------------ buttons

    def action_qbo_rerun(self):
        """Run again (after fixes): the change feed brings QuickBooks' changes, then everything is compared."""
        self.ensure_one()
        return self._qbo_run(self.connection_id)._qbo_open()

    def action_qbo_reread(self):
        """Read every open document of QuickBooks again (the mirror rebuilt), then compare."""
        self.ensure_one()
        self.connection_id.sudo().qbo_mirror_date = False
        return self._qbo_run(self.connection_id)._qbo_open()

    def _qbo_open(self):
        self.ensure_one()
        return {'type': 'ir.actions.act_window', 'res_model': self._name, 'res_id': self.id, 'views': [(False, 'form')],
                'name': _("Reconciliation with QuickBooks"), 'target': 'current'}

    def action_qbo_open_documents(self):
        """The documents that differ, as a list (exportable, grouped by kind)."""
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('quickbooks_online.qbo_reconciliation_document_action')
        action.update(domain=[('run_id', '=', self.id)], context={'search_default_open': 1})
        return action

    def action_qbo_open_lines(self):
        """The amounts per partner and month, as a list (exportable)."""
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('quickbooks_online.qbo_reconciliation_line_action')
        action.update(domain=[('run_id', '=', self.id)], context={'search_default_differs': 1})
        return action


class QboConnectionReconciliation(models.AbstractModel):
    """The connection's entry point: the dashboard's button and the menu."""
    _name = 'qbo.connection.reconciliation'
    _description = 'QuickBooks Online connection: reconciliation'

    def action_qbo_reconcile(self):
        """Dashboard button: reconcile now (accounting managers)."""
        self.ensure_one()
        self._qbo_check_manager()
        return self.env['qbo.reconciliation']._qbo_run(self)._qbo_open()

    @api.model
    def action_qbo_open_reconciliation(self):
        """Menu: the latest reconciliation of the current company's connection, or a new one."""
        connection = self._qbo_get_for_company(self.env.company, create=False)
        if not connection:
            return self.action_qbo_open_current()
        last = self.env['qbo.reconciliation'].search([('connection_id', '=', connection.id)], limit=1)
        return last._qbo_open() if last else connection.action_qbo_reconcile()
