"""Shared storage configs (the ``sharedStorage`` field): NFS or Azure Blob."""

from dataclasses import dataclass
from typing import Optional

from .base import MISSING, ConfigBase, PathLike

__all__ = ["SharedStorageConfig", "NfsConfig", "AzureBlobConfig"]


@dataclass(init=False)
class SharedStorageConfig(ConfigBase):
    """Any shared storage: the union of the fields of every kind (``sharedStorage`` dicts load as this)."""

    _tolerant = True

    storage_type: str = MISSING
    local_mount_point: PathLike = MISSING
    remote_mount_point: str = MISSING
    local_mounted: str = MISSING
    storage_account_name: Optional[str] = None
    storage_account_key: Optional[str] = None
    container_name: Optional[str] = None
    nfs_server: Optional[str] = None
    exported_directory: Optional[str] = None


@dataclass(init=False)
class NfsConfig(SharedStorageConfig):
    """An NFS export mounted on the manager machine and on every training machine."""

    storage_type: str = "NFS"
    nfs_server: str = MISSING
    exported_directory: str = MISSING


@dataclass(init=False)
class AzureBlobConfig(SharedStorageConfig):
    """An Azure Blob container mounted on the manager machine and on every training machine."""

    storage_type: str = "AzureBlob"
    storage_account_name: str = MISSING
    storage_account_key: Optional[str] = None
    container_name: str = MISSING
