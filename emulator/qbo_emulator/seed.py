"""Seed data: a US sandbox-like company and a UK-style (VAT) company.

Ids, names and shapes follow the Intuit samples (Item 1 "Services", Account 79
"Sales of Product Income", TaxCode "2" California 8%, "3" Tucson = AZ State
7.1% + Tucson City 2%, Terms 1-5, Customer 1 "Amy's Bird Sanctuary").

Preferences defaults chosen for the seeded companies (documented contract):

* ``SalesFormsPrefs.CustomTxnNumbers`` = **false** (QBO assigns DocNumber last+1,
  as in ``invoice_create_response.json``);
* ``AccountingInfoPrefs.ClassTrackingPerTxn`` = false, ``ClassTrackingPerTxnLine`` = true;
* ``SalesFormsPrefs.AllowDiscount`` = true (DefaultDiscountAccount "86"),
  ``AllowShipping`` = false, ``AllowDeposit`` = true, ``DefaultTerms`` = 3 (Net 30);
* US: ``TaxPrefs`` = {UsingSalesTax: true, TaxGroupCodeRef: {"value": "2"}} and
  ``PartnerTaxEnabled`` absent (not an AST company; set it via the control API);
* ``CurrencyPrefs.MultiCurrencyEnabled`` = false.
"""
import copy

from . import util
from .store import ENTITIES, Company

CURRENCY_NAMES = {
    'USD': 'United States Dollar', 'GBP': 'British Pound Sterling', 'EUR': 'Euro',
    'CAD': 'Canadian Dollar', 'AUD': 'Australian Dollar', 'INR': 'Indian Rupee',
}
COUNTRY_CURRENCY = {'US': 'USD', 'GB': 'GBP', 'UK': 'GBP', 'CA': 'CAD', 'AU': 'AUD', 'IN': 'INR',
                    'FR': 'EUR', 'DE': 'EUR', 'IE': 'EUR', 'ES': 'EUR', 'IT': 'EUR', 'NL': 'EUR'}
COUNTRY_TZ = {'US': -420, 'CA': -300, 'AU': 600, 'IN': 330, 'GB': 0, 'UK': 0}

US_ACCOUNTS = [
    ('1', 'Services', 'Income', 'ServiceFeeIncome'),
    ('4', 'Undeposited Funds', 'Other Current Asset', 'UndepositedFunds'),
    ('35', 'Checking', 'Bank', 'Checking'),
    ('84', 'Accounts Receivable (A/R)', 'Accounts Receivable', 'AccountsReceivable'),
    ('79', 'Sales of Product Income', 'Income', 'SalesOfProductIncome'),
    ('80', 'Cost of Goods Sold', 'Cost of Goods Sold', 'SuppliesMaterialsCogs'),
    ('81', 'Inventory Asset', 'Other Current Asset', 'Inventory'),
    ('86', 'Discounts given', 'Income', 'DiscountsRefundsGiven'),
    ('89', 'Board of Equalization Payable', 'Other Current Liability', 'SalesTaxPayable'),
    # payables (sandbox ids): the A/P account, a second bank account, a credit card and an expense account
    ('33', 'Accounts Payable (A/P)', 'Accounts Payable', 'AccountsPayable'),
    ('36', 'Savings', 'Bank', 'Savings'),
    ('41', 'Mastercard', 'Credit Card', 'CreditCard'),
    ('7', 'Advertising', 'Expense', 'AdvertisingPromotional'),
]
CLASSIFICATION = {
    'Bank': 'Asset', 'Other Current Asset': 'Asset', 'Fixed Asset': 'Asset', 'Other Asset': 'Asset',
    'Accounts Receivable': 'Asset', 'Equity': 'Equity', 'Expense': 'Expense', 'Other Expense': 'Expense',
    'Cost of Goods Sold': 'Expense', 'Accounts Payable': 'Liability', 'Credit Card': 'Liability',
    'Long Term Liability': 'Liability', 'Other Current Liability': 'Liability', 'Income': 'Revenue',
    'Other Income': 'Revenue',
}
TERMS = [('1', 'Due on receipt', 0), ('2', 'Net 15', 15), ('3', 'Net 30', 30), ('4', 'Net 60', 60),
         ('5', 'Net 10', 10)]


