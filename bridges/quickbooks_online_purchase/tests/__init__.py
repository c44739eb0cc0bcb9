from . import test_qbo_purchase
