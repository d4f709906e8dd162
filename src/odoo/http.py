"""HTTP layer (odoo/http.py): controllers, ``@route``, the thread-local
``request`` and the WSGI application ``root``.

Per request, like real Odoo: pick the database (``X-Odoo-Database`` header
on 19.0 if allowed, else the only database passing ``dbfilter`` /
``db_name``); without one, only ``auth='none'`` routes of server-wide modules
exist (``request.env`` is None).  With one: check the registry signaling,
open a cursor, match the route among the controllers of the installed
modules, authenticate, dispatch, commit (running postcommit callbacks), all
inside ``service.model.retrying`` (replay on serialization failures), then
close the cursor.  Errors become HTTP errors (403 AccessError/AccessDenied,
400 UserError, 404, 500) or JSON-RPC errors.

Read-only routes (18.0/19.0): a route's ``readonly`` defaults to
``auth == 'none'`` (``_check_and_complete_route_definition``); a readonly
route is served on a read-only cursor (``registry.cursor(readonly=True)``:
read-only only when the registry has a read-only pool, see registry.py), and
on ``psycopg2.errors.ReadOnlySqlTransaction`` it is replayed on a read/write
cursor after the WARNING "<error>, retrying with a read/write cursor"
(``_transactioning`` on 18.0; 19.0's ``_serve_db``).  A callable
``readonly`` is called with the controller (18.0), or the controller, rule
and arguments (19.0).  17.0 has no read-only cursors.

Not simulated: sessions (every request is anonymous, a session is never
persisted: ``auth='user'`` routes answer "Session expired"), static files,
QWeb rendering, CORS preflight details.
"""
import collections
import contextlib
import functools
import hashlib
import hmac
import inspect
import json
import logging
import re
import threading
import time
import urllib.parse
import uuid
import warnings

import werkzeug.datastructures
import werkzeug.exceptions
import werkzeug.local
import werkzeug.routing
import werkzeug.utils
import werkzeug.wrappers
from werkzeug.exceptions import BadRequest, Forbidden, HTTPException, InternalServerError, NotFound

from . import api, release
from .exceptions import AccessDenied, AccessError, UserError
from .modules.registry import Registry
from .service import model as service_model
from .tools import config

_logger = logging.getLogger(__name__)

V = release.SERIE_MAJOR
CSRF_FREE_METHODS = ('GET', 'HEAD', 'OPTIONS', 'TRACE')
CSRF_TOKEN_SALT = 60 * 60 * 24 * 365
JSON_MIMETYPES = ('application/json', 'application/json-rpc')
ROUTING_KEYS = {'defaults', 'subdomain', 'build_only', 'strict_slashes', 'redirect_to', 'alias', 'host',
                'methods'}
DEFAULT_MAX_CONTENT_LENGTH = 128 * 1024 * 1024

_request_stack = werkzeug.local.LocalStack()
# unbound (RuntimeError on attribute access) outside of a request's thread
request = _request_stack()


class SessionExpiredException(Exception):
    pass


