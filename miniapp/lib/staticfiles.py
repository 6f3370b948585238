"""Static files for production: WhiteNoise's compressed, hashed files, ES modules included."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class ModuleManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """The pages' scripts are ES modules that import each other by relative path
    (`import { url } from "../miniapp/api.js";`). Django rewrites those paths to the hashed
    names too when asked: otherwise a page would load `feed.<hash>.js` by its hashed name
    and `api.js` by its plain one (cached for a short time only, and possibly of another
    release), and a module imported under both names would run twice (two sockets).
    A relative import Django cannot find stops `collectstatic`."""

    support_js_module_import_aggregation = True
