"""CLI: ``python -m qbo_emulator --port 8765 --client-id ID --client-secret SECRET --redirect-uri URI``."""
import argparse
import signal
import sys
import threading
import urllib.parse

from .server import EmulatorServer


def main(argv=None):
    p = argparse.ArgumentParser(prog='qbo_emulator', description='Local QuickBooks Online emulator')
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, default=8765)
    p.add_argument('--client-id', default='emulator-client')
    p.add_argument('--client-secret', default='emulator-secret')
    p.add_argument('--redirect-uri', action='append', dest='redirect_uris', default=None,
                   help='registered redirect URI (repeatable)')
    p.add_argument('--state', default=None, help='JSON file to persist state across restarts')
    p.add_argument('--limits', action='store_true', help="enforce Intuit's rate/concurrency/batch limits (429/3001)")
    p.add_argument('--latency-ms', type=float, default=0, help='added to every API call (the server stays concurrent)')
    p.add_argument('--webhook-url', default=None,
                   help="the app's webhook endpoint: every change in a connected company is POSTed there")
    p.add_argument('--webhook-verifier-token', default='', help='signs the webhooks (intuit-signature)')
    p.add_argument('--webhook-format', choices=('cloudevents', 'legacy'), default='cloudevents')
    args = p.parse_args(argv)
    redirect_uris = args.redirect_uris or ['http://localhost:8069/quickbooks/oauth/callback']
    srv = EmulatorServer(host=args.host, port=args.port, client_id=args.client_id,
                         client_secret=args.client_secret, redirect_uris=redirect_uris,
                         state_file=args.state, limits=args.limits)
    srv.emulator.settings['latency_ms'] = args.latency_ms
    srv.emulator.initial_settings['latency_ms'] = args.latency_ms
    if args.webhook_url:
        srv.emulator.webhooks.configure(args.client_id, args.webhook_url, args.webhook_format,
                                        args.webhook_verifier_token)
    srv.start()
    url = srv.url
    auth = url + '/connect/oauth2?' + urllib.parse.urlencode({
        'client_id': args.client_id, 'response_type': 'code', 'scope': 'com.intuit.quickbooks.accounting',
        'redirect_uri': redirect_uris[0], 'state': 'demo'})
    print('QuickBooks Online emulator serving on %s' % url)
    print('  API base URL:   %s/v3/company/<realmId>/' % url)
    print('  Discovery URL:  %s/.well-known/openid_sandbox_configuration' % url)
    print('  Authorize URL:  %s' % auth)
    print('  Token URL:      %s/oauth2/v1/tokens/bearer' % url)
    print('  Control API:    %s/_emulator/health' % url)
    print('  Client id:      %s' % args.client_id)
    print('  Redirect URIs:  %s' % ', '.join(redirect_uris))
    print('  Seeded realm:   %s' % srv.seeded_realm_id)
    print('  Limits:         %s' % ('on' if args.limits else 'off'))
    print('  Latency:        %g ms' % args.latency_ms)
    print('  Webhooks:       %s' % ('%s (%s)' % (args.webhook_url, args.webhook_format) if args.webhook_url
                                    else 'off (set with --webhook-url or the control API)'))
    if args.state:
        print('  State file:     %s' % args.state)
    sys.stdout.flush()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    srv.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
