from decimal import ROUND_HALF_UP, Decimal

from odoo import _, api, models

from odoo.addons.quickbooks_online import const
from odoo.addons.quickbooks_online.models.qbo_binding import QboBlocked
from odoo.addons.quickbooks_online.models.qbo_mapper import qbo_clean_name

# QuickBooks' TimeActivity.Description holds up to 4000 characters; our marker is its last word.
DESCRIPTION_MAX_LENGTH = 4000
# sale_timesheet's billing types that bill the time itself (hours x rate on the sales order line).
BILLABLE_TIME_TYPES = ('billable_time',)


def qbo_duration(hours):
    """(Hours, Minutes) of a duration in decimal hours, to the minute, without float drift: 1.25 -> (1, 15).

    Odoo stores timesheet durations as floats (1.1 is 1.1000000000000001): the decimal text of the float, not
    its binary value, is multiplied by 60 and rounded half up to the minute.
    """
    return qbo_duration_total([hours])


def qbo_duration_total(amounts):
    """(Hours, Minutes) of the exact sum of durations in decimal hours (the lines of one time activity),
    rounded once, to the minute: the decimal texts are added, so 0.1 + 0.2 is 0.3 h (18 min) exactly."""
    total = sum((Decimal(repr(float(hours or 0.0))) for hours in amounts), Decimal(0))
    minutes = int((total * 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return divmod(minutes, 60)


class QboMapperTimesheet(models.AbstractModel):
    """Payloads of employees and time activities (no transport here: the exporters send them)."""
    _inherit = 'qbo.mapper'

    @api.model
    def _qbo_prepare_employee_vals(self, employee):
        """Employee: DisplayName (the cleaned name), GivenName / FamilyName (first word / the rest), work e-mail."""
        name = qbo_clean_name(employee.name, const.DISPLAY_NAME_MAX_LENGTH)
        if not name:
            raise QboBlocked(_("The employee has no name: QuickBooks needs one."))
        given, _sep, family = name.partition(' ')
        vals = {'DisplayName': name, 'GivenName': given[:const.PERSON_NAME_MAX_LENGTH],
                'FamilyName': family[:const.PERSON_NAME_MAX_LENGTH] or None, 'Active': bool(employee.active)}
        if employee.work_email:
            vals['PrimaryEmailAddr'] = {'Address': employee.work_email.strip()[:const.EMAIL_MAX_LENGTH]}
        return {key: value for key, value in vals.items() if value is not None}

    @api.model
    def _qbo_time_activity_description(self, line, lines=None, marker_record=None):
        """The line's description (the distinct descriptions of `lines`, joined by '; '), then our marker
        (of `marker_record`, else of the line; kept last and whole: the lookup after an unknown outcome)."""
        marker = self._qbo_marker(marker_record or line)
        texts = []
        for name in (lines or line).mapped('name'):
            text = ' '.join((name or '').split()) if name and name != '/' else ''
            if text and text not in texts:
                texts.append(text)
        text = '; '.join(texts)[:DESCRIPTION_MAX_LENGTH - len(marker) - 1].rstrip()
        return f"{text} {marker}" if text else marker

    @api.model
    def _qbo_prepare_time_activity_vals(self, line, connection, name_of, person_id, customer_id, group=None):
        """The TimeActivity of one timesheet line, or of the lines of `group` (their employee, day and task).

        :param line: the line (of a group: its first line, whose employee, billing, item and class all its
            lines share)
        :param name_of: 'Employee', or 'Vendor' for a subcontractor
        :param person_id: QuickBooks Id of that employee or vendor (exported or linked before)
        :param customer_id: QuickBooks Id of the project's customer, or None (a project without customer)
        :param group: qbo.time.activity.group: hours and minutes are the exact sum of its lines', the
            description joins theirs, the marker is the group's
        """
        lines = group.line_ids.sorted('id') if group else line
        hours, minutes = qbo_duration_total(lines.mapped('unit_amount'))
        if not hours and not minutes:
            raise QboBlocked(_("This timesheet line records no time (under half a minute): QuickBooks refuses a "
                               "time activity without time."))
        vals = {
            'NameOf': name_of, f'{name_of}Ref': {'value': person_id},
            'TxnDate': line.date.isoformat(), 'Hours': hours, 'Minutes': minutes,
            'ItemRef': {'value': self._qbo_time_activity_item(line, connection).qbo_id},
            'Description': self._qbo_time_activity_description(line, lines=lines, marker_record=group),
        }
        if customer_id:
            vals['CustomerRef'] = {'value': customer_id}
        status, rate = self._qbo_time_activity_billing(line, connection, customer_id)
        vals['BillableStatus'] = status
        if rate is not None:
            vals['HourlyRate'] = rate
        class_ref = self._qbo_time_activity_class(line, connection)
        if class_ref:
            vals['ClassRef'] = class_ref
        return vals

    @api.model
    def _qbo_time_activity_product(self, line):
        """The Odoo product of the time: the line's sales order line's (Sales Timesheet), else the line's own."""
        if 'so_line' in line._fields and line.so_line.product_id:
            return line.so_line.product_id
        return line.product_id

    @api.model
    def _qbo_time_activity_item(self, line, connection):
        """The QuickBooks Service item: the product's mapping, else the 'Service item for timesheets' setting."""
        product = self._qbo_time_activity_product(line)
        ref = product and self.env['qbo.mapping']._qbo_find(connection, 'product', product)
        ref = ref or connection.timesheet_item_ref_id
        if not ref:
            raise QboBlocked(_("Blocked: mapping - map the product %(product)s to a QuickBooks Service item, or set "
                               "the 'Service item for timesheets' (Settings > QuickBooks Online).",
                               product=product.display_name if product else _("(none)")))
        item_type = (ref.data or {}).get('Type')
        if item_type and item_type != 'Service':
            raise QboBlocked(_("Blocked: mapping - QuickBooks records time against Service items only; %(item)s is a "
                               "%(type)s item.", item=ref.name, type=item_type))
        return ref

    @api.model
    def _qbo_time_activity_billing(self, line, connection, customer_id):
        """(BillableStatus, HourlyRate or None) from Odoo's billing of the time.

        With Sales Timesheet (optional): invoiced -> HasBeenBilled, billed on time (hours x the sales order
        line's price) -> Billable at that price, anything else -> NotBillable. Without it: Billable at the
        'Billable rate without Sales' setting when set and the project has a customer, else NotBillable.
        """
        if 'timesheet_invoice_type' in line._fields:
            order_line = line.so_line
            rate = float(order_line.price_unit) if order_line else None
            if line.timesheet_invoice_id and line.timesheet_invoice_id.state == 'posted':
                return 'HasBeenBilled', rate
            if customer_id and order_line and line.timesheet_invoice_type in BILLABLE_TIME_TYPES:
                return 'Billable', rate
            return 'NotBillable', None
        if customer_id and connection.timesheet_hourly_rate > 0:
            return 'Billable', connection.timesheet_hourly_rate
        return 'NotBillable', None

    @api.model
    def _qbo_time_activity_class(self, line, connection):
        """Class from the line's analytic account (mapping), else the default class, when classes are used."""
        if not connection.use_classes or connection.class_tracking == 'none':
            return None
        ref = self.env['qbo.mapping']._qbo_find(connection, 'analytic', line.account_id) if line.account_id else None
        ref = ref or connection.default_class_ref_id
        return {'value': ref.qbo_id} if ref else None
