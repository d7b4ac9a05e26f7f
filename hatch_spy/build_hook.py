"""The `spy` hatchling build hook: compiles a distribution's .spy modules
while hatchling builds its wheel.

    [tool.hatch.build.hooks.spy]
    targets = ["native", "wasm"]   # HATCH_SPY_TARGETS=wasm
    opt-level = "2"                # HATCH_SPY_OPT_LEVEL
    search-paths = []              # HATCH_SPY_SEARCH_PATHS (os.pathsep-separated)
    link = "static"                # HATCH_SPY_LINK: how imported SPy packages' code comes in
    dependency-ranges = {}         # HATCH_SPY_DEPENDENCY_RANGES ("name SPEC; name SPEC")
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

import spy_abi

from .compiler.errors import SpyCompileError, SpyError
from .editable import finder_source, normalized, project_folder, publish, scratch_folder
from .package import SpySource, build_package
from .settings import SpySettings


class SpyBuildError(SystemExit):
    """A build failure the user can act on. The frontends run the backend in
    a subprocess that prints any other exception's traceback, under which
    the message would be buried; a SystemExit with a message makes Python
    print only the message, to stderr, and exit with status 1, so that the
    error is the last thing the backend prints (docs/architecture.md lists
    what each frontend adds around it)."""


class SpyBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "spy"
    _out: Path | None = None  # a scratch folder to remove after the build

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return  # the sdist carries the .spy sources as they are
        try:
            self._initialize(version, build_data)
        except SpyCompileError as exc:
            self._cleanup()
            raise SpyBuildError(f"SPy compile error:\n{exc.format()}") from None
        except SpyError as exc:
            self._cleanup()
            raise SpyBuildError(f"hatch-spy: error: {exc}") from None

    def _initialize(self, version: str, build_data: dict[str, Any]) -> None:
        settings = SpySettings.read(self.config)
        builder = self.build_config.builder
        sources = [
            SpySource(Path(f.path), f.distribution_path.replace("\\", "/"))
            for f in builder.recurse_included_files()
            if f.path.endswith(".spy")
        ]
        editable = version == "editable"
        if editable:  # outputs stay where the import hook finds them
            out = scratch_folder(project_folder(Path(self.root), self.metadata.core.name))
        else:
            out = Path(tempfile.mkdtemp(prefix="hatch-spy-"))
        self._out = out
        result = build_package(
            self.metadata.core.name,
            self.metadata.version,
            sources,
            settings,
            out,
            Path(self.root),
        )
        assert result.abi is not None
        abi_path = out / spy_abi.FILENAME
        abi_path.write_text(spy_abi.to_json(result.abi), encoding="utf-8")
        dist_info = f"{builder.artifact_project_id}.dist-info"
        if editable:
            for src in sources:  # beside the artifacts, for tracebacks
                shutil.copyfile(src.path, out / src.wheel_path)
            final = publish(out)
            self._out = Path(tempfile.mkdtemp(prefix="hatch-spy-"))  # for the hook's own files
            files = self._editable_files(final, result.files)
            files[str(final / spy_abi.FILENAME)] = f"{dist_info}/{spy_abi.FILENAME}"
            build_data.setdefault("force_include_editable", {}).update(files)
        else:
            files = {str(src): dst for dst, src in result.files.items()}
            files[str(abi_path)] = f"{dist_info}/{spy_abi.FILENAME}"
            build_data.setdefault("force_include", {}).update(files)
        build_data["tag"] = result.tag
        build_data["pure_python"] = result.pure_python
        build_data["dependencies"].extend(result.dependencies)

    def _editable_files(self, final: Path, built: dict[str, Path]) -> dict[str, str]:
        """The import hook of an editable wheel, pointing into `final`."""
        modules = {
            path.removesuffix(".py").replace("/", "."): final / path
            for path in built
            if path.endswith(".py")
        }
        for path in built:
            if path.endswith(".so"):
                modules[path.split(".")[0].replace("/", ".")] = final / path
        assert self._out is not None
        name = f"_hatch_spy_editable_{normalized(self.metadata.core.name)}"
        finder = self._out / f"{name}.py"
        finder.write_text(finder_source(modules), encoding="utf-8")
        pth = self._out / f"{name}.pth"
        pth.write_text(f"import {name}\n", encoding="utf-8")
        return {str(finder): f"{name}.py", str(pth): f"{name}.pth"}

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        self._cleanup()

    def _cleanup(self) -> None:
        if self._out is not None:
            shutil.rmtree(self._out, ignore_errors=True)
