import os

from odoo import http
from odoo.exceptions import UserError
from odoo.http import request

# replay test bookkeeping: a file so that forked servers could share it too
ATTEMPTS = {'count': 0}


class SimController(http.Controller):

    @http.route('/sim/ping', type='http', auth='none', methods=['GET'])
    def ping(self):
        return request.make_json_response({
            'db': request.db,
            'uid': request.env.uid if request.env is not None else 'no-env',
            'env_is_none': request.env is None,
        })

    @http.route('/sim/param', type='http', auth='none', methods=['GET'])
    def param(self, key='web.base.url'):
        return request.make_json_response({'value': request.env['ir.config_parameter'].get_param(key)})

    @http.route('/sim/param_sudo', type='http', auth='none', methods=['GET'])
    def param_sudo(self, key='web.base.url'):
        return request.make_json_response({'value': request.env['ir.config_parameter'].sudo().get_param(key)})

    @http.route('/sim/post', type='http', auth='none', methods=['POST'])
    def post_csrf(self, **kw):
        return 'accepted'

    @http.route('/sim/post_nocsrf', type='http', auth='none', methods=['POST'], csrf=False,
                save_session=False)
    def post_nocsrf(self, **kw):
        return request.make_json_response({'body': request.get_json_data()}, status=201)

    @http.route('/sim/json', type='json', auth='none')
    def json_route(self, value=None):
        return {'echo': value}

    @http.route('/sim/user_error', type='http', auth='none')
    def user_error(self):
        raise UserError('nope')

    @http.route('/sim/crash', type='http', auth='none')
    def crash(self):
        raise RuntimeError('secret detail')

    @http.route('/sim/thread', type='http', auth='none', methods=['GET'])
    def thread(self):
        import threading
        seen = {}

        def probe():
            try:
                request.env  # noqa: B018
                seen['error'] = None
            except RuntimeError as e:
                seen['error'] = str(e)
        t = threading.Thread(target=probe)
        t.start()
        t.join()
        return request.make_json_response({'in_request_uid': request.env.uid, 'thread_error': seen['error']})

    @http.route('/sim/bearer', type='http', auth='bearer', methods=['GET'])
    def bearer(self):
        return request.make_json_response({'uid': request.env.uid})

    @http.route('/sim/bump', type='http', auth='none', methods=['POST'], csrf=False)
    def bump(self):
        """Writes a parameter; fails with a serialization error on the first
        attempts when asked to, to exercise the request replay."""
        ATTEMPTS['count'] += 1
        env = request.env(su=True)
        env.cr.postcommit.add(lambda n=ATTEMPTS['count']: _record_postcommit(n))
        env['ir.config_parameter'].set_param('sim_good.bumped', str(ATTEMPTS['count']))
        fail_until = int(request.httprequest.args.get('fail_until', 0))
        if ATTEMPTS['count'] <= fail_until:
            import psycopg2.errors
            raise psycopg2.errors.SerializationFailure('could not serialize access due to concurrent update')
        return request.make_json_response({'attempt': ATTEMPTS['count']})


    # read-only routes (18.0+): auth='none' defaults to readonly=True
    @http.route('/sim/write_default', type='http', auth='none', methods=['GET'])
    def write_default(self):
        return self._write_and_tell('sim_good.write_default')

    @http.route('/sim/write_rw', type='http', auth='none', methods=['GET'], readonly=False)
    def write_rw(self):
        return self._write_and_tell('sim_good.write_rw')

    @http.route('/sim/write_callable', type='http', auth='none', methods=['GET'],
                readonly=lambda *args: False)
    def write_callable(self):
        return self._write_and_tell('sim_good.write_callable')

    @http.route('/sim/cursor', type='http', auth='none', methods=['GET'])
    def cursor(self):
        return request.make_json_response({'readonly': getattr(request.env.cr, 'readonly', None)})

    # a request that opens a cursor of its own, as a registration run inline under test mode does
    @http.route('/sim/own_cursor', type='http', auth='none', methods=['GET'])
    def own_cursor(self):
        return self._own_cursor()

    @http.route('/sim/own_cursor_rw', type='http', auth='none', methods=['GET'], readonly=False)
    def own_cursor_rw(self):
        return self._own_cursor()

    def _own_cursor(self):
        from odoo.modules.registry import Registry
        request.env.cr.execute("SELECT 1")
        with Registry(request.db).cursor() as cr:
            cr.execute("SELECT count(*) FROM ir_config_parameter")
        return request.make_json_response({'readonly': getattr(request.env.cr, 'readonly', None)})

    def _write_and_tell(self, key):
        icp = request.env['ir.config_parameter'].sudo()
        icp.set_param(key, str(int(icp.get_param(key, '0')) + 1))
        return request.make_json_response({'readonly': getattr(request.env.cr, 'readonly', None)})


POSTCOMMITS = []


def _record_postcommit(attempt):
    POSTCOMMITS.append((os.getpid(), attempt))
