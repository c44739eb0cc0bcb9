"""Constants of the QuickBooks Online connector: endpoints, versions, limits, error codes.

Sources: ../shared/qbo-api-reference.md (Intuit's OAuth 2.0 and Accounting API v3 documentation).
"""

# --- OAuth 2.0 endpoints (Intuit discovery document, https://developer.intuit.com/.well-known/openid_configuration)
OAUTH_ENDPOINTS = {
    'production': {
        'authorize': 'https://appcenter.intuit.com/connect/oauth2',
        'token': 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer',
        'revoke': 'https://developer.api.intuit.com/v2/oauth2/tokens/revoke',
        'api': 'https://quickbooks.api.intuit.com',
        'app': 'https://app.qbo.intuit.com/app',
    },
    'sandbox': {
        'authorize': 'https://appcenter.intuit.com/connect/oauth2',
        'token': 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer',
        'revoke': 'https://developer.api.intuit.com/v2/oauth2/tokens/revoke',
        'api': 'https://sandbox-quickbooks.api.intuit.com',
        'app': 'https://app.sandbox.qbo.intuit.com/app',
    },
}
# A "custom" environment serves every Intuit path on one host (the bundled emulator does exactly that).
CUSTOM_PATHS = {
    'authorize': '/connect/oauth2',
    'token': '/oauth2/v1/tokens/bearer',
    'revoke': '/v2/oauth2/tokens/revoke',
    'api': '',
    'app': '',
}

# Only the accounting scope is needed to export customers and invoices.
OAUTH_SCOPE = 'com.intuit.quickbooks.accounting'

# Route of our OAuth callback (registered as the Redirect URI in the Intuit app).
OAUTH_CALLBACK_ROUTE = '/quickbooks_online/oauth/callback'
# How long a signed `state` stays valid between Connect and the callback.
OAUTH_STATE_TTL_SECONDS = 600

# --- Accounting API
# Since 2025-08-01 Intuit ignores every minor version below 75; we always send it explicitly.
MINOR_VERSION = '75'
# requestid: unique per realm, at most 50 characters (36 for batch requests).
REQUEST_ID_MAX_LENGTH = 50
BATCH_REQUEST_ID_MAX_LENGTH = 36
# Timeout (seconds) of connecting and of each read: QBO itself gives up on requests after 120 s.
# One number rather than a (connect, read) tuple: Odoo's test harness only accepts numbers.
HTTP_TIMEOUT = 60
# Shortest time worth an attempt: below it a request is not sent, and the record waits for the next run.
MIN_ATTEMPT_SECONDS = 10
# Transparent retries of one call after a transport error, 5xx or 429 (only for idempotent calls:
# GETs, and POSTs that carry a requestid so that QBO replays instead of re-executing).
MAX_TRANSPORT_RETRIES = 2
RETRY_BACKOFF_SECONDS = (0.5, 1.5)
# Query paging: QBO returns at most 1000 rows per query.
QUERY_PAGE_SIZE = 1000
# Batch: at most 30 operations per batch request.
BATCH_MAX_ITEMS = 30
# Published throttles, per realm: 500 requests per minute and 10 concurrent requests.
RATE_LIMIT_PER_MINUTE = 500
RATE_LIMIT_CONCURRENT = 10
# Scheduled exports (per connection): default and shortest interval, in minutes.
EXPORT_INTERVAL_DEFAULT_MINUTES = 60
EXPORT_INTERVAL_MIN_MINUTES = 15
# ... 10 requests per second and 40 batch requests per minute.
RATE_LIMIT_PER_SECOND = 10
RATE_LIMIT_BATCH_PER_MINUTE = 40
# Reads (queries, GETs, CDC) are metered per month ("CorePlus" calls): 500,000 on the free tier.
METERED_MONTHLY_BUDGET = 500000
# Administrators get an activity when this share of the monthly budget is used.
METERED_ALERT_RATIO = 0.8
# After a 429, Intuit asks to wait 60 s.
THROTTLE_RETRY_SECONDS = 60

# Auto-send: documents queued per connection and per cron run, at most (the cron re-triggers itself).
AUTO_SEND_BATCH_SIZE = 1000
# Customer tax registration number (VAT/GST): PrimaryTaxIdentifier, for the locales that have it.
TAX_IDENTIFIER_LOCALES = ('GB', 'CA', 'AU', 'IN')

# --- Tokens
# Refresh the access token when it expires within this many seconds.
ACCESS_TOKEN_REFRESH_MARGIN = 300
# Warn the admin this many days before the refresh token's 5-year hard expiry.
HARD_EXPIRY_WARNING_DAYS = 30
# Ask the token endpoint for the hard expiry (x_refresh_token_hard_expires_in).
HARD_EXPIRY_HEADER = 'x-include-refresh-token-hard-expires-in'

