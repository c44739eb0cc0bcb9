"""Time tracking: the Employee name list's own rules and TimeActivity (time worked by an employee or a vendor).

As QuickBooks documents them (developer.intuit.com, Accounting API, entities Employee and TimeActivity; the SDKs'
objects and tests: python-quickbooks ``objects/employee.py`` / ``objects/timeactivity.py``):

* **Employee**: a person of the Names list (one id sequence and one DisplayName namespace with Customer and
  Vendor, 6240 on a clash), named by GivenName / FamilyName or DisplayName (6080 without any), with
  ``PrimaryEmailAddr``, ``EmployeeNumber``, ``BillableTime`` and ``BillRate`` (the default rate of billable time),
  ``Active``. Employees cannot be deleted (inactivated instead), as every name list.
* **TimeActivity**: ``NameOf`` ``Employee`` (with ``EmployeeRef``) or ``Vendor`` (with ``VendorRef``); ``TxnDate``
  (today when omitted); ``CustomerRef``; ``ItemRef`` (a Service item); ``ClassRef``; the time as ``Hours`` /
  ``Minutes`` or as ``StartTime`` / ``EndTime`` (less ``BreakHours`` / ``BreakMinutes``); ``BillableStatus``
  ``Billable`` / ``NotBillable`` / ``HasBeenBilled`` - billable time needs a customer and an ``HourlyRate``;
  ``Description`` (4000 characters). A transaction: deleted for good (``operation=delete``), never voided. The
  change feed (CDC) does not carry time activities (api.CDC_UNSUPPORTED).
"""
from datetime import datetime

from . import errors, util
from .refs import named_ref, resolve

BILLABLE_STATUSES = ('Billable', 'NotBillable', 'HasBeenBilled')
NAME_OF = {'Employee': 'EmployeeRef', 'Vendor': 'VendorRef'}
DESCRIPTION_MAX = 4000
EMPLOYEE_NUMBER_MAX = 100
READ_ONLY = {'Id', 'SyncToken', 'MetaData', 'domain', 'sparse', 'status'}


def build_employee(ctx, body, existing, build_person):
    """Employee: the Names list's rules (``build_person``: names, 6080, 6240, e-mail) plus its own fields.

    :param build_person: entities.build_person (passed in: this module is imported by entities)
    """
    if len(str(body.get('EmployeeNumber') or '')) > EMPLOYEE_NUMBER_MAX:
        raise errors.string_length('EmployeeNumber', EMPLOYEE_NUMBER_MAX, len(str(body['EmployeeNumber'])))
    if body.get('CompanyName'):
        # An employee is a person: QuickBooks has no company name on it.
        raise errors.err(2010, 'Request has invalid or unsupported property',
                         'Property Name:CompanyName specified is unsupported or invalid', 'CompanyName')
    obj = build_person(ctx, 'Employee', body, existing)
    obj['BillableTime'] = bool(body.get('BillableTime', False))
    if body.get('BillRate') not in (None, ''):
        rate = _decimal(body['BillRate'], 'BillRate')
        if rate < 0:
            raise errors.invalid_property('BillRate cannot be negative', 'BillRate')
        obj['BillRate'] = util.num(rate)
    else:
        obj.pop('BillRate', None)
    return obj


def build_time_activity(ctx, body, existing):
    """Validate a TimeActivity (create or full update) and return the object to store."""
    name_of = body.get('NameOf')
    if not name_of:
        raise errors.required_missing('NameOf', 'NameOf')
    if name_of not in NAME_OF:
        raise errors.invalid_enum(name_of, 'NameOf')
    ref_field = NAME_OF[name_of]
    if not body.get(ref_field):
        raise errors.required_missing(ref_field, ref_field)
    other = 'VendorRef' if ref_field == 'EmployeeRef' else 'EmployeeRef'
    if body.get(other):
        raise errors.invalid_property('NameOf %s cannot carry a %s' % (name_of, other), other)
    for field in ('TxnDate', 'StartTime', 'EndTime'):
        if body.get(field) is not None and not isinstance(body[field], str):
            raise errors.malformed('Invalid date for %s: %s' % (field, body[field]))
    if body.get('TxnDate') is not None and util.parse_date(body['TxnDate']) is None:
        raise errors.malformed('Invalid date for TxnDate: %s' % body['TxnDate'])
    if len(str(body.get('Description') or '')) > DESCRIPTION_MAX:
        raise errors.string_length('Description', DESCRIPTION_MAX, len(str(body['Description'])))

    obj = {k: v for k, v in body.items() if k not in READ_ONLY and k not in ('EmployeeRef', 'VendorRef')}
    obj['NameOf'] = name_of
    person = resolve(ctx, name_of, body[ref_field], ref_field, label='Names')
    obj[ref_field] = named_ref(person)
    obj['TxnDate'] = body.get('TxnDate') or (existing or {}).get('TxnDate') or util.fmt_date(ctx.now,
                                                                                             ctx.company.tz_minutes)
    if body.get('CustomerRef'):
        obj['CustomerRef'] = named_ref(resolve(ctx, 'Customer', body['CustomerRef'], 'CustomerRef', label='Names'))
    if body.get('ItemRef'):
        item = resolve(ctx, 'Item', body['ItemRef'], 'ItemRef', label='Item')
        if item.get('Type') != 'Service':
            raise errors.business('Time can only be recorded against a service item: %s is a %s item.'
                                  % (item.get('Name'), item.get('Type')))
        obj['ItemRef'] = named_ref(item, 'Name')
    if body.get('ClassRef'):
        obj['ClassRef'] = named_ref(resolve(ctx, 'Class', body['ClassRef'], 'ClassRef', label='Klasses'), 'Name')
    _set_duration(body, obj)
    _set_billing(body, obj)
    obj['Taxable'] = bool(body.get('Taxable', False))
    return obj


