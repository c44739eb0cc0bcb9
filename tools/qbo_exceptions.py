"""Exceptions raised by the QuickBooks Online client.

Every exception carries what a person needs to understand and report the failure: the HTTP
status, QuickBooks' fault code, element and detail, and Intuit's transaction id (`intuit_tid`),
which Intuit support asks for.
"""
from .i18n import _lt


class QboError(Exception):
    """Base class of every QuickBooks Online failure.

    :param message: human-readable summary (a str, or a lazily translated `_lt` message)
    :param int status: HTTP status, or None when no response was received
    :param str code: QuickBooks fault code (e.g. '6240'), or the OAuth error (e.g. 'invalid_grant')
    :param str detail: QuickBooks' Detail text
    :param str element: the offending field when QuickBooks names it
    :param str intuit_tid: the intuit_tid response header
    :param list errors: every Error of the Fault (QuickBooks may return several)
    """

    def __init__(self, message, status=None, code=None, detail=None, element=None, intuit_tid=None,
                 errors=None):
        super().__init__(message)
        # Translated when shown, in the language of whoever reads it (see tools/i18n.py).
        self._message = message
        self.status = status
        self.code = code
        self.detail = detail
        self.element = element
        self.intuit_tid = intuit_tid
        self.errors = errors or []
        # The earlier attempts of the same request (see QboClient.request): what each one ended
        # with, oldest first. The last attempt is this exception itself.
        self.attempts = []

    #: True when the same call may succeed later without anybody changing anything.
    transient = False

    @property
    def message(self):
        """The summary as text, translated for the current user when inside Odoo."""
        return str(self._message)

    def __str__(self):
        message = self.message
        parts = [message]
        if self.code:
            parts.append(f"[code {self.code}]")
        if self.detail and self.detail not in message:
            parts.append(f"- {self.detail}")
        if self.element:
            parts.append(str(_lt("(field: %s)", self.element)))
        return ' '.join(parts)

    def to_dict(self):
        """Return the error as a plain dict (stored on sync logs and bindings)."""
        return {
            'message': self.message, 'status': self.status, 'code': self.code,
            'detail': self.detail, 'element': self.element, 'intuit_tid': self.intuit_tid,
        }


class QboConnectionError(QboError):
    """No usable response: DNS, refused connection, timeout or a dropped connection.

    `outcome_unknown` is True when the request may have reached QuickBooks and been executed
    (the connection dropped or timed out after the request was sent): a create must then be looked
    up before it is sent again.
    """
    transient = True

    def __init__(self, message, outcome_unknown=False, **kwargs):
        super().__init__(message, **kwargs)
        self.outcome_unknown = outcome_unknown


class QboServerError(QboError):
    """HTTP 5xx from QuickBooks: retry later with the same requestid."""
    transient = True


class QboRateLimitError(QboError):
    """HTTP 429 (fault 3001 ThrottleExceeded): wait about 60 s."""
    transient = True


class QboAuthError(QboError):
    """HTTP 401 (fault 3200 or 100/120): the access token is expired, revoked or for another realm."""


class QboForbiddenError(QboError):
    """HTTP 403 (fault 3100): the app is not authorized for this company or scope."""


class QboValidationError(QboError):
    """HTTP 400 with a Fault: QuickBooks refused the data. Fixing the data is needed."""

    @property
    def is_stale_object(self):
        """True for fault 5010 (the SyncToken we sent is not the current one)."""
        return self.code == '5010'


class QboOAuthError(QboError):
    """An error from Intuit's OAuth token or revoke endpoint (`invalid_grant`, `invalid_client`...)."""

    @property
    def needs_reconnect(self):
        """True when only a new consent can fix it (expired, rotated or revoked refresh token)."""
        return self.code == 'invalid_grant'


class QboTimeBudgetExceeded(QboError):
    """Not sent: the run (an HTTP request or a cron job) has too little time left before Odoo's time
    limit (``limit_time_real``) for this attempt to finish. The record is rescheduled, untouched."""
    transient = True


def _attempt_never_executed(error):
    """True when this one attempt certainly did not reach QuickBooks' business logic."""
    if isinstance(error, QboConnectionError):
        return not error.outcome_unknown
    return isinstance(error, (QboRateLimitError, QboAuthError, QboForbiddenError, QboTimeBudgetExceeded))


def is_definite_answer(error):
    """True when QuickBooks answered the request and refused it (a 400 fault): it executed nothing and
    would replay the same refusal for the same requestid. Transport errors, 5xx, 429 and
    authentication failures are not answers: the same requestid must be reused (or the outcome
    looked up) next time.
    """
    return isinstance(error, QboValidationError)


def is_auth_failure(error):
    """True for a failure only a person can fix for the whole connection: a 401 that a token
    refresh did not cure, a 403 (not a disguised 3001 throttle) or Intuit refusing the app's
    credentials (invalid_client).
    """
    if isinstance(error, QboOAuthError):
        return error.code == 'invalid_client'
    return isinstance(error, (QboAuthError, QboForbiddenError))


def never_executed(error):
    """True when QuickBooks certainly did not execute the request: throttled (429), refused
    authentication, a connection that was never established, or not sent for lack of time - on
    EVERY attempt of the request.

    One attempt whose outcome is unknown (a timeout after sending, a 5xx) makes the whole request
    unknown, whatever came after it: a timeout followed by a 429 on the retry may well have created
    the object, and clearing its intent would create it a second time.
    """
    return all(_attempt_never_executed(attempt) for attempt in [*error.attempts, error])


def outcome_unknown(error):
    """True when the request may have been executed by QuickBooks without us knowing its answer."""
    return not is_definite_answer(error) and not never_executed(error)
