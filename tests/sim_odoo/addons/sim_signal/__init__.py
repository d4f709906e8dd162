# what the hook saw once the install committed: the registry's pending invalidations
SEEN = {}


def post_init(env):
    """Clears a cache, then signals it after the install commits (the registry still loading)."""
    registry = env.registry
    registry.clear_cache()

    def signal():
        SEEN['ready'] = registry.ready
        registry.signal_changes()
        SEEN['pending'] = sorted(registry.cache_invalidated)
    env.cr.postcommit.add(signal)
