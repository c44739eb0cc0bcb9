from . import test_qbo_mapper
