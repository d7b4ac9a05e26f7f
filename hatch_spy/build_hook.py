"""The `spy` hatchling build hook: compiles a distribution's .spy modules
while hatchling builds its wheel.

    [tool.hatch.build.hooks.spy]
    targets = ["native", "wasm"]   # HATCH_SPY_TARGETS=wasm
    opt-level = "2"                # HATCH_SPY_OPT_LEVEL
    search-paths = []              # HATCH_SPY_SEARCH_PATHS (os.pathsep-separated)
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

import spy_abi

from .compiler.errors import SpyCompileError, SpyError
from .package import SpySource, build_package
from .settings import SpySettings


class SpyBuildError(Exception):
    """Raised to hatchling with a message a user can act on (no traceback noise)."""


class SpyBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "spy"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return  # the sdist carries the .spy sources as they are
        if version == "editable":
            # an editable install imports the package from the source tree,
            # where no compiled module is: refuse rather than install a
            # package whose imports fail
            raise SpyBuildError(
                "hatch-spy: editable installs of SPy packages are not supported yet; "
                "install with 'pip install .' (and again after changing a .spy file)"
            )
        settings = SpySettings.read(self.config)
        builder = self.build_config.builder
        sources = [
            SpySource(Path(f.path), f.distribution_path.replace("\\", "/"))
            for f in builder.recurse_included_files()
            if f.path.endswith(".spy")
        ]
        self._out = Path(tempfile.mkdtemp(prefix="hatch-spy-"))
        try:
            result = build_package(
                self.metadata.core.name,
                self.metadata.version,
                sources,
                settings,
                self._out,
                Path(self.root),
            )
        except SpyCompileError as exc:
            self._cleanup()
            raise SpyBuildError(f"SPy compile error:\n{exc.format()}") from None
        except SpyError as exc:
            self._cleanup()
            raise SpyBuildError(f"hatch-spy: {exc}") from None
        assert result.abi is not None
        abi_path = self._out / spy_abi.FILENAME
        abi_path.write_text(spy_abi.to_json(result.abi), encoding="utf-8")
        dist_info = f"{builder.artifact_project_id}.dist-info"
        files = {str(src): dst for dst, src in result.files.items()}
        files[str(abi_path)] = f"{dist_info}/{spy_abi.FILENAME}"
        build_data.setdefault("force_include", {}).update(files)
        build_data["tag"] = result.tag
        build_data["pure_python"] = result.pure_python
        build_data["dependencies"].extend(result.dependencies)

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        self._cleanup()

    def _cleanup(self) -> None:
        out = getattr(self, "_out", None)
        if out is not None:
            shutil.rmtree(out, ignore_errors=True)
