"""The addon's own version, as the receiver sees it in every payload (`version`)."""

ADDON_VERSION = "1.0.0"