# --- Field limits (Intuit API reference)
DOC_NUMBER_MAX_LENGTH = 21
DISPLAY_NAME_MAX_LENGTH = 500
COMPANY_NAME_MAX_LENGTH = 100
PERSON_NAME_MAX_LENGTH = 100
EMAIL_MAX_LENGTH = 100
PHONE_MAX_LENGTH = 30
WEB_URI_MAX_LENGTH = 1000
ADDRESS_LINE_MAX_LENGTH = 500
CITY_MAX_LENGTH = 255
COUNTRY_MAX_LENGTH = 255
POSTAL_CODE_MAX_LENGTH = 30
NOTES_MAX_LENGTH = 2000
TAX_IDENTIFIER_MAX_LENGTH = 20
ITEM_NAME_MAX_LENGTH = 100
CUSTOMER_MEMO_MAX_LENGTH = 1000
PRIVATE_NOTE_MAX_LENGTH = 4000
LINE_DESCRIPTION_MAX_LENGTH = 4000
# Vendor.AcctNum (the partner's reference) and the default vendor DisplayName suffix of a partner that is
# also a customer (QuickBooks names are unique across customers, vendors and employees).
VENDOR_ACCT_NUM_MAX_LENGTH = 100
VENDOR_NAME_SUFFIX_DEFAULT = ' (Vendor)'
# Attachables (Intuit's attachment guide): the content types QuickBooks takes, their size limit, name length.
ATTACHMENT_CONTENT_TYPES = {
    'application/pdf', 'image/gif', 'image/jpeg', 'image/jpg', 'image/png', 'image/tiff', 'text/plain', 'text/csv',
    'text/rtf', 'application/rtf', 'text/xml', 'application/xml', 'application/msword', 'application/vnd.ms-excel',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    'application/vnd.oasis.opendocument.spreadsheet', 'application/postscript', 'application/vnd.apple.pages',
}
ATTACHMENT_MAX_BYTES = 100 * 1024 * 1024
FILE_NAME_MAX_LENGTH = 1000
# Decimals of a line UnitPrice and of an ExchangeRate sent to QuickBooks.
UNIT_PRICE_DIGITS = 7
EXCHANGE_RATE_DIGITS = 6
# Characters QBO refuses in names (DisplayName, GivenName, ...).
NAME_FORBIDDEN_CHARS = (':', '\t', '\n', '\r')

# --- Fault codes (see README.rst "Troubleshooting")
FAULT_OBJECT_NOT_FOUND = '610'
FAULT_REQUIRED_PARAM = '2020'
FAULT_STRING_LENGTH = '2050'
FAULT_INVALID_REFERENCE = '2500'
FAULT_STALE_OBJECT = '5010'
FAULT_AMOUNT_CALCULATION = '6070'
FAULT_INVALID_LINE_TAX_CODE = '6100'
FAULT_DUPLICATE_DOC_NUMBER = '6140'
FAULT_DUPLICATE_NAME = '6240'
FAULT_AUTHENTICATION = '3200'
FAULT_AUTHORIZATION = '3100'
FAULT_THROTTLED = '3001'

# --- Sync states shared by every exported record (the binding state machine)
SYNC_STATES = [
    ('to_send', 'To send'),
    ('sent', 'Sent'),
    ('error', 'Error'),
    ('blocked', 'Blocked'),
    ('variance', 'Variance'),
    ('voided', 'Voided'),
    ('deleted_in_qbo', 'Deleted in QuickBooks'),
]

# Security: the Custom endpoint environment receives the client secret; only in developer mode or
# when this system parameter is True (tests and the demo set it to reach the emulator).
PARAM_ALLOW_CUSTOM_ENDPOINT = 'quickbooks_online.allow_custom_endpoint'
# The database that connected: a copy (other database.uuid) must not refresh or revoke its tokens.
PARAM_DATABASE_UUID = 'database.uuid'

# --- Inbound: webhooks, change data capture, payments (issue 12)
WEBHOOK_ROUTE = '/quickbooks_online/webhook'
RECONNECT_ROUTE = '/quickbooks_online/reconnect'
# Entities whose changes the connector reads back (one CDC call covers all of them): payments and bill
# payments to import, the documents they pay (their Balance is checked before paying them in Odoo).
CDC_PAYMENT_ENTITIES = ('Payment', 'BillPayment')
# Master data (customers, vendors, items) edited in QuickBooks: applied for the fields QuickBooks owns
# (see qbo.master.field).
CDC_MASTER_ENTITIES = ('Customer', 'Vendor', 'Item')
CDC_ENTITIES = CDC_PAYMENT_ENTITIES + ('Invoice', 'CreditMemo', 'Bill', 'VendorCredit') + CDC_MASTER_ENTITIES
# QuickBooks returns at most 1000 objects per CDC response and looks back at most 30 days.
CDC_MAX_OBJECTS = 1000
CDC_MAX_DAYS = 30
# Re-read a few seconds before the checkpoint: objects stamped in the same second as the last
# answer are not missed (processing is idempotent on Id + SyncToken).
CDC_OVERLAP_SECONDS = 5
# Once a day the drain also re-reads this many hours behind its checkpoint (changes stamped late).
CDC_CATCHUP_HOURS = 24
# A webhook event whose object no change-feed answer returned is read again at this many drains, then
# marked "Not seen".
WEBHOOK_EVENT_MAX_TRIES = 5
# Without webhooks the drain still runs this often (the cron's own schedule).
CDC_POLL_MINUTES = 55
# Keep-alive: refresh a connection whose 100-day rolling refresh-token expiry is this close.
KEEPALIVE_MARGIN_DAYS = 30
# Processed and ignored webhook events are kept this long (the inbox is not an archive).
WEBHOOK_EVENT_RETENTION_DAYS = 30
# A webhook body larger than this is refused (Intuit's notifications are a few KB).
WEBHOOK_MAX_BYTES = 1024 * 1024
