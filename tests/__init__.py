from . import test_qbo_mapper
from . import test_qbo_oauth
from . import test_qbo_export
from . import test_qbo_multi
from . import test_qbo_exactly_once
from . import test_qbo_security
from . import test_qbo_payments
from . import test_qbo_webhook
