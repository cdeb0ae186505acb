"""Reaching a tenant's entries in a crop store directly, as the service does."""
from ananacare.image_cache.base import entry_key


def anonymous_namespace(app):
    """The store namespace of the open-mode tenant (what the tests' clients upload as)."""
    return app.extensions["ananacare"]["tenants"].anonymous.namespace


def stored(app, image_id):
    """The anonymous tenant's crop under `image_id`, read through the app's store."""
    return app.extensions["ananacare"]["crops"].get(image_id, anonymous_namespace(app))


def entry_paths(app, image_id):
    """(folder, crop path, metadata path) of the anonymous tenant's entry in a filesystem store."""
    return app.extensions["ananacare"]["crops"]._paths(entry_key(image_id, anonymous_namespace(app)))