def base_fields(obj, company, now):
    obj.setdefault('domain', 'QBO')
    obj.setdefault('sparse', False)
    obj.setdefault('SyncToken', '0')
    company.stamp(obj, now, created=True)
    return obj


def currency_ref(code):
    return {'value': code, 'name': CURRENCY_NAMES.get(code, code)}


def make_account(company, now, acc_id, name, atype, subtype):
    return base_fields({
        'Id': acc_id, 'Name': name, 'SubAccount': False, 'FullyQualifiedName': name, 'Active': True,
        'Classification': CLASSIFICATION.get(atype, 'Asset'), 'AccountType': atype,
        'AccountSubType': subtype, 'CurrentBalance': 0, 'CurrentBalanceWithSubAccounts': 0,
        'CurrencyRef': currency_ref(company.currency),
    }, company, now)


def make_term(company, now, term_id, name, days):
    return base_fields({'Id': term_id, 'Name': name, 'Active': True, 'Type': 'STANDARD', 'DueDays': days,
                        'DiscountDays': 0, 'DiscountPercent': 0}, company, now)


def make_rate(company, now, rate_id, name, value, agency):
    return base_fields({
        'Id': rate_id, 'Name': name, 'Description': name, 'Active': True, 'RateValue': value,
        'AgencyRef': {'value': agency}, 'SpecialTaxType': 'NONE', 'DisplayType': 'ReadOnly',
        'EffectiveTaxRate': [{'RateValue': value, 'EffectiveDate': '2014-09-18T00:00:00-07:00'}],
    }, company, now)


def make_code(company, now, code_id, name, rate_refs, group, description=None):
    return base_fields({
        'Id': code_id, 'Name': name, 'Description': description or name, 'Active': True, 'Hidden': False,
        'Taxable': True, 'TaxGroup': group,
        'SalesTaxRateList': {'TaxRateDetail': [
            {'TaxRateRef': {'value': rid, 'name': rname}, 'TaxTypeApplicable': 'TaxOnAmount', 'TaxOrder': 0}
            for rid, rname in rate_refs]},
        'PurchaseTaxRateList': {'TaxRateDetail': []},
    }, company, now)


def pseudo_code(company, now, code_id, taxable, group=False):
    """US pseudo codes TAX/NON/CustomSalesTax: string ids, no SyncToken/domain (taxcode sample)."""
    ts = util.fmt_dt(now, company.tz_minutes)
    return {'Id': code_id, 'Name': code_id, 'Description': code_id, 'Taxable': taxable, 'TaxGroup': group,
            'MetaData': {'CreateTime': ts, 'LastUpdatedTime': ts}, '_updated': now,
            '_cseq': company.next_cseq(), '_pseudo': True}


