"""`xlm-swcm-push`: push an XLM-SWCM checkpoint to the Hugging Face Hub as one commit, with a generated model card.

The folder is checked before any network call and only read: the card (README.md) and a missing generation config
are written to a temporary folder. What is checked and uploaded, and what each error means: the guide
`conversion/README_push.md`.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import sys
import tempfile
import urllib.parse
from collections.abc import Sequence
from dataclasses import MISSING, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pycountry
from huggingface_hub import (
    CommitOperationAdd,
    EvalResult,
    HfApi,
    ModelCard,
    ModelCardData,
    constants,
    get_token,
)
from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError
from huggingface_hub.utils import HFValidationError, filter_repo_objects, validate_repo_id
from transformers import GenerationConfig
from transformers.dynamic_module_utils import get_imports, get_relative_imports

from .checkpoint import checkpoint_folder, checkpoint_problems
from .configuration_xlm_swcm import XLMSWCMConfig
from .errors import XLMSWCMError
from .options import OptionsParser, option
from .report import REPORT_FILE, check_report, report_languages

MODEL_TYPE = "xlm-swcm"
CODE_FILES = ("configuration_xlm_swcm.py", "modeling_xlm_swcm.py")
REQUIRED_AUTO_MAP = ("AutoConfig", "AutoModelForSeq2SeqLM")
CARD_TEMPLATE = "model_card.md"  # in the package data folder xlm_swcm/templates/
DEFAULT_LICENSE = "apache-2.0"
# The Hub's license identifiers (https://huggingface.co/docs/hub/repositories-licenses); `other` needs a
# `license_name` and a LICENSE file in the repo.
HUB_LICENSES = frozenset(
    """apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m bigscience-bloom-rail-1.0
    bigcode-openrail-m afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause bsd-3-clause-clear c-uda cc
    cc0-1.0 cc-by-2.0 cc-by-2.5 cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0
    cc-by-nc-4.0 cc-by-nd-4.0 cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0
    cdla-sharing-1.0 cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0 etalab-2.0 eupl-1.1
    agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 isc lppl-1.3c ms-pl mpl-2.0 odc-by odbl openrail++
    osl-3.0 postgresql ofl-1.1 ncsa unlicense zlib pddl lgpl-lr deepfloyd-if-license llama2 gemma unknown
    other""".split()
)
# Files a Trainer writes next to the weights: a folder with one of them holds a trained model, not a fresh seed.
TRAINING_FILES = ("trainer_state.json", "training_args.bin", "all_results.json", "train_results.json")
DEFAULT_TAGS = ("xlm-swcm",)
# Training leftovers that are not part of a model repository (Trainer output folders hold them), at any depth.
IGNORE_PATTERNS = tuple(
    ".* __pycache__ *.pyc checkpoint-* runs optimizer.pt scheduler.pt scaler.pt rng_state*.pth training_args.bin".split()
)
# As filter_repo_objects patterns (whose `*` also matches `/`): the name itself, in a folder, or a folder of it.
_IGNORED = [f"{up}{name}{down}" for name in IGNORE_PATTERNS for up in ("", "*/") for down in ("", "/*")]
CITATION = """@misc{su2025sharedweights,
  title         = {Shared Weights Pretraining for Extremely Low-Resource Languages},
  author        = {Zeli Su and Ziyin Zhang and Guixian Xu and Jianing Liu and XU Han and Ting Zhang and Yushuang Dong},
  year          = {2025},
  eprint        = {2502.10852},
  archivePrefix = {arXiv},
  primaryClass  = {cs.CL},
  url           = {https://arxiv.org/abs/2502.10852}
}"""
LOGIN_HELP = (
    "log in with `hf auth login`, set the HF_TOKEN environment variable, or pass --token "
    "(a token with write access: https://huggingface.co/settings/tokens)"
)

# The former error classes of this module: bad input has exit code 2, a refused Hub request exit_code=1.
HubPushError = InvalidRepoIdError = InvalidCheckpointError = XLMSWCMError
MissingTokenError = HubRequestError = XLMSWCMError


@dataclass
class PushResult:
    """What was (or, in a dry run, would be) pushed."""

    repo_id: str
    revision: str
    endpoint: str
    files: dict[str, int]  # path in repo -> size in bytes
    card: str
    dry_run: bool
    commit_url: str | None = None
    commit_oid: str | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        verb = "Would push" if self.dry_run else "Pushed"
        lines = [
            f"{verb} {len(self.files)} files ({_human_size(sum(self.files.values()))}) to {self.repo_id}@"
            f"{self.revision} on {self.endpoint} in one commit:"
        ]
        width = max(len(p) for p in self.files)
        lines += [f"  {path:<{width}}  {size:>12,} B" for path, size in sorted(self.files.items())]
        lines += [f"note: {note}" for note in self.notes]
        if self.dry_run:
            card = f"\n--- README.md (generated model card) ---\n{self.card.rstrip()}\n--- end of card ---"
            lines += [card, "Dry run: nothing was sent. Run again without --dry-run to upload."]
        else:
            lines.append(f"Commit: {self.commit_url}")
        return "\n".join(lines)


def _human_size(size: float) -> str:
    """
    >>> _human_size(999), _human_size(1_112_201_216)
    ('999 B', '1.1 GB')
    """
    for unit in ("B", "kB", "MB"):
        if size < 1000:
            return f"{size:.0f} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def check_repo_id(repo_id: str) -> str:
    """Returns `repo_id` if it has the form `namespace/name` with the Hub's allowed characters. The namespace is
    required: the card quotes the repo id in its loading snippet, and a dry run cannot ask the Hub for the user.

    Example:
        >>> check_repo_id("my-user/xlm-swcm-bo")
        'my-user/xlm-swcm-bo'
    """
    fix = "use the form `your-username/model-name` (or `your-org/model-name`)"
    if not isinstance(repo_id, str) or repo_id.count("/") != 1:
        raise XLMSWCMError(f"invalid repo id {repo_id!r}: {fix}.")
    try:
        validate_repo_id(repo_id)
    except HFValidationError as err:
        reason = str(err).splitlines()[0].rstrip(".")
        raise XLMSWCMError(
            f"invalid repo id {repo_id!r}: {reason}; {fix} with letters, digits, '-', '_', '.'."
        ) from err
    return repo_id


def check_revision(revision: str) -> str:
    """Returns `revision` if it can name a new branch (git's `check-ref-format` rules), so that a dry run catches
    what the Hub would refuse.

    Example:
        >>> check_revision("v1.0/bo")
        'v1.0/bo'
    """
    parts = revision.split("/")
    bad = (
        any(c in revision for c in " ~^:?*[\\") or any(ord(c) < 32 or ord(c) == 127 for c in revision)
        or ".." in revision or "@{" in revision or revision in ("", "@", "HEAD") or revision.startswith("-")
        or revision.endswith(".") or any(not p or p.startswith(".") or p.endswith(".lock") for p in parts)
    )  # fmt: skip
    if bad:
        raise XLMSWCMError(
            f"invalid revision {revision!r}: give a branch name such as dev or v1.0 (no spaces, '..', '~^:?*[\\', "
            "'@{', and no part that is empty, starts with '.' or ends with '.lock')."
        )
    return revision


def check_endpoint(endpoint: str) -> str:
    """Returns `endpoint` if it is an http(s) URL with a host.

    Example:
        >>> check_endpoint("http://127.0.0.1:8080")
        'http://127.0.0.1:8080'
    """
    url = urllib.parse.urlsplit(endpoint)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise XLMSWCMError(
            f"invalid endpoint {endpoint!r}: give the Hub's URL, such as https://huggingface.co (or set HF_ENDPOINT)."
        )
    return endpoint


def check_license(license_id: str) -> str:
    """Returns `license_id` if it is one of the Hub's license identifiers (HUB_LICENSES), else refuses with the
    closest ones.

    Example:
        >>> check_license("cc-by-sa-4.0")
        'cc-by-sa-4.0'
    """
    if license_id in HUB_LICENSES:
        return license_id
    close = difflib.get_close_matches(str(license_id).lower(), sorted(HUB_LICENSES), n=3, cutoff=0.5)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise XLMSWCMError(
        f"unknown license {license_id!r}{hint}: use a Hub license identifier "
        "(https://huggingface.co/docs/hub/repositories-licenses), or `other` with a LICENSE file in the folder."
    )


def check_language(code: str) -> str:
    """Returns `code` if it is an ISO 639 language code (639-1 two letters, 639-2/3 three letters, 639-5 family;
    pycountry's tables), optionally followed by BCP 47 subtags (`zh-Hans`, `mn-Mong`), or `multilingual`.

    Example:
        >>> check_language("bo"), check_language("zh-Hans")
        ('bo', 'zh-Hans')
    """
    if code == "multilingual":
        return code
    primary, _, rest = code.partition("-")
    subtags_ok = not rest or all(re.fullmatch(r"[A-Za-z0-9]{1,8}", tag) for tag in rest.split("-"))
    known = primary == primary.lower() and (
        pycountry.languages.get(alpha_2=primary) is not None
        or pycountry.languages.get(alpha_3=primary) is not None
        or pycountry.languages.get(bibliographic=primary) is not None
        or pycountry.language_families.get(alpha_3=primary) is not None
    )
    if known and subtags_ok:
        return code
    hint = ""
    if "_" in code:
        hint = f" (BCP 47 separates subtags with '-': {code.replace('_', '-')!r})"
    else:
        try:  # a language name, e.g. "Tibetan"
            found = pycountry.languages.lookup(code)
            hint = f" (did you mean {getattr(found, 'alpha_2', None) or found.alpha_3!r}?)"
        except LookupError:
            pass
    raise XLMSWCMError(
        f"invalid language code {code!r}{hint}: use ISO 639 codes such as bo, ug, kk, mn, zh (ISO 639-1 where one "
        "exists, else ISO 639-3)."
    )


def check_checkpoint(folder: str | os.PathLike) -> XLMSWCMConfig:
    """Checks that `folder` is a complete XLM-SWCM checkpoint that loads with `trust_remote_code=True`: the folder
    checks convert and train make (`xlm_swcm.checkpoint`), then what a remote load needs. Every problem is listed in
    one `InvalidCheckpointError`. Nothing is written. Returns the loaded `XLMSWCMConfig`."""
    folder = Path(folder)
    checkpoint_folder(
        folder, "Checkpoint folder", False, "pass the folder written by save_pretrained or xlm-swcm-convert"
    )
    resave = (
        "re-save it with `XLMSWCMForConditionalGeneration.from_pretrained(folder).save_pretrained(folder)` "
        "from the xlm_swcm package"
    )
    config_path = folder / "config.json"
    try:
        config_dict = json.loads(config_path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise InvalidCheckpointError(f"{config_path} is not valid JSON ({err}).") from err
    if not isinstance(config_dict, dict) or config_dict.get("model_type") != MODEL_TYPE:
        found = config_dict.get("model_type") if isinstance(config_dict, dict) else None
        raise InvalidCheckpointError(
            f"{config_path} has model_type {found!r}, not {MODEL_TYPE!r}: this command pushes XLM-SWCM "
            "checkpoints (convert an encoder first with xlm-swcm-convert)."
        )

    problems = []
    auto_map = config_dict.get("auto_map")
    code_files = set(CODE_FILES)
    if not isinstance(auto_map, dict) or any(key not in auto_map for key in REQUIRED_AUTO_MAP):
        problems.append(f"config.json has no auto_map entries for {', '.join(REQUIRED_AUTO_MAP)} ({resave})")
    else:
        for reference in auto_map.values():
            reference = reference[0] if isinstance(reference, list | tuple) else reference
            if isinstance(reference, str) and "--" not in reference:  # "repo--module.Class" lives elsewhere
                code_files.add(reference.rsplit(".", 1)[0] + ".py")
    # The code files and, transitively, the files they import relatively are all downloaded by
    # trust_remote_code; an absolute `import xlm_swcm` would fail wherever the package is not installed.
    pending, seen = sorted(code_files), set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        path = folder / name
        if not path.is_file():
            problems.append(f"code file {name} is missing ({resave})")
            continue
        pending += [module + ".py" for module in get_relative_imports(path)]
        if "xlm_swcm" in get_imports(path):
            problems.append(f"{name} imports the xlm_swcm package, which remote users do not have ({resave})")

    # config.json was read above; the weights are checked as convert and train check theirs (xlm_swcm.checkpoint),
    # safetensors only: a remote from_pretrained of a pickle needs the user to trust it
    weight_problems = checkpoint_problems(folder, safetensors_only=True)
    bins = sorted(p.name for p in folder.glob("pytorch_model*.bin"))
    if bins and any(problem.endswith("is missing") for problem in weight_problems):
        weight_problems.append(f"found {', '.join(bins)}: {resave} to get safetensors")
    problems += weight_problems

    config = None
    try:
        config = XLMSWCMConfig.from_pretrained(folder)
    except Exception as err:  # a config the class rejects cannot be loaded remotely either
        problems.append(f"config.json does not load as XLMSWCMConfig: {str(err).splitlines()[0]}")

    if problems:
        listing = "; ".join(problems)
        raise InvalidCheckpointError(f"{folder} is not a complete XLM-SWCM checkpoint: {listing}.")
    return config


def load_conversion_report(folder: str | os.PathLike) -> dict | None:
    """Reads `swcm_conversion.json` (written by the conversion) if the folder has one; checks its shape."""
    path = Path(folder) / REPORT_FILE
    if not path.is_file():
        return None
    fix = f"fix or delete {path} (the card renders without it)"
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise XLMSWCMError(f"{path} is not valid JSON ({err}); {fix}.") from err
    problems = check_report(report)
    if problems:
        raise XLMSWCMError(f"{path}: {problems[0]}; {fix}.")
    return report


def _looks_like_hub_id(name: str | None) -> bool:
    """Whether `name` can be a Hub model id (base_model must be one); local paths are not.

    >>> _looks_like_hub_id("FacebookAI/xlm-roberta-base"), _looks_like_hub_id("./src4"), _looks_like_hub_id(None)
    (True, False, False)
    """
    try:
        validate_repo_id(name)
    except HFValidationError:
        return False
    return bool(name) and not Path(name).exists()


def _description(base_model: str | None, source_name: str | None) -> str:
    if base_model:
        return f"An XLM-SWCM encoder-decoder model built from [`{base_model}`](https://huggingface.co/{base_model})."
    if source_name:
        return f"An XLM-SWCM encoder-decoder model built from {source_name}."
    return "An XLM-SWCM encoder-decoder model."


def _eval_result(item: Any) -> EvalResult:
    if isinstance(item, EvalResult):
        return item
    if not isinstance(item, dict):
        raise XLMSWCMError(
            f"evaluation results must be huggingface_hub.EvalResult objects or dicts, got {item!r}"
        )
    try:
        return EvalResult(**item)
    except TypeError as err:
        raise XLMSWCMError(
            f"invalid evaluation result {item}: {err}. Give the fields of huggingface_hub.EvalResult "
            "(task_type, dataset_type, dataset_name, metric_type, metric_value, ...)."
        ) from err


def _local_notes(folder: Path) -> str | None:
    """Body of a hand-written README.md in the folder, kept in the card; our own generated cards are skipped."""
    path = folder / "README.md"
    if not path.is_file():
        return None
    card = ModelCard(path.read_text(encoding="utf-8"), ignore_metadata_errors=True)
    if MODEL_TYPE in (card.data.get("tags") or []):
        return None
    return card.text.strip() or None


_UNREAD = object()  # build_model_card's default report: read it from the folder


def build_model_card(
    folder: str | os.PathLike,
    repo_id: str,
    *,
    card_data: dict | None = None,
    eval_results: Sequence[Any] | None = None,
    config: XLMSWCMConfig | None = None,
    untrained: bool | None = None,
    has_tokenizer: bool | None = None,
    report: dict | None | object = _UNREAD,
) -> ModelCard:
    """Renders the model card (a `huggingface_hub.ModelCard`) of the checkpoint in `folder`.

    Metadata: `base_model` (the source encoder, when it is a Hub id), `language`, `library_name: transformers`,
    `pipeline_tag: text2text-generation`, `license` (apache-2.0 unless `card_data` says otherwise),
    `tags: [xlm-swcm, ...]`, and `model-index` when `eval_results` are given. `card_data` entries override or
    extend the metadata (any `ModelCardData` field). The body has the conversion `report` (default: read from
    `folder`'s `swcm_conversion.json`) when there is one, and then (unless `untrained=False`, or the folder holds
    Trainer output) says that the model is an untrained seed.
    """
    folder = Path(folder)
    if report is _UNREAD:
        report = load_conversion_report(folder)
    if config is None:
        config = XLMSWCMConfig.from_pretrained(folder)
    extra = dict(card_data or {})
    description = extra.pop("description", None)
    source = report.get("source") if report else None
    base_model = extra.pop("base_model", None) or (source if _looks_like_hub_id(source) else None)
    # A local path means nothing to the card's readers: name the Hub model, else say what it was.
    source_name = base_model or ("a local encoder checkpoint" if source else None)
    if untrained is None:
        untrained = report is not None and not any((folder / name).exists() for name in TRAINING_FILES)
    if has_tokenizer is None:
        has_tokenizer = any((folder / name).is_file() for name in ("tokenizer.json", "tokenizer_config.json"))
    results = [_eval_result(item) for item in (eval_results or [])]
    modes = [row["mode"] for row in (report or {}).get("mapping", [])]
    # as_file: the template is package data, possibly inside a zip; template_path works with every
    # huggingface_hub version (template_str is newer).
    with resources.as_file(resources.files("xlm_swcm") / "templates" / CARD_TEMPLATE) as template:
        return ModelCard.from_template(
            _card_metadata(extra, repo_id, base_model, report, results),
            template_path=str(template),
            repo_id=repo_id,
            model_title=repo_id.split("/")[-1],
            description=description or _description(base_model, source_name),
            untrained=untrained,
            source_name=source_name,
            has_tokenizer=has_tokenizer,
            arch=_architecture(config),
            report=report,
            parameters=_parameter_rows(report),
            mapping_counts={"copied": modes.count("copied"), "tied": modes.count("tied")},
            eval_rows=[_eval_row(result) for result in results],
            local_notes=_local_notes(folder),
            citation=CITATION,
        )


def _card_metadata(
    extra: dict, repo_id: str, base_model: str | None, report: dict | None, results: list[EvalResult]
) -> ModelCardData:
    """The card's YAML metadata: our defaults, the `card_data` entries left in `extra` on top. The Hub refuses a
    whole commit whose card has a language or license it does not know, so both are checked here, whatever gave
    them."""
    language = extra.pop("language", None)
    # Default: the conversion's language tokens. Conversion takes codes the Hub refuses in a card (`english`).
    where = "card_data['language']"
    if not language:
        language = report_languages(report)
        tokens = ", ".join(f"<{code}>" for code in language or [])
        where = f"--language (default: the conversion's language tokens {tokens})"
    if isinstance(language, str):
        language = [code.strip() for code in language.split(",") if code.strip()]
    try:
        for code in language or []:
            check_language(code)
    except XLMSWCMError as error:
        raise XLMSWCMError(f"{where}: {error}") from None
    license_id = extra.pop("license", DEFAULT_LICENSE)
    tags = list(DEFAULT_TAGS) + [t for t in (extra.pop("tags", None) or []) if t not in DEFAULT_TAGS]
    metadata = {
        "base_model": base_model,
        "language": language,
        "library_name": "transformers",
        "pipeline_tag": "text2text-generation",
        "license": license_id and check_license(license_id),
        "tags": tags,
        **extra,
    }
    if results:
        metadata["eval_results"] = results
        metadata.setdefault("model_name", repo_id.split("/")[-1])
    return ModelCardData(**{k: v for k, v in metadata.items() if v is not None})


def _architecture(config: XLMSWCMConfig) -> dict[str, Any]:
    """The architecture table of the card."""
    layer_types = list(getattr(config, "decoder_layer_types", []) or [])
    normal = layer_types.count("normal")
    return {
        **{name: getattr(config, name) for name in _ARCHITECTURE_FIELDS},
        "decoder_layers": len(layer_types) or getattr(config, "decoder_layers", None),
        "normal_layers": normal,
        "custom_layers": len(layer_types) - normal,
    }


_ARCHITECTURE_FIELDS = tuple(
    "num_hidden_layers insert_every trailing_normal_layer weight_sharing hidden_size num_attention_heads "
    "intermediate_size vocab_size".split()
)
# The parameter-count rows of the card: report key -> label.
_PARAMETER_ROWS = {
    "total": "Total",
    "encoder": "Encoder",
    "decoder": "Decoder",
    "embeddings": "Embeddings",
    "shared_with_encoder": "Decoder parameters that are the encoder's (tie mode)",
}


def _parameter_rows(report: dict | None) -> list[dict[str, Any]]:
    counts = (report or {}).get("parameters") or {}
    return [
        {"name": label, "count": counts[key]}
        for key, label in _PARAMETER_ROWS.items()
        if isinstance(counts.get(key), int)
    ]


def _eval_row(r: EvalResult) -> dict[str, Any]:
    """One row of the card's evaluation results table."""
    return {
        "task": r.task_name or r.task_type,
        "dataset": r.dataset_name,
        "split": r.dataset_split or "",
        "metric": r.metric_name or r.metric_type,
        "value": r.metric_value,
    }


def _uploadable(folder: Path) -> dict[str, Path]:
    """`{path in repo: file}` for the files of `folder` that belong in a model repository."""
    files = {
        path.relative_to(folder).as_posix(): path for path in sorted(folder.rglob("*")) if path.is_file()
    }
    return {name: files[name] for name in filter_repo_objects(files, ignore_patterns=_IGNORED)}


def _stage_checkpoint(folder_or_model: Any, scratch: Path) -> tuple[Path, XLMSWCMConfig, dict | None]:
    """The checkpoint folder (a model object is saved to `scratch/model`), its config and conversion report, all
    checked before anything else: bad input must not cost a network call."""
    if isinstance(folder_or_model, str | os.PathLike):
        folder = Path(folder_or_model)
    elif hasattr(folder_or_model, "save_pretrained"):
        folder = scratch / "model"
        folder_or_model.save_pretrained(folder)
    else:
        raise XLMSWCMError(
            f"expected a checkpoint folder or a model with save_pretrained, got {type(folder_or_model).__name__}."
        )
    config = check_checkpoint(folder)
    return folder, config, load_conversion_report(folder)


def _prepare(
    folder_or_model: Any,
    scratch: Path,
    repo_id: str,
    *,
    tokenizer: Any,
    card_data: dict | None,
    eval_results: Sequence[Any] | None,
) -> tuple[dict[str, Path], ModelCard, list[str]]:
    """Everything the repo gets, as `{path in repo: local file}`: the checkpoint folder's own files (read in
    place), and what is written to `scratch` (a saved model object, the tokenizer, a missing generation config,
    the card as README.md). Returns the files, the model card and notes for the user."""
    folder, config, report = _stage_checkpoint(folder_or_model, scratch)
    files, notes = _uploadable(folder), []
    if tokenizer is not None:
        tokenizer.save_pretrained(scratch / "tokenizer")
        files.update(_uploadable(scratch / "tokenizer"))
    if "generation_config.json" not in files:
        files["generation_config.json"] = scratch / "generation_config.json"
        GenerationConfig.from_model_config(config).to_json_file(files["generation_config.json"])
        notes.append("generation_config.json was missing; one was made from config.json")
    has_tokenizer = any(name in files for name in ("tokenizer.json", "tokenizer_config.json"))
    card = build_model_card(
        folder,
        repo_id,
        card_data=card_data,
        eval_results=eval_results,
        config=config,
        has_tokenizer=has_tokenizer,
        report=report,
    )
    if card.data.base_model is None and report and report.get("source"):
        notes.append(
            f"the source encoder {report['source']!r} is a local folder: pass --base-model OWNER/NAME to name "
            "its Hub model in the card"
        )
    if folder.parent != scratch and _local_notes(folder):
        notes.append("the folder's README.md text is kept in the card's Notes section")
    files["README.md"] = scratch / "README.md"
    files["README.md"].write_text(str(card), encoding="utf-8")
    return files, card, notes


def explain_hub_error(err: Exception, *, repo_id: str, endpoint: str, revision: str) -> str:
    """One line saying what a failed Hub request means and what to do.

    Example:
        >>> where = {"repo_id": "me/m", "endpoint": "http://127.0.0.1:9", "revision": "main"}
        >>> explain_hub_error(ConnectionRefusedError("Connection refused"), **where)
        'push to http://127.0.0.1:9 failed: ConnectionRefusedError: Connection refused (is the endpoint reachable? check --endpoint / HF_ENDPOINT and your network)'
    """
    status = getattr(getattr(err, "response", None), "status_code", None)
    if status is None and not isinstance(err, RepositoryNotFoundError | RevisionNotFoundError):
        return _explain_transport_error(err, endpoint)
    again = "the push did not complete. Run the command again"
    by_status = {
        401: f"401 Unauthorized from {endpoint}: the token was rejected. Log in again with `hf auth login`, or pass "
        "a valid write token with --token or HF_TOKEN",
        403: f"403 Forbidden from {endpoint}: your token may not write to {repo_id}. Use a token with write access "
        f"to the {repo_id.split('/')[0]!r} namespace",
        409: f"409 Conflict from {endpoint}: {repo_id}@{revision} changed while pushing (a concurrent push or "
        f"operation); {again}",
        412: f"412 Precondition Failed from {endpoint}: branch {revision!r} of {repo_id} moved while pushing "
        f"(parent commit mismatch); {again}",
    }
    if isinstance(err, RepositoryNotFoundError) or (
        status == 404 and not isinstance(err, RevisionNotFoundError)
    ):
        text = (
            f"{status} from {endpoint}: repository {repo_id} was not found or your token cannot see it. Check the "
            "repo id and namespace, and that the token (hf auth login / HF_TOKEN / --token) has write access"
        )
    elif isinstance(err, RevisionNotFoundError) and status != 401:
        text = f"404 from {endpoint}: branch {revision!r} does not exist in {repo_id}"
    elif status in by_status:
        text = by_status[status]
    elif status >= 500:
        text = f"{status} server error from {endpoint}; the push did not complete. The Hub has a problem: try again later"
    else:
        text = f"{status} error from {endpoint} for {repo_id}; the push did not complete"
    server = (getattr(err, "server_message", None) or "").strip().splitlines()  # HfHubHTTPError's
    return (text + (f" (server said: {server[0]})" if server else "")).replace("\n", " ")


def _explain_transport_error(err: Exception, endpoint: str) -> str:
    """A failure without an HTTP status: the connection, Xet storage, a refused card."""
    message = str(err).splitlines()[0] if str(err) else ""
    text = f"push to {endpoint} failed: {type(err).__name__}: {message}"
    if "xet" in str(err).lower():
        return text + " (if this endpoint is a Hub mirror without Xet storage, set HF_HUB_DISABLE_XET=1)"
    if "connect" in type(err).__name__.lower() or isinstance(err, ConnectionError):
        return text + " (is the endpoint reachable? check --endpoint / HF_ENDPOINT and your network)"
    return text


def push_to_hub(
    folder_or_model: str | os.PathLike | Any,
    repo_id: str,
    *,
    private: bool = False,
    revision: str | None = None,
    commit_message: str | None = None,
    token: str | None = None,
    endpoint: str | None = None,
    dry_run: bool = False,
    card_data: dict | None = None,
    eval_results: Sequence[Any] | None = None,
    tokenizer: Any = None,
) -> PushResult:
    """Pushes an XLM-SWCM checkpoint folder (or model object) to the Hub as one commit, with a model card.

    The folder is checked first (no network call for bad input) and never modified: its files are uploaded in
    place, README.md (the card) and, when missing, generation_config.json are written to a temporary folder, as
    are a model object and `tokenizer` (optional), through their `save_pretrained`.

    Args:
        folder_or_model: checkpoint folder written by `save_pretrained` / the conversion, or the model itself.
        repo_id: `namespace/name`. The repo is created if needed (`private` only applies then).
        revision: branch to push to (created from main if missing); default main.
        commit_message: defaults to "Upload XLM-SWCM model".
        token: write token; defaults to the logged-in token (`hf auth login`) or HF_TOKEN.
        endpoint: Hub URL; defaults to HF_ENDPOINT or https://huggingface.co.
        dry_run: check and stage everything, print the files and the card, send nothing.
        card_data: metadata overrides (any `ModelCardData` field, e.g. `{"language": ["bo", "ug"]}`).
        eval_results: `huggingface_hub.EvalResult` objects (or dicts of their fields) for the card.
    """
    check_repo_id(repo_id)
    revision = check_revision(revision or "main")
    endpoint = check_endpoint((endpoint or constants.ENDPOINT).rstrip("/"))
    token = token or get_token()
    with tempfile.TemporaryDirectory(prefix="xlm-swcm-push-") as scratch:
        files, card, notes = _prepare(
            folder_or_model,
            Path(scratch),
            repo_id,
            tokenizer=tokenizer,
            card_data=card_data,
            eval_results=eval_results,
        )
        sizes = {name: path.stat().st_size for name, path in sorted(files.items())}
        result = PushResult(repo_id, revision, endpoint, sizes, str(card), dry_run, notes=notes)
        if dry_run:
            if not token:
                result.notes.append(f"no Hugging Face token found; a real push needs one: {LOGIN_HELP}")
            print(result.summary())
            return result
        if not token:
            raise XLMSWCMError(f"no Hugging Face token found: {LOGIN_HELP}.")
        operations = [
            CommitOperationAdd(path_in_repo=name, path_or_fileobj=path) for name, path in files.items()
        ]
        try:
            api = HfApi(endpoint=endpoint, token=token)
            api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
            if revision != "main":
                api.create_branch(repo_id, branch=revision, exist_ok=True, repo_type="model")
            info = api.create_commit(
                repo_id,
                operations,
                commit_message=commit_message or "Upload XLM-SWCM model",
                revision=revision,
            )
        except Exception as err:  # HfHubHTTPError, transport errors, validate-yaml's ValueError, ...
            where = {"repo_id": repo_id, "endpoint": endpoint, "revision": revision}
            raise XLMSWCMError(explain_hub_error(err, **where), exit_code=1) from err
        result.commit_url, result.commit_oid = info.commit_url, info.oid
        return result


@dataclass
class PushOptions:
    """The options of `xlm-swcm-push`, one field each (`--dry-run` is `dry_run`), FOLDER and REPO_ID positional.

    >>> PushOptions("seed", "my-user/xlm-swcm-bo", language="bo, ug", license="mit").card_options()
    ({'language': ['bo', 'ug'], 'license': 'mit'}, None)
    """

    folder: str = option(MISSING, "checkpoint folder (written by save_pretrained or xlm-swcm-convert)")
    repo_id: str = option(MISSING, "target repository, namespace/name")
    private: bool = option(False, "create the repository as private")
    revision: str | None = option(None, "branch to push to (created from main if missing); default main")
    message: str | None = option(None, "commit message")
    token: str | None = option(None, "write token (default: `hf auth login` token or HF_TOKEN)")
    endpoint: str | None = option(None, "Hub URL (default: HF_ENDPOINT or https://huggingface.co)")
    dry_run: bool = option(False, "print the files and the card, send nothing")
    language: str | None = option(
        None,
        "comma-separated ISO 639 codes for the card, e.g. bo,ug,kk,mn,zh (default: the conversion's language "
        "tokens)",
    )
    base_model: str | None = option(
        None,
        "Hub id (owner/name) of the source encoder, for the card (default: the conversion's source when it was a "
        "Hub id)",
    )
    license: str | None = option(None, f"Hub license identifier for the card (default {DEFAULT_LICENSE})")
    eval_results: str | None = option(
        None,
        "JSON file with a list of evaluation results (huggingface_hub.EvalResult fields) for the card",
        metavar="FILE",
    )

    def card_options(self) -> tuple[dict[str, Any], list | None]:
        """The card metadata (`card_data`) and evaluation results the options give, checked."""
        card_data: dict[str, Any] = {}
        if self.language:
            card_data["language"] = [check_language(c.strip()) for c in self.language.split(",") if c.strip()]
        if self.base_model and not _looks_like_hub_id(self.base_model):
            raise XLMSWCMError(
                f"--base-model {self.base_model!r} is not a Hub model id: give owner/name, e.g. "
                "FacebookAI/xlm-roberta-base."
            )
        if self.base_model:
            card_data["base_model"] = self.base_model
        if self.license:
            card_data["license"] = check_license(self.license)
        if not self.eval_results:
            return card_data, None
        give = "a JSON list of evaluation results (huggingface_hub.EvalResult fields)"
        try:
            eval_results = json.loads(Path(self.eval_results).read_text(encoding="utf-8"))
        except OSError as err:
            raise XLMSWCMError(f"cannot read --eval-results {self.eval_results}: {err}") from err
        except ValueError as err:  # a JSON syntax error, or bytes that are not UTF-8
            raise XLMSWCMError(
                f"--eval-results {self.eval_results} is not JSON ({err}): give {give}."
            ) from err
        if not isinstance(eval_results, list):
            kind = type(eval_results).__name__
            raise XLMSWCMError(
                f"--eval-results {self.eval_results} must hold a JSON list, not a {kind}: give {give}."
            )
        return card_data, eval_results


def build_parser() -> OptionsParser:
    """The `xlm-swcm-push` argument parser: the fields of `PushOptions` (`--dry-run` or `--dry_run`)."""
    return OptionsParser(
        PushOptions,
        prog="xlm-swcm-push",
        usage="%(prog)s [options] FOLDER REPO_ID (all options: --help)",  # one line above a usage error
        description="Push an XLM-SWCM checkpoint folder to the Hugging Face Hub (one commit, with a model card). "
        "Exit codes: 0 done, 1 the Hub or network refused, 2 bad input (nothing sent).",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Console script `xlm-swcm-push`; returns the exit code."""
    options = build_parser().parse(argv)
    try:
        card_data, eval_results = options.card_options()
        result = push_to_hub(
            options.folder,
            options.repo_id,
            private=options.private,
            revision=options.revision,
            commit_message=options.message,
            token=options.token,
            endpoint=options.endpoint,
            dry_run=options.dry_run,
            card_data=card_data,
            eval_results=eval_results,
        )
    except XLMSWCMError as error:
        print(f"xlm-swcm-push: error: {error}", file=sys.stderr)
        return error.exit_code
    if not result.dry_run:
        print(result.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
