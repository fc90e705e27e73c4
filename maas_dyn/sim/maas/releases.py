"""Facts that differ per shipped MAAS release: version strings and default series."""

from __future__ import annotations

# The exact release each shipped description was taken from (see descriptions/README.md).
MAAS_VERSIONS: dict[str, str] = {
    "1.9": "1.9.5",
    "2.0": "2.0.0~beta1",
    "2.1": "2.1.5",
    "2.2": "2.2.0~beta3",
    "3.0": "3.0.2",
    "3.1": "3.1.3",
    "3.2": "3.2.10",
    "3.3": "3.3.11",
    "3.4": "3.4.10",
    "3.5": "3.5.13",
    "3.6": "3.6.5",
    "3.7": "3.7.3",
}

# Ubuntu series a release deploys by default (``default_distro_series``).
DEFAULT_SERIES: dict[str, str] = {
    "1.9": "trusty",
    "2.0": "xenial",
    "2.1": "xenial",
    "2.2": "xenial",
    "3.0": "focal",
    "3.1": "focal",
    "3.2": "jammy",
    "3.3": "jammy",
    "3.4": "jammy",
    "3.5": "noble",
    "3.6": "noble",
    "3.7": "noble",
}

# API capabilities ``version read`` reports (API_CAPABILITIES_LIST).
CAPABILITIES = (
    "networks-management",
    "static-ipaddresses",
    "ipv6-deployment-ubuntu",
    "devices-management",
    "storage-deployment-ubuntu",
    "network-deployment-ubuntu",
    "bridging-interface-ubuntu",
    "bridging-automatic-ubuntu",
    "authenticate-api",
)


def version_of(release: str) -> str:
    """Return the full version string for a release name.

    Args:
        release: E.g. ``"3.7"``.

    Returns:
        E.g. ``"3.7.3"``; the release name itself when unknown.
    """
    return MAAS_VERSIONS.get(release, release)


def default_series(release: str) -> str:
    """Return the default deployment series of a release.

    Args:
        release: E.g. ``"3.7"``.

    Returns:
        E.g. ``"noble"``.
    """
    return DEFAULT_SERIES.get(release, "noble")
