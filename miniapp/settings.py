"""miniapp settings.

Every value comes from the environment through the helpers in `miniapp.lib.env`,
which refuse malformed values. With nothing set, a fresh clone runs as is:
DEBUG on, SQLite in `var/`, the in-memory channel layer and the mock provider.
`.env.example` lists every variable.
"""

from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from whitenoise.compress import Compressor

from miniapp.lib.env import env_bool, env_float, env_int, env_list, env_rate, env_str, env_url, redis_db_after
from miniapp.lib.oidc import socialaccount_providers
from miniapp.lib.secrets import derived_secret, dev_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = dev_secret_key(VAR_DIR / "secret_key")

SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "channels",
    "miniapp.accounts",
    "miniapp.mockwx",
    "miniapp.videos",
    "miniapp.lives",
    "miniapp.engagement",
    "miniapp.realtime",
    "miniapp.moderation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Inside WhiteNoise, which sends static files compressed at collectstatic; this compresses
    # pages and API answers (text only, never media).
    "miniapp.lib.compression.TextGZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Innermost, so it is the first to see a view's exception: database errors become 503.
    "miniapp.lib.unavailable.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "miniapp.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "miniapp.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "miniapp.engagement.context_processors.tab_unread",
                "miniapp.realtime.context_processors.socket_shard",
            ],
        },
    },
]

# Database: SQLite in var/ unless DATABASE_URL says otherwise.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
# SQLite: each of a worker's request threads keeps its connection (lib.asgi_handler; opening
# one cost a request about a millisecond). PostgreSQL: the pool below lends them.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 600 if SQLITE else 0, minimum=0)
# Threads a worker keeps for requests' middleware and views (lib.asgi_handler); past them
# a request gets a thread of its own. Keep DB_POOL_MAX above it.
HTTP_THREADS = env_int("HTTP_THREADS", 8, minimum=1)
if SQLITE:
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock
    # at BEGIN so two writers queue on the busy timeout instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        # Seconds a writer waits for the write lock; past it, the request answers 503.
        "timeout": env_int("SQLITE_TIMEOUT", 20, minimum=1),
    }
    # Tests use a file too: the live server's threads then each get their own
    # connection, as in production.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DB_POOL", True):
    # psycopg's connection pool: each request borrows an open connection instead of
    # opening one; Django's pool wants CONN_MAX_AGE 0 (a connection goes back after each
    # request).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A borrowed connection is checked first (one empty query), so after the database
    # restarts the pool drops its dead connections instead of failing a request each.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DB_POOL_MIN", 2, minimum=1),
        "max_size": env_int("DB_POOL_MAX", 10, minimum=1),
        # Seconds a request waits for a connection when none can be had; then 503.
        "timeout": env_int("DB_POOL_TIMEOUT", 10, minimum=1),
        # Seconds the pool keeps retrying a lost connection, waiting 1, 2, 4... s between
        # tries, before it gives up and lets the next request try at once. psycopg's
        # default, 5 minutes, left a worker answering 503 for up to as long again
        # as the database had been away.
        "reconnect_timeout": env_int("DB_POOL_RECONNECT", 5, minimum=1),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Event streams (realtime.streams): a user's events go to one of REALTIME_SHARDS streams, in
# Redis when REDIS_URL is set, in memory otherwise; each keeps about REALTIME_STREAM_MAXLEN
# entries, and a worker that falls further behind catches its sockets up from the database.
REALTIME_SHARDS = env_int("REALTIME_SHARDS", 16, minimum=1)
REALTIME_STREAM_MAXLEN = env_int("REALTIME_STREAM_MAXLEN", 2000, minimum=500)
# Channel layer (the comment sheets' sockets, /healthz; the activity events go by the event
# streams above): in-memory for one process, Redis when REDIS_URL is set. The in-memory and
# core layers hold this many messages a channel before they drop some.
REDIS_URL = env_str("REDIS_URL")
# The Redis servers that hold the event streams, comma-separated: stream n on the (n % count)-th,
# the stream for every socket on the first. REDIS_URL's alone by default; only with REDIS_URL.
REALTIME_STREAM_URLS = env_list("REALTIME_STREAM_URLS", [REDIS_URL] if REDIS_URL else [])
if REALTIME_STREAM_URLS and not REDIS_URL:
    raise ImproperlyConfigured("REALTIME_STREAM_URLS needs REDIS_URL: the workers share the rest through it.")