def preferences(company, now, us):
    prefs = {
        'Id': '1',
        'AccountingInfoPrefs': {
            'FirstMonthOfFiscalYear': 'January', 'UseAccountNumbers': True, 'TaxYearMonth': 'January',
            'ClassTrackingPerTxn': False, 'ClassTrackingPerTxnLine': True, 'TrackDepartments': False,
            'DepartmentTerminology': 'Location', 'CustomerTerminology': 'Customers'},
        'ProductAndServicesPrefs': {'ForSales': True, 'ForPurchase': True, 'QuantityWithPriceAndRate': True,
                                    'QuantityOnHand': True},
        'SalesFormsPrefs': {
            'CustomField': [{'CustomField': [
                {'Name': 'SalesFormsPrefs.UseSalesCustom1', 'Type': 'BooleanType', 'BooleanValue': True},
                {'Name': 'SalesFormsPrefs.SalesCustomName1', 'Type': 'StringType', 'StringValue': 'Crew #'}]}],
            'CustomTxnNumbers': False, 'AllowDeposit': True, 'AllowDiscount': True,
            'DefaultDiscountAccount': '86' if us else '3', 'AllowEstimates': True, 'AllowServiceDate': False,
            'AllowShipping': False, 'DefaultTerms': {'value': '3'}, 'AutoApplyCredit': True,
            'AutoApplyPayments': True, 'ETransactionEnabledStatus': 'NotApplicable',
            'ETransactionAttachPDF': False, 'ETransactionPaymentEnabled': False, 'IPNSupportEnabled': False,
            'UsingPriceLevels': False, 'UsingProgressInvoicing': False, 'EmailCopyToCompany': False},
        'EmailMessagesPrefs': {'InvoiceMessage': {'Subject': 'Invoice from {{company}}',
                                                  'Message': 'Your invoice is attached.'}},
        'VendorAndPurchasesPrefs': {'TrackingByCustomer': True, 'BillableExpenseTracking': True,
                                    'POCustomField': []},
        'TimeTrackingPrefs': {'UseServices': True, 'BillCustomers': True, 'ShowBillRateToAll': False,
                              'WorkWeekStartDate': 'Monday', 'MarkTimeEntriesBillable': True},
        'TaxPrefs': ({'UsingSalesTax': True, 'TaxGroupCodeRef': {'value': '2'}} if us
                     else {'UsingSalesTax': True}),
        'CurrencyPrefs': {'MultiCurrencyEnabled': False, 'HomeCurrency': {'value': company.currency}},
        'ReportPrefs': {'ReportBasis': 'Accrual', 'CalcAgingReportFromTxnDate': False},
        'OtherPrefs': {'NameValue': [
            {'Name': 'SalesFormsPrefs.DefaultCustomerMessage',
             'Value': 'Thank you for your business and have a great day!'},
            {'Name': 'SalesFormsPrefs.DefaultItem', 'Value': '1'},
            {'Name': 'DTXCopyMemo', 'Value': 'false'},
            {'Name': 'UncategorizedAssetAccountId', 'Value': '32'},
            {'Name': 'WarnDuplicateCheckNumber', 'Value': 'true'},
            {'Name': 'WarnDuplicateBillNumber', 'Value': 'false'},
        ]},
    }
    return base_fields(prefs, company, now)


def company_info(company, now):
    us = company.is_us
    addr = ({'Id': '1', 'Line1': '123 Sierra Way', 'City': 'San Pablo', 'CountrySubDivisionCode': 'CA',
             'PostalCode': '87999', 'Country': 'US', 'Lat': '36.6788345', 'Long': '-116.0184209'} if us else
            {'Id': '1', 'Line1': '1 Emulator Street', 'City': 'London', 'PostalCode': 'EC1A 1BB',
             'Country': company.country})
    return base_fields({
        'Id': company.realm_id, 'CompanyName': company.name, 'LegalName': company.name,
        'CompanyAddr': dict(addr), 'CustomerCommunicationAddr': dict(addr), 'LegalAddr': dict(addr),
        'PrimaryPhone': {}, 'CompanyStartDate': util.fmt_date(now, company.tz_minutes),
        'FiscalYearStartMonth': 'January', 'Country': company.country,
        'Email': {'Address': 'noreply@quickbooks.com'}, 'WebAddr': {},
        'SupportedLanguages': 'en',
        'NameValue': [
            {'Name': 'NeoEnabled', 'Value': 'true'}, {'Name': 'IndustryType', 'Value': 'Landscaping Services'},
            {'Name': 'SubscriptionStatus', 'Value': 'PAID'}, {'Name': 'OfferingSku', 'Value': 'QuickBooks Online Plus'},
            {'Name': 'PayrollFeature', 'Value': 'false'}, {'Name': 'AccountantFeature', 'Value': 'false'},
            {'Name': 'IsQbdtMigrated', 'Value': 'false'}, {'Name': 'ItemCategoriesFeature', 'Value': 'true'},
            {'Name': 'AssignedTime', 'Value': util.fmt_dt(now, company.tz_minutes)},
        ],
    }, company, now)


