"""Marqo-GS-10M's Hugging Face parquet export by Hub id: ``--data-dir hf://ORG/NAME[@REVISION]``.

:func:`parse_hub_spec` reads the id; :func:`fetch_splits` brings the parquet files of the
requested splits, and nothing else, into the Hugging Face cache (:func:`gcl_bench.config.hub_cache_dir`,
shared with ``hf download`` and the ``datasets`` library) with huggingface_hub's
``snapshot_download`` (resumable: an interrupted file continues where it stopped) and returns
the snapshot folder, which the parquet loader (:mod:`~gcl_bench.data.hf`) reads like any local
export. The revision (a branch, a tag or a full commit sha; default ``main``) is resolved to
its commit sha, which :meth:`HubSnapshot.record` puts into the split's ``meta["hub"]`` and so
into results.json: a result names the exact data it was computed on.

Which files belong to a split is decided by their names, so every layout the export has had
loads: ``novel-query/novel-query-5.parquet`` (the first uploads), ``data/novel_query-00000-of-00002.parquet``
(later ones) and ``default/novel_query/0000.parquet`` (the Hub's parquet conversion); a judgement
file ``<split>_gt_<eval set>.json`` beside them is fetched too.

Without network (``HF_HUB_OFFLINE=1``, or no connection) the cache alone answers: the revision
is read from the cache's ``refs/`` and the snapshot of that commit must hold the split's files.
When it does not, the error is one line naming the repo id, the revision and how to place the
files by hand.

May import: :mod:`~gcl_bench.data.layout`, :mod:`~gcl_bench.data.splits`, :mod:`gcl_bench.config`,
:mod:`gcl_bench.errors` (huggingface_hub inside functions).
"""
from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gcl_bench.config import hub_cache_dir, hub_offline
from gcl_bench.data.layout import parquet_files
from gcl_bench.data.splits import canonical_split, split_spellings
from gcl_bench.errors import GclBenchError

HUB_SCHEME = "hf://"
DEFAULT_REVISION = "main"
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")


@dataclass(frozen=True)
class HubDataset:
    """A dataset repository on the Hub and the revision asked for (None: ``main``)."""

    repo_id: str
    revision: str | None = None

    @property
    def revision_name(self) -> str:
        return self.revision or DEFAULT_REVISION

    @property
    def spec(self) -> str:
        return HUB_SCHEME + self.repo_id + (f"@{self.revision}" if self.revision else "")


@dataclass(frozen=True)
class HubSnapshot:
    """The local snapshot of a :class:`HubDataset`: its folder, the commit it holds, the split files."""

    dataset: HubDataset
    folder: Path
    sha: str
    files: dict[str, list[str]]
    """Per split, the files of the split relative to the snapshot folder."""
    offline: bool

    def record(self) -> dict[str, Any]:
        """What results.json says about the data's origin (``dataset.hub``)."""
        return {
            "repo_id": self.dataset.repo_id,
            "repo_type": "dataset",
            "revision": self.dataset.revision_name,
            "sha": self.sha,
            "files": self.files,
            "offline": self.offline,
        }


def is_hub_spec(data_dir: object) -> bool:
    """Whether ``data_dir`` is an ``hf://`` id rather than a folder."""
    return isinstance(data_dir, str) and data_dir.strip().startswith(HUB_SCHEME)


def parse_hub_spec(spec: str) -> HubDataset:
    """``hf://ORG/NAME`` or ``hf://ORG/NAME@REVISION`` as a :class:`HubDataset`."""
    body = spec.strip()[len(HUB_SCHEME):]
    repo_id, sep, revision = body.partition("@")
    repo_id = repo_id.strip("/")
    if not _REPO_ID.fullmatch(repo_id) or (sep and not revision.strip()):
        raise GclBenchError(
            f"--data-dir {spec!r} is not a Hub dataset id: expected hf://ORG/NAME or hf://ORG/NAME@REVISION "
            "(e.g. hf://Marqo/marqo-GS-10M)"
        )
    return HubDataset(repo_id, revision.strip() or None)


def split_patterns(splits: Sequence[str]) -> list[str]:
    """``allow_patterns`` matching the parquet and judgement files of ``splits`` in any layout."""
    patterns: set[str] = set()
    for split in splits:
        for name in split_spellings(split):
            patterns.update((f"*{name}*.parquet", f"{name}_gt_*.json"))
    return sorted(patterns)


