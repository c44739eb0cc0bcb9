import re

from odoo import _, api, models
from odoo.tools import float_round, html2plaintext

from .. import const
from . import qbo_compat
from .qbo_binding import QboBlocked

_WHITESPACE = re.compile(r'\s+')


def qbo_clean_name(value, max_length):
    """Make a name acceptable to QuickBooks, predictably.

    QuickBooks refuses ':' (its sub-customer separator), tabs and newlines, and caps lengths.
    ':' becomes '-', whitespace runs become one space, the result is trimmed and cut to
    `max_length` characters (non-Latin scripts are kept as they are: QuickBooks stores UTF-8).
    """
    text = (value or '').replace(':', '-')
    text = _WHITESPACE.sub(' ', text).strip()
    return text[:max_length].rstrip()


class QboMapper(models.AbstractModel):
    """Builds QuickBooks payloads from Odoo records. Plain dicts out; no HTTP, no writes.

    One small `_qbo_prepare_*` method per sub-structure so that a customisation can override
    exactly the part it needs (like account.edi.xml builders).
    """
    _name = 'qbo.mapper'
    _description = 'QuickBooks Online payload builder'

    # ------------------------------------------------------------------ customers

    @api.model
    def _qbo_prepare_address(self, partner):
        if not partner or not (partner.street or partner.city or partner.zip or partner.country_id):
            return None
        lines = [line for line in (partner.street, partner.street2) if line]
        address = {f'Line{i + 1}': qbo_clean_name(line, const.ADDRESS_LINE_MAX_LENGTH) for i, line in enumerate(lines)}
        if partner.city:
            address['City'] = partner.city[:const.CITY_MAX_LENGTH]
        if partner.state_id:
            address['CountrySubDivisionCode'] = partner.state_id.code
        if partner.zip:
            address['PostalCode'] = partner.zip[:const.POSTAL_CODE_MAX_LENGTH]
        if partner.country_id:
            # Intuit: countries as ISO alpha-3 or the full name; Odoo stores alpha-2, so the English name.
            address['Country'] = partner.country_id.with_context(lang='en_US').name[:const.COUNTRY_MAX_LENGTH]
        return address

    @api.model
    def _qbo_prepare_customer_names(self, partner, display_name):
        vals = {'DisplayName': display_name}
        if partner.is_company:
            vals['CompanyName'] = qbo_clean_name(partner.name, const.COMPANY_NAME_MAX_LENGTH)
        else:
            parts = qbo_clean_name(partner.name, const.DISPLAY_NAME_MAX_LENGTH).split(' ', 1)
            vals['GivenName'] = parts[0][:const.PERSON_NAME_MAX_LENGTH]
            if len(parts) > 1:
                vals['FamilyName'] = parts[1][:const.PERSON_NAME_MAX_LENGTH]
            if partner.parent_id:
                vals['CompanyName'] = qbo_clean_name(partner.parent_id.name, const.COMPANY_NAME_MAX_LENGTH)
        return vals

    @api.model
    def _qbo_prepare_contact_vals(self, partner, display_name):
        """What a Customer and a Vendor share: names, active, e-mail, phones, web site."""
        vals = self._qbo_prepare_customer_names(partner, display_name)
        vals['Active'] = bool(partner.active)
        if partner.email:
            vals['PrimaryEmailAddr'] = {'Address': partner.email.strip()[:const.EMAIL_MAX_LENGTH]}
        if partner.phone:
            vals['PrimaryPhone'] = {'FreeFormNumber': partner.phone[:const.PHONE_MAX_LENGTH]}
        if mobile := qbo_compat.partner_mobile(partner):
            vals['Mobile'] = {'FreeFormNumber': mobile[:const.PHONE_MAX_LENGTH]}
        if partner.website:
            vals['WebAddr'] = {'URI': partner.website[:const.WEB_URI_MAX_LENGTH]}
        return vals

    @api.model
    def _qbo_prepare_customer_vals(self, partner, connection, display_name, currency=None):
        """Customer payload (without Id/SyncToken) of a commercial partner.

        `currency`: with multicurrency on, a QuickBooks customer has one currency, set at creation;
        a customer first needed by a foreign-currency invoice is created in that currency.

        Billing address: the partner's invoice contact, else the partner. Shipping: its delivery
        contact, else the billing address. Contacts of a company are not separate customers.
        """
        vals = self._qbo_prepare_contact_vals(partner, display_name)
        addresses = partner.address_get(['invoice', 'delivery'])
        Partner = self.env['res.partner']
        bill = self._qbo_prepare_address(Partner.browse(addresses['invoice']))
        ship = self._qbo_prepare_address(Partner.browse(addresses['delivery'])) or bill
        if bill:
            vals['BillAddr'] = bill
        if ship:
            vals['ShipAddr'] = ship
        # Notes end with our marker: a customer we created is recognised as ours (6240, lookups).
        marker = self._qbo_marker(partner)
        comment = html2plaintext(partner.comment) if partner.comment else ''
        vals['Notes'] = (comment[:const.NOTES_MAX_LENGTH - len(marker) - 1] + '\n' + marker).lstrip()
        tax_id = self._qbo_customer_tax_identifier(partner, connection)
        if tax_id:
            vals['PrimaryTaxIdentifier'] = tax_id
        self._qbo_add_currency_and_term(vals, connection, currency, partner.property_payment_term_id, 'SalesTermRef')
        return vals

    @api.model
    def _qbo_add_currency_and_term(self, vals, connection, currency, term, term_key):
        """A name-list payload's currency (set at creation only; multicurrency companies) and its payment term
        (`term_key`: SalesTermRef of a customer, TermRef of a vendor) when the term is mapped."""
        if currency and connection.multi_currency:
            vals['CurrencyRef'] = {'value': currency.name}
        term_ref = term and self.env['qbo.mapping']._qbo_find(connection, 'term', term)
        if term_ref:
            vals[term_key] = {'value': term_ref.qbo_id}

    @api.model
    def _qbo_customer_tax_identifier(self, partner, connection):
        """The VAT/GST number for `Customer.PrimaryTaxIdentifier` ("Tax Reg. No."), or None.

        Intuit documents that field for the GB, CA, AU and IN locales. `ResaleNum` is a US resale
        certificate number, not a VAT number, so US companies get no tax number at all.
        """
        if not partner.vat or (connection.qbo_country or 'US') not in const.TAX_IDENTIFIER_LOCALES:
            return None
        return partner.vat.replace(' ', '')[:const.TAX_IDENTIFIER_MAX_LENGTH]

    # ------------------------------------------------------------------ items

    @api.model
    def _qbo_prepare_item_vals(self, product, connection, name):
        """Service item for a product that matches no QuickBooks item."""
        vals = {
            'Name': name,
            'Type': 'Service',
            'IncomeAccountRef': {'value': connection.income_account_ref_id.qbo_id},
            'UnitPrice': product.lst_price,
        }
        if product.default_code:
            vals['Sku'] = product.default_code[:const.ITEM_NAME_MAX_LENGTH]
        if product.description_sale:
            vals['Description'] = product.description_sale[:const.LINE_DESCRIPTION_MAX_LENGTH]
        return vals

    # ------------------------------------------------------------------ invoices

    @api.model
    def _qbo_line_description(self, text):
        """A line description within QuickBooks' 4,000 characters: a longer one is cut at a word and ends
        with " [...]", so nobody reads a cut word as the text (the chatter says which lines were cut)."""
        limit = const.LINE_DESCRIPTION_MAX_LENGTH
        if len(text) <= limit:
            return text
        mark = ' [...]'
        head = text[:limit - len(mark) + 1]
        cut = head.rstrip()[:-1].rsplit(None, 1)[0] if ' ' in head.strip() else head[:-1]
        return cut.rstrip() + mark

    @api.model
    def _qbo_line_text(self, line):
        """The full description of an invoice line as QuickBooks shows it (its discount said in words)."""
        description = line.name or ''
        if line.display_type == 'product' and line.discount:
            description += _(" (discount %s%%)", format(line.discount, "g"))
        return description

    @api.model
    def _qbo_send_notes(self, move, connection):
        """What QuickBooks holds differently from the Odoo document, for the chatter note of a send:
        descriptions cut to QuickBooks' length, products sent as the item for unmapped products."""
        notes = []
        lines = move.invoice_line_ids
        cut = lines.filtered(lambda line: len(self._qbo_line_text(line)) > const.LINE_DESCRIPTION_MAX_LENGTH)
        if cut:
            limit = format(const.LINE_DESCRIPTION_MAX_LENGTH, ',')
            starts = ', '.join((line.name or '')[:40] + '...' for line in cut)
            notes.append(_("Description cut to %(max)s characters (QuickBooks' limit), at a word: %(lines)s.",
                           max=limit, lines=starts))
        Mapping = self.env['qbo.mapping']
        unmapped = lines.filtered(lambda line: line.display_type == 'product').product_id.filtered(
            lambda product: not Mapping._qbo_find(connection, 'product', product))
        if unmapped and connection.fallback_item_ref_id:
            notes.append(_("Sent as the QuickBooks item %(item)s (no item is mapped to them): %(products)s. Map them "
                           "in %(where)s to send them as their own items.", item=connection.fallback_item_ref_id.name,
                           products=', '.join(unmapped.mapped('display_name')),
                           where=connection._qbo_where('mappings')))
        return notes

    @api.model
    def _qbo_line_item_ref(self, line, connection):
        """Item of an invoice line: the product's mapping, else the connection's unmatched item."""
        item = line.product_id and self.env['qbo.mapping']._qbo_find(connection, 'product', line.product_id)
        item = item or connection.fallback_item_ref_id
        if not item:
            raise QboBlocked(_("Blocked: mapping - no QuickBooks item for the product %(product)s. Map it in "
                               "%(mappings)s, or choose an 'Item for unmapped products' in %(settings)s.",
                               product=line.product_id.display_name or line.name,
                               mappings=connection._qbo_where('mappings'), settings=connection._qbo_where('settings')))
        if not item.active:
            raise QboBlocked(_("Blocked: mapping - the QuickBooks item %s is inactive or deleted.", item.name))
        return {'value': item.qbo_id, 'name': item.name}

    @api.model
    def _qbo_is_taxed(self, taxes):
        """Whether Odoo taxes charge something: a group counts through its children (its own amount is 0)."""
        return any(tax.amount for tax in taxes.flatten_taxes_hierarchy())

    @api.model
    def _qbo_tax_code_ref(self, connection, taxes):
        """The active QuickBooks tax code mapped to `taxes` (one Odoo tax or one group), else QboBlocked."""
        code = self.env['qbo.mapping']._qbo_find(connection, 'tax', taxes)
        if not code:
            raise QboBlocked(_("Blocked: mapping - the tax %(tax)s is not mapped to a QuickBooks tax code "
                               "(%(where)s).", tax=', '.join(taxes.mapped('name')),
                               where=connection._qbo_where('mappings')))
        if not code.active:
            raise QboBlocked(_("Blocked: mapping - the QuickBooks tax code %s is inactive or deleted.", code.name))
        Mapping = self.env['qbo.mapping']
        mismatch = Mapping._qbo_tax_rate_mismatch(taxes, code)
        if mismatch:
            # Never send tax at another rate than Odoo's: the two ledgers' tax reports would disagree.
            raise QboBlocked(_("Blocked: tax rate - %s", Mapping._qbo_tax_rate_message(taxes, code, mismatch)))
        return code

    @api.model
    def _qbo_line_tax_code(self, line, connection):
        """TaxCodeRef of a line: TAX/NON in the US, the mapped VAT/GST code elsewhere."""
        taxes = line.tax_ids
        if connection.is_us:
            return {'value': 'TAX' if self._qbo_is_taxed(taxes) else 'NON'}
        if len(taxes) > 1:
            raise QboBlocked(_("Blocked: mapping - line '%s' has several taxes; QuickBooks takes one tax code "
                               "per line. Use an Odoo tax group mapped to one QuickBooks code.", line.name))
        if not taxes:
            raise QboBlocked(_("Blocked: mapping - line '%s' has no tax; QuickBooks (non-US) needs a tax code on "
                               "every line (map an exempt or zero-rated tax).", line.name))
        return {'value': self._qbo_tax_code_ref(connection, taxes).qbo_id}

    @api.model
    def _qbo_line_class(self, line, move, connection):
        """Class of a line: default class, overridden by the customer's or product's when allowed."""
        if not connection.use_classes or connection.class_tracking == 'none':
            return None
        ref = connection.default_class_ref_id
        if connection.allow_class_override:
            Mapping = self.env['qbo.mapping']
            analytic_ids = [int(a) for key in (line.analytic_distribution or {}) for a in key.split(',')]
            for analytic in self.env['account.analytic.account'].browse(analytic_ids):
                ref = Mapping._qbo_find(connection, 'analytic', analytic) or ref
        return {'value': ref.qbo_id} if ref else None

    @api.model
    def _qbo_amounts(self, amount, quantity, currency):
        """(Qty, UnitPrice) whose product QuickBooks rounds back to `amount` (else error 6070)."""
        qty = quantity or 1.0
        unit_price = float_round(amount / qty, precision_digits=const.UNIT_PRICE_DIGITS)
        if currency.round(unit_price * qty) != amount:
            return 1.0, amount
        return qty, unit_price

    @api.model
    def _qbo_booked_amounts(self, move):
        """``{product line: (untaxed, tax)}`` as the invoice booked them (see qbo_compat.booked_line_amounts)."""
        return qbo_compat.booked_line_amounts(move)

    @api.model
    def _qbo_prepare_invoice_line(self, line, move, connection, tax_mode=None, booked=None):
        """One QuickBooks line of an Odoo invoice line.

        `Amount` is always Odoo's net line amount as booked (the line's journal item, after the line
        discount and any rounding cent Odoo put on it): QuickBooks treats a line amount as net, also
        on TaxInclusive documents, where the gross (booked net + the line's booked tax) goes to
        `SalesItemLineDetail.TaxInclusiveAmt`. `Qty x UnitPrice` must round to `Amount`.
        `booked`: the move's `_qbo_booked_amounts`, when the caller already has them.
        """
        if line.display_type in ('line_section', 'line_note'):
            return {'DetailType': 'DescriptionOnly', 'Description': self._qbo_line_description(line.name or ''),
                    'DescriptionLineDetail': {}}
        currency = move.currency_id
        if booked is None:
            booked = self._qbo_booked_amounts(move)
        amount, tax = booked[line]
        qty, unit_price = self._qbo_amounts(amount, line.quantity, currency)
        description = self._qbo_line_text(line)
        detail = {
            'ItemRef': self._qbo_line_item_ref(line, connection),
            'Qty': qty,
            'UnitPrice': unit_price,
        }
        if connection.using_sales_tax:
            detail['TaxCodeRef'] = self._qbo_line_tax_code(line, connection)
            if tax_mode == 'TaxInclusive':
                detail['TaxInclusiveAmt'] = currency.round(amount + tax)
        if move.invoice_date:
            detail['ServiceDate'] = str(move.invoice_date)
        class_ref = self._qbo_line_class(line, move, connection)
        if class_ref and connection.class_tracking == 'line':
            detail['ClassRef'] = class_ref
        return {
            'DetailType': 'SalesItemLineDetail',
            'Amount': amount,
            'Description': self._qbo_line_description(description),
            'SalesItemLineDetail': detail,
        }

    @api.model
    def _qbo_cash_rounding_lines(self, move):
        """Cash-rounding lines of the 'Add a rounding line' strategy (the 'Modify tax amount' strategy
        books its rounding on a tax line instead: it is part of `amount_tax`, sent as the tax total)."""
        return move.line_ids.filtered(lambda line: line.display_type == 'rounding' and not line.tax_repartition_line_id)

    @api.model
    def _qbo_prepare_rounding_line(self, line, move, connection):
        """A cash-rounding line as an untaxed QuickBooks line of the unmapped-products item.

        Without it QuickBooks' total is the unrounded one (10.83 for Odoo's 10.85) and a customer
        paying QuickBooks' total leaves a few cents open in Odoo. The amount may be negative
        (rounded down), which QuickBooks accepts on a sales line as long as the total is not.
        """
        item = connection.fallback_item_ref_id
        if not item or not item.active:
            raise QboBlocked(_("Blocked: mapping - the cash rounding of %(move)s is sent as a line of the 'Item for "
                               "unmapped products'; choose an active one in %(settings)s.",
                               move=move.display_name, settings=connection._qbo_where('settings')))
        amount = move.currency_id.round(move.direction_sign * line.amount_currency)
        detail = {'ItemRef': {'value': item.qbo_id, 'name': item.name}, 'Qty': 1.0, 'UnitPrice': amount}
        if connection.using_sales_tax:
            detail['TaxCodeRef'] = self._qbo_rounding_tax_code(move, connection)
        if move.invoice_date:
            detail['ServiceDate'] = str(move.invoice_date)
        return {
            'DetailType': 'SalesItemLineDetail',
            'Amount': amount,
            'Description': (line.name or _("Rounding"))[:const.LINE_DESCRIPTION_MAX_LENGTH],
            'SalesItemLineDetail': detail,
        }

    @api.model
    def _qbo_rounding_tax_code(self, move, connection):
        """TaxCodeRef of an (untaxed) rounding line: NON in the US; elsewhere the QuickBooks code
        mapped to one of the company's zero-rate sale taxes, since every non-US line needs a code."""
        if connection.is_us:
            return {'value': 'NON'}
        zero_taxes = self.env['account.tax'].search([
            ('company_id', '=', move.company_id.id), ('type_tax_use', '=', 'sale'), ('amount', '=', 0),
            ('amount_type', '=', 'percent')])
        Mapping = self.env['qbo.mapping']
        code = next((ref for ref in (Mapping._qbo_find(connection, 'tax', tax) for tax in zero_taxes)
                     if ref and ref.active), None)
        if not code:
            raise QboBlocked(_("Blocked: mapping - the cash rounding line of %(move)s has no tax; QuickBooks (non-US) "
                               "needs a tax code on every line: map a zero-rated or exempt sale tax (%(where)s).",
                               move=move.display_name, where=connection._qbo_where('mappings')))
        return {'value': code.qbo_id}

    @api.model
    def _qbo_product_lines(self, move):
        return move.invoice_line_ids.filtered(lambda line: line.display_type == 'product')

    @api.model
    def _qbo_prepare_us_tax_detail(self, move, connection):
        """US header tax: the mapped QuickBooks tax group and Odoo's own tax total.

        QuickBooks (without Automated Sales Tax) computes US sales tax once on the taxable
        subtotal, Odoo rounds per line by default: sending `TotalTax` makes QuickBooks keep Odoo's
        amount (it prorates it over the group's rates), so both hold the same total to the cent.
        With AST the engine picks the code from the ship-to address and we send no tax detail.
        """
        if connection.automated_sales_tax or not connection.using_sales_tax:
            return None
        taxes = self._qbo_product_lines(move).tax_ids.filtered(lambda tax: self._qbo_is_taxed(tax))
        if not taxes:
            return None
        codes = {self._qbo_tax_code_ref(connection, tax) for tax in taxes}
        if len(codes) != 1:
            raise QboBlocked(_("Blocked: mapping - a US invoice carries one tax code; this invoice uses taxes "
                               "mapped to several QuickBooks codes (%s).", ', '.join(sorted(c.name for c in codes))))
        return {'TxnTaxCodeRef': {'value': next(iter(codes)).qbo_id}, 'TotalTax': move.amount_tax}

    @api.model
    def _qbo_code_rates(self, code, rate_list='SalesTaxRateList'):
        """[(TaxRate Id, rate %)] of a QuickBooks tax code's sales rates (imported reference data), or of
        its purchase rates with `rate_list` 'PurchaseTaxRateList'."""
        details = ((code.data or {}).get(rate_list) or {}).get('TaxRateDetail') or []
        rate_ids = [(d.get('TaxRateRef') or {}).get('value') for d in details]
        rates = self.env['qbo.ref'].sudo().search([('connection_id', '=', code.connection_id.id),
                                                   ('entity', '=', 'TaxRate'), ('qbo_id', 'in', rate_ids)])
        by_id = {rate.qbo_id: rate.rate for rate in rates}
        return [(rate_id, by_id.get(rate_id, 0.0)) for rate_id in rate_ids if rate_id]

    @api.model
    def _qbo_prepare_non_us_tax_detail(self, move, connection, booked=None, rate_list='SalesTaxRateList'):
        """Non-US header tax: one TaxLine per QuickBooks rate, carrying Odoo's booked tax amounts.

        QuickBooks computes VAT/GST per rate with its own rounding unless the document supplies
        its tax detail; we supply what Odoo booked: per mapped tax code, the sum of its lines' booked
        net amounts (`NetAmountTaxable`) and taxes (each line's share of the tax journal items, so
        the codes add up to `amount_tax` with per-line and global rounding alike). A code with several
        rates is split in proportion to the rates, the last rate taking the rounding remainder. Bills and
        vendor credits use the codes' purchase rates (`rate_list` 'PurchaseTaxRateList').
        """
        currency = move.currency_id
        if booked is None:
            booked = self._qbo_booked_amounts(move)
        by_code = {}
        for line in self._qbo_product_lines(move):
            code = self._qbo_tax_code_ref(connection, line.tax_ids)
            entry = by_code.setdefault(code, {'base': 0.0, 'tax': 0.0})
            untaxed, tax = booked[line]
            entry['base'] += untaxed
            entry['tax'] += tax
        codes = [code for code in by_code if self._qbo_code_rates(code, rate_list)]
        # What the lines' shares do not carry goes to the last code with rates, so that QuickBooks'
        # total tax stays Odoo's: tax on lines whose QuickBooks code has no rate, or tax journal
        # items that are no line's share (e.g. an early payment discount reducing the tax).
        if codes:
            by_code[codes[-1]]['tax'] += move.amount_tax - sum(by_code[code]['tax'] for code in codes)
        tax_lines = []
        for code in codes:
            entry = by_code[code]
            tax = currency.round(entry['tax'])
            rates = self._qbo_code_rates(code, rate_list)
            total_rate = sum(rate for _rate_id, rate in rates)
            rest = tax
            for position, (rate_id, rate) in enumerate(rates):
                part = rest if position == len(rates) - 1 else currency.round(
                    tax * rate / total_rate if total_rate else 0.0)
                rest -= part
                tax_lines.append({
                    'DetailType': 'TaxLineDetail',
                    'Amount': currency.round(part),
                    'TaxLineDetail': {'TaxRateRef': {'value': rate_id}, 'PercentBased': True, 'TaxPercent': rate,
                                      'NetAmountTaxable': currency.round(entry['base'])},
                })
        return {'TotalTax': move.amount_tax, 'TaxLine': tax_lines}

    @api.model
    def _qbo_doc_number(self, move, connection):
        """DocNumber = prefix + Odoo number, when QuickBooks uses custom transaction numbers.

        A document re-issued after its first QuickBooks document was voided or deleted gets a suffix
        (-2, -3...): QuickBooks keeps a voided document's number and refuses it again (6140).
        """
        if not connection.custom_txn_numbers:
            return None
        prefix = connection.doc_number_prefix or ''
        reissue = move.sudo().qbo_reissue_count
        number = f"{prefix}{move.name}" + (f"-{reissue + 1}" if reissue else '')
        if len(number) > const.DOC_NUMBER_MAX_LENGTH:
            raise QboBlocked(_("The QuickBooks number %(number)s is %(length)s characters long; QuickBooks allows "
                               "%(max)s. Shorten the prefix or the journal's sequence.",
                               number=number, length=len(number), max=const.DOC_NUMBER_MAX_LENGTH))
        return number

    @api.model
    def _qbo_marker(self, record):
        """Untranslated marker of the Odoo record on every object we create: ``odoo:<database.uuid>:<model>:<id>``.

        Independent of the user's language and of names, so the exporter can recognise its own
        objects after an unknown outcome (lookups) or a duplicate-name answer (6240). A document
        re-issued after a void or a deletion in QuickBooks marks its new QuickBooks document
        ``...:<id>:2`` (then 3...): a lookup for it never takes the voided earlier one for it.
        """
        dbuuid = self.env['ir.config_parameter'].sudo().get_param('database.uuid') or self.env.cr.dbname
        marker = f"odoo:{dbuuid}:{record._name}:{record.id}"
        reissue = 'qbo_reissue_count' in record._fields and record.sudo().qbo_reissue_count
        return f"{marker}:{reissue + 1}" if reissue else marker

    @api.model
    def _qbo_private_note(self, move):
        """PrivateNote of a document: its Odoo number, then the marker (kept last, see _qbo_marker)."""
        return f"Odoo {move.name} {self._qbo_marker(move)}"

    @api.model
    def _qbo_global_tax_calculation(self, move, connection):
        """Non-US: TaxInclusive when every taxed line uses price-included taxes, else TaxExcluded;
        NotApplicable when sales tax (VAT/GST) is off in QuickBooks."""
        if not connection.using_sales_tax:
            return 'NotApplicable'
        taxes = self._qbo_product_lines(move).tax_ids.filtered(lambda tax: self._qbo_is_taxed(tax))
        return 'TaxInclusive' if taxes and all(taxes.flatten_taxes_hierarchy().mapped('price_include')) \
            else 'TaxExcluded'

    @api.model
    def _qbo_exchange_rate(self, move):
        """Home-currency units per foreign unit, from the rate the invoice itself was booked at."""
        rate = move.invoice_currency_rate
        return round(1.0 / rate, const.EXCHANGE_RATE_DIGITS) if rate else None

    @api.model
    def _qbo_prepare_invoice_vals(self, move, connection, customer_id):
        """Invoice / CreditMemo payload (without Id/SyncToken).

        What is sent and why (README "Taxes"): lines carry Odoo's net amounts; US documents carry
        the mapped tax group and Odoo's tax total (TxnTaxDetail.TotalTax); non-US documents carry
        a tax code per line, GlobalTaxCalculation and Odoo's tax per rate (TxnTaxDetail.TaxLine).
        """
        global_tax = None if connection.is_us else self._qbo_global_tax_calculation(move, connection)
        booked = self._qbo_booked_amounts(move)
        lines = [self._qbo_prepare_invoice_line(line, move, connection, tax_mode=global_tax, booked=booked)
                 for line in move.invoice_line_ids.sorted('sequence')
                 if line.display_type in ('product', 'line_section', 'line_note')]
        lines += [self._qbo_prepare_rounding_line(line, move, connection)
                  for line in self._qbo_cash_rounding_lines(move)]
        vals = {
            'CustomerRef': {'value': customer_id},
            'Line': lines,
            'TxnDate': str(move.invoice_date),
            'PrivateNote': self._qbo_private_note(move),
        }
        doc_number = self._qbo_doc_number(move, connection)
        if doc_number:
            vals['DocNumber'] = doc_number
        if move.move_type == 'out_invoice' and move.invoice_date_due:
            vals['DueDate'] = str(move.invoice_date_due)
        term_ref = move.invoice_payment_term_id and self.env['qbo.mapping']._qbo_find(
            connection, 'term', move.invoice_payment_term_id)
        if term_ref and move.move_type == 'out_invoice':
            vals['SalesTermRef'] = {'value': term_ref.qbo_id}
        if move.currency_id != move.company_id.currency_id:
            if not connection.multi_currency:
                raise QboBlocked(_("This document is in %(currency)s but the QuickBooks company works in %(home)s "
                                   "only: turn on Multicurrency in QuickBooks (Account and settings > Advanced), "
                                   "then Test connection.", currency=move.currency_id.name,
                                   home=connection.qbo_home_currency))
            vals['CurrencyRef'] = {'value': move.currency_id.name}
            rate = self._qbo_exchange_rate(move)
            if rate:
                vals['ExchangeRate'] = rate
        if move.narration:
            vals['CustomerMemo'] = {'value': html2plaintext(move.narration)[:const.CUSTOMER_MEMO_MAX_LENGTH]}
        if connection.is_us:
            tax_detail = self._qbo_prepare_us_tax_detail(move, connection)
        else:
            vals['GlobalTaxCalculation'] = global_tax
            tax_detail = connection.using_sales_tax and self._qbo_prepare_non_us_tax_detail(move, connection, booked)
        if tax_detail:
            vals['TxnTaxDetail'] = tax_detail
        header_class = connection.class_tracking == 'txn' and self._qbo_line_class(
            move.invoice_line_ids[:1], move, connection)
        if header_class:
            vals['ClassRef'] = header_class
        return vals

    @api.model
    def _qbo_prepare_invoice_update_vals(self, move, connection, customer_id):
        """Sparse update of an exported document (without Id/SyncToken).

        Only the fields the connector manages are sent (`sparse: true`), so what QuickBooks users
        added there (billing e-mail, online-payment flags, custom fields, location...) is kept.
        The lines are always sent whole (QuickBooks replaces the line set). A memo cleared in Odoo
        is cleared in QuickBooks by sending it empty.
        """
        vals = self._qbo_prepare_invoice_vals(move, connection, customer_id)
        vals['sparse'] = True
        vals.setdefault('CustomerMemo', {'value': ''})
        return vals

    @api.model
    def _qbo_variance_reason(self, move, connection):
        """Why QuickBooks may legitimately hold another tax than Odoo, in an accountant's words."""
        if connection.is_us and connection.automated_sales_tax:
            return _("QuickBooks uses Automated Sales Tax: it computes the tax itself from the shipping address, "
                     "whatever Odoo charged. Align the Odoo tax with QuickBooks' rate for this address, or adjust "
                     "the tax on the QuickBooks invoice.")
        if not connection.using_sales_tax and move.amount_tax:
            return _("Sales tax (VAT/GST) is turned off in this QuickBooks company: it records no tax, while Odoo "
                     "charged %s. Turn sales tax on in QuickBooks, then send the document again.", move.amount_tax)
        return _("QuickBooks changed the amounts it was sent (e.g. a rounding rule of its own). Compare the two "
                 "documents line by line.")