def build_company(realm_id, name, country, currency, now, preferences_patch=None):
    """Create a fully seeded company (US sandbox-like, or a VAT company for any other country)."""
    country = (country or 'US').upper()
    if country == 'UK':
        country = 'GB'
    currency = (currency or COUNTRY_CURRENCY.get(country, 'USD')).upper()
    c = Company(realm_id, name, country, currency, COUNTRY_TZ.get(country, 60 if country != 'US' else -420), now)
    us = c.is_us

    def put(entity, obj):
        c.put(entity, obj)

    put('CompanyInfo', company_info(c, now))
    put('Preferences', preferences(c, now, us))
    if preferences_patch:
        c.data['Preferences']['1'] = util.deep_merge(c.prefs(), preferences_patch)
    if us:
        for a in US_ACCOUNTS:
            put('Account', make_account(c, now, *a))
    else:
        for a in [('1', 'Sales', 'Income', 'SalesOfProductIncome'),
                  ('2', 'Undeposited Funds', 'Other Current Asset', 'UndepositedFunds'),
                  ('3', 'Discounts given', 'Income', 'DiscountsRefundsGiven'),
                  ('4', 'Cost of sales', 'Cost of Goods Sold', 'SuppliesMaterialsCogs'),
                  ('5', 'Stock Asset', 'Other Current Asset', 'Inventory'),
                  ('6', 'VAT Control', 'Other Current Liability', 'GlobalTaxPayable'),
                  ('7', 'Debtors', 'Accounts Receivable', 'AccountsReceivable'),
                  ('8', 'Creditors', 'Accounts Payable', 'AccountsPayable'),
                  ('9', 'Current', 'Bank', 'Checking'), ('10', 'Savings', 'Bank', 'Savings'),
                  ('11', 'Credit card', 'Credit Card', 'CreditCard'),
                  ('12', 'Purchases', 'Expense', 'SuppliesMaterials')]:
            put('Account', make_account(c, now, *a))
    for t in TERMS:
        put('Term', make_term(c, now, *t))
    for pm_id, pm_name, pm_type in [('1', 'Cash', 'NON_CREDIT_CARD'), ('2', 'Check', 'NON_CREDIT_CARD'),
                                    ('3', 'Visa', 'CREDIT_CARD')]:
        put('PaymentMethod', base_fields({'Id': pm_id, 'Name': pm_name, 'Active': True, 'Type': pm_type},
                                         c, now))
    income = '79' if us else '1'
    put('Item', base_fields({
        'Id': '1', 'Name': 'Services', 'Description': None, 'Active': True, 'FullyQualifiedName': 'Services',
        'Taxable': False, 'UnitPrice': 0, 'Type': 'Service', 'IncomeAccountRef': {'value': income,
        'name': 'Sales of Product Income' if us else 'Sales'}, 'PurchaseCost': 0, 'TrackQtyOnHand': False,
    }, c, now))
    del c.data['Item']['1']['Description']
    if us:
        put('TaxAgency', base_fields({'Id': '1', 'DisplayName': 'Arizona Dept. of Revenue',
                                      'TaxTrackedOnSales': True, 'TaxTrackedOnPurchases': False}, c, now))
        put('TaxAgency', base_fields({'Id': '2', 'DisplayName': 'Board of Equalization',
                                      'TaxTrackedOnSales': True, 'TaxTrackedOnPurchases': False}, c, now))
        put('TaxRate', make_rate(c, now, '1', 'AZ State tax', 7.1, '1'))
        put('TaxRate', make_rate(c, now, '2', 'Tucson City', 2, '1'))
        put('TaxRate', make_rate(c, now, '3', 'California', 8, '2'))
        put('TaxCode', pseudo_code(c, now, 'TAX', True))
        put('TaxCode', pseudo_code(c, now, 'NON', False))
        put('TaxCode', pseudo_code(c, now, 'CustomSalesTax', True, group=True))
        put('TaxCode', make_code(c, now, '2', 'California', [('3', 'California')], True))
        put('TaxCode', make_code(c, now, '3', 'Tucson', [('1', 'AZ State tax'), ('2', 'Tucson City')], True))
        cust_addr = {'Line1': '4581 Finch St.', 'City': 'Bayshore', 'CountrySubDivisionCode': 'CA',
                     'PostalCode': '94326', 'Lat': 'INVALID', 'Long': 'INVALID'}
        customer = {
            'Id': '1', 'DisplayName': "Amy's Bird Sanctuary", 'GivenName': 'Amy', 'MiddleName': 'Michelle',
            'FamilyName': 'Lauterbach', 'CompanyName': "Amy's Bird Sanctuary",
            'FullyQualifiedName': "Amy's Bird Sanctuary", 'PrintOnCheckName': "Amy's Bird Sanctuary",
            'PrimaryEmailAddr': {'Address': 'Birds@Intuit.com'}, 'PrimaryPhone': {'FreeFormNumber': '(650) 555-3311'},
            'BillAddr': dict(cust_addr, Id='2'), 'ShipAddr': dict(cust_addr, Id='109'),
            'DefaultTaxCodeRef': {'value': '2'}, 'Taxable': True, 'Job': False, 'BillWithParent': False,
            'Balance': 0, 'BalanceWithJobs': 0, 'CurrencyRef': currency_ref(currency),
            'PreferredDeliveryMethod': 'Print', 'Active': True, 'Notes': 'Note added via Update operation.',
        }
    else:
        put('TaxAgency', base_fields({'Id': '1', 'DisplayName': 'HMRC VAT', 'TaxTrackedOnSales': True,
                                      'TaxTrackedOnPurchases': True, 'TaxRegistrationNumber': 'GB123456789'},
                                     c, now))
        vat = [('2', '20.0% S', 'Standard 20%', '1', '20.0% S', 20),
               ('3', '5.0% R', 'Reduced 5%', '2', '5.0% R', 5),
               ('4', '0.0% Z', 'Zero-rated 0%', '3', '0.0% Z', 0),
               ('5', 'Exempt', 'Exempt', '4', 'Exempt', 0),
               ('6', 'No VAT', 'No VAT (outside the scope of VAT)', '5', 'No VAT', 0)]
        for code_id, cname, desc, rate_id, rname, rval in vat:
            put('TaxRate', make_rate(c, now, rate_id, rname, rval, '1'))
            code = make_code(c, now, code_id, cname, [(rate_id, rname)], False, desc)
            code['PurchaseTaxRateList'] = copy.deepcopy(code['SalesTaxRateList'])
            put('TaxCode', code)
        cust_addr = {'Line1': '10 Downing Street', 'City': 'London', 'PostalCode': 'SW1A 2AA', 'Country': 'GB'}
        customer = {
            'Id': '1', 'DisplayName': "Amy's Bird Sanctuary", 'GivenName': 'Amy', 'FamilyName': 'Lauterbach',
            'CompanyName': "Amy's Bird Sanctuary", 'FullyQualifiedName': "Amy's Bird Sanctuary",
            'PrintOnCheckName': "Amy's Bird Sanctuary", 'PrimaryEmailAddr': {'Address': 'birds@example.co.uk'},
            'BillAddr': dict(cust_addr, Id='2'), 'ShipAddr': dict(cust_addr, Id='3'), 'Taxable': True,
            'Job': False, 'BillWithParent': False, 'Balance': 0, 'BalanceWithJobs': 0,
            'CurrencyRef': currency_ref(currency), 'PreferredDeliveryMethod': 'Print', 'Active': True,
        }
    put('Customer', base_fields(customer, c, now))
    # sandbox-like counters: next transaction id and first DocNumber
    c.seqs['txn'] = max(c.seqs.get('txn', 0), 100)
    c.seqs['names'] = max(c.seqs.get('names', 0), 57)
    c.docnums['Invoice'] = 1000
    c.docnums['CreditMemo'] = 1000
    c.docnums['SalesReceipt'] = 1000
    for e in ENTITIES:
        if ENTITIES[e]['seq'] and ENTITIES[e]['seq'] not in c.seqs:
            c.seqs[ENTITIES[e]['seq']] = 0
    return c
