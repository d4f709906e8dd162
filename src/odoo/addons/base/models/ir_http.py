"""ir.http (odoo/addons/base/models/ir_http.py): routing map of the
installed modules, authentication methods, dispatch and error handling.
``auth='bearer'`` exists from 18.0 on; on 17.0 the missing method ends the
request in AccessDenied, as there."""
import logging
import re

import werkzeug.exceptions

from odoo import api, http, models, release
from odoo.exceptions import AccessDenied
from odoo.http import request

_logger = logging.getLogger(__name__)


class IrHttp(models.AbstractModel):
    _name = 'ir.http'
    _description = "HTTP Routing"

    @classmethod
    def _get_public_users(cls):
        return [request.env['ir.model.data']._xmlid_to_res_id('base.public_user')]

    @classmethod
    def _auth_method_user(cls):
        if request.env.uid in [None] + cls._get_public_users():
            raise http.SessionExpiredException("Session expired")

    @classmethod
    def _auth_method_none(cls):
        request.env = api.Environment(request.env.cr, None, request.env.context)
        if release.SERIE_MAJOR >= 19:
            request.env.transaction.default_env = request.env

    @classmethod
    def _auth_method_public(cls):
        if request.env.uid is None:
            public_user = request.env.ref('base.public_user')
            request.update_env(user=public_user.id)

    if release.SERIE_MAJOR >= 18:
        @classmethod
        def _auth_method_bearer(cls):
            headers = request.httprequest.headers

            def get_http_authorization_bearer_token():
                header = headers.get("Authorization")
                if header and (m := re.match(r"^bearer\s+(.+)$", header, re.IGNORECASE)):
                    return m.group(1)
                return None

            def check_sec_headers():
                return (
                    headers.get("Sec-Fetch-Dest") == "document"
                    and headers.get("Sec-Fetch-Mode") == "navigate"
                    and headers.get("Sec-Fetch-Site") in ('none', 'same-origin')
                    and headers.get("Sec-Fetch-User") == "?1"
                )

            if token := get_http_authorization_bearer_token():
                uid = request.env['res.users.apikeys']._check_credentials(scope='rpc', key=token)
                if not uid:
                    raise werkzeug.exceptions.Unauthorized(
                        "Invalid apikey",
                        www_authenticate=werkzeug.datastructures.WWWAuthenticate('bearer'))
                if request.env.uid and request.env.uid != uid:
                    raise AccessDenied("Session user does not match the used apikey")
                request.update_env(user=uid)
                request.session.can_save = False
            elif not request.env.uid:
                raise werkzeug.exceptions.Unauthorized(
                    'User not authenticated, use the "Authorization" header',
                    www_authenticate=werkzeug.datastructures.WWWAuthenticate('bearer'))
            elif not check_sec_headers():
                raise AccessDenied("Missing \"Authorization\" or Sec-headers for interactive usage")
            cls._auth_method_user()

    @classmethod
    def _authenticate(cls, endpoint):
        auth = endpoint.routing['auth']
        try:
            getattr(cls, f'_auth_method_{auth}')()
        except (AccessDenied, http.SessionExpiredException, werkzeug.exceptions.HTTPException):
            raise
        except Exception:
            _logger.info("Exception during request Authentication.", exc_info=True)
            raise AccessDenied() from None

    @classmethod
    def routing_map(cls, key=None):
        registry = cls.pool
        if registry.routing_map is None:
            from odoo.tools import config
            modules = [''] + config._as_list('server_wide_modules') + sorted(registry._init_modules)
            registry.routing_map = http._build_routing_map(list(dict.fromkeys(modules)), nodb_only=False)
        return registry.routing_map

    @classmethod
    def _match(cls, path_info):
        rule, args = cls.routing_map().bind_to_environ(request.httprequest.environ).match(
            path_info=path_info, return_rule=True)
        return rule, args

    @classmethod
    def _pre_dispatch(cls, rule, args):
        request.dispatcher.pre_dispatch(rule, args)

    @classmethod
    def _dispatch(cls, endpoint):
        return endpoint(**request.params)

    @classmethod
    def _post_dispatch(cls, response):
        request.dispatcher.post_dispatch(response)

    @classmethod
    def _serve_fallback(cls):
        return None

    @classmethod
    def _handle_error(cls, exception):
        return request.dispatcher.handle_error(exception)
