"""Fault builders in Intuit's exact shapes (spec §5).

Three families exist and they deliberately look different, as on the real
service:

* ``QBOError`` -> the Accounting API ``{"Fault": {"Error": [...], "type": ...}, "time": ...}``
  envelope (validation / service faults, HTTP 400 mostly);
* ``GatewayError`` -> the lower-case gateway body of §5.2 (401/3200, 403/3100);
* ``OAuthError`` -> token endpoint bodies ``{"error": "invalid_grant"}``.
"""


class QBOError(Exception):
    """An Accounting API fault (one or more ``Error`` entries)."""

    def __init__(self, errors, status=400, ftype='ValidationFault'):
        super().__init__(errors[0].get('Detail') if errors else 'fault')
        self.errors = errors
        self.status = status
        self.ftype = ftype

    def fault(self):
        return {'Error': [dict(e) for e in self.errors], 'type': self.ftype}

    def body(self, time_str):
        return {'Fault': self.fault(), 'time': time_str}


def err(code, message, detail, element='', status=400, ftype='ValidationFault'):
    return QBOError([{'Message': message, 'Detail': detail, 'code': str(code), 'element': element}],
                    status=status, ftype=ftype)


def required_missing(param, element=''):
    return err(2020, 'Required param missing, need to supply the required value for the API',
               'Required parameter %s is missing in the request' % param, element)


def string_length(element, maxlen, supplied, minlen=0):
    return err(2050, 'String length is either shorter or longer than supported by specification',
               'String length specified does not match the supported length. Min:%d Max:%d supported. '
               'Supplied length:%d' % (minlen, maxlen, supplied), element)


def invalid_ref(label, ref_id, suffix='not found'):
    """2500, e.g. 'Invalid Reference Id : Names element id 583 not found'."""
    return err(2500, 'Invalid Reference Id',
               'Invalid Reference Id : %s element id %s %s' % (label, ref_id, suffix), 'Reference Id')


def inactive_ref():
    return err(610, 'Object Not Found',
               "Object Not Found : Something you're trying to use has been made inactive. "
               "Check the fields with accounts, customers, items, vendors or employees.")


def deleted_object():
    return err(610, 'Object Not Found', 'Object Not Found : Another user has deleted this transaction.')


def invalid_id(value):
    return err(2030, 'Invalid ID', 'Id should be a valid number. Supplied value:%s' % value, 'Id')


def amount_calc(supplied):
    return err(6070, 'Amount calculation incorrect in the request',
               'Amount is not equal to Qty * UnitPrice. Supplied value:%s' % supplied)


def no_name():
    return err(6080, 'No Name Provided',
               'Title, GivenName, MiddleName, FamilyName, DisplayName, Suffix - one of these must be non-empty.')


def discount_missing():
    return err(6090, 'Discount Line missing required info', 'Discount amount or percent should be provided')


def line_taxcode(supplied):
    return err(6100, 'Invalid Line TaxCode in the request',
               'Invalid Line TaxCode in the request : Valid Line TaxCodes for US should be TAX or NON. '
               'Supplied value:%s' % supplied)


def dup_docnum(docnum, txn_type, txn_id):
    return err(6140, 'Duplicate Document Number Error',
               'Duplicate Document Number Error : You must specify a different number. This number has already '
               'been used. DocNumber=%s is assigned to TxnType=%s with TxnId=%s' % (docnum, txn_type, txn_id))


def dup_name(existing_id):
    return err(6240, 'Duplicate Name Exists Error', 'The name supplied already exists. : Id=%s' % existing_id)


def stale():
    return err(5010, 'Stale Object Error',
               'Stale Object Error : You and root were working on this at the same time. '
               'root finished before you did, so your work was not saved.')


def global_tax_on_us():
    return business('GlobalTaxCalculation TaxInclusive is not applicable to US companies: US prices exclude '
                    'sales tax (line TaxCodeRef TAX/NON, TxnTaxDetail.TxnTaxCodeRef).')


def line_taxcode_without_tax(supplied):
    return business('Sales tax is not enabled for this company, a line cannot carry a tax code. '
                    'Supplied value:%s' % supplied)


def inclusive_amount_mismatch(amount, gross, rate):
    return business('Line Amount must be the amount before tax on a TaxInclusive transaction: '
                    'Amount %s at %s%% does not give TaxInclusiveAmt %s.' % (amount, util_num(rate), gross))


def util_num(value):
    return ('%f' % value).rstrip('0').rstrip('.')


def business(detail):
    return err(6000, 'A business validation error has occurred while processing your request',
               'Business Validation Error: %s' % detail)


def unsupported(detail):
    return err(500, 'Unsupported Operation', detail)


def invalid_enum(value, element=''):
    return err(2170, 'Invalid Enumeration', 'Invalid Enumeration : %s' % value, element)


def invalid_property(detail, element=''):
    return err(2010, 'Request has invalid or unsupported property', detail, element)


def malformed(detail):
    return err(2010, 'Request has invalid or unsupported property', detail)


def query_parse(detail):
    return err(4000, 'Error parsing query', 'QueryParserError: %s' % detail)


def query_validation(detail):
    return err(4001, 'Invalid query', 'QueryValidationError: %s' % detail)


def batch_size(n, limit=30):
    return err(1040, 'Batch size exceeds allowed limit',
               'Number of BatchItemRequest(s) %d exceeds the allowed limit of %d' % (n, limit))


def system_fault(status=500):
    return err(10000, 'An application error has occurred while processing your request',
               'System Failure Error: An unexpected error occurred while accessing or saving your data. '
               'Please wait a few minutes and try again. If the problem persists, contact customer support.',
               status=status, ftype='SystemFault')


def throttle_error():
    """429/3001 ThrottleExceeded (JSON Fault form; see §5.3)."""
    return err(3001, 'message=ThrottleExceeded; errorCode=003001; statusCode=429',
               'The request limit was reached.  Try again later', status=429, ftype='SERVICE')


class GatewayError(Exception):
    """401/403 from the API gateway: lower-case keys and epoch-ms ``time`` (spec §5.2)."""

    def __init__(self, status, code, message, detail, ftype):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
        self.ftype = ftype

    def body(self, epoch):
        return {
            'warnings': None, 'intuitObject': None,
            'fault': {'error': [{'message': self.message, 'detail': self.detail, 'code': self.code,
                                 'element': None}], 'type': self.ftype},
            'report': None, 'queryResponse': None, 'batchItemResponse': [], 'attachableResponse': [],
            'syncErrorResponse': None, 'requestId': None, 'time': int(epoch * 1000), 'status': None,
            'cdcresponse': [],
        }


def auth_failed(detail=None):
    return GatewayError(401, '3200', 'message=AuthenticationFailed; errorCode=003200; statusCode=401',
                        detail, 'AUTHENTICATION')


def authz_failed(detail=None):
    return GatewayError(403, '3100', 'message=AuthorizationFailed; errorCode=003100; statusCode=403',
                        detail, 'SERVICE')


class OAuthError(Exception):
    """Token / revoke endpoint error: ``{"error": ..., "error_description"?: ...}``."""

    def __init__(self, error, status=400, description=None):
        super().__init__(error)
        self.error = error
        self.status = status
        self.description = description

    def body(self):
        b = {'error': self.error}
        if self.description:
            b['error_description'] = self.description
        return b