def _decimal(value, element):
    try:
        return util.D(value)
    except (ValueError, ArithmeticError):
        raise errors.malformed('Invalid number for %s: %r' % (element, value))


def _whole(body, field, low=0, high=None):
    """A whole, non-negative number of hours or minutes (0 when absent)."""
    value = body.get(field)
    if value in (None, ''):
        return 0
    number = _decimal(value, field)
    if number != number.to_integral_value() or number < low or (high is not None and number > high):
        limit = '' if high is None else ' and %d' % high
        raise errors.err(2040, 'Invalid Number', '%s must be a whole number between %d%s. Supplied value:%s'
                         % (field, low, limit, value), field)
    return int(number)


def _set_duration(body, obj):
    """Hours/Minutes, or StartTime/EndTime less the break: one of the two is required."""
    has_span = body.get('StartTime') or body.get('EndTime')
    has_hours = body.get('Hours') not in (None, '') or body.get('Minutes') not in (None, '')
    if has_span:
        if not (body.get('StartTime') and body.get('EndTime')):
            raise errors.required_missing('EndTime' if body.get('StartTime') else 'StartTime',
                                          'EndTime' if body.get('StartTime') else 'StartTime')
        if has_hours:
            raise errors.invalid_property('Hours and Minutes cannot be given with StartTime and EndTime', 'Hours')
        start, end = _timestamp(body['StartTime'], 'StartTime'), _timestamp(body['EndTime'], 'EndTime')
        breaks = _whole(body, 'BreakHours') * 60 + _whole(body, 'BreakMinutes', high=59)
        worked = int((end - start).total_seconds() // 60) - breaks
        if worked <= 0:
            raise errors.business('The end time must be after the start time (plus any break).')
        obj['StartTime'], obj['EndTime'] = body['StartTime'], body['EndTime']
        obj['BreakHours'], obj['BreakMinutes'] = divmod(breaks, 60)
        obj['Hours'], obj['Minutes'] = divmod(worked, 60)
        return
    if not has_hours:
        raise errors.required_missing('Hours', 'Hours')
    obj['Hours'] = _whole(body, 'Hours')
    obj['Minutes'] = _whole(body, 'Minutes', high=59)
    if not (obj['Hours'] or obj['Minutes']):
        raise errors.business('A time activity needs some time: Hours and Minutes are both 0.')


def _timestamp(value, element):
    """An xsd:dateTime with its offset (QuickBooks requires the offset, e.g. 2026-11-02T09:00:00-08:00)."""
    try:
        moment = datetime.fromisoformat(str(value).replace('Z', '+00:00'))
    except ValueError:
        raise errors.malformed('Invalid date for %s: %s' % (element, value))
    if moment.tzinfo is None:
        raise errors.malformed('Invalid date for %s: %s (a time zone offset is required)' % (element, value))
    return moment


def _set_billing(body, obj):
    """BillableStatus (NotBillable by default); billable time needs a customer and an hourly rate."""
    status = body.get('BillableStatus') or 'NotBillable'
    if status not in BILLABLE_STATUSES:
        raise errors.invalid_enum(status, 'BillableStatus')
    obj['BillableStatus'] = status
    rate = body.get('HourlyRate')
    if status == 'Billable':
        if not obj.get('CustomerRef'):
            raise errors.required_missing('CustomerRef', 'CustomerRef')
        if rate in (None, ''):
            raise errors.required_missing('HourlyRate', 'HourlyRate')
    if rate not in (None, ''):
        value = _decimal(rate, 'HourlyRate')
        if value < 0:
            raise errors.invalid_property('HourlyRate cannot be negative', 'HourlyRate')
        obj['HourlyRate'] = util.num(value)
    else:
        obj['HourlyRate'] = 0
