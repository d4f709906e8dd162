from odoo import http


class JsonRpc(http.Controller):
    @http.route('/sim/jsonrpc', type='jsonrpc', auth='none')
    def call(self, value=None):
        return {'echo': value}
