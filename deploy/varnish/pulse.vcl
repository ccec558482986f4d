# Varnish in front of Pulse (issue 18): signed-out readers get cached pages, everyone
# else goes through to the app, and the app purges by surrogate key.
#
# Needs Varnish 6+ and the xkey vmod (Debian: apt-get install varnish varnish-modules).
# Run it with scripts/serve-cached, or by hand:
#   varnishd -a :80 -f /path/to/pulse.vcl -s malloc,256m
# and run gunicorn with TRUSTED_PROXY_COUNT=1 (this is the one proxy the app believes
# about the client's address) and HTTP_CACHE_PURGE_URLS=http://<this varnish>:<port>.
#
# The rules:
# - Pulse decides what may be kept (Cache-Control, webapp/http_cache.py): a response is
#   cached only when it says "public", for its s-maxage, and served stale for its
#   stale-while-revalidate while one background fetch refreshes it (Varnish reads both
#   from Cache-Control: beresp.ttl and beresp.grace). Never cached: a response with
#   Set-Cookie, one marked private, no-store or no-cache, or one with no Cache-Control.
# - A request carrying one of Pulse's cookies (the session, the remember-me cookie, the
#   anonymous voter's; webapp.http_cache.PULSE_COOKIES) is passed to the app and never
#   served from nor stored in the cache: it may be signed in, or have voted. Every other
#   cookie (the host site's analytics) is removed first, so it neither splits the cache
#   nor reaches the app. Renamed cookies (SESSION_COOKIE_NAME, REMEMBER_COOKIE_NAME)
#   must be renamed in pulse_cookies below too.
# - Unsafe methods (POST, PATCH, DELETE ...) are always passed.
# - Objects are keyed by URL, Host and scheme (X-Forwarded-Proto).
# - PURGE with an "xkey-purge: key1 key2" header drops every object whose xkey header
#   holds one of the keys (the app's Surrogate-Key/xkey: article-<id>, articles, site),
#   at once (a hard purge: no stale copy is served after it). Only addresses in the
#   "purgers" ACL may purge: localhost here; add the app servers' addresses when
#   gunicorn runs on another machine.

vcl 4.1;

import cookie;
import xkey;

# The app. scripts/serve-cached and tests/cache rewrite these two lines to the port
# they start gunicorn on.
backend default {
    .host = "127.0.0.1";
    .port = "8000";
    .connect_timeout = 2s;
    .first_byte_timeout = 30s;
}

# Who may purge: the machines the app runs on.
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Not allowed to purge"));
        }
        if (!req.http.xkey-purge) {
            return (synth(400, "PURGE needs an xkey-purge header"));
        }
        set req.http.X-Purged = xkey.purge(req.http.xkey-purge);
        return (synth(200, "Purged " + req.http.X-Purged));
    }

    # The app believes exactly one proxy (TRUSTED_PROXY_COUNT=1): this one. What a
    # client wrote in these headers is not passed on as if this proxy had said it;
    # Varnish itself appends the client's address to X-Forwarded-For. Behind a TLS
    # terminator, set X-Forwarded-Proto there and TRUSTED_PROXY_COUNT=2.
    unset req.http.X-Forwarded-Host;
    if (!req.http.X-Forwarded-Proto) {
        set req.http.X-Forwarded-Proto = "http";
    }

    # Keep only Pulse's cookies; drop the header when none is left.
    if (req.http.Cookie) {
        cookie.parse(req.http.Cookie);
        cookie.keep("session,remember_token,pulse_voter");
        set req.http.Cookie = cookie.get_string();
        if (req.http.Cookie == "") {
            unset req.http.Cookie;
        }
    }

    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    if (req.http.Cookie || req.http.Authorization) {
        return (pass);
    }
    if (req.url ~ "^/healthz") {
        return (pass);
    }
    return (hash);
}

sub vcl_hash {
    hash_data(req.url);
    if (req.http.host) {
        hash_data(req.http.host);
    } else {
        hash_data(server.ip);
    }
    hash_data(req.http.X-Forwarded-Proto);
    return (lookup);
}

sub vcl_backend_response {
    # Only what the app calls public; a miss of anything else is fetched afresh each
    # time (hit-for-miss for a short while: a later public answer is cached again).
    if (beresp.http.Set-Cookie
        || !beresp.http.Cache-Control
        || beresp.http.Cache-Control ~ "(?i)(private|no-store|no-cache)"
        || beresp.http.Cache-Control !~ "(?i)public") {
        set beresp.uncacheable = true;
        set beresp.ttl = 10s;
        return (deliver);
    }
    # beresp.ttl (s-maxage) and beresp.grace (stale-while-revalidate) are set from
    # Cache-Control already; without stale-while-revalidate, no stale copy is served.
    if (beresp.http.Cache-Control !~ "(?i)stale-while-revalidate") {
        set beresp.grace = 0s;
    }
    # The app's request id names the one request that made this copy; every hit would
    # repeat it. X-Varnish names each request the cache answers instead.
    unset beresp.http.X-Request-ID;
    return (deliver);
}

sub vcl_deliver {
    # Whether this copy came from the cache (the tests and anyone debugging read it).
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
    # The keys are for this cache; readers need not see them.
    unset resp.http.xkey;
    unset resp.http.Surrogate-Key;
}