def filter_kwargs(func, kwargs):
    params = inspect.signature(func).parameters
    if any(p.kind == inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return dict(kwargs)
    return {k: v for k, v in kwargs.items() if k in params and k != 'self'}


def serialize_exception(exception):
    name = type(exception).__name__
    module = type(exception).__module__
    return {
        'name': f'{module}.{name}' if module else name,
        'debug': '',
        'message': str(exception),
        'arguments': exception.args,
        'context': getattr(exception, 'context', {}),
    }


def db_list(force=False, host=None):
    from .service import db as service_db
    try:
        dbs = service_db.list_dbs(force)
    except Exception:  # noqa: BLE001 - real Odoo: psycopg2.OperationalError -> []
        return []
    return db_filter(dbs, host)


def db_filter(dbs, host=None):
    """The subset of ``dbs`` matching ``dbfilter``, else ``db_name``."""
    if config['dbfilter']:
        if host is None:
            host = request.httprequest.environ.get('HTTP_HOST', '')
        host = host.partition(':')[0]
        if host.startswith('www.'):
            host = host[4:]
        domain = host.partition('.')[0]
        dbfilter_re = re.compile(
            config["dbfilter"].replace("%h", re.escape(host)).replace("%d", re.escape(domain)))
        return [db for db in dbs if dbfilter_re.match(db)]
    if config['db_name']:
        if V >= 19:
            exposed_dbs = {db.strip() for db in config['db_name']}
        else:
            exposed_dbs = {db.strip() for db in config['db_name'].split(',')}
        return sorted(exposed_dbs.intersection(dbs))
    return list(dbs)


# ---------------------------------------------------------------------------
# Controllers and routes
# ---------------------------------------------------------------------------
class Controller:
    children_classes = collections.defaultdict(list)  # indexed by module

    @classmethod
    def __init_subclass__(cls):
        super().__init_subclass__()
        if Controller in cls.__bases__:
            path = cls.__module__.split('.')
            module = path[2] if path[:2] == ['odoo', 'addons'] else ''
            Controller.children_classes[module].append(cls)


def route(route=None, **routing):
    def decorator(endpoint):
        fname = f"<function {endpoint.__module__}.{endpoint.__name__}>"
        if V >= 19 and routing.get('type') == 'json':
            warnings.warn("Since 19.0, @route(type='json') is a deprecated alias to @route(type='jsonrpc')",
                          DeprecationWarning, stacklevel=2)
            routing['type'] = 'jsonrpc'
        # real Odoo asserts the type exists: type='jsonrpc' fails on 17/18
        assert routing.get('type', 'http') in _dispatchers.keys()
        if route:
            routing['routes'] = route if isinstance(route, list) else [route]
        wrong = routing.pop('method', None)
        if wrong is not None:
            _logger.warning("%s defined with invalid routing parameter 'method', assuming 'methods'", fname)
            routing['methods'] = wrong

        @functools.wraps(endpoint)
        def route_wrapper(self, *args, **params):
            params_ok = filter_kwargs(endpoint, params)
            params_ko = set(params) - set(params_ok)
            if params_ko:
                _logger.warning("%s called ignoring args %s", fname, params_ko)
            result = endpoint(self, *args, **params_ok)
            if routing['type'] == 'http':
                return Response.load(result)
            return result

        route_wrapper.original_routing = routing
        route_wrapper.original_endpoint = endpoint
        return route_wrapper
    return decorator


def _generate_routing_rules(modules, nodb_only, converters=None):
    def is_valid(cls):
        path = cls.__module__.split('.')
        return path[:2] == ['odoo', 'addons'] and path[2] in modules

    def get_leaf_classes(cls):
        result = []
        for subcls in cls.__subclasses__():
            if is_valid(subcls):
                result.extend(get_leaf_classes(subcls))
        if not result and is_valid(cls):
            result.append(cls)
        return result

    def build_controllers():
        yield from (ctrl() for ctrl in Controller.children_classes.get('', []))
        tops = []
        for module in modules:
            tops.extend(Controller.children_classes.get(module, []))
        for top in tops:
            leaves = list(dict.fromkeys(get_leaf_classes(top)))
            if not leaves:
                continue
            Ctrl = type(top.__name__, tuple(reversed(leaves)), {})
            yield Ctrl()

    for ctrl in build_controllers():
        for method_name, method in inspect.getmembers(ctrl, inspect.ismethod):
            if not any(getattr(getattr(cls, method_name, None), 'original_routing', None) is not None
                       for cls in type(ctrl).mro()):
                continue
            merged_routing = {'auth': 'user', 'methods': None, 'routes': []}
            if V < 18:
                merged_routing['readonly'] = False
            for cls in dict.fromkeys(reversed(type(ctrl).mro()[:-2])):
                if method_name not in cls.__dict__:
                    continue
                submethod = getattr(cls, method_name)
                if not hasattr(submethod, 'original_routing'):
                    _logger.warning("The endpoint %s is not decorated by @route(), decorating it myself.",
                                    f'{cls.__module__}.{cls.__name__}.{method_name}')
                    submethod = route()(submethod)
                default_type = submethod.original_routing.get('type', 'http')
                routing_type = merged_routing.setdefault('type', default_type)
                submethod.original_routing['type'] = routing_type
                if V >= 18:
                    _check_readonly(cls, submethod, merged_routing)
                merged_routing.update(submethod.original_routing)
            if not merged_routing['routes']:
                continue
            if nodb_only and merged_routing['auth'] != "none":
                continue
            for url in merged_routing['routes']:
                endpoint = functools.partial(method)
                functools.update_wrapper(endpoint, method)
                endpoint.routing = merged_routing
                yield (url, endpoint)


def _check_readonly(controller_cls, submethod, merged_routing):
    """18.0+: auth='none' routes are read-only unless they say otherwise, and an
    override may not change the read/write mode of its parent."""
    default_auth = submethod.original_routing.get('auth', merged_routing['auth'])
    default_mode = submethod.original_routing.get('readonly', default_auth == 'none')
    parent_readonly = merged_routing.setdefault('readonly', default_mode)
    child_readonly = submethod.original_routing.get('readonly')
    if child_readonly not in (None, parent_readonly) and not callable(child_readonly):
        _logger.warning(
            "The endpoint %s made the route %s altough its parent was defined as %s. "
            "Setting the route read/write.",
            f'{controller_cls.__module__}.{controller_cls.__name__}.{submethod.__name__}',
            'readonly' if child_readonly else 'read/write',
            'readonly' if parent_readonly else 'read/write',
        )
        submethod.original_routing['readonly'] = False


def _build_routing_map(modules, nodb_only):
    routing_map = werkzeug.routing.Map(strict_slashes=False, converters=None)
    for url, endpoint in _generate_routing_rules(modules, nodb_only=nodb_only):
        routing = {k: v for k, v in endpoint.routing.items() if k in ROUTING_KEYS}
        if routing.get('methods') is not None and 'OPTIONS' not in routing['methods']:
            routing['methods'] = [*routing['methods'], 'OPTIONS']
        rule = werkzeug.routing.Rule(url, endpoint=endpoint, **routing)
        rule.merge_slashes = False
        routing_map.add(rule)
    return routing_map


# ---------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------
class Response(werkzeug.wrappers.Response):
    default_mimetype = 'text/html'

    def __init__(self, *args, **kw):
        template = kw.pop('template', None)
        qcontext = kw.pop('qcontext', None)
        kw.pop('uid', None)
        super().__init__(*args, **kw)
        self.template = template
        self.qcontext = qcontext or {}

    @classmethod
    def load(cls, result, fname="<function>"):
        if isinstance(result, Response):
            return result
        if isinstance(result, werkzeug.exceptions.HTTPException):
            _logger.warning("%s returns an HTTPException instead of raising it.", fname)
            raise result
        if isinstance(result, werkzeug.wrappers.Response):
            return cls.force_type(result)
        if isinstance(result, (bytes, str, type(None))):
            return cls(result)
        raise TypeError(f"{fname} returns an invalid value: {result}")

    @property
    def is_qweb(self):
        return self.template is not None

    def set_cookie(self, key, value='', max_age=None, expires=-1, path='/', domain=None, secure=False,
                   httponly=False, samesite=None, cookie_type='required'):
        super().set_cookie(key, value=value, max_age=max_age, expires=expires, path=path, domain=domain,
                           secure=secure, httponly=httponly, samesite=samesite)


class FutureResponse:
    def __init__(self):
        self.headers = werkzeug.datastructures.Headers()

    def set_cookie(self, *args, **kwargs):
        pass


class Session(dict):
    """A never-persisted anonymous session."""

    def __init__(self):
        super().__init__(db=None, uid=None, login=None, context={'lang': 'en_US'}, debug='')
        self.sid = uuid.uuid4().hex
        self.is_explicit = False
        self.is_dirty = False
        self.can_save = True

    def __getattr__(self, attr):
        try:
            return self[attr]
        except KeyError:
            raise AttributeError(attr) from None

    def __setattr__(self, key, value):
        if key in ('sid', 'is_explicit', 'is_dirty', 'can_save'):
            object.__setattr__(self, key, value)
        else:
            self[key] = value

    def logout(self, keep_db=False):
        db = self.get('db')
        self.clear()
        self.update(db=db if keep_db else None, uid=None, login=None, context={'lang': 'en_US'}, debug='')

    def touch(self):
        pass


# ---------------------------------------------------------------------------
# Request
# ---------------------------------------------------------------------------
class Request:
    def __init__(self, httprequest):
        self.httprequest = httprequest
        self.future_response = FutureResponse()
        self.dispatcher = _dispatchers['http'](self)
        self.registry = None
        self.env = None
        self.params = {}

    def _post_init(self):
        self.session, self.db = self._get_session_and_dbname()

    def _get_session_and_dbname(self):
        session = Session()
        host = self.httprequest.environ.get('HTTP_HOST', '')
        dbname = None
        header_db = self.httprequest.headers.get('X-Odoo-Database') if V >= 19 else None
        if header_db:
            if header_db in db_list(force=True, host=host):
                dbname = header_db
        else:
            all_dbs = db_list(force=True, host=host)
            if len(all_dbs) == 1:
                dbname = all_dbs[0]
        session.db = dbname
        return session, dbname

    # env helpers
    def update_env(self, user=None, context=None, su=None):
        self.env = self.env(None, user, context, su)
        if V >= 19:
            self.env.transaction.default_env = self.env
        threading.current_thread().uid = self.env.uid

    def update_context(self, **overrides):
        self.update_env(context=dict(self.env.context, **overrides))

    @property
    def context(self):
        return self.env.context

    @property
    def uid(self):
        return self.env.uid

    @property
    def cr(self):
        return self.env.cr

    @property
    def lang(self):
        return self.env.context.get('lang') if self.env else None

    # csrf: tokens are bound to the (never persisted) session
    def csrf_token(self, time_limit=None):
        secret = self.env['ir.config_parameter'].sudo().get_param('database.secret')
        if not secret:
            raise ValueError("CSRF protection requires a configured database secret")
        max_ts = int(time.time() + (time_limit or CSRF_TOKEN_SALT))
        msg = f'{self.session.sid}{max_ts}'.encode()
        hm = hmac.new(secret.encode('ascii'), msg, hashlib.sha1).hexdigest()
        return f'{hm}o{max_ts}'

    def validate_csrf(self, csrf):
        if not csrf:
            return False
        secret = self.env['ir.config_parameter'].sudo().get_param('database.secret')
        if not secret:
            raise ValueError("CSRF protection requires a configured database secret")
        hm, _, max_ts = csrf.rpartition('o')
        msg = f'{self.session.sid}{max_ts}'.encode()
        if max_ts:
            try:
                if int(max_ts) < int(time.time()):
                    return False
            except ValueError:
                return False
        hm_expected = hmac.new(secret.encode('ascii'), msg, hashlib.sha1).hexdigest()
        return hmac.compare_digest(hm, hm_expected)

    def get_http_params(self):
        params = {**self.httprequest.args, **self.httprequest.form, **self.httprequest.files}
        params.pop('session_id', None)
        return params

    def get_json_data(self):
        return json.loads(self.httprequest.get_data(as_text=True))

    def make_response(self, data, headers=None, cookies=None, status=200):
        response = Response(data, status=status, headers=headers)
        if cookies:
            for k, v in cookies.items():
                response.set_cookie(k, v)
        return response

    def make_json_response(self, data, headers=None, cookies=None, status=200):
        data = json.dumps(data, ensure_ascii=False, default=_json_default)
        headers = werkzeug.datastructures.Headers(headers)
        headers['Content-Length'] = len(data.encode())
        if 'Content-Type' not in headers:
            headers['Content-Type'] = 'application/json; charset=utf-8'
        return self.make_response(data, headers.to_wsgi_list(), cookies, status)

    def not_found(self, description=None):
        return NotFound(description)

    def redirect(self, location, code=303, local=True):
        return werkzeug.utils.redirect(location, code, Response=Response)

    def redirect_query(self, location, query=None, code=303, local=True):
        if query:
            location += '?' + urllib.parse.urlencode(query)
        return self.redirect(location, code=code, local=local)

    def render(self, template, qcontext=None, lazy=True, **kw):
        raise NotImplementedError("QWeb rendering is not simulated")

    def _inject_future_response(self, response):
        response.headers.extend(self.future_response.headers)
        return response

    def _save_session(self):
        pass

    def _set_request_dispatcher(self, rule):
        routing = rule.endpoint.routing
        dispatcher_cls = _dispatchers[routing['type']]
        if not dispatcher_cls.is_compatible_with(self):
            compatible = [d.routing_type for d in _dispatchers.values() if d.is_compatible_with(self)]
            raise BadRequest(f"Request inferred type is compatible with {compatible} but "
                             f"{routing['routes'][0]!r} is type={routing['type']!r}.")
        self.dispatcher = dispatcher_cls(self)

    # serving
    def _serve_nodb(self):
        router = root.nodb_routing_map.bind_to_environ(self.httprequest.environ)
        rule, args = router.match(return_rule=True)
        self._set_request_dispatcher(rule)
        self.dispatcher.pre_dispatch(rule, args)
        response = self.dispatcher.dispatch(rule.endpoint, args)
        self.dispatcher.post_dispatch(response)
        return response

    def _serve_db(self):
        import psycopg2
        try:
            self.registry = Registry(self.db).check_signaling()
        except (AttributeError, psycopg2.OperationalError, psycopg2.ProgrammingError):
            self.db = None
            self.session.db = None
            return self._serve_nodb()
        if V >= 18:
            return self._serve_db_readonly_first()
        with contextlib.closing(self.registry.cursor()) as cr:
            self.env = api.Environment(cr, self.session.uid, self.session.context)
            threading.current_thread().uid = self.env.uid
            try:
                return service_model.retrying(self._serve_ir_http, self.env)
            except Exception as exc:
                if isinstance(exc, HTTPException) and exc.code is None:
                    raise
                exc.error_response = self.registry['ir.http']._handle_error(exc)
                raise

    def _serve_db_readonly_first(self):
        """18.0/19.0: match the route, then serve it on a read-only cursor first
        if it is a read-only route (and a read-only cursor exists)."""
        with contextlib.closing(self.registry.cursor()) as cr:
            self.env = api.Environment(cr, self.session.uid, self.session.context)
            threading.current_thread().uid = self.env.uid
            try:
                rule, args = self.registry['ir.http']._match(self.httprequest.path)
            except NotFound:
                rule = args = None
        if rule is None:
            serve, readonly = self._serve_ir_http, True
        else:
            self._set_request_dispatcher(rule)
            serve = functools.partial(self._serve_ir_http, (rule, args))
            readonly = rule.endpoint.routing['readonly']
            if callable(readonly):
                controller = rule.endpoint.func.__self__
                readonly = readonly(controller) if V < 19 else readonly(controller, rule, args)
        return self._transactioning(serve, readonly)

    def _transactioning(self, func, readonly):
        import psycopg2.errors
        for readonly_cr in (True, False) if readonly else (False,):
            threading.current_thread().cursor_mode = (
                'ro' if readonly_cr else 'ro->rw' if readonly else 'rw')
            with contextlib.closing(self.registry.cursor(readonly=readonly_cr)) as cr:
                self.env = self.env(cr=cr)
                try:
                    return service_model.retrying(func, self.env)
                except psycopg2.errors.ReadOnlySqlTransaction as exc:
                    _logger.warning("%s, retrying with a read/write cursor", exc.args[0].rstrip(),
                                    exc_info=True)
                    continue
                except Exception as exc:
                    if isinstance(exc, HTTPException) and exc.code is None:
                        raise
                    if not hasattr(exc, 'error_response'):
                        exc.error_response = self.registry['ir.http']._handle_error(exc)
                    raise
        raise RuntimeError("unreachable")

    def _serve_ir_http(self, matched=None):
        ir_http = self.registry['ir.http']
        try:
            rule, args = matched or ir_http._match(self.httprequest.path)
        except NotFound:
            self.params = self.get_http_params()
            response = ir_http._serve_fallback()
            if response:
                self.dispatcher.post_dispatch(response)
                return response
            raise
        self._set_request_dispatcher(rule)
        ir_http._authenticate(rule.endpoint)
        ir_http._pre_dispatch(rule, args)
        response = self.dispatcher.dispatch(rule.endpoint, args)
        self.registry['ir.http']._post_dispatch(response)
        return response


def _json_default(obj):
    import datetime
    if isinstance(obj, datetime.datetime):
        return obj.strftime('%Y-%m-%d %H:%M:%S')
    if isinstance(obj, datetime.date):
        return obj.strftime('%Y-%m-%d')
    if isinstance(obj, bytes):
        return obj.decode()
    return str(obj)


# ---------------------------------------------------------------------------
# Dispatchers
# ---------------------------------------------------------------------------
_dispatchers = {}


class Dispatcher:
    routing_type = None

    @classmethod
    def __init_subclass__(cls):
        super().__init_subclass__()
        _dispatchers[cls.routing_type] = cls

    def __init__(self, request):
        self.request = request

    @classmethod
    def is_compatible_with(cls, request):
        raise NotImplementedError

    def pre_dispatch(self, rule, args):
        routing = rule.endpoint.routing
        self.request.session.can_save = routing.get('save_session', True)
        cors = routing.get('cors')
        if cors:
            set_header = self.request.future_response.headers.set
            set_header('Access-Control-Allow-Origin', cors)
            set_header('Access-Control-Allow-Methods', (
                'POST' if routing['type'] in ('json', 'jsonrpc')
                else ', '.join(routing['methods'] or ['GET', 'POST'])))

    def dispatch(self, endpoint, args):
        raise NotImplementedError

    def post_dispatch(self, response):
        self.request._save_session()
        self.request._inject_future_response(response)
        response.headers['X-Content-Type-Options'] = 'nosniff'

    def handle_error(self, exc):
        raise NotImplementedError


class HttpDispatcher(Dispatcher):
    routing_type = 'http'

    @classmethod
    def is_compatible_with(cls, request):
        return True

    def dispatch(self, endpoint, args):
        self.request.params = dict(self.request.get_http_params(), **args)
        if self.request.httprequest.method not in CSRF_FREE_METHODS and endpoint.routing.get('csrf', True):
            if not self.request.db:
                return self.request.redirect('/web/database/selector')
            token = self.request.params.pop('csrf_token', None)
            if not self.request.validate_csrf(token):
                _logger.warning("CSRF validation failed on path '%s'", self.request.httprequest.path)
                raise werkzeug.exceptions.BadRequest('Session expired (invalid CSRF token)')
        if self.request.db:
            return self.request.registry['ir.http']._dispatch(endpoint)
        return endpoint(**self.request.params)

    def handle_error(self, exc):
        if isinstance(exc, SessionExpiredException):
            session = self.request.session
            session.logout(keep_db=True)
            return self.request.redirect_query('/web/login', {'redirect': self.request.httprequest.full_path})
        return (exc if isinstance(exc, HTTPException)
                else Forbidden(exc.args[0]) if isinstance(exc, (AccessDenied, AccessError))
                else BadRequest(exc.args[0]) if isinstance(exc, UserError)
                else InternalServerError())


class JsonRPCDispatcher(Dispatcher):
    routing_type = 'jsonrpc' if V >= 19 else 'json'

    def __init__(self, request):
        super().__init__(request)
        self.jsonrequest = {}
        self.request_id = None

    @classmethod
    def is_compatible_with(cls, request):
        return request.httprequest.mimetype in JSON_MIMETYPES

    def dispatch(self, endpoint, args):
        try:
            self.jsonrequest = self.request.get_json_data()
            self.request_id = self.jsonrequest.get('id')
        except ValueError:
            werkzeug.exceptions.abort(Response("Invalid JSON data", status=400))
        except AttributeError:
            werkzeug.exceptions.abort(Response("Invalid JSON-RPC data", status=400))
        self.request.params = dict(self.jsonrequest.get('params', {}), **args)
        if self.request.db:
            result = self.request.registry['ir.http']._dispatch(endpoint)
        else:
            result = endpoint(**self.request.params)
        return self._response(result)

    def handle_error(self, exc):
        error = {'code': 200, 'message': "Odoo Server Error", 'data': serialize_exception(exc)}
        if isinstance(exc, NotFound):
            error['code'] = 404
            error['message'] = "404: Not Found"
        elif isinstance(exc, SessionExpiredException):
            error['code'] = 100
            error['message'] = "Odoo Session Expired"
        return self._response(error=error)

    def _response(self, result=None, error=None):
        response = {'jsonrpc': '2.0', 'id': self.request_id}
        if error is not None:
            response['error'] = error
        if result is not None:
            response['result'] = result
        return self.request.make_json_response(response)


if V >= 19:
    # 'json' stays accepted as a deprecated alias of 'jsonrpc' (see route())
    _dispatchers['json'] = JsonRPCDispatcher


# ---------------------------------------------------------------------------
# WSGI entry point
# ---------------------------------------------------------------------------
class Application:
    def __init__(self):
        self._nodb_maps = {}

    @property
    def nodb_routing_map(self):
        modules = tuple([''] + config._as_list('server_wide_modules'))
        if modules not in self._nodb_maps:
            self._nodb_maps[modules] = _build_routing_map(list(modules), nodb_only=True)
        return self._nodb_maps[modules]

    def get_db_router(self, db):
        if not db:
            return self.nodb_routing_map
        return request.env['ir.http'].routing_map()

    def get_static_file(self, url, host=''):
        return None

    def __call__(self, environ, start_response):
        current_thread = threading.current_thread()
        for attr in ('dbname', 'uid'):
            if hasattr(current_thread, attr):
                delattr(current_thread, attr)
        httprequest = werkzeug.wrappers.Request(environ)
        httprequest.parameter_storage_class = werkzeug.datastructures.ImmutableMultiDict
        httprequest.max_content_length = DEFAULT_MAX_CONTENT_LENGTH
        req = Request(httprequest)
        _request_stack.push(req)
        try:
            req._post_init()
            if req.db:
                response = req._serve_db()
            else:
                response = req._serve_nodb()
            return response(environ, start_response)
        except Exception as exc:
            if isinstance(exc, HTTPException) and exc.code is None:
                response = exc.get_response()
                HttpDispatcher(req).post_dispatch(response)
                return response(environ, start_response)
            if isinstance(exc, HTTPException):
                pass
            elif isinstance(exc, SessionExpiredException):
                _logger.info(exc)
            elif isinstance(exc, (UserError, AccessError)):
                _logger.warning(exc)
            else:
                _logger.error("Exception during request handling.", exc_info=True)
            if not hasattr(exc, 'error_response'):
                exc.error_response = req.dispatcher.handle_error(exc)
            return exc.error_response(environ, start_response)
        finally:
            _request_stack.pop()


root = Application()