CHANNEL_CAPACITY = env_int("CHANNEL_CAPACITY", 1000, minimum=100)
# REDIS_LAYER: "pubsub" (RedisPubSubChannelLayer: Redis PUBLISH/SUBSCRIBE, the faster of
# the two in bench/realtime.py --layer, bench/RESULTS.md) or "core" (RedisChannelLayer:
# lists, capacities, group expiry).
REDIS_LAYER = env_str("REDIS_LAYER", "pubsub")
if REDIS_LAYER not in ("core", "pubsub"):
    raise ImproperlyConfigured(f"REDIS_LAYER={REDIS_LAYER!r}: use core or pubsub")
# The layer's reads block in Redis for up to 5 s (BZPOPMIN), and redis-py gives up on
# a read after its socket timeout, 5 s by default since redis-py 8: without room above
# 5 s, an idle worker's read fails every few seconds. 15 s still notices a dead server.
REDIS_LAYER_HOST = {"address": REDIS_URL, "socket_timeout": 15, "socket_keepalive": True}
if REDIS_URL and REDIS_LAYER == "pubsub":
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer", "CONFIG": {"hosts": [REDIS_LAYER_HOST]}}
    }
elif REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_LAYER_HOST], "capacity": CHANNEL_CAPACITY},
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": CHANNEL_CAPACITY}}
    }

