from . import (
    ir_actions,  # noqa: F401
    ir_config_parameter,  # noqa: F401
    ir_cron,  # noqa: F401
    ir_http,  # noqa: F401
    ir_model,  # noqa: F401
    ir_module,  # noqa: F401
    ir_ui_view,  # noqa: F401
    res_config,  # noqa: F401
    res_users,  # noqa: F401
)
