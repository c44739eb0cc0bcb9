"""Plain-Python helpers with no ORM: the HTTP choke point and its exceptions."""
from .qbo_exceptions import (  # noqa: F401
    QboAuthError,
    QboConnectionError,
    QboError,
    QboForbiddenError,
    QboOAuthError,
    QboRateLimitError,
    QboServerError,
    QboTimeBudgetExceeded,
    QboValidationError,
)
from .qbo_client import QboClient, QboOAuthClient  # noqa: F401