# The cache counts rate limits: shared in Redis when there is one (several workers must
# agree), on the database number after the channel layer's so clearing one keeps the other.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_db_after(REDIS_URL),
            # One pool per process, not one per request (lib.redis_pool).
            "OPTIONS": {"pool_class": "miniapp.lib.redis_pool.SharedConnectionPool"},
        }
    }

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a rule: a password change closes the user's sockets on their other sessions.
    {"NAME": "miniapp.realtime.signouts.PasswordChangeSignsOut"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

# Languages: Chinese first, English too.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Hashed, compressed files from `collectstatic` with DEBUG off (production, `make run`);
# straight from the source folders while developing (`make dev`).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "miniapp.lib.staticfiles.ModuleManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
# Source maps are fetched by developer tools only: compressing them (the largest files Swagger
# UI ships) would only make collectstatic slower.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Django's own handlers, except that a temporary file's name keeps nothing of the uploaded name.
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "miniapp.lib.uploads.NeutralTemporaryFileUploadHandler",
]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy (django-csp): scripts only from this site's own files, never
# inline, so injected markup cannot run. Styles may be inline (Django admin and Swagger UI
# set some); images from anywhere over HTTPS (providers' avatars); no frames, no plugins.
# Where media comes from when object storage or a CDN serves it (e.g. https://media.example.com).
MEDIA_ORIGINS = env_list("MEDIA_ORIGINS", [])
# SITE_URL's origin too: the API's URLs (avatars, posters) are on it, and a page opened at
# another of ALLOWED_HOSTS (localhost for 127.0.0.1) loads them from there.
SITE_ORIGIN = "{0.scheme}://{0.netloc}".format(urlsplit(SITE_URL))
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, SITE_ORIGIN, "data:", "https:"],
        "media-src": [SELF, SITE_ORIGIN, "blob:", *MEDIA_ORIGINS],
        "connect-src": [SELF, "ws:", "wss:"] if DEBUG else [SELF, "wss:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Served over HTTPS (HTTPS=1, as in production): cookies only over TLS, HTTP redirected to
# HTTPS (except /healthz, which load balancers probe over plain HTTP), and HSTS.
HTTPS = env_bool("HTTPS", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 31_536_000 if HTTPS else 0, minimum=0)
# Subdomains and preloading too, by default: set these to 0 if a subdomain still serves HTTP.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", HTTPS)
# Behind a proxy that terminates TLS and sets X-Forwarded-Proto (nginx below): trust it.
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The mock WeChat-style provider, mounted at /mockwx/ when enabled.
MOCK_OAUTH_ENABLED = env_bool("MOCK_OAUTH_ENABLED", True)
MOCKWX_CODE_TTL = env_int("MOCKWX_CODE_TTL", 300, minimum=1)
MOCKWX_TOKEN_TTL = env_int("MOCKWX_TOKEN_TTL", 7200, minimum=1)

# Sign-in: any OpenID Connect provider, by settings alone. With the mock provider
# on, the issuer and the demo client are ours and need no configuration.
OIDC_PROVIDER_ID = "wx"
OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME") or _("WeChat")
DEMO_CLIENT_ID = "miniapp-demo"
OIDC_ISSUER = env_str("OIDC_ISSUER")  # empty: {SITE_URL}/mockwx
OIDC_CLIENT_ID = env_str("OIDC_CLIENT_ID", DEMO_CLIENT_ID if MOCK_OAUTH_ENABLED else "")
OIDC_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET")
if not OIDC_CLIENT_SECRET and MOCK_OAUTH_ENABLED and OIDC_CLIENT_ID == DEMO_CLIENT_ID:
    OIDC_CLIENT_SECRET = derived_secret(SECRET_KEY, "mockwx-demo-client")
OIDC_SCOPES = env_list("OIDC_SCOPES", ["openid", "profile", "friends", "groups"])
OIDC_FETCH_FRIENDS = env_bool("OIDC_FETCH_FRIENDS", True)
OIDC_FETCH_GROUPS = env_bool("OIDC_FETCH_GROUPS", True)
# The groups tab reads the user's groups from the provider again at most this often.
GROUPS_SYNC_SECONDS = env_int("GROUPS_SYNC_SECONDS", 300, minimum=0)

ACCOUNT_ADAPTER = "miniapp.accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "miniapp.accounts.adapters.SocialAccountAdapter"
# Accounts come from the provider only: allauth has no local sign-in, sign-up, password or
# e-mail pages (urls.py mounts only the provider's URLs). Staff sign in to /admin/ with
# Django's own login and their password.
SOCIALACCOUNT_ONLY = True
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_REQUIRED = False
SOCIALACCOUNT_QUERY_EMAIL = False
# Kept (allauth's SocialToken) so that the groups tab can read the user's groups again later
# without a new sign-in; the token reads the profile, friends and groups, nothing else.
SOCIALACCOUNT_STORE_TOKENS = True
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = 10

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's own three, with a JSON parser that refuses absurdly nested bodies (400, not 500).
    "DEFAULT_PARSER_CLASSES": [
        "miniapp.lib.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "miniapp.lib.api.AutoSchema",
    "EXCEPTION_HANDLER": "miniapp.lib.api.exception_handler",
    # Proxies in front of the app that append to X-Forwarded-For. 0: rate limits per
    # address use the connection's own address, so a client cannot pick its own.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0, minimum=0),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Called by the API's exception handler with the request and the view on every 429: a
# throttle only counts, and what a refusal means is moderation's to decide (it notes it).
API_THROTTLED_HOOK = "miniapp.moderation.limits.limit_refused"
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")
SPECTACULAR_SETTINGS = {
    "TITLE": "miniapp API",
    "DESCRIPTION": "Watch, like and share: the REST API behind the mini-app.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Time, level and logger on every line: what an operator (or bench/common.log_problems) greps for.
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

SOCIALACCOUNT_PROVIDERS = socialaccount_providers(
    provider_id=OIDC_PROVIDER_ID,
    name=OIDC_PROVIDER_NAME,
    issuer=OIDC_ISSUER or f"{SITE_URL}/mockwx",
    client_id=OIDC_CLIENT_ID,
    secret=OIDC_CLIENT_SECRET,
    scopes=OIDC_SCOPES,
)

# Authlib's server: token lifetimes and refresh tokens for the mock provider.
AUTHLIB_OAUTH2_PROVIDER = {
    "refresh_token_generator": True,
    "token_expires_in": {"authorization_code": MOCKWX_TOKEN_TTL, "refresh_token": MOCKWX_TOKEN_TTL},
}

# Uploads: probed with PyAV, remuxed or transcoded to H.264 MP4 with +faststart. Held to what a
# phone records (videos/limits.py), so no upload costs more than a phone's would: frames up to 4K
# (3840×2160, or 4096×2160 on some phones), portrait or landscape, since many phones record 4K;
# up to 60 fps; and at most VIDEO_MAX_MEGAPIXELS million pixels × frames, a minute of 1080p60
# (7,465) or half a minute of 4K30. A 4K phone clip (40+ Mbit/s) that fits in VIDEO_MAX_MB is
# shorter than that anyway.
VIDEO_MAX_SECONDS = env_int("VIDEO_MAX_SECONDS", 60, minimum=1)
VIDEO_MAX_BYTES = env_int("VIDEO_MAX_MB", 50, minimum=1) * 1024 * 1024
VIDEO_MAX_LONG_SIDE = env_int("VIDEO_MAX_LONG_SIDE", 4096, minimum=16)
VIDEO_MAX_SHORT_SIDE = env_int("VIDEO_MAX_SHORT_SIDE", 2160, minimum=16)
VIDEO_MAX_FPS = env_int("VIDEO_MAX_FPS", 60, minimum=1)
VIDEO_MAX_MEGAPIXELS = env_int("VIDEO_MAX_MEGAPIXELS", 7500, minimum=1)
# Serve MEDIA_ROOT from the app, with byte ranges. Off when nginx or object storage serves /media/.
SERVE_MEDIA = env_bool("SERVE_MEDIA", True)
# Each Daphne process runs the sources of lives on air (`lives.runner`, started by asgi.py).
LIVE_RUNNER = env_bool("LIVE_RUNNER", True)
# Behind nginx: the app still decides who may fetch a file (a taken-down video's files are
# withheld), and answers with X-Accel-Redirect to this internal nginx location, which sends
# the bytes (ranges, caching). E.g. "/internal-media/". Empty: the app sends the bytes.
MEDIA_ACCEL_REDIRECT = env_str("MEDIA_ACCEL_REDIRECT", "")
if MEDIA_ACCEL_REDIRECT and not (MEDIA_ACCEL_REDIRECT.startswith("/") and MEDIA_ACCEL_REDIRECT.endswith("/")):
    raise ImproperlyConfigured(f"MEDIA_ACCEL_REDIRECT={MEDIA_ACCEL_REDIRECT!r}: a path that starts and ends with /")

# Activity: how many missed events a reconnecting socket gets before it is told to reload.
ACTIVITY_REPLAY_LIMIT = env_int("ACTIVITY_REPLAY_LIMIT", 200, minimum=1)
ACTIVITY_PAGE_SIZE = env_int("ACTIVITY_PAGE_SIZE", 50, minimum=1)
GROUP_PAGE_SIZE = env_int("GROUP_PAGE_SIZE", 30, minimum=1)
# Sockets close when their session ends: at once when it is signed out, its password changed,
# its user banned or deleted, or it expires; this often when it was deleted on the server.
SOCKET_SESSION_CHECK_SECONDS = env_int("SOCKET_SESSION_CHECK_SECONDS", 60, minimum=1)
# Check every event sent to a socket against its catalogue (`realtime.schema`) and raise
# for one that does not match: on in the tests (settings_test), off in production.
REALTIME_CHECK_EVENTS = False

# Abuse limits, per user (DRF rate syntax: N/second, N/minute, N/hour, N/day).
LIKE_RATE = env_rate("LIKE_RATE", "60/minute")
SHARE_RATE = env_rate("SHARE_RATE", "20/minute")
# View reports, per user or (signed out) per address.
VIEW_RATE = env_rate("VIEW_RATE", "120/minute")
# Requests of taps in a live room (each a batch; the page sends one every 250 ms at most). The
# taps themselves are capped per second apart from this (`lives.taps.TAPS_PER_SECOND`).
TAP_RATE = env_rate("TAP_RATE", "600/minute")
COMMENT_RATE = env_rate("COMMENT_RATE", "20/minute")  # comments in live rooms

# The home feed: videos friends liked in the last FEED_FRIENDS_DAYS come first, then the hot
# ranking; what the viewer watched in the last FEED_SEEN_DAYS goes to the end.
FEED_FRIENDS_DAYS = env_int("FEED_FRIENDS_DAYS", 7, minimum=1)
FEED_SEEN_DAYS = env_int("FEED_SEEN_DAYS", 3, minimum=0)
# A view counts once the video played this long (seconds).
VIEW_MIN_SECONDS = 2

# Moderation. Abuse limits per user, like LIKE_RATE above.
REPORT_RATE = env_rate("REPORT_RATE", "10/hour")
UPLOAD_RATE = env_rate("UPLOAD_RATE", "20/hour")
# This many different users reporting a video hides it until a moderator reviews it. A
# report weighs 1 from an account at least REPORT_TRUSTED_AFTER_DAYS old with a friend, and
# REPORT_UNTRUSTED_WEIGHT from any other (new identities cost nothing in mock mode): five
# such reports then weigh 1 of the 5.
REPORT_HIDE_AT = env_int("REPORT_HIDE_AT", 5, minimum=1)
REPORT_TRUSTED_AFTER_DAYS = env_int("REPORT_TRUSTED_AFTER_DAYS", 7, minimum=0)
REPORT_UNTRUSTED_WEIGHT = env_float("REPORT_UNTRUSTED_WEIGHT", 0.2, minimum=0, maximum=1)
# Users who run into rate limits this often within ABUSE_WINDOW_HOURS are flagged in admin,
# and banned for ABUSE_BAN_HOURS at ABUSE_BAN_HITS (staff never are).
ABUSE_WINDOW_HOURS = env_int("ABUSE_WINDOW_HOURS", 24, minimum=1)
ABUSE_FLAG_HITS = env_int("ABUSE_FLAG_HITS", 3, minimum=1)
ABUSE_BAN_HITS = env_int("ABUSE_BAN_HITS", 20, minimum=1)
ABUSE_BAN_HOURS = env_int("ABUSE_BAN_HOURS", 24, minimum=1)
