from . import test_health_route, test_phone_home, test_registration, test_settings_access
