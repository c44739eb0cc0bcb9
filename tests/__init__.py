from . import test_qbo_mapper
from . import test_qbo_oauth