def local_folder(
    data_dir: str | os.PathLike[str], splits: Sequence[str], every_split: bool = True
) -> tuple[Path, HubSnapshot | None]:
    """The folder ``data_dir`` names: a local path as it is, an ``hf://`` id fetched (only ``splits``;
    ``every_split=False``: those of them the revision or, offline, the cache has, at least one)."""
    if is_hub_spec(data_dir):
        snapshot = fetch_splits(parse_hub_spec(str(data_dir)), splits, every_split)
        return snapshot.folder, snapshot
    return Path(data_dir).expanduser(), None


def fetch_splits(dataset: HubDataset, splits: Sequence[str], every_split: bool = True) -> HubSnapshot:
    """Download (or, offline, find in the cache) the files of ``splits`` of ``dataset``; each of
    them must be there unless ``every_split`` is false (then at least one)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.utils import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    splits = [canonical_split(s) for s in splits]
    offline = hub_offline()
    where = f"{dataset.repo_id}@{dataset.revision_name}"
    try:
        folder = Path(snapshot_download(
            dataset.repo_id, repo_type="dataset", revision=dataset.revision, cache_dir=str(hub_cache_dir()),
            allow_patterns=split_patterns(splits), local_files_only=offline,
        ))
    except LocalEntryNotFoundError:
        raise GclBenchError(_not_cached_message(dataset, splits, offline)) from None
    except RevisionNotFoundError:
        raise GclBenchError(f"{dataset.repo_id}: the Hugging Face Hub has no revision {dataset.revision_name!r} "
                            "(give a branch, a tag or a full commit sha after @)") from None
    except GatedRepoError:
        raise GclBenchError(f"{dataset.repo_id}: the dataset is gated on the Hugging Face Hub; accept its terms "
                            "on the Hub and log in with `hf auth login`") from None
    except RepositoryNotFoundError:
        raise GclBenchError(f"{dataset.repo_id}: no such dataset on the Hugging Face Hub (check the id; a "
                            "private one needs `hf auth login`)") from None
    except (HfHubHTTPError, OSError) as err:
        text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise GclBenchError(f"{where}: the download from the Hugging Face Hub failed ({text}); run again to "
                            "resume it") from None
    found = parquet_files(folder)
    missing = [s for s in splits if not found.get(s)]
    if missing and not every_split and len(missing) < len(splits):
        splits = [s for s in splits if s not in missing]
    elif missing:
        if offline or not _has_network_evidence(folder):
            raise GclBenchError(_not_cached_message(dataset, missing, offline))
        have = ", ".join(sorted(found)) or "none"
        raise GclBenchError(f"{where} ({folder.name}): the repository has no parquet files for split "
                            f"{', '.join(missing)} (splits found: {have})")
    files = {s: [p.relative_to(folder).as_posix() for p in found[s]] for s in splits}
    return HubSnapshot(dataset, folder, folder.name, files, offline)


def _has_network_evidence(folder: Path) -> bool:
    """Whether the snapshot was listed on the Hub (its tree listing is cached): then a missing split
    is missing from the repository, not only from the cache."""
    return (folder.parent.parent / "trees" / f"{folder.name}.json").is_file()


def _not_cached_message(dataset: HubDataset, splits: Sequence[str], offline: bool) -> str:
    cache = hub_cache_dir()
    org, name = dataset.repo_id.split("/", 1)
    why = "HF_HUB_OFFLINE is set" if offline else "the Hub cannot be reached"
    include = " ".join(f"--include '{p}'" for p in split_patterns(splits) if p.endswith(".parquet"))
    revision = f" --revision {dataset.revision}" if dataset.revision else ""
    return (
        f"{dataset.repo_id}@{dataset.revision_name}: the parquet files of split {', '.join(splits)} are not in "
        f"the Hugging Face cache ({cache}) and {why}; where there is network run `hf download {dataset.repo_id} "
        f"--repo-type dataset{revision} {include}` and copy {cache / f'datasets--{org}--{name}'} to this cache, "
        "or put the parquet files in a folder and pass --data-dir FOLDER"
    )
